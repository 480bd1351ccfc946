import { describe, expect, expectTypeOf, it } from 'vitest';
import { validateArguments } from '../../../src/tools/schema.js';
import { defineTool, ToolRegistry, type ToolBehavior } from '../../../src/tools/tool.js';

import { LOOKUP_ORDER_PARAMETERS, lookupOrderTool as lookup } from '../../support/lookup-order-tool.js';

it('gives handlers arguments typed from the schema', () => {
  defineTool({
    name: 'typed',
    description: 'd',
    behavior: 'BLOCKING',
    parameters: LOOKUP_ORDER_PARAMETERS,
    handler: (args) => {
      expectTypeOf(args.order_id).toEqualTypeOf<string>();
      expectTypeOf(args.channel).toEqualTypeOf<'web' | 'phone' | undefined>();
      expectTypeOf(args.items).toEqualTypeOf<number[] | undefined>();
      expectTypeOf(args.gift).toEqualTypeOf<boolean | undefined>();
      expectTypeOf(args.address).toEqualTypeOf<{ zip: string } | undefined>();
      return args.order_id;
    },
  });
});

describe('defineTool', () => {
  it('refuses definitions a model would reject, at definition time', () => {
    const base = { description: 'd', behavior: 'BLOCKING' as ToolBehavior, handler: () => 1 };
    expect(() => defineTool({ ...base, name: '1starts-with-digit' })).toThrow(/"1starts-with-digit": name must be/);
    expect(() => defineTool({ ...base, name: 'has space' })).toThrow(/"has space": name must be/);
    expect(() => defineTool({ ...base, name: 'ok', description: '  ' })).toThrow(/description/);
    expect(() => defineTool({ ...base, name: 'ok', behavior: undefined as unknown as ToolBehavior })).toThrow(/behavior/);
    expect(() => defineTool({ ...base, name: 'ok', parameters: { type: 'object', properties: { a: { type: 'string' } }, required: ['b'] } })).toThrow(/required "b"/);
    expect(() => defineTool({ ...base, name: 'ok', parameters: { type: 'object', properties: { 'bad-name': { type: 'string' } } } })).toThrow(/parameter name/);
    expect(() => defineTool({ ...base, name: 'ok', parameters: { type: 'object', properties: { a: { type: 'string', pattern: '(' } } } })).toThrow();
    expect(() => defineTool({ ...base, name: 'ok', timeoutMs: 0 })).toThrow(/timeoutMs/);
  });
});

describe('declarations', () => {
  it('tell the model each tool in our own terms: name, description, behavior and parameters, nothing to run', () => {
    const hangUp = defineTool({ name: 'hang_up', description: 'Hangs up.', behavior: 'BLOCKING', handler: () => undefined });
    expect(new ToolRegistry([lookup, hangUp]).declarations()).toEqual([
      { name: 'lookup_order', description: 'Finds an order.', behavior: 'NON_BLOCKING', parameters: lookup.parameters },
      { name: 'hang_up', description: 'Hangs up.', behavior: 'BLOCKING', parameters: { type: 'object', properties: {} } },
    ]);
  });
});

describe('ToolRegistry', () => {
  it('refuses two tools with one name', () => {
    expect(() => new ToolRegistry([lookup, lookup])).toThrow(/two tools are named lookup_order/);
  });

  it('appends briefings and tool guidance to the system instruction', () => {
    let calls = 0;
    const guided = defineTool({ name: 'g', description: 'd', behavior: 'BLOCKING', guidance: 'Use g when asked.', handler: () => 1 });
    const registry = new ToolRegistry([lookup, guided], [() => `Briefing ${++calls}.`]);
    expect(registry.instructions('Base.')).toBe('Base.\n\nBriefing 1.\nUse g when asked.');
    expect(registry.instructions('Base.')).toBe('Base.\n\nBriefing 2.\nUse g when asked.'); // read per session
    expect(new ToolRegistry([lookup]).instructions('Base.')).toBe('Base.');
  });
});

describe('validateArguments', () => {
  it('accepts valid nested arguments and treats null as absent', () => {
    const result = validateArguments(lookup.parameters, { order_id: '123456', items: [1, 2], address: { zip: '94103' }, gift: null });
    expect(result.ok).toBe(true);
  });

  it('names nested problems by path', () => {
    const result = validateArguments(lookup.parameters, { order_id: '12', items: [1, 0, 'x', 4], address: {} });
    expect(result.ok).toBe(false);
    const problems = result.ok ? [] : result.problems;
    expect(problems).toEqual([
      'order_id is not in the expected format (Six digits.); got "12"',
      'items must have at most 3 items',
      'items[1] must be at least 1 (got 0)',
      'items[2] must be a number (got "x")',
      'address.zip is required',
    ]);
  });

  it('refuses arguments that are not an object, and inherited property names', () => {
    expect(validateArguments(lookup.parameters, 'order 123456').ok).toBe(false);
    const result = validateArguments(lookup.parameters, JSON.parse('{"order_id":"123456","constructor":1}'));
    expect(result.ok ? [] : result.problems).toEqual(['constructor is not a parameter of this tool']);
  });
});

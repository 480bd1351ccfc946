import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as packageApi from '../../../src/index.js';
import { AgentLoadError, loadAgents, type ToolContext } from '../../../src/index.js';

const root = mkdtempSync(join(tmpdir(), 'agent-files-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A project folder as `npm init -y` makes it (`"type": "commonjs"`), or an ES module project. */
function project(type: 'commonjs' | 'module', files: Record<string, string>): string {
  const dir = mkdtempSync(join(root, `${type}-`));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'my-agent', version: '1.0.0', type }));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

const ES_MODULE_AGENT = `import * as api from 'gemini-phone-agent';
import { defineAgent, defineTool, ToolError } from 'gemini-phone-agent';
const tool = defineTool({ name: 'check', description: 'Checks.', behavior: 'BLOCKING', handler: () => { throw new ToolError('no'); } });
export default defineAgent({ name: (globalThis as any).expectedApi.defineAgent === api.defineAgent ? 'same-copy' : 'other-copy', instructions: 'You answer calls.', tools: [tool] });
`;
const COMMONJS_AGENT = `const api = require('gemini-phone-agent');
module.exports = api.defineAgent({ name: globalThis.expectedApi.defineAgent === api.defineAgent ? 'same-copy' : 'other-copy', instructions: 'You answer calls.' });
`;

describe('an agent module loads the same way in either kind of project', () => {
  (globalThis as { expectedApi?: unknown }).expectedApi = packageApi;
  const esFiles = ['agent.ts', 'agent.mts', 'agent.cts', 'agent.js', 'agent.mjs', 'agent.cjs'];
  const cjsFiles = ['cjs.ts', 'cjs.cts', 'cjs.cjs'];
  for (const type of ['commonjs', 'module'] as const) {
    it(`in a "type": "${type}" project: export default in every extension, module.exports where it is CommonJS`, async () => {
      const files = Object.fromEntries([
        // Type annotations in .js/.mjs/.cjs would be syntax errors: those get the plain JavaScript of the same file.
        ...esFiles.map((name) => [name, /\.[mc]?ts$/.test(name) ? ES_MODULE_AGENT : ES_MODULE_AGENT.replace(' as any', '')]),
        ...cjsFiles.map((name) => [name, COMMONJS_AGENT]),
        ...(type === 'commonjs' ? [['cjs.js', COMMONJS_AGENT]] : []),
      ]);
      const dir = project(type, files);
      for (const name of Object.keys(files)) {
        const agents = await loadAgents(name, dir);
        // The file's `gemini-phone-agent` is the running copy: one set of classes for the service and its agents.
        expect(agents.map((agent) => agent.name), name).toEqual(['same-copy']);
      }
    });
  }

  it('takes an array, a plain definition, and waits for top-level await', async () => {
    const dir = project('commonjs', {
      'two.ts': `import { defineAgent } from 'gemini-phone-agent';\nexport default [defineAgent({ name: 'a', instructions: 'x', phoneNumbers: ['+14155550100'] }), { name: 'b', instructions: 'y' }];\n`,
      'plain.cjs': `module.exports = { name: 'plain', instructions: 'y' };\n`,
      'later.mts': `const name = await Promise.resolve('later');\nexport default { name, instructions: 'y' };\n`,
      'helper.ts': `export const instructions: string = 'From a helper.';\n`,
      'uses-helper.ts': `import { instructions } from './helper.js';\nexport default { name: 'helped', instructions };\n`,
    });
    expect((await loadAgents('two.ts', dir)).map((agent) => agent.name)).toEqual(['a', 'b']);
    expect((await loadAgents('plain.cjs', dir))[0]!.name).toBe('plain');
    expect((await loadAgents('later.mts', dir))[0]!.name).toBe('later');
    // `./helper.js` is the TypeScript file helper.ts, as the TypeScript compiler resolves it.
    expect((await loadAgents('uses-helper.ts', dir))[0]!.instructions).toBe('From a helper.');
  });

  it('loads a data-only JSON agent with an HTTP tool', async () => {
    const dir = project('commonjs', {
      'support.json': JSON.stringify({ name: 'support', instructions: 'Acme support.', voice: 'Puck', tools: [{ name: 'order_status', description: 'Order status.', behavior: 'BLOCKING', url: 'https://api.acme.example/s' }] }),
    });
    const [agent] = await loadAgents('support.json', dir);
    expect(agent!.name).toBe('support');
    expect(agent!.tools[0]!.url?.href).toBe('https://api.acme.example/s');
  });
});

describe('an agent file that cannot load says why, and what to do', () => {
  const dir = project('commonjs', {
    'broken.json': '{\n  "name": "support",\n  "instructions": "x",\n}\n',
    'cut.json': '{ "name": ',
    'handler.json': JSON.stringify({ name: 'h', instructions: 'x', tools: [{ name: 't', description: 'd', behavior: 'BLOCKING', handler: 'x' }] }),
    'named.ts': `import { defineAgent } from 'gemini-phone-agent';\nexport const agent = defineAgent({ name: 'a', instructions: 'x' });\n`,
    'bad.mjs': "export default { name: 'bad', instructions: 'x', voice: 42 };",
    'bad-call.ts': `import { defineAgent } from 'gemini-phone-agent';\nexport default defineAgent({ name: 'bad name', instructions: '' });\n`,
    'syntax.ts': `import { defineAgent } from 'gemini-phone-agent';\n\nexport default defineAgent({ name: 'a', instructions: 'x' ;\n`,
    'calendar-import.ts': `import { calendar } from './calendar.js';\nexport default { name: 'a', instructions: String(calendar) };\n`,
    'package-import.ts': `import dayjs from 'dayjs/plugin/utc';\nexport default { name: 'a', instructions: String(dayjs) };\n`,
    'throws.ts': `throw new Error('DATABASE_URL is not set');\n`,
    'agent.txt': 'hello',
    'agents/.keep': '',
  });
  const problem = async (name: string): Promise<string> => {
    const error = await loadAgents(name, dir).catch((e: unknown) => e);
    expect(error, name).toBeInstanceOf(AgentLoadError);
    return (error as AgentLoadError).problems.join('; ');
  };

  it('names the file, the line and the column', async () => {
    expect(await problem('broken.json')).toMatch(/^is not valid JSON: line 4, column 1: /);
    expect(await problem('cut.json')).toBe('is not valid JSON: line 1, column 11: the file ends before the JSON does');
    expect(await problem('syntax.ts')).toMatch(/^has a syntax error at line 3, column \d+: Unexpected token/);
  });

  it('names the missing file, import or package, never the loader’s own files', async () => {
    const missing = (await loadAgents('agents/dental.ts', dir).catch((e: unknown) => e)) as AgentLoadError;
    expect(missing.message).toBe(`${join(dir, 'agents/dental.ts')}: no such file (AGENT or the first argument names it, relative to ${dir})`);
    expect(await problem('calendar-import.ts')).toBe(`it imports ./calendar.js, which does not exist: create that file, or fix the import's path (relative to ${dir})`);
    expect(await problem('package-import.ts')).toBe("it imports the package dayjs/plugin/utc, which is not installed: run `npm install dayjs` in the agent's project");
    for (const name of ['agents/dental.ts', 'calendar-import.ts', 'package-import.ts', 'syntax.ts', 'throws.ts']) {
      const message = String(await loadAgents(name, dir).catch((e: unknown) => e));
      expect(message, name).not.toMatch(/load-agents|agent-module|jiti|node_modules|Require stack/);
    }
  });

  it('says what is exported instead of an agent, and every bad field', async () => {
    expect(await problem('named.ts')).toMatch(/^it has no default export \(it exports agent\): end it with `export default defineAgent\(\{\.\.\.\}\)` or `module\.exports = /);
    expect(await problem('bad.mjs')).toMatch(/^agent "bad": voice must be/);
    const badCall = await problem('bad-call.ts');
    expect(badCall).toMatch(/agent "bad name": name must be/);
    expect(badCall).toMatch(/agent "bad name": instructions must not be empty/);
    expect(await problem('handler.json')).toMatch(/tools\[0\] has fields a JSON tool cannot have: handler/);
    expect(await problem('throws.ts')).toBe('failed while loading: DATABASE_URL is not set');
  });

  it('refuses what is not an agent file', async () => {
    expect(await problem('agent.txt')).toMatch(/^an agent file must end in \.ts, \.mts, \.cts, \.js, \.mjs, \.cjs or \.json \(got "\.txt"\)/);
    expect(await problem('agents')).toMatch(/^an agent file must end in/);
    mkdirSync(join(dir, 'folder.ts'));
    expect(await problem('folder.ts')).toMatch(/^is a directory, not an agent file/);
  });
});

describe('the complete agent in docs/agents.md', () => {
  it('loads as written, in a project made with npm init -y, and its tool answers', async () => {
    const doc = readFileSync(new URL('../../../docs/agents.md', import.meta.url), 'utf8');
    const example = /```ts\n(\/\/ agents\/dental\.ts\n[\s\S]*?)```/.exec(doc)?.[1];
    expect(example, 'the page has its dental.ts example').toBeDefined();
    const dir = project('commonjs', { 'agents/dental.ts': example ?? '' });
    const [agent] = await loadAgents('agents/dental.ts', dir);
    expect(agent?.name).toBe('dental');
    const tool = agent?.tools.find((candidate) => candidate.name === 'next_free_slot');
    const context = { call: { callerNumber: '+14155550100' }, signal: new AbortController().signal } as unknown as ToolContext;
    expect(await tool?.run({ day: '2026-12-08' }, context)).toEqual({ slot: '2026-12-08 09:30', caller: 'known' });
    await expect(Promise.resolve(tool?.run({ day: '2026-12-12' }, context))).rejects.toThrow('Nothing is free on 2026-12-12.');
  });
});

import { defineTool } from '../../src/tools/tool.js';

/** A tool whose parameters use every part of the schema subset: strings with patterns and enums, lists, nesting. */
export const LOOKUP_ORDER_PARAMETERS = {
  type: 'object',
  properties: {
    order_id: { type: 'string', pattern: '^[0-9]{6}$', description: 'Six digits.', sensitive: true },
    channel: { type: 'string', enum: ['web', 'phone'] },
    items: { type: 'array', items: { type: 'integer', minimum: 1 }, maxItems: 3 },
    gift: { type: 'boolean' },
    address: { type: 'object', properties: { zip: { type: 'string', minLength: 5, maxLength: 10 } }, required: ['zip'] },
  },
  required: ['order_id'],
} as const;

export const lookupOrderTool = defineTool({
  name: 'lookup_order',
  description: 'Finds an order.',
  behavior: 'NON_BLOCKING',
  parameters: LOOKUP_ORDER_PARAMETERS,
  handler: (args) => args.order_id,
});

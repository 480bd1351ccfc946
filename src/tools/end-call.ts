import { defineTool } from './tool.js';

/**
 * Hangs up, politely: the model answers the call with its goodbye, and the line closes only once the
 * caller has heard it (see CallTools). BLOCKING, so the goodbye comes after this answer, never before
 * the model knows the call is ending.
 */
export const endCallTool = defineTool({
  name: 'end_call',
  description:
    'Ends the phone call. Use it when the caller says goodbye or has nothing more to ask, or asks you to hang up. ' +
    'After calling it, say one short goodbye; the line closes once you have finished speaking.',
  behavior: 'BLOCKING',
  guidance: 'When the conversation is over, say a short goodbye by calling end_call; never just stop talking.',
  handler: (_args, { call }) => {
    if (!call.finishAfterReply({ kind: 'hang-up' })) return { status: 'already-ending' };
    return { status: 'ending', next: 'Say one short, friendly goodbye now. The call ends when you finish speaking.' };
  },
});

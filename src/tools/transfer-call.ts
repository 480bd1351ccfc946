import { assertTransferNumber } from '../telephony/twilio-rest.js';
import { defineTool, type Tool } from './tool.js';

/** The longest whisper summary: two or three spoken sentences. */
export const MAX_TRANSFER_SUMMARY_CHARS = 400;

/**
 * Hands the caller to a person at `transferNumber` (E.164). The announcement plays first; then the call's TwiML is
 * replaced with `<Dial>`, which ends our media stream (see CallTools).
 *
 * `warm`: the model also writes a `summary` for the person called, who hears it before taking the call; if nobody
 * answers, the line is busy or they decline, the caller comes back to the agent (src/telephony/warm-transfer.ts).
 */
export function transferCallTool(transferNumber: string, mode: 'cold' | 'warm' = 'cold'): Tool {
  assertTransferNumber(transferNumber); // refuses a number that is not E.164 at start-up, not mid-call
  return mode === 'warm' ? warmTransferTool(transferNumber) : coldTransferTool(transferNumber);
}

function coldTransferTool(transferNumber: string): Tool {
  return defineTool({
    name: 'transfer_call',
    description:
      'Transfers the caller to a member of staff. Use it when the caller asks for a person, or needs something you cannot do. ' +
      'After calling it, tell the caller in one short sentence that you are connecting them now.',
    behavior: 'BLOCKING',
    handler: (_args, { call }) => {
      if (!call.finishAfterReply({ kind: 'transfer', to: transferNumber })) return { status: 'already-ending' };
      return { status: 'transferring', next: 'Tell the caller in one short sentence that you are connecting them to a colleague now.' };
    },
  });
}

function warmTransferTool(transferNumber: string): Tool {
  return defineTool({
    name: 'transfer_call',
    description:
      'Transfers the caller to a member of staff, who first hears your summary and then decides to take the call. Use it when the caller asks ' +
      'for a person, or needs something you cannot do. If nobody takes it, the caller comes back to you. After calling it, tell the caller in one ' +
      'short sentence that you are connecting them and they may hear ringing.',
    behavior: 'BLOCKING',
    parameters: {
      type: 'object',
      properties: {
        summary: {
          type: 'string',
          description: 'For your colleague, in one or two short sentences: who is calling and what they need. It is read out to them before they take the call.',
          minLength: 1,
          maxLength: MAX_TRANSFER_SUMMARY_CHARS,
        },
      },
      required: ['summary'],
    },
    handler: ({ summary }, { call }) => {
      if (!call.finishAfterReply({ kind: 'transfer', to: transferNumber, warm: { summary } })) return { status: 'already-ending' };
      return { status: 'transferring', next: 'Tell the caller in one short sentence that you are connecting them to a colleague now; they may hear ringing.' };
    },
  });
}

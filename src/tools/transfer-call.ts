import { assertTransferNumber } from '../telephony/twilio-rest.js';
import { defineTool, type Tool } from './tool.js';

/**
 * Hands the caller to a person at `transferNumber` (E.164). The announcement plays first; then the
 * call's TwiML is replaced with `<Dial>`, which ends our media stream (see CallTools).
 */
export function transferCallTool(transferNumber: string): Tool {
  assertTransferNumber(transferNumber);
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

import type { AgentDirectory } from '../agents/agent-directory.js';
import type { EarlyConversations } from '../call/early-conversations.js';
import { callDetails, isOutboundCall, type TwilioCallParameters } from '../domain/call-details.js';
import { publicHttpsUrl, publicWssUrl, type Config } from '../settings/config.js';
import type { CallStateStore } from '../state/call-state.js';
import type { PendingOutboundCalls } from '../telephony/outbound-calls.js';
import { MEDIA_STREAM_PATH, STREAM_ENDED_PATH } from '../telephony/routes.js';
import { TRANSFER_NOT_TAKEN_PARAMETER, type TransferNotTaken } from '../telephony/warm-transfer.js';
import { BUSY_MESSAGE, NO_AGENT_MESSAGE, type VoiceAnswer } from '../telephony/voice-webhook.js';
import type { Admission } from './admission.js';

export interface WebhookAnswerDeps {
  config: Pick<Config, 'publicUrl' | 'fleet'>;
  agents: AgentDirectory;
  state: CallStateStore;
  admission: Admission;
  early: EarlyConversations;
  pendingOutbound: PendingOutboundCalls;
}

/** What Twilio's two call webhooks are answered: the voice webhook, and `<Connect action>` when a stream ends. */
export interface WebhookAnswers {
  /** `agentName`: the `?agent=` of a call we placed. */
  answerCall(call: TwilioCallParameters, agentName: string | undefined): Promise<VoiceAnswer>;
  /** After a warm transfer nobody took, `transferNotTaken` says why, on the new stream. */
  continueCall(callSid: string, transferNotTaken?: TransferNotTaken): Promise<VoiceAnswer>;
}

/**
 * How a signed call is answered: which agent, whether there is room, and the stream token. Each CallSid is
 * answered once: a replayed webhook gets the same answer and opens no second session, and one after the stream
 * started (or the call ended) gets a hang-up. The stream URL names the instance that answered (`/media/<id>`), so a
 * load balancer brings the stream to the session opened here for it.
 */
export function webhookAnswers({ config, agents, state, admission, early, pendingOutbound }: WebhookAnswerDeps): WebhookAnswers {
  const { instanceId } = config.fleet;
  const streamUrlOf = (answeringInstance: string): string => publicWssUrl(config, `${MEDIA_STREAM_PATH}/${answeringInstance}`);
  // Twilio's own view of every stream (started, stopped, failed) reaches the log of the instance holding it.
  const statusUrlOf = (answeringInstance: string): string => publicHttpsUrl(config, `${MEDIA_STREAM_PATH}/${answeringInstance}`);
  const actionUrl = publicHttpsUrl(config, STREAM_ENDED_PATH);
  return {
    async answerCall(call, agentName) {
      // An outbound call reaching the webhook has been answered: from here its stream token holds its place.
      pendingOutbound.release(call.callSid);
      const outbound = isOutboundCall(call);
      const agent = outbound && agentName !== undefined ? agents.byAgentName(agentName) : agents.forNumber(call.to);
      if (agent === undefined) {
        return { kind: 'refuse', message: NO_AGENT_MESSAGE, reason: outbound ? `no agent named ${agentName ?? '(none)'}` : 'no agent for the number called' };
      }
      if ((await state.get(call.callSid)) === undefined) {
        const refusal = admission.refusal();
        if (refusal !== undefined) return { kind: 'refuse', message: BUSY_MESSAGE, reason: refusal };
      }
      const answer = await state.answer({ ...call, agent: agent.agent.name, instanceId });
      if (answer.outcome === 'refused') return { kind: 'hang-up', reason: 'this call was answered before' };
      if (answer.outcome === 'answered' && !outbound) {
        // Instant greeting: the session opens now. Its handles are stored like a stream's own session's, so
        // another instance resumes it if this one dies.
        early.begin(callDetails(call, agent.agent.name), agent, (handle) => void state.saveResumptionHandle(call.callSid, handle).catch(() => undefined));
      }
      // A repeat names the instance that answered first (and holds the session opened for the call), wherever it lands.
      const answeredBy = answer.outcome === 'repeat' ? answer.instanceId : instanceId;
      return { kind: 'stream', streamUrl: streamUrlOf(answeredBy), token: answer.token, actionUrl, statusCallbackUrl: statusUrlOf(answeredBy) };
    },

    /** Hang up a call ended on purpose; give a lost stream, or a caller back from a transfer, a new one here. */
    async continueCall(callSid, transferNotTaken) {
      const reissued = await state.reissue(callSid, instanceId);
      if (reissued === undefined) return { kind: 'hang-up', reason: 'the call was ended' };
      const back = transferNotTaken === undefined ? {} : { parameters: { [TRANSFER_NOT_TAKEN_PARAMETER]: transferNotTaken } };
      return { kind: 'stream', streamUrl: streamUrlOf(instanceId), token: reissued.token, actionUrl, statusCallbackUrl: statusUrlOf(instanceId), ...back };
    },
  };
}

/**
 * Why a call ended, in the call summary, the log, the metrics (`calls_ended_total{reason}`), recordings and replays.
 * One closed list: code that decides what an ending means (a failover, a retry) matches these values, never text.
 */

/**
 * The media stream went away under a call that neither side ended: Twilio's `<Connect action>` request follows,
 * and may give the call a new stream (on this or another instance), resumed from its model session.
 * - `stream-socket-closed`: the WebSocket closed without Twilio's `stop`.
 * - `stream-malformed`: the stream kept sending messages that do not parse; it was closed.
 * - `server-stopping`: this instance stopped (a deploy, a drain that ran out of time).
 */
export const LOST_STREAM_REASONS = ['stream-socket-closed', 'stream-malformed', 'server-stopping'] as const;
export type LostStreamReason = (typeof LOST_STREAM_REASONS)[number];

/**
 * Every way a call ends:
 * - `caller-hung-up`: Twilio's `stop` arrived while nothing of ours was ending the call;
 * - `agent-hung-up`: the agent's `end_call`, after its goodbye had played;
 * - `transferred`: `transfer_call` handed the caller to the transfer number;
 * - `transferred-warm`: a warm transfer's `<Dial>` took the call over; its `<Dial action>` may bring the caller back
 *   on a new stream that resumes the model session (telephony/warm-transfer.ts);
 * - `voicemail-left`: a call we placed reached a machine, and the agent's voicemail had played;
 * - `answered-by-machine`: a call we placed reached a machine, and the agent leaves none (`voicemail: 'hang-up'`);
 * - `answered-by-fax`: a call we placed reached a fax machine;
 * - `caller-silent`: the caller stayed silent through the check-in, and the agent said goodbye;
 * - `max-duration`: the call reached its maximum length, and the agent said goodbye;
 * - `model-setup-failed`: the model session could not be opened;
 * - `model-lost`: the model session failed and could not be recovered (the caller heard an apology);
 * - `caller-audio-over-real-time`: the stream kept sending more audio than the wall clock allows, and was hung up
 *   (call/caller-audio-policer.ts);
 * - `stream-not-reading`: the stream's peer left what it was sent unread, and was hung up;
 * - a lost stream (above).
 * The two hung up for what the peer did are ended for good: no new stream continues them.
 */
export const END_REASONS = [
  'caller-hung-up',
  'agent-hung-up',
  'transferred',
  'transferred-warm',
  'voicemail-left',
  'answered-by-machine',
  'answered-by-fax',
  'caller-silent',
  'max-duration',
  'model-setup-failed',
  'model-lost',
  'caller-audio-over-real-time',
  'stream-not-reading',
  ...LOST_STREAM_REASONS,
] as const;
export type EndReason = (typeof END_REASONS)[number];

/** The ending was nobody's decision: the call may go on with a new stream (see LOST_STREAM_REASONS). */
export function isLostStream(reason: EndReason): reason is LostStreamReason {
  return (LOST_STREAM_REASONS as readonly string[]).includes(reason);
}

/** The call may go on with a new stream: its stream was lost, or a warm transfer may bring the caller back. */
export function mayContinue(reason: EndReason): boolean {
  return isLostStream(reason) || reason === 'transferred-warm';
}

/** For values read from files (recordings, replay fixtures): the end reason, or undefined when it is none. */
export function asEndReason(text: string): EndReason | undefined {
  return (END_REASONS as readonly string[]).includes(text) ? (text as EndReason) : undefined;
}

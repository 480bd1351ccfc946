import type { Request, Response } from 'express';
import twilio from 'twilio';
import { E164_PATTERN, isCallSid } from '../domain/identifiers.js';
import type { Logger } from '../observability/logger.js';
import { redactPhoneNumber } from '../observability/redact.js';
import type { CallStateStore } from '../state/call-state.js';
import { TRANSFER_ACCEPTED_PATH, TRANSFER_ENDED_PATH, TRANSFER_WHISPER_PATH, TRANSFERRED_CALL_QUERY_PARAMETER } from './routes.js';
import type { CallControl, CallUpdateResult } from './twilio-rest.js';
import { signedForm } from './twilio-webhook-auth.js';
import { voiceTwiml, type VoiceAnswer } from './voice-webhook.js';

/**
 * A warm transfer (docs/outbound.md): the person called hears the model's summary first, privately, and takes the
 * call with a key; if nobody answers, the line is busy or they do not take it, the caller comes back to the agent,
 * whose model session resumes from its handle.
 *
 * 1. The call is redirected (REST `Twiml=`) to `<Dial action=…/transfer/ended><Number url=…/transfer/whisper>`.
 *    Twilio ends our media stream for it, without a `<Connect action>` request.
 * 2. When the person picks up, Twilio requests the `<Number url>` and runs its TwiML on their end only, before
 *    connecting: "privately <Say> information to the called party … a chance to decline the phone call using
 *    <Gather> and <Hangup>" (https://www.twilio.com/docs/voice/twiml/number#url). Ours says the whisper inside a
 *    `<Gather>`; a key press posts to `/transfer/accepted`, which records it and ends the whisper (they are
 *    connected); no key (a person who declines, or their voicemail) falls through to `<Hangup>`.
 * 3. When the dialled leg ends, Twilio requests the `<Dial action>` with `DialCallStatus` (`completed`, `busy`,
 *    `no-answer`, `failed`, `canceled`) and `DialBridged` (added 2020-12-09: true only when the legs were connected,
 *    to tell a leg hung up during screening from a bridged one: https://www.twilio.com/docs/voice/twiml/changelog).
 *    A transfer taken (our own record of the key press, and not `DialBridged=false`) is over: hang up. Otherwise the
 *    call gets a new `<Connect><Stream>` whose `<Parameter>` says why, and the agent offers to take a message.
 *
 * The whisper and the key press live in the shared call state: Twilio may reach any instance of a fleet.
 */

/** How long the person called may let it ring (the `<Dial timeout>`, seconds). */
export const TRANSFER_RING_SECONDS = 20;
/** How long the whisper waits for the key press, after it has been said (the `<Gather timeout>`, seconds). */
export const TRANSFER_ACCEPT_SECONDS = 6;
/** The `<Parameter>` of the stream that brings the caller back, and why. */
export const TRANSFER_NOT_TAKEN_PARAMETER = 'transferNotTaken';
export type TransferNotTaken = 'no-answer' | 'busy' | 'declined' | 'failed';

/** Why a transfer was not taken, in the words of the agent's cue (`{outcome}` of `transferNotTaken`). */
export const TRANSFER_NOT_TAKEN_WORDS: Readonly<Record<TransferNotTaken, string>> = {
  'no-answer': 'nobody answered',
  busy: 'the line was busy',
  declined: 'your colleague did not take the call',
  failed: 'the call to your colleague could not be placed',
};

export function isTransferNotTaken(value: unknown): value is TransferNotTaken {
  return typeof value === 'string' && Object.hasOwn(TRANSFER_NOT_TAKEN_WORDS, value);
}

export interface WarmTransferUrls {
  /** PUBLIC_URL's origin. */
  publicOrigin: string;
}

/** `<Dial>` of `to` with the whisper, its action, and the ring time. */
export function warmDialTwiml(to: string, callSid: string, { publicOrigin }: WarmTransferUrls): string {
  if (!E164_PATTERN.test(to)) throw new Error(`transfer number must be E.164 (got "${to}")`);
  const response = new twilio.twiml.VoiceResponse();
  const dial = response.dial({ action: `${publicOrigin}${TRANSFER_ENDED_PATH}`, method: 'POST', timeout: TRANSFER_RING_SECONDS });
  dial.number({ url: transferredCallUrl(publicOrigin, TRANSFER_WHISPER_PATH, callSid), method: 'POST' }, to);
  return response.toString();
}

/** What the person called hears before taking the call, and how they take it; no key, and they are not connected. */
export function whisperTwiml(whisper: string, language: string | undefined, acceptUrl: string): string {
  const response = new twilio.twiml.VoiceResponse();
  const gather = response.gather({ numDigits: 1, timeout: TRANSFER_ACCEPT_SECONDS, action: acceptUrl, method: 'POST', actionOnEmptyResult: false });
  if (language === undefined) gather.say(whisper);
  else gather.say({ language: language as never }, whisper);
  response.hangup();
  return response.toString();
}

/** Starts warm transfers: the whisper kept in the shared state, then the call redirected to the `<Dial>`. */
export function createWarmTransfers(deps: { callControl: CallControl; state: Pick<CallStateStore, 'saveTransfer'>; urls: WarmTransferUrls }) {
  return {
    async start(callSid: string, to: string, whisper: string, language?: string): Promise<CallUpdateResult> {
      const twiml = warmDialTwiml(to, callSid, deps.urls);
      await deps.state.saveTransfer(callSid, { to, whisper, ...(language === undefined ? {} : { language }) });
      return deps.callControl.redirect(callSid, twiml);
    },
  };
}

/** `POST /transfer/whisper?call=…` (`<Number url>`, signed, for the dialled leg): the whisper of the call named. */
export function handleTransferWhisper({ state, urls, log }: { state: Pick<CallStateStore, 'get'>; urls: WarmTransferUrls; log: Logger }) {
  return async (req: Request, res: Response): Promise<void> => {
    const { callSid: leg } = signedForm(res);
    const transferred = transferredCall(req);
    const transfer = transferred === undefined ? undefined : (await state.get(transferred).catch(() => undefined))?.transfer;
    if (transferred === undefined || transfer === undefined) {
      log.warn({ leg, transferred }, 'warm transfer whisper asked for a call with no transfer under way: hanging up the dialled leg');
      twimlAnswer(res, voiceTwiml({ kind: 'hang-up', reason: 'no transfer' }));
      return;
    }
    log.info({ callSid: transferred, leg, to: redactPhoneNumber(transfer.to) }, 'warm transfer answered: the whisper plays to the person called');
    twimlAnswer(res, whisperTwiml(transfer.whisper, transfer.language, transferredCallUrl(urls.publicOrigin, TRANSFER_ACCEPTED_PATH, transferred)));
  };
}

/** `POST /transfer/accepted?call=…` (the whisper's `<Gather action>`, signed): the person took the call. */
export function handleTransferAccepted({ state, log }: { state: Pick<CallStateStore, 'acceptTransfer'>; log: Logger }) {
  return async (req: Request, res: Response): Promise<void> => {
    const { callSid: leg, params } = signedForm(res);
    const transferred = transferredCall(req);
    const accepted = transferred !== undefined && (params.Digits ?? '') !== '' && (await state.acceptTransfer(transferred).catch(() => false));
    log.info({ callSid: transferred, leg, accepted }, accepted ? 'warm transfer taken: connecting' : 'warm transfer not taken');
    // An empty document ends the whisper: Twilio connects the two parties. Otherwise the dialled leg hangs up.
    twimlAnswer(res, accepted ? new twilio.twiml.VoiceResponse().toString() : voiceTwiml({ kind: 'hang-up', reason: 'not taken' }));
  };
}

/**
 * `POST /transfer/ended` (the `<Dial action>`, signed, for the transferred call): hang up after a transfer taken;
 * bring the caller back to the agent after one that was not (`reconnect` issues the new stream).
 */
export function handleTransferEnded(deps: { state: Pick<CallStateStore, 'get' | 'markEnded'>; reconnect: (callSid: string, notTaken: TransferNotTaken) => Promise<VoiceAnswer>; log: Logger }) {
  return async (_req: Request, res: Response): Promise<void> => {
    const { callSid, params } = signedForm(res);
    let answer: VoiceAnswer;
    try {
      answer = await transferEndedAnswer(callSid, params, deps);
    } catch (error) {
      deps.log.error({ err: error, callSid }, 'warm transfer ended and the call state cannot be reached: hanging up');
      answer = { kind: 'hang-up', reason: 'state-unavailable' };
    }
    twimlAnswer(res, voiceTwiml(answer));
  };
}

async function transferEndedAnswer(
  callSid: string,
  params: Readonly<Record<string, string | undefined>>,
  { state, reconnect, log }: { state: Pick<CallStateStore, 'get' | 'markEnded'>; reconnect: (callSid: string, notTaken: TransferNotTaken) => Promise<VoiceAnswer>; log: Logger },
): Promise<VoiceAnswer> {
  const dialStatus = params.DialCallStatus ?? '';
  const outcome = transferOutcome(params, (await state.get(callSid))?.transfer?.accepted === true);
  if (outcome === 'taken' || outcome === 'caller-left') {
    await state.markEnded(callSid, { onPurpose: true });
    log.info({ callSid, dialStatus, bridged: params.DialBridged }, outcome === 'taken' ? 'warm transfer done: the call ends with its dialled leg' : 'the caller left during the warm transfer');
    return { kind: 'hang-up', reason: outcome === 'taken' ? 'transferred' : 'caller-hung-up' };
  }
  log.info({ callSid, dialStatus, bridged: params.DialBridged, notTaken: outcome }, 'warm transfer not taken: the caller goes back to the agent');
  return reconnect(callSid, outcome);
}

/**
 * How a warm transfer ended, from the `<Dial action>`'s parameters and our record of the key press: `taken` (over),
 * `caller-left` (the caller hung up meanwhile: over), or why the caller comes back. A key press alone is not enough:
 * the legs must have been bridged (`DialBridged` is false when the dialled leg hung up during its `<Number url>`).
 */
export function transferOutcome(params: Readonly<Record<string, string | undefined>>, keyPressed: boolean): 'taken' | 'caller-left' | TransferNotTaken {
  const dialStatus = params.DialCallStatus ?? '';
  const answered = dialStatus === 'completed' || dialStatus === 'answered';
  if (keyPressed && answered && params.DialBridged !== 'false') return 'taken';
  if (params.CallStatus === 'completed') return 'caller-left';
  if (dialStatus === 'busy' || dialStatus === 'no-answer') return dialStatus;
  return answered ? 'declined' : 'failed';
}

function transferredCallUrl(publicOrigin: string, path: string, callSid: string): string {
  return `${publicOrigin}${path}?${TRANSFERRED_CALL_QUERY_PARAMETER}=${callSid}`;
}

/** The transferred call named in the (signed) URL, when it is a call SID. */
function transferredCall(req: Request): string | undefined {
  const value = req.query[TRANSFERRED_CALL_QUERY_PARAMETER];
  return isCallSid(value) ? value : undefined;
}

function twimlAnswer(res: Response, twiml: string): void {
  res.status(200).type('text/xml').send(twiml);
}

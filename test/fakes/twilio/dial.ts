/**
 * What Twilio does for `<Dial>` (https://www.twilio.com/docs/voice/twiml/dial) with `<Number>` nouns
 * (https://www.twilio.com/docs/voice/twiml/number), as the fake call runs it:
 *
 * - the number rings for the Dial's `timeout` seconds (default 30; the fake's target may answer sooner); a busy line
 *   or a failure ends the dial at once;
 * - when the person picks up and the `<Number url>` is set, Twilio requests that URL (signed, with the child call's
 *   parameters: its own CallSid, `ParentCallSid`, `Direction=outbound-dial`) and runs the TwiML it returns on the
 *   called party's end only, before connecting ("privately <Say> information to the called party … a chance to
 *   decline the phone call using <Gather> and <Hangup>"; `<Dial>` is not allowed there). `<Gather>` with digits
 *   posts them to its `action` and runs the answer; without digits it falls through to the next verb. `<Hangup>`
 *   ends the child call unbridged; reaching the end connects the two parties;
 * - the dial's end is reported to the `<Dial action>` with `DialCallStatus` (`completed`, `busy`, `no-answer`,
 *   `failed`), `DialCallSid`, `DialCallDuration` and `DialBridged` ("true only if the call was bridged with the
 *   parent … to distinguish the cases where the child call was hung up during screening", TwiML changelog
 *   2020-12-09: https://www.twilio.com/docs/voice/twiml/changelog); a child hung up during screening is
 *   `completed` with `DialBridged=false`.
 */
import { newCallSid } from './ids.js';
import { readTwimlVerbs, type TwimlVerb } from './twiml.js';
import { postTwilioRequest } from './webhook.js';

/** How the person at a dialled number behaves. `ringMs`: how long before they answer or the dial gives up. */
export type DialTarget =
  | { answer: 'busy' }
  | { answer: 'failed' }
  | { answer: 'no-answer'; ringMs?: number }
  | {
      answer: 'pick-up';
      ringMs?: number;
      /** A key pressed during the whisper's `<Gather>`; none: they let it time out (declining). */
      pressKey?: string;
      /** How long the two parties talk once connected, before the dialled person hangs up. Default 100 ms. */
      talkMs?: number;
    };

export interface DialRecord {
  number: string;
  atMs: number;
  childCallSid: string | undefined;
  /** What the dialled person heard before being connected (`<Say>`, `<Gather>`'s prompt), in order. */
  whisper: string[];
  digits: string | undefined;
  bridgedAtMs: number | undefined;
  endedAtMs: number | undefined;
  status: 'completed' | 'busy' | 'no-answer' | 'failed' | undefined;
}

export interface DialContext {
  serverUrl: string;
  authToken: string;
  /** The parent call's webhook parameters. */
  params: Readonly<Record<string, string>>;
  now: () => number;
  errors: string[];
  target: (number: string) => DialTarget;
}

const DEFAULT_TIMEOUT_SECONDS = 30;
const MAX_WHISPER_DOCUMENTS = 5;

/** Runs one `<Dial>`; resolves with the record and the action's extra parameters once the dialled leg has ended. */
export async function runDial(dial: TwimlVerb, context: DialContext): Promise<{ record: DialRecord; actionParams: Record<string, string> }> {
  const noun = dial.children.find((child) => child.name === 'Number');
  const number = (noun?.text ?? dial.text).trim();
  const record: DialRecord = { number, atMs: context.now(), childCallSid: undefined, whisper: [], digits: undefined, bridgedAtMs: undefined, endedAtMs: undefined, status: undefined };
  const timeoutMs = Number(dial.attributes['timeout'] ?? DEFAULT_TIMEOUT_SECONDS) * 1000;
  const target = context.target(number);
  let bridged = false;
  if (target.answer === 'busy' || target.answer === 'failed') {
    record.status = target.answer;
  } else if (target.answer === 'no-answer' || (target.ringMs ?? 0) >= timeoutMs) {
    await sleep(Math.min(timeoutMs, target.ringMs ?? timeoutMs));
    record.status = 'no-answer';
  } else {
    await sleep(target.ringMs ?? 0);
    record.childCallSid = newCallSid();
    const url = noun?.attributes['url'];
    bridged = url === undefined ? true : await runWhisper(url, record, target, context);
    if (bridged) {
      record.bridgedAtMs = context.now();
      await sleep(target.talkMs ?? 100);
    }
    record.status = 'completed';
  }
  record.endedAtMs = context.now();
  const durationSeconds = record.bridgedAtMs === undefined ? 0 : Math.round((record.endedAtMs - record.bridgedAtMs) / 1000);
  return {
    record,
    actionParams: {
      DialCallStatus: record.status,
      ...(record.childCallSid === undefined ? {} : { DialCallSid: record.childCallSid, DialCallDuration: String(durationSeconds) }),
      DialBridged: String(bridged),
    },
  };
}

/** The `<Number url>` TwiML on the dialled person's end: true when it ends without a `<Hangup>` (connect them). */
async function runWhisper(url: string, record: DialRecord, target: Extract<DialTarget, { answer: 'pick-up' }>, context: DialContext): Promise<boolean> {
  const childParams: Record<string, string> = {
    AccountSid: context.params['AccountSid'] ?? '',
    ApiVersion: '2010-04-01',
    CallSid: record.childCallSid ?? '',
    ParentCallSid: context.params['CallSid'] ?? '',
    CallStatus: 'in-progress',
    Direction: 'outbound-dial',
    From: context.params['From'] ?? '',
    To: record.number,
    Called: record.number,
    Caller: context.params['From'] ?? '',
  };
  let next: { url: string; params: Record<string, string> } | undefined = { url, params: childParams };
  for (let documents = 0; next !== undefined && documents < MAX_WHISPER_DOCUMENTS; documents++) {
    const answer = await postTwilioRequest({ serverUrl: context.serverUrl, url: next.url, authToken: context.authToken, params: next.params });
    if (answer.status !== 200) {
      context.errors.push(`whisper request ${next.url} answered HTTP ${answer.status}${answer.error === undefined ? '' : ` (${answer.error})`}`);
      return false;
    }
    let verbs: TwimlVerb[];
    try {
      verbs = readTwimlVerbs(answer.body);
    } catch (error) {
      context.errors.push(`unusable whisper TwiML (${(error as Error).message})`);
      return false;
    }
    const outcome = whisperVerbs(verbs, next.url, record, target, childParams, context);
    if (outcome === 'hang-up') return false;
    next = outcome === 'connect' ? undefined : outcome;
  }
  return true;
}

/** One whisper document, verb by verb: hang up, connect, or the Gather's action to request next. */
function whisperVerbs(
  verbs: TwimlVerb[],
  documentUrl: string,
  record: DialRecord,
  target: Extract<DialTarget, { answer: 'pick-up' }>,
  childParams: Record<string, string>,
  context: DialContext,
): 'hang-up' | 'connect' | { url: string; params: Record<string, string> } {
  for (const verb of verbs) {
    if (verb.name === 'Say') record.whisper.push(verb.text);
    else if (verb.name === 'Hangup') return 'hang-up';
    else if (verb.name === 'Gather') {
      for (const prompt of verb.children.filter((child) => child.name === 'Say')) record.whisper.push(prompt.text);
      if (target.pressKey === undefined) continue; // timed out: on to the next verb
      record.digits = target.pressKey;
      return { url: new URL(verb.attributes['action'] ?? documentUrl, documentUrl).toString(), params: { ...childParams, Digits: target.pressKey } };
    } else if (verb.name !== 'Pause') {
      context.errors.push(`<${verb.name}> is not allowed in a <Number url> document`);
      return 'hang-up';
    }
  }
  return 'connect';
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

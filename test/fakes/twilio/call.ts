/**
 * A fake of one Twilio call across its media streams, following Twilio's public behaviour:
 *
 * - The call starts with the signed voice webhook (`POST /voice`); Twilio executes the TwiML it returns verb by
 *   verb (https://www.twilio.com/docs/voice/twiml): `<Say>` is spoken, `<Hangup>` or running out of verbs ends the
 *   call.
 * - `<Connect><Stream>` opens the bidirectional media stream to the `<Stream url>` (signed, on the host given as
 *   `serverUrl`, e.g. the load balancer). When that stream ends (its WebSocket closes) and the call is still up,
 *   Twilio requests the `<Connect action>` URL (signed, with the call's parameters) and executes the TwiML it
 *   returns; without an action it goes on with the verbs after `</Connect>`
 *   (https://www.twilio.com/docs/voice/twiml/connect: "action ... Twilio will make a request to this URL when the
 *   `<Stream>` ends").
 * - `<Stream statusCallback>` gets `stream-started`, `stream-stopped` and `stream-error` (a stream that could not
 *   connect), signed (https://www.twilio.com/docs/voice/twiml/stream#statuscallback).
 * - `<Dial>` rings the number, runs its `<Number url>` whisper and reports to its `action` (dial.ts), the person at
 *   the number behaving as `dialTargets` says.
 * - An outbound call (`answerOutbound`) is answered as Twilio answers a call placed through `POST Calls.json`: the
 *   voice webhook is its `Url` with `Direction=outbound-api`, and a call that asked for asynchronous answering
 *   machine detection gets its verdict (`amdVerdict`) at its own time from the answer.
 * - A call hung up by the caller (`hangUp()`: `stop`, then the socket closes) or through the REST API
 *   (`Status=completed`, seen through the fake REST API) is over: no action request. A REST redirect (`Twiml=`)
 *   ends the stream and runs the new TwiML instead, also without an action request.
 *
 * Times (`...AtMs`) are milliseconds since `dial()` on one monotonic clock; `callMs(stream, atMs)` converts a
 * stream's own times (which count from that stream's connect) to it.
 */
import { performance } from 'node:perf_hooks';
import { FakeTwilioMediaStream, type FakeTwilioMediaStreamOptions } from './media-stream.js';
import { runDial, type DialRecord, type DialTarget } from './dial.js';
import type { FakeCall, FakeTwilioRestApi } from './rest-api.js';
import { parseConnectStreamTwiml, readTwimlVerbs, type ConnectStreamTwiml, type TwimlVerb } from './twiml.js';
import { postTwilioRequest, postVoiceWebhook, type VoiceWebhookParams, type VoiceWebhookResponse } from './webhook.js';

export interface FakeTwilioCallOptions {
  /** Where Twilio's requests really go (the load balancer or an instance), e.g. `http://127.0.0.1:PORT`. */
  serverUrl: string;
  /** The public base URL configured for the number: Twilio signs URLs under it. */
  publicUrl: string;
  authToken: string;
  /** Overrides of the voice webhook's parameters (`undefined` removes one); `CallSid` picks the call's sid. */
  params?: Readonly<Record<string, string | undefined>>;
  /** Path of the voice webhook. Default `/voice`. */
  voicePath?: string;
  /** The fake REST API: the call is registered there, and its `Status=completed` / `Twiml=` updates are followed. */
  restApi?: FakeTwilioRestApi;
  /** Called as soon as each stream is open (before anything awaits), e.g. to start caller audio at once. */
  onStream?: (stream: FakeTwilioMediaStream, info: StreamInfo) => void;
  /** Passed to every `FakeTwilioMediaStream.connect` (continuousSilence, handshakeTimeoutMs, ...). */
  streamOptions?: Partial<Pick<FakeTwilioMediaStreamOptions, 'continuousSilence' | 'handshakeTimeoutMs' | 'timestampOffsetMs'>>;
  /**
   * How long Twilio's media server takes from executing `<Connect><Stream>` to opening the WebSocket (DNS, TCP,
   * TLS to the stream host, and Twilio's own set-up). Default 0: at once, the hardest case for a server that
   * prepares something at the webhook.
   */
  streamConnectDelayMs?: number;
  /** A guard against a server that keeps answering with new streams: the call fails after this many. Default 10. */
  maxStreams?: number;
  /** Who answers a `<Dial>`ed number, and how. Default: nobody answers (`no-answer` after the Dial's timeout). */
  dialTargets?: (number: string) => DialTarget;
  /** Twilio's AMD verdict for a call that asked for it, sent this long after the answer (needs `restApi`). */
  amdVerdict?: { answeredBy: string; afterMs: number; machineDetectionDurationMs?: number };
}

/** A `<Stream statusCallback>` request the fake made. */
export interface StreamStatusRequest {
  atMs: number;
  event: 'stream-started' | 'stream-stopped' | 'stream-error';
  params: Record<string, string>;
  status: number;
}

export interface StreamInfo {
  /** 1 for the first stream of the call. */
  number: number;
  /** What the stream came from: the voice webhook's TwiML, an action request's, or a REST redirect's. */
  source: 'voice' | 'action' | 'redirect';
  /** When the stream's own clock started, on the call's clock. */
  originAtMs: number;
  /** When `connect` resolved (`connected` and `start` sent), on the call's clock. */
  openedAtMs: number;
  twiml: ConnectStreamTwiml;
  stream: FakeTwilioMediaStream;
}

export interface ActionRequest {
  atMs: number;
  /** The absolute (public) URL Twilio signed. */
  url: string;
  params: Record<string, string>;
  status: number;
  body: string;
  respondedAtMs: number;
}

export type CallEndReason =
  /** The test hung up as the caller. */
  | 'caller-hung-up'
  /** Someone ended the call through the REST API (`Status=completed`). */
  | 'rest-completed'
  /** The TwiML said `<Hangup>`. */
  | 'hangup-verb'
  /** The TwiML ran out of verbs. */
  | 'twiml-ended'
  /** Twilio could not go on: the webhook or the action failed, or an unusable TwiML (see `errors`). */
  | 'failed';

export interface CallEnd {
  reason: CallEndReason;
  atMs: number;
}

export class FakeTwilioCall {
  readonly callSid: string;
  /** The voice webhook's parameters as posted. */
  readonly params: VoiceWebhookParams;
  /** Every TwiML document Twilio executed for this call, in order. */
  readonly twimls: { source: 'voice' | 'action' | 'redirect'; atMs: number; body: string }[] = [];
  /** Every stream the call had, oldest first. */
  readonly streams: StreamInfo[] = [];
  /** Every `<Connect action>` request made. */
  readonly actionRequests: ActionRequest[] = [];
  /** What `<Say>` verbs said, in order. */
  readonly said: string[] = [];
  /** Every `<Dial>` run, with what the dialled person heard. */
  readonly dials: DialRecord[] = [];
  /** Every `<Stream statusCallback>` request. */
  readonly streamStatusRequests: StreamStatusRequest[] = [];
  /** What went wrong on Twilio's side (failed requests, unusable TwiML, refused streams). */
  readonly errors: string[] = [];
  readonly ended: Promise<CallEnd>;
  endInfo: CallEnd | undefined;
  webhookResponse: VoiceWebhookResponse | undefined;

  private readonly t0 = performance.now();
  private resolveEnded!: (end: CallEnd) => void;
  private endRequested: 'caller-hung-up' | 'rest-completed' | undefined;
  private redirectTwiml: string | undefined;
  private readonly waiters = new Set<() => void>();

  /**
   * Twilio places the call: posts the voice webhook and starts executing its TwiML. Resolves once the first
   * stream is open, or the call has ended (refused, hung up), or the webhook failed.
   */
  static async dial(options: FakeTwilioCallOptions): Promise<FakeTwilioCall> {
    const call = new FakeTwilioCall(options);
    await call.begin();
    return call;
  }

  /**
   * Twilio answers a call created through the fake REST API: the voice webhook is the call's own `Url` (its query
   * included: what Twilio signs), with the call's `CallSid`, `From`, `To` and `Direction=outbound-api`.
   */
  static async answerOutbound(created: FakeCall, options: Omit<FakeTwilioCallOptions, 'params' | 'voicePath'>): Promise<FakeTwilioCall> {
    if (created.url === undefined) throw new Error('the created call has no Url to fetch');
    const url = new URL(created.url);
    const params = { CallSid: created.sid, From: created.from, To: created.to, Caller: created.from, Called: created.to, Direction: created.direction, CallStatus: 'in-progress' };
    return FakeTwilioCall.dial({ ...options, params, voicePath: `${url.pathname}${url.search}` });
  }

  private constructor(private readonly options: FakeTwilioCallOptions) {
    this.params = {};
    this.callSid = '';
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
  }

  /** Milliseconds since `dial()`. */
  now(): number {
    return performance.now() - this.t0;
  }

  /** The stream carrying the call now (the latest one, open or not); undefined before the first. */
  get stream(): FakeTwilioMediaStream | undefined {
    return this.streams.at(-1)?.stream;
  }

  get streamCount(): number {
    return this.streams.length;
  }

  /** A time on `stream`'s own clock, on the call's clock. */
  callMs(stream: FakeTwilioMediaStream, atMs: number): number {
    const info = this.streams.find((s) => s.stream === stream);
    if (info === undefined) throw new Error('not a stream of this call');
    return info.originAtMs + atMs;
  }

  /** The caller hangs up: Twilio sends `stop` on the stream and closes it; no action request follows. */
  async hangUp(): Promise<CallEnd> {
    if (this.endInfo !== undefined) return this.endInfo;
    this.endRequested ??= 'caller-hung-up';
    const stream = this.stream;
    if (stream !== undefined && stream.closeInfo === undefined) await stream.hangUp();
    this.finish(this.endRequested);
    return this.ended;
  }

  /** Resolves with stream number `n` (1-based) once it is open; rejects if the call ends first or on timeout. */
  waitForStream(n: number, timeoutMs = 10_000): Promise<FakeTwilioMediaStream> {
    return this.waitUntil(() => this.streams[n - 1]?.stream, timeoutMs, `stream #${n}`);
  }

  /** Resolves once `count` action requests have been answered. */
  waitForActionRequests(count: number, timeoutMs = 10_000): Promise<ActionRequest> {
    return this.waitUntil(() => (this.actionRequests.length >= count ? this.actionRequests[count - 1] : undefined), timeoutMs, `${count} action request(s)`);
  }

  describe(): string {
    return `call ${this.callSid}: streams=${this.streams.length} actions=${this.actionRequests.length} ended=${this.endInfo?.reason ?? 'no'} errors=${JSON.stringify(this.errors)}`;
  }

  // ------------------------------------------------------------------------------------------ internals

  private async begin(): Promise<void> {
    const { options } = this;
    const response = await postVoiceWebhook({
      serverUrl: options.serverUrl,
      publicUrl: options.publicUrl,
      authToken: options.authToken,
      ...(options.params === undefined ? {} : { params: options.params }),
      ...(options.voicePath === undefined ? {} : { path: options.voicePath }),
    });
    this.webhookResponse = response;
    Object.assign(this.params, response.params);
    (this as { callSid: string }).callSid = response.params['CallSid'] ?? '';
    const rest = options.restApi;
    if (rest !== undefined) {
      const created = rest.getCall(this.callSid);
      if (created === undefined) rest.addCall({ sid: this.callSid, from: this.params['From'] ?? '', to: this.params['To'] ?? '', status: 'in-progress' });
      else created.status = 'in-progress';
      this.scheduleAmdVerdict(rest);
      rest.onCallUpdated((update) => {
        if (update.call.sid !== this.callSid || this.endInfo !== undefined) return;
        if (update.kind === 'completed') {
          this.endRequested ??= 'rest-completed';
          const stream = this.stream;
          if (stream === undefined || stream.closeInfo !== undefined) this.finish('rest-completed');
          else void stream.hangUp().then(() => this.finish('rest-completed'));
        } else if (update.call.twiml !== undefined) {
          this.redirectTwiml = update.call.twiml;
          void this.stream?.hangUp();
        }
      });
    }
    if (response.status !== 200) {
      this.errors.push(`voice webhook answered HTTP ${response.status}: ${response.body.slice(0, 200)}`);
      this.finish('failed');
      return;
    }
    const first = new Promise<void>((resolve) => {
      const check = (): void => {
        if (this.streams.length > 0 || this.endInfo !== undefined) {
          this.waiters.delete(check);
          resolve();
        }
      };
      this.waiters.add(check);
    });
    void this.run(response.body, 'voice').catch((error: unknown) => {
      this.errors.push(`fake call: ${(error as Error).stack ?? String(error)}`);
      this.finish('failed');
    });
    await first;
  }

  /** Executes one TwiML document, and whatever follows it (action TwiML, redirects), until the call ends. */
  private async run(initial: string, initialSource: 'voice' | 'action' | 'redirect'): Promise<void> {
    let body: string | undefined = initial;
    let source: 'voice' | 'action' | 'redirect' = initialSource;
    while (body !== undefined && this.endInfo === undefined) {
      this.twimls.push({ source, atMs: this.now(), body });
      let verbs: TwimlVerb[];
      try {
        verbs = readTwimlVerbs(body);
      } catch (error) {
        this.errors.push(`unusable TwiML (${(error as Error).message}): ${body}`);
        this.finish('failed');
        return;
      }
      const next = await this.execute(body, verbs, source);
      body = next?.body;
      if (next !== undefined) source = next.source;
    }
  }

  /** Runs the verbs of one document; returns the next document to run (from an action or a redirect), if any. */
  private async execute(body: string, verbs: TwimlVerb[], source: 'voice' | 'action' | 'redirect'): Promise<{ body: string; source: 'action' | 'redirect' } | undefined> {
    for (const verb of verbs) {
      if (this.endInfo !== undefined) return undefined;
      if (verb.name === 'Say') {
        this.said.push(verb.text);
      } else if (verb.name === 'Hangup') {
        this.finish('hangup-verb');
        return undefined;
      } else if (verb.name === 'Connect') {
        let twiml: ConnectStreamTwiml;
        try {
          twiml = parseConnectStreamTwiml(body);
        } catch (error) {
          this.errors.push(`unusable <Connect> (${(error as Error).message})`);
          this.finish('failed');
          return undefined;
        }
        await this.openStream(twiml, source);
        if (this.endRequested !== undefined) {
          this.finish(this.endRequested);
          return undefined;
        }
        const redirect = this.redirectTwiml;
        if (redirect !== undefined) {
          this.redirectTwiml = undefined;
          return { body: redirect, source: 'redirect' };
        }
        if (twiml.connectAction !== undefined) {
          const answer = await this.requestAction(twiml.connectAction);
          if (answer === undefined) return undefined;
          return { body: answer, source: 'action' };
        }
        // No action: Twilio goes on with the next verb.
      } else if (verb.name === 'Dial') {
        const next = await this.runDial(verb);
        if (next !== 'continue') return next;
      } else {
        this.errors.push(`the fake does not run <${verb.name}>`);
        this.finish('failed');
        return undefined;
      }
    }
    this.finish('twiml-ended');
    return undefined;
  }

  /** Opens the stream and waits until it ends. */
  private async openStream(twiml: ConnectStreamTwiml, source: 'voice' | 'action' | 'redirect'): Promise<void> {
    const max = this.options.maxStreams ?? 10;
    if (this.streams.length >= max) {
      this.errors.push(`more than ${max} streams: the server keeps reconnecting`);
      this.finish('failed');
      return;
    }
    const delay = this.options.streamConnectDelayMs ?? 0;
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    if (this.endRequested !== undefined) return;
    let stream: FakeTwilioMediaStream;
    try {
      stream = await FakeTwilioMediaStream.connect({
        ...this.options.streamOptions,
        serverUrl: this.options.serverUrl.replace(/^http/, 'ws'),
        streamUrl: twiml.streamUrl,
        authToken: this.options.authToken,
        callSid: this.callSid,
        ...(this.params['AccountSid'] === undefined ? {} : { accountSid: this.params['AccountSid'] }),
        customParameters: twiml.parameters,
      });
    } catch (error) {
      // The stream could not connect: the <Connect> ends as if it had closed.
      this.errors.push(`stream #${this.streams.length + 1} did not connect: ${(error as Error).message}`);
      await this.streamStatus(twiml, 'stream-error', undefined, (error as Error).message);
      return;
    }
    const openedAtMs = this.now();
    const info: StreamInfo = { number: this.streams.length + 1, source, originAtMs: openedAtMs - stream.now(), openedAtMs, twiml, stream };
    this.streams.push(info);
    try {
      this.options.onStream?.(stream, info);
    } catch (error) {
      this.errors.push(`onStream: ${(error as Error).message}`);
    }
    this.notify();
    await this.streamStatus(twiml, 'stream-started', stream.streamSid);
    await stream.closed;
    // Twilio reports the stream's end on its own: the call goes on (to the <Connect action>) without waiting for that
    // request, which may be slow (its path names the instance that held the stream, and that one may be gone).
    void this.streamStatus(twiml, 'stream-stopped', stream.streamSid);
  }

  /** `<Stream statusCallback>`: the stream's events, signed (https://www.twilio.com/docs/voice/twiml/stream#statuscallback). */
  private async streamStatus(twiml: ConnectStreamTwiml, event: StreamStatusRequest['event'], streamSid: string | undefined, error?: string): Promise<void> {
    if (twiml.statusCallback === undefined) return;
    const params: Record<string, string> = {
      AccountSid: this.params['AccountSid'] ?? '',
      CallSid: this.callSid,
      StreamSid: streamSid ?? '',
      StreamName: twiml.streamName ?? streamSid ?? '',
      StreamEvent: event,
      Timestamp: new Date().toISOString(),
      ...(error === undefined ? {} : { StreamError: error }),
    };
    const atMs = this.now();
    const answer = await postTwilioRequest({ serverUrl: this.options.serverUrl, url: twiml.statusCallback, authToken: this.options.authToken, params });
    this.streamStatusRequests.push({ atMs, event, params, status: answer.status });
  }

  /** `<Dial>`: ring, whisper, connect (dial.ts); then its action's TwiML, or on with the next verb. */
  private async runDial(verb: TwimlVerb): Promise<{ body: string; source: 'action' | 'redirect' } | undefined | 'continue'> {
    const { record, actionParams } = await runDial(verb, {
      serverUrl: this.options.serverUrl,
      authToken: this.options.authToken,
      params: this.params,
      now: () => this.now(),
      errors: this.errors,
      target: this.options.dialTargets ?? (() => ({ answer: 'no-answer' })),
    });
    this.dials.push(record);
    this.notify();
    if (this.endRequested !== undefined) {
      this.finish(this.endRequested);
      return undefined;
    }
    const action = verb.attributes['action'];
    if (action === undefined) return 'continue';
    const answer = await this.requestAction(action, actionParams);
    return answer === undefined ? undefined : { body: answer, source: 'action' };
  }

  private scheduleAmdVerdict(rest: FakeTwilioRestApi): void {
    const verdict = this.options.amdVerdict;
    if (verdict === undefined) return;
    setTimeout(() => {
      if (this.endInfo !== undefined) return;
      rest.sendAmdVerdict(this.callSid, verdict.answeredBy, verdict.machineDetectionDurationMs ?? verdict.afterMs).catch((error: unknown) => this.errors.push(`AMD verdict: ${(error as Error).message}`));
    }, verdict.afterMs);
  }

  private async requestAction(url: string, extra: Readonly<Record<string, string>> = {}): Promise<string | undefined> {
    const params: Record<string, string> = { ...this.params, CallStatus: 'in-progress', ...extra };
    const atMs = this.now();
    const { status, body, error } = await postTwilioRequest({ serverUrl: this.options.serverUrl, url, authToken: this.options.authToken, params });
    if (error !== undefined) this.errors.push(`action request failed: ${error}`);
    this.actionRequests.push({ atMs, url, params, status, body, respondedAtMs: this.now() });
    this.notify();
    if (status !== 200) {
      // Twilio ends the call on an action it cannot fetch (after its own retries, which the fake does not make).
      this.errors.push(`action request answered HTTP ${status}`);
      this.finish('failed');
      return undefined;
    }
    return body;
  }

  private finish(reason: CallEndReason): void {
    if (this.endInfo !== undefined) return;
    this.endInfo = { reason, atMs: this.now() };
    this.options.restApi?.completeCall(this.callSid);
    this.resolveEnded(this.endInfo);
    this.notify();
  }

  private waitUntil<T>(value: () => T | undefined, timeoutMs: number, label: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const found = value();
        if (found !== undefined) {
          done();
          resolve(found);
        } else if (this.endInfo !== undefined) {
          done();
          reject(new Error(`the call ended (${this.endInfo.reason}) while waiting for ${label}; ${this.describe()}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${label}; ${this.describe()}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  private notify(): void {
    for (const check of [...this.waiters]) check();
  }
}

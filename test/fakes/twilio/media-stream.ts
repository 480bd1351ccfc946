import alawmulaw from 'alawmulaw';
import { WebSocket, type RawData } from 'ws';
import { TEST_ACCOUNT_SID, newStreamSid } from './ids.js';
import { MAX_BUFFERED_BYTES, PlayoutBuffer, type CompletedMark, type HeardChunk } from './playout.js';
import {
  parseServerMessage,
  type DtmfDigit,
  type InboundMediaMessage,
  type StartMessage,
  type TwilioMessage,
} from './protocol.js';
import { computeTwilioSignature } from './signature.js';

export type { HeardChunk } from './playout.js';

const { mulaw } = alawmulaw;

/** Twilio sends caller audio in 20 ms frames of 160 mu-law bytes (8 kHz, 1 byte per sample). */
export const FRAME_MS = 20;
export const FRAME_BYTES = 160;
/** mu-law encodes zero amplitude as 0xFF; this is what a silent phone line sounds like. */
export const MULAW_SILENCE_BYTE = 0xff;

export function mulawSilence(ms: number): Uint8Array {
  return new Uint8Array(Math.round(ms * 8)).fill(MULAW_SILENCE_BYTE);
}

export interface FakeTwilioMediaStreamOptions {
  /**
   * Where our server really listens, e.g. `ws://127.0.0.1:PORT`. Twilio connects to the `<Stream url>` itself, so
   * when `streamUrl` is a wss:// URL the request goes to its path and query on this host (a path here is ignored);
   * otherwise (a browser phone's socket, a negative test) to this URL as given.
   */
  serverUrl: string;
  /** The `wss://` URL from the TwiML `<Stream url>`: Twilio signs this, not the local URL. */
  streamUrl: string;
  authToken: string;
  callSid: string;
  /** Default TEST_ACCOUNT_SID. */
  accountSid?: string;
  /** Default: a fresh MZ sid. */
  streamSid?: string;
  /** The `<Parameter>`s from the TwiML, delivered in `start.customParameters`. */
  customParameters?: Record<string, string>;
  /** Omit for a correct `x-twilio-signature`; a string is sent verbatim; `null` sends no header. */
  signature?: string | null;
  /**
   * How to send `start`: 'send' (default, as Twilio does), 'skip', 'garbled' (truncated JSON), or a function
   * returning the message to send instead (serialised as JSON), for negative tests.
   */
  start?: 'send' | 'skip' | 'garbled' | ((start: StartMessage) => unknown);
  /**
   * Twilio streams caller audio continuously while the call is up (silence included). Default true: 0xFF frames
   * fill every 20 ms slot not taken by `playCallerAudio`. Set false to send only what the test plays: real phone
   * legs can omit silent audio, leaving gaps in `media.timestamp` (openai/openai-agents-js examples/realtime-twilio
   * README). Marks pending at a `clear` are echoed back at once, as Twilio documents ("Mark message").
   */
  continuousSilence?: boolean;
  /**
   * Added to every caller `media.timestamp`: real streams have been seen starting at a non-zero offset
   * (real calls made for this project; Twilio documents the field only as "presentation timestamp in
   * milliseconds from the start of the stream"). Default 0.
   */
  timestampOffsetMs?: number;
  /** WebSocket handshake timeout. Default 5000 ms. */
  handshakeTimeoutMs?: number;
  /**
   * The caller's phone sends the agent's voice back: what this stream really played, `returnLossDb` quieter and
   * `delayMs` later, mixed into every caller frame (handsets and speakerphones leak their own speaker into the
   * microphone; line echo is measured as echo return loss, ITU-T G.168). When the agent is cleared, its echo stops.
   */
  echo?: { returnLossDb: number; delayMs: number };
}

/** Thrown by `connect` when the server refuses the WebSocket upgrade (e.g. 403 for a bad signature). */
export class TwilioHandshakeError extends Error {
  override name = 'TwilioHandshakeError';
  constructor(
    readonly statusCode: number | undefined,
    message: string,
  ) {
    super(message);
  }
}

export interface CloseInfo {
  code: number;
  reason: string;
  atMs: number;
  /** Who started the closing handshake: the fake (hang-up) or our server. */
  initiatedBy: 'twilio' | 'server';
}

export interface CallerPlayback {
  framesSent: number;
  /** False when the stream stopped/closed before every frame went out. */
  complete: boolean;
  firstFrameAtMs?: number;
  lastFrameAtMs?: number;
}

export interface ReceivedMedia {
  atMs: number;
  bytes: Uint8Array;
}

export interface EchoedMark {
  name: string;
  receivedAtMs: number;
  echoedAtMs: number;
  /** 'played': the audio before it finished (or nothing was buffered); 'cleared': a `clear` discarded it. */
  outcome: 'played' | 'cleared';
}

export interface ClearRecord {
  atMs: number;
  /** Buffered agent audio thrown away (never heard). */
  discardedBytes: number;
  /** Marks echoed because of this clear. */
  pendingMarks: string[];
}

export interface SentRecord {
  atMs: number;
  message: TwilioMessage;
}

export interface ReceivedFrame {
  atMs: number;
  isBinary: boolean;
  /** The text of a text frame; binary frames are summarised by `byteLength`. */
  text?: string;
  byteLength: number;
}

interface CallerItem {
  frames: Uint8Array[];
  next: number;
  realtime: boolean;
  result: CallerPlayback;
  resolve: (result: CallerPlayback) => void;
}

const SILENCE_FRAME = new Uint8Array(FRAME_BYTES).fill(MULAW_SILENCE_BYTE);
// A real-time frame due within this many ms is sent now: timers and performance.now() use different clocks, and
// rescheduling for a sub-millisecond remainder would only add lateness.
const EARLY_SEND_TOLERANCE_MS = 1;

/**
 * What Twilio's media server does for `<Connect><Stream>`: opens the signed WebSocket, sends `connected` and
 * `start`, streams caller audio in paced 20 ms frames, and plays the server's audio on a real-time clock with
 * Twilio's mark/clear semantics. Every server message is validated; problems land in `violations` (prefixed with
 * the Twilio warning code), never as exceptions thrown from socket handlers.
 *
 * All times (`...AtMs`) are milliseconds on a monotonic clock since `connect()` was called; `now()` reads it.
 */
export class FakeTwilioMediaStream {
  readonly callSid: string;
  readonly accountSid: string;
  readonly streamSid: string;
  readonly customParameters: Record<string, string>;

  /** Protocol problems in what our server sent, e.g. `31951 mark: streamSid ... is not the active stream`. */
  readonly violations: string[] = [];
  /** Errors inside the fake or the socket (not the server's fault); tests should normally expect none. */
  readonly errors: string[] = [];
  /** Every agent `media` payload, decoded, with arrival time (including audio later cleared). */
  readonly receivedMedia: ReceivedMedia[] = [];
  readonly marksEchoed: EchoedMark[] = [];
  readonly clears: ClearRecord[] = [];
  /** Every frame the server sent, raw. */
  readonly received: ReceivedFrame[] = [];
  /** Every protocol message this fake sent (connected, start, media, dtmf, mark echoes, stop). */
  readonly sent: SentRecord[] = [];
  readonly closed: Promise<CloseInfo>;

  firstAgentAudioAtMs: number | undefined;
  /** When `start` went out; caller `media.timestamp`s count from here. */
  streamStartedAtMs: number | undefined;
  closeInfo: CloseInfo | undefined;
  /** `stop` has been sent: Twilio sends nothing after it. */
  stopSent = false;

  private readonly ws: WebSocket;
  private readonly t0 = performance.now();
  private readonly playout = new PlayoutBuffer();
  private readonly waiters = new Set<() => void>();
  private resolveClosed!: (info: CloseInfo) => void;
  /** The streamSid our server has been told about; undefined when `start` was skipped or garbled. */
  private activeStreamSid: string | undefined;
  private sequence = 0;
  private chunk = 0;
  private closeRequested = false;
  private bufferOverflowReported = false;

  private readonly callerQueue: CallerItem[] = [];
  private continuousSilence: boolean;
  private readonly timestampOffsetMs: number;
  private senderTimer: NodeJS.Timeout | undefined;
  private senderIdle = true;
  /** Next 20 ms slot to fill; a frame in slot k has media.timestamp 20k. */
  private slotCursor = 0;
  private playerTimer: NodeJS.Timeout | undefined;
  private readonly echo: FakeTwilioMediaStreamOptions['echo'];
  /** The first heard chunk the echo may still need. */
  private echoCursor = 0;

  /** Open the stream like Twilio does; resolves once `connected` and `start` have been sent. */
  static async connect(options: FakeTwilioMediaStreamOptions): Promise<FakeTwilioMediaStream> {
    const headers: Record<string, string> = { 'user-agent': 'Twilio.TmeWs/1.0' };
    // The upgrade is a GET with no body, so the signature covers the wss:// URL alone (no parameters).
    const signature =
      options.signature === undefined ? computeTwilioSignature(options.authToken, options.streamUrl) : options.signature;
    if (signature !== null) headers['x-twilio-signature'] = signature;

    const ws = new WebSocket(connectionUrl(options), {
      headers,
      handshakeTimeout: options.handshakeTimeoutMs ?? 5000,
      perMessageDeflate: false,
    });
    const stream = new FakeTwilioMediaStream(ws, options);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (req, res) => {
        reject(new TwilioHandshakeError(res.statusCode, `server refused the WebSocket upgrade: HTTP ${res.statusCode}`));
        res.resume();
        req.destroy();
      });
      ws.once('error', (err) => reject(new TwilioHandshakeError(undefined, `WebSocket connect failed: ${err.message}`)));
    });
    stream.begin(options.start ?? 'send');
    return stream;
  }

  private constructor(ws: WebSocket, options: FakeTwilioMediaStreamOptions) {
    this.ws = ws;
    this.callSid = options.callSid;
    this.accountSid = options.accountSid ?? TEST_ACCOUNT_SID;
    this.streamSid = options.streamSid ?? newStreamSid();
    this.customParameters = { ...(options.customParameters ?? {}) };
    this.continuousSilence = options.continuousSilence ?? true;
    this.timestampOffsetMs = options.timestampOffsetMs ?? 0;
    this.echo = options.echo;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));

    ws.on('message', (data, isBinary) => this.guard('message', () => this.onMessage(data, isBinary)));
    ws.on('close', (code, reason) => this.guard('close', () => this.onClose(code, reason.toString('utf8'))));
    // Listening for 'error' keeps ws from throwing; connect() reports handshake failures itself.
    ws.on('error', (err) => this.errors.push(`socket error: ${err.message}`));
  }

  /** Milliseconds since `connect()` was called, on a monotonic clock. */
  now(): number {
    return performance.now() - this.t0;
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN && this.closeInfo === undefined;
  }

  /** All agent audio actually played to the caller, in order (cleared audio is not included). */
  get heardAudio(): Uint8Array {
    return concatBytes(this.playout.heard.map((c) => c.bytes));
  }

  /** When each stretch of `heardAudio` played; gaps between entries are underruns (the caller heard silence). */
  get heardTimeline(): readonly HeardChunk[] {
    return this.playout.heard;
  }

  /** All agent audio received, in order, including audio that was later cleared. */
  get receivedAudio(): Uint8Array {
    return concatBytes(this.receivedMedia.map((m) => m.bytes));
  }

  /** Agent audio received but not yet played. */
  get bufferedAgentBytes(): number {
    return this.playout.bufferedBytes;
  }

  get pendingMarks(): string[] {
    return this.playout.pendingMarkNames;
  }

  get callerFramesSent(): number {
    return this.chunk;
  }

  // ---------------------------------------------------------------- caller side (Twilio -> server)

  /**
   * Queue caller audio (raw mu-law). It goes out in 160-byte frames (the last one padded with silence), one per
   * 20 ms slot of the stream clock when `realtime` (default), or all at once otherwise. Queued audio takes the
   * place of continuous silence. Resolves when the last frame has been sent.
   */
  playCallerAudio(mulaw: Uint8Array, options: { realtime?: boolean } = {}): Promise<CallerPlayback> {
    const frames: Uint8Array[] = [];
    for (let offset = 0; offset < mulaw.length; offset += FRAME_BYTES) {
      const frame = new Uint8Array(FRAME_BYTES).fill(MULAW_SILENCE_BYTE);
      frame.set(mulaw.subarray(offset, offset + FRAME_BYTES));
      frames.push(frame);
    }
    const result: CallerPlayback = { framesSent: 0, complete: frames.length === 0 };
    if (frames.length === 0) return Promise.resolve(result);
    return new Promise((resolve) => {
      this.callerQueue.push({ frames, next: 0, realtime: options.realtime ?? true, result, resolve });
      this.kickSender();
    });
  }

  /** Queue `ms` of caller silence (explicit frames, whether or not continuous silence is on). */
  playSilence(ms: number, options: { realtime?: boolean } = {}): Promise<CallerPlayback> {
    return this.playCallerAudio(mulawSilence(ms), options);
  }

  /** Fill idle 20 ms slots with silence, like a real call. */
  startContinuousSilence(): void {
    this.continuousSilence = true;
    this.kickSender();
  }

  /** Send only queued audio; gaps show up as jumps in `media.timestamp` (as when a phone leg omits silence). */
  stopContinuousSilence(): void {
    this.continuousSilence = false;
  }

  sendDtmf(digit: DtmfDigit): void {
    if (this.stopSent) return;
    this.sendMessage({
      event: 'dtmf',
      streamSid: this.streamSid,
      sequenceNumber: this.nextSequence(),
      dtmf: { track: 'inbound_track', digit },
    });
  }

  /** The caller hung up: Twilio sends `stop` and nothing after it. */
  sendStop(): void {
    if (this.stopSent) return;
    this.settlePlayout();
    this.sendMessage({
      event: 'stop',
      sequenceNumber: this.nextSequence(),
      stop: { accountSid: this.accountSid, callSid: this.callSid },
      streamSid: this.streamSid,
    });
    this.stopSent = true;
    this.stopTimers();
    this.failPendingCallerAudio();
  }

  /** Send anything, bypassing the protocol (negative tests). Binary for a Uint8Array. Not logged in `sent`. */
  sendRaw(data: string | Uint8Array): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.send(data, { binary: typeof data !== 'string' }, (err) => {
      if (err) this.errors.push(`send failed: ${err.message}`);
    });
  }

  /** Close the WebSocket from Twilio's side (without `stop`; see `hangUp`). */
  close(code = 1000, reason = ''): Promise<CloseInfo> {
    if (this.closeInfo === undefined && !this.closeRequested) {
      this.settlePlayout();
      this.closeRequested = true;
      this.stopTimers();
      this.failPendingCallerAudio();
      if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) {
        this.ws.close(code, reason);
      }
    }
    return this.closed;
  }

  /** The caller hangs up: `stop`, then Twilio closes the socket. */
  hangUp(): Promise<CloseInfo> {
    this.sendStop();
    return this.close(1000, '');
  }

  // ---------------------------------------------------------------- waiting

  /**
   * Resolve when `predicate(this)` holds, checked now and after every change (message, playout tick, close).
   * Rejects on timeout, or as soon as the socket closes with the predicate still false.
   */
  waitFor(predicate: (stream: this) => boolean, timeoutMs = 5000, label = 'condition'): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      const check = (): void => {
        let satisfied: boolean;
        try {
          satisfied = predicate(this);
        } catch (err) {
          finish();
          reject(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        if (satisfied) {
          finish();
          resolve();
        } else if (this.closeInfo !== undefined) {
          finish();
          reject(new Error(`stream closed (${this.closeInfo.code} ${this.closeInfo.reason}) while waiting for ${label}; ${this.describe()}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${label}; ${this.describe()}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /** Resolve with the arrival time of the first agent audio once at least `minBytes` have been received. */
  async waitForAgentAudio(options: { minBytes?: number; timeoutMs?: number } = {}): Promise<number> {
    const minBytes = options.minBytes ?? 1;
    await this.waitFor((s) => totalBytes(s.receivedMedia) >= minBytes, options.timeoutMs, `${minBytes} bytes of agent audio`);
    return this.firstAgentAudioAtMs ?? this.now();
  }

  /** Resolve with the `count`-th clear received (default: the first). */
  async waitForClear(options: { count?: number; timeoutMs?: number } = {}): Promise<ClearRecord> {
    const count = options.count ?? 1;
    await this.waitFor((s) => s.clears.length >= count, options.timeoutMs, `clear #${count}`);
    return this.clears[count - 1]!;
  }

  /** Resolve with the echo of the mark called `name`. */
  async waitForMarkEcho(name: string, timeoutMs?: number): Promise<EchoedMark> {
    await this.waitFor((s) => s.marksEchoed.some((m) => m.name === name), timeoutMs, `echo of mark ${JSON.stringify(name)}`);
    return this.marksEchoed.find((m) => m.name === name)!;
  }

  /** Resolve when all received agent audio has played (or been cleared). */
  waitForPlayoutIdle(timeoutMs?: number): Promise<void> {
    return this.waitFor((s) => s.bufferedAgentBytes === 0, timeoutMs, 'agent playout to finish');
  }

  /** One-line state summary, used in timeout messages. */
  describe(): string {
    return [
      `t=${this.now().toFixed(0)}ms`,
      `agentAudio=${totalBytes(this.receivedMedia)}B`,
      `heard=${this.heardAudio.length}B`,
      `buffered=${this.bufferedAgentBytes}B`,
      `marks=[${this.marksEchoed.map((m) => `${m.name}:${m.outcome}`).join(',')}]`,
      `pendingMarks=[${this.pendingMarks.join(',')}]`,
      `clears=${this.clears.length}`,
      `violations=${JSON.stringify(this.violations)}`,
      `closed=${this.closeInfo ? `${this.closeInfo.code}` : 'no'}`,
    ].join(' ');
  }

  // ---------------------------------------------------------------- internals: start

  private begin(start: NonNullable<FakeTwilioMediaStreamOptions['start']>): void {
    this.sendMessage({ event: 'connected', protocol: 'Call', version: '1.0.0' });
    const message: StartMessage = {
      event: 'start',
      sequenceNumber: this.nextSequence(),
      start: {
        accountSid: this.accountSid,
        streamSid: this.streamSid,
        callSid: this.callSid,
        tracks: ['inbound'],
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
        customParameters: this.customParameters,
      },
      streamSid: this.streamSid,
    };
    this.streamStartedAtMs = this.now();
    if (start === 'send') {
      this.sendMessage(message);
      this.activeStreamSid = this.streamSid;
    } else if (start === 'garbled') {
      this.sendRaw(JSON.stringify(message).slice(0, -7));
    } else if (typeof start === 'function') {
      this.sendRaw(JSON.stringify(start(message)));
      this.activeStreamSid = this.streamSid;
    }
    // Caller audio starts flowing only after a real start; negative tests drive media explicitly.
    if (start === 'send' || typeof start === 'function') this.kickSender();
    else this.continuousSilence = false;
  }

  private nextSequence(): string {
    this.sequence += 1;
    return String(this.sequence);
  }

  private sendMessage(message: TwilioMessage): boolean {
    if (this.ws.readyState !== WebSocket.OPEN) return false;
    this.sent.push({ atMs: this.now(), message });
    this.ws.send(JSON.stringify(message), (err) => {
      if (err) this.errors.push(`send failed: ${err.message}`);
    });
    return true;
  }

  // ---------------------------------------------------------------- internals: caller audio pacing

  private canSendMedia(): boolean {
    return this.ws.readyState === WebSocket.OPEN && !this.stopSent && !this.closeRequested && this.closeInfo === undefined;
  }

  private kickSender(): void {
    clearTimeout(this.senderTimer);
    this.senderTimer = undefined;
    this.guard('sender', () => this.pumpSender());
  }

  /**
   * Send every frame that is due. Slot k is due at streamStart + 20k ms, computed from the monotonic start time,
   * so pacing does not drift; if the event loop was late, due frames go out back to back (with their own
   * timestamps), as a jittery network would deliver them. After an idle period (nothing to send and no continuous
   * silence) the cursor jumps to the current slot, so `media.timestamp` shows the gap.
   */
  private pumpSender(): void {
    this.senderTimer = undefined;
    const streamStart = this.streamStartedAtMs ?? 0;
    for (;;) {
      if (!this.canSendMedia()) {
        this.failPendingCallerAudio();
        return;
      }
      const item = this.callerQueue[0];
      if (item === undefined && !this.continuousSilence) {
        this.senderIdle = true;
        return;
      }
      const now = this.now();
      if (this.senderIdle) {
        this.slotCursor = Math.max(this.slotCursor, Math.floor((now - streamStart) / FRAME_MS));
        this.senderIdle = false;
      }
      const realtime = item?.realtime ?? true;
      const dueAt = streamStart + this.slotCursor * FRAME_MS;
      if (realtime && dueAt - now > EARLY_SEND_TOLERANCE_MS) {
        this.senderTimer = setTimeout(() => this.guard('sender', () => this.pumpSender()), Math.ceil(dueAt - now));
        return;
      }
      const frame = item === undefined ? SILENCE_FRAME : item.frames[item.next]!;
      this.sendMediaFrame(this.echo === undefined ? frame : this.withEcho(frame, now), this.timestampOffsetMs + this.slotCursor * FRAME_MS);
      this.slotCursor += 1;
      if (item !== undefined) {
        item.next += 1;
        item.result.framesSent += 1;
        item.result.firstFrameAtMs ??= now;
        item.result.lastFrameAtMs = now;
        if (item.next === item.frames.length) {
          this.callerQueue.shift();
          item.result.complete = true;
          item.resolve(item.result);
        }
      }
    }
  }

  private sendMediaFrame(frame: Uint8Array, timestampMs: number): void {
    this.chunk += 1;
    const message: InboundMediaMessage = {
      event: 'media',
      sequenceNumber: this.nextSequence(),
      media: {
        track: 'inbound',
        chunk: String(this.chunk),
        timestamp: String(timestampMs),
        payload: Buffer.from(frame).toString('base64'),
      },
      streamSid: this.streamSid,
    };
    this.sendMessage(message);
  }

  /** The frame captured until `nowMs`, with the echo of the agent audio played `delayMs` before each of its samples. */
  private withEcho(frame: Uint8Array, nowMs: number): Uint8Array {
    const { returnLossDb, delayMs } = this.echo!;
    this.echoMarks(this.playout.advance(nowMs));
    const heard = this.playout.heard;
    const gain = 10 ** (-returnLossDb / 20);
    const firstMs = nowMs - FRAME_MS - delayMs;
    while (this.echoCursor < heard.length && heard[this.echoCursor]!.atMs + heard[this.echoCursor]!.bytes.length / 8 <= firstMs) this.echoCursor++;
    const out = new Uint8Array(frame.length);
    for (let i = 0; i < frame.length; i++) {
      const atMs = firstMs + i / 8;
      let sample = mulaw.decodeSample(frame[i]!);
      for (let c = this.echoCursor; c < heard.length && heard[c]!.atMs <= atMs; c++) {
        const index = Math.floor((atMs - heard[c]!.atMs) * 8);
        if (index < heard[c]!.bytes.length) sample += gain * mulaw.decodeSample(heard[c]!.bytes[index]!);
      }
      out[i] = mulaw.encodeSample(Math.max(-32768, Math.min(32767, Math.round(sample))));
    }
    return out;
  }

  private failPendingCallerAudio(): void {
    for (const item of this.callerQueue.splice(0)) item.resolve(item.result);
  }

  // ---------------------------------------------------------------- internals: agent audio playout

  private onMessage(data: RawData, isBinary: boolean): void {
    const atMs = this.now();
    const bytes = rawToBuffer(data);
    const text = isBinary ? undefined : bytes.toString('utf8');
    this.received.push(text === undefined ? { atMs, isBinary, byteLength: bytes.length } : { atMs, isBinary, text, byteLength: bytes.length });

    const parsed = parseServerMessage(text ?? bytes, isBinary, this.activeStreamSid);
    if (!parsed.ok) {
      // Twilio ignores an invalid message (and warns once per stream); we keep every instance for the test.
      this.violations.push(`${parsed.code} ${parsed.reason}`);
    } else if (parsed.event === 'media') {
      this.firstAgentAudioAtMs ??= atMs;
      this.receivedMedia.push({ atMs, bytes: parsed.audio });
      const { accepted, completed } = this.playout.pushAudio(parsed.audio, atMs);
      this.echoMarks(completed);
      if (!accepted && !this.bufferOverflowReported) {
        this.bufferOverflowReported = true;
        this.violations.push(`31931 more than ${MAX_BUFFERED_BYTES / 8000} s of audio buffered; further media discarded`);
      }
    } else if (parsed.event === 'mark') {
      this.echoMarks(this.playout.pushMark(parsed.name, atMs));
    } else {
      const cleared = this.playout.clear(atMs);
      this.echoMarks(cleared.completedBeforeClear);
      this.clears.push({ atMs, discardedBytes: cleared.discardedBytes, pendingMarks: cleared.marks.map((m) => m.name) });
      this.echoMarks(cleared.marks);
    }
    this.schedulePlayer();
    this.notify();
  }

  private echoMarks(marks: readonly CompletedMark[]): void {
    for (const mark of marks) {
      if (this.stopSent) return;
      const sent = this.sendMessage({
        event: 'mark',
        sequenceNumber: this.nextSequence(),
        streamSid: this.streamSid,
        mark: { name: mark.name },
      });
      if (sent) this.marksEchoed.push({ ...mark, echoedAtMs: this.now() });
    }
  }

  private schedulePlayer(): void {
    clearTimeout(this.playerTimer);
    this.playerTimer = undefined;
    if (this.stopSent || this.closeRequested || this.closeInfo !== undefined) return;
    const now = this.now();
    const wake = this.playout.nextWakeMs(now);
    if (wake === undefined) return;
    this.playerTimer = setTimeout(() => this.guard('player', () => this.onPlayerTick()), Math.max(0, Math.ceil(wake - now)));
  }

  /** Bring playout up to now before the call ends, so `heardAudio` and mark echoes cover everything played. */
  private settlePlayout(): void {
    if (this.stopSent || this.closeRequested || this.closeInfo !== undefined) return;
    this.echoMarks(this.playout.advance(this.now()));
  }

  private onPlayerTick(): void {
    this.echoMarks(this.playout.advance(this.now()));
    this.schedulePlayer();
    this.notify();
  }

  // ---------------------------------------------------------------- internals: lifecycle

  private onClose(code: number, reason: string): void {
    // Whatever was due before the socket went away was heard; the rest never will be.
    if (!this.stopSent && !this.closeRequested) this.playout.advance(this.now());
    this.stopTimers();
    this.failPendingCallerAudio();
    this.closeInfo = { code, reason, atMs: this.now(), initiatedBy: this.closeRequested ? 'twilio' : 'server' };
    this.resolveClosed(this.closeInfo);
    this.notify();
  }

  private stopTimers(): void {
    clearTimeout(this.senderTimer);
    clearTimeout(this.playerTimer);
    this.senderTimer = undefined;
    this.playerTimer = undefined;
  }

  private notify(): void {
    for (const check of [...this.waiters]) check();
  }

  /** Socket and timer callbacks must never throw: record the failure instead. */
  private guard(where: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.errors.push(`${where}: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    }
  }
}

function rawToBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function totalBytes(chunks: readonly { bytes: Uint8Array }[]): number {
  return chunks.reduce((sum, c) => sum + c.bytes.length, 0);
}

export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(totalBytes(chunks.map((bytes) => ({ bytes }))));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

/** Where the fake connects: the `<Stream url>`'s path on the server's host, as Twilio would; else `serverUrl`. */
function connectionUrl(options: Pick<FakeTwilioMediaStreamOptions, 'serverUrl' | 'streamUrl'>): string {
  if (!/^wss?:\/\//.test(options.streamUrl)) return options.serverUrl;
  const stream = new URL(options.streamUrl);
  return `${new URL(options.serverUrl).origin}${stream.pathname}${stream.search}`;
}

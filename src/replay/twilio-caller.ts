import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import twilio from 'twilio';
import { WebSocket, type RawData } from 'ws';
import { FRAME_MS, TWILIO_FRAME_BYTES } from '../audio/format.js';
import { MULAW_SILENCE_BYTE } from '../audio/mulaw.js';
import { PlayoutBuffer, type CompletedMark, type HeardChunk } from './twilio-playout.js';

export interface TwilioCallerOptions {
  /** Where the server listens, e.g. `ws://127.0.0.1:PORT/media`. */
  serverUrl: string;
  /** The `<Stream url>` of the TwiML answer: Twilio signs this URL, not the local one. */
  streamUrl: string;
  accountSid: string;
  authToken: string;
  callSid: string;
  /** The TwiML's `<Parameter>`s, delivered in `start.customParameters`. */
  customParameters: Record<string, string>;
  /** The caller channel from the start of the stream (8 kHz mu-law); silence follows it until hang-up. */
  callerAudio: Uint8Array;
  keys: ReadonlyArray<{ atMs: number; digit: string }>;
}

export interface CallEnd {
  by: 'caller' | 'server';
  /** Stream time (ms since `start`) when the stream ended. */
  atMs: number;
}

// A frame due within this many ms is sent now: timers and performance.now() run on different clocks.
const EARLY_SEND_TOLERANCE_MS = 1;

/**
 * Twilio's side of a replayed call, speaking the Media Streams protocol: a signed WebSocket upgrade,
 * `connected` and `start`, the caller's audio as paced 20 ms `media` frames stamped with their
 * stream time, `dtmf` at their times, and agent audio played on a real-time clock (PlayoutBuffer)
 * with marks echoed when their audio has played. `hangUp` sends `stop` and closes, as Twilio does
 * when the caller hangs up or the call is ended through the REST API.
 */
export class TwilioCaller {
  readonly streamSid = `MZ${randomBytes(16).toString('hex')}`;
  readonly ended: Promise<CallEnd>;
  private readonly playout = new PlayoutBuffer();
  private readonly startedAt = performance.now();
  private resolveEnded!: (end: CallEnd) => void;
  private sequence = 0;
  private frameIndex = 0;
  private senderTimer: NodeJS.Timeout | undefined;
  private playerTimer: NodeJS.Timeout | undefined;
  private readonly keyTimers: NodeJS.Timeout[] = [];
  private stopped = false;
  /** Problems with what the server sent (not JSON, unknown events); Twilio would ignore them too. */
  readonly protocolProblems: string[] = [];

  private constructor(
    private readonly ws: WebSocket,
    private readonly options: TwilioCallerOptions,
  ) {
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('close', () => this.finish('server'));
    ws.on('error', (error) => this.protocolProblems.push(`socket error: ${error.message}`));
  }

  static async connect(options: TwilioCallerOptions): Promise<TwilioCaller> {
    // The upgrade is a GET without a body: the signature covers the wss:// URL alone.
    const signature = twilio.getExpectedTwilioSignature(options.authToken, options.streamUrl, {});
    const ws = new WebSocket(options.serverUrl, { headers: { 'x-twilio-signature': signature, 'user-agent': 'Twilio.TmeWs/1.0' }, perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_request, response) => reject(new Error(`the server refused the media stream: HTTP ${response.statusCode}`)));
      ws.once('error', (error) => reject(new Error(`cannot open the media stream: ${error.message}`)));
    });
    const caller = new TwilioCaller(ws, options);
    caller.begin();
    return caller;
  }

  /** Milliseconds since `start` was sent: the clock of `media.timestamp` and of the fixture's timeline. */
  now(): number {
    return performance.now() - this.startedAt;
  }

  /** The agent audio the caller heard, with when each stretch played (stream time). */
  get heard(): readonly HeardChunk[] {
    return this.playout.heard;
  }

  /** The caller hangs up (or Twilio ends the call): `stop`, then the socket closes. */
  hangUp(): void {
    if (this.stopped) return;
    this.echo(this.playout.advance(this.now()));
    this.send({ event: 'stop', sequenceNumber: this.nextSequence(), streamSid: this.streamSid, stop: { accountSid: this.options.accountSid, callSid: this.options.callSid } });
    this.stopped = true;
    this.stopTimers();
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(1000);
    this.finish('caller');
  }

  private begin(): void {
    this.send({ event: 'connected', protocol: 'Call', version: '1.0.0' });
    this.send({
      event: 'start',
      sequenceNumber: this.nextSequence(),
      streamSid: this.streamSid,
      start: {
        accountSid: this.options.accountSid,
        streamSid: this.streamSid,
        callSid: this.options.callSid,
        tracks: ['inbound'],
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
        customParameters: this.options.customParameters,
      },
    });
    for (const { atMs, digit } of this.options.keys) {
      this.keyTimers.push(
        setTimeout(() => this.send({ event: 'dtmf', streamSid: this.streamSid, sequenceNumber: this.nextSequence(), dtmf: { track: 'inbound_track', digit } }), atMs),
      );
    }
    this.pumpCallerAudio();
  }

  /** Sends every frame that is due: frame k at k × 20 ms of stream time, so pacing never drifts. */
  private pumpCallerAudio(): void {
    const audio = this.options.callerAudio;
    while (!this.stopped) {
      const dueAtMs = this.frameIndex * FRAME_MS;
      const waitMs = dueAtMs - this.now();
      if (waitMs > EARLY_SEND_TOLERANCE_MS) {
        this.senderTimer = setTimeout(() => this.pumpCallerAudio(), Math.ceil(waitMs));
        return;
      }
      const frame = new Uint8Array(TWILIO_FRAME_BYTES).fill(MULAW_SILENCE_BYTE);
      const offset = this.frameIndex * TWILIO_FRAME_BYTES;
      if (offset < audio.length) frame.set(audio.subarray(offset, offset + TWILIO_FRAME_BYTES));
      this.send({
        event: 'media',
        sequenceNumber: this.nextSequence(),
        streamSid: this.streamSid,
        media: { track: 'inbound', chunk: String(this.frameIndex + 1), timestamp: String(dueAtMs), payload: Buffer.from(frame).toString('base64') },
      });
      this.frameIndex++;
    }
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (this.stopped) return;
    let message: { event?: unknown; media?: { payload?: unknown }; mark?: { name?: unknown } };
    try {
      if (isBinary) throw new Error('binary frame');
      message = JSON.parse(rawText(data)) as typeof message;
    } catch (error) {
      this.protocolProblems.push(`unreadable message: ${(error as Error).message}`);
      return;
    }
    const now = this.now();
    if (message.event === 'media' && typeof message.media?.payload === 'string') {
      this.echo(this.playout.pushAudio(new Uint8Array(Buffer.from(message.media.payload, 'base64')), now).completed);
    } else if (message.event === 'mark' && typeof message.mark?.name === 'string') {
      this.echo(this.playout.pushMark(message.mark.name, now));
    } else if (message.event === 'clear') {
      const cleared = this.playout.clear(now);
      this.echo(cleared.completedBeforeClear);
      this.echo(cleared.marks);
    } else {
      this.protocolProblems.push(`unexpected message: ${rawText(data).slice(0, 80)}`);
    }
    this.schedulePlayer();
  }

  private schedulePlayer(): void {
    clearTimeout(this.playerTimer);
    const now = this.now();
    const wakeAt = this.playout.nextWakeMs(now);
    if (wakeAt === undefined || this.stopped) return;
    this.playerTimer = setTimeout(() => {
      this.echo(this.playout.advance(this.now()));
      this.schedulePlayer();
    }, Math.max(0, Math.ceil(wakeAt - now)));
  }

  private echo(marks: readonly CompletedMark[]): void {
    for (const { name } of marks) this.send({ event: 'mark', sequenceNumber: this.nextSequence(), streamSid: this.streamSid, mark: { name } });
  }

  private send(message: object): void {
    if (this.ws.readyState === WebSocket.OPEN && !this.stopped) this.ws.send(JSON.stringify(message));
  }

  private nextSequence(): string {
    return String(++this.sequence);
  }

  private finish(by: CallEnd['by']): void {
    this.stopped = true;
    this.stopTimers();
    this.resolveEnded({ by, atMs: this.now() });
  }

  private stopTimers(): void {
    clearTimeout(this.senderTimer);
    clearTimeout(this.playerTimer);
    for (const timer of this.keyTimers) clearTimeout(timer);
  }
}

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

/**
 * Lean Twilio side for load: one object per call that does what Twilio's media server does for
 * `<Connect><Stream>`, speaking the exact public protocol. Signed webhook, signed WebSocket upgrade,
 * `connected` and `start` with the TwiML's parameters, caller audio in 20 ms `media` frames on a
 * real-time clock, agent audio played out on a real-time clock with `mark` echoes when the audio
 * before a mark has played, and `clear` dropping the buffer and echoing pending marks at once.
 * A sample of the server's messages is parsed and checked in full; the rest are read by prefix.
 */
import { performance } from 'node:perf_hooks';
import WebSocket, { type RawData } from 'ws';
import { mulawEncode } from '../../src/audio/mulaw.js';
import { newStreamSid } from '../../test/fakes/twilio/ids.js';
import { computeTwilioSignature } from '../../test/fakes/twilio/signature.js';
import { parseConnectStreamTwiml } from '../../test/fakes/twilio/twiml.js';
import { defaultVoiceWebhookParams, postVoiceWebhook } from '../../test/fakes/twilio/webhook.js';
import { generateTones, seededRandom } from '../../test/support/tone-analysis.js';
import { BENCH_ACCOUNT_SID, BENCH_AUTH_TOKEN, BENCH_PUBLIC_URL, base64ValueLength, chunkMulawBytes, type CallScript } from './common.js';
import type { LiveBenchSession } from './live-server.js';
import type { Recorder } from './recorder.js';
import type { Scheduler } from './scheduler.js';

const FRAME_MS = 20;
const FRAME_BYTES = 160;
const CHECKED_PER_CALL = 3;
const CALLER_RING = 1024; // 20 s of frames: far more than any frame can be in flight
const CHUNK_RING = 256;

const SILENT_PAYLOAD = Buffer.alloc(FRAME_BYTES, 0xff).toString('base64');

/** One second of caller "speech" (two tones plus noise), as 50 base64 payloads reused in a loop. */
const CALLER_PAYLOADS: string[] = (() => {
  const random = seededRandom(11);
  const pcm = generateTones(
    [
      { frequencyHz: 310, amplitude: 6000 },
      { frequencyHz: 1210, amplitude: 3000 },
    ],
    8000,
    8000,
  );
  for (let i = 0; i < pcm.length; i++) pcm[i] = pcm[i]! + Math.round((random() - 0.5) * 1500);
  const mulaw = new Uint8Array(pcm.length);
  mulawEncode(pcm, mulaw);
  const payloads: string[] = [];
  for (let offset = 0; offset < mulaw.length; offset += FRAME_BYTES) payloads.push(Buffer.from(mulaw.subarray(offset, offset + FRAME_BYTES)).toString('base64'));
  return payloads;
})();

const EVENT_OFFSET = '{"event":"'.length;
const NAME_KEY = Buffer.from('"name":"');
const PAYLOAD_KEY = Buffer.from('"payload":"');
const MULAW_BYTES_PER_MS = 8;
/** 20 ms of 16 kHz PCM16: what one caller frame becomes at the model. */
const MODEL_FRAME_BYTES = 640;
const QUOTE = 0x22;

export interface CallContext {
  serverUrl: string;
  scheduler: Scheduler;
  recorder: Recorder;
  script: CallScript;
}

interface PendingMark {
  name: string;
  dueMs: number;
}

export class BenchCall {
  readonly streamSid = newStreamSid();
  readonly chunkSentAt = new Float64Array(CHUNK_RING);
  readonly chunkRingMask = CHUNK_RING - 1;
  chunksSent = 0;
  readonly interruptsSentAt: number[] = [];
  session: LiveBenchSession | undefined;
  /** Agent audio received, mu-law bytes. */
  mediaBytesReceived = 0;
  startedAtMs = 0;
  framesSent = 0;
  ended = false;

  private ws: WebSocket | undefined;
  private readonly sentAt = new Float64Array(CALLER_RING);
  private sequence = 0;
  private playEndMs = 0;
  private readonly pendingMarks: PendingMark[] = [];
  private checkedMedia = 0;
  private checkedMarks = 0;
  private firstAudioSeen = false;

  private constructor(
    readonly index: number,
    readonly callSid: string,
    private readonly context: CallContext,
  ) {}

  /**
   * Webhook, TwiML, signed upgrade, `connected` + `start`; caller audio starts flowing at once.
   * `beforeStart` sees the call before the stream opens (to expect its Live session).
   */
  static async place(index: number, context: CallContext, beforeStart: (call: BenchCall) => void): Promise<BenchCall> {
    const params = defaultVoiceWebhookParams({ AccountSid: BENCH_ACCOUNT_SID });
    const response = await postVoiceWebhook({ serverUrl: context.serverUrl, publicUrl: BENCH_PUBLIC_URL, authToken: BENCH_AUTH_TOKEN, params });
    if (response.status !== 200) throw new Error(`webhook answered ${response.status}`);
    const twiml = parseConnectStreamTwiml(response.body);
    const call = new BenchCall(index, params['CallSid']!, context);
    beforeStart(call);
    await call.connect(twiml.streamUrl, twiml.parameters);
    return call;
  }

  private connect(streamUrl: string, customParameters: Record<string, string>): Promise<void> {
    // Twilio connects to the <Stream url> itself: its path (/media/<instance id>) on the server's host.
    const ws = new WebSocket(`${this.context.serverUrl.replace('http://', 'ws://')}${new URL(streamUrl).pathname}`, {
      headers: { 'x-twilio-signature': computeTwilioSignature(BENCH_AUTH_TOKEN, streamUrl), 'user-agent': 'Twilio.TmeWs/1.0' },
      perMessageDeflate: false,
    });
    this.ws = ws;
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('close', () => {
      this.ended = true;
    });
    return new Promise((resolve, reject) => {
      ws.once('error', reject);
      ws.once('open', () => {
        ws.off('error', reject);
        ws.on('error', () => {});
        ws.send(JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }));
        ws.send(
          JSON.stringify({
            event: 'start',
            sequenceNumber: String(++this.sequence),
            start: {
              accountSid: BENCH_ACCOUNT_SID,
              streamSid: this.streamSid,
              callSid: this.callSid,
              tracks: ['inbound'],
              mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
              customParameters,
            },
            streamSid: this.streamSid,
          }),
        );
        this.startedAtMs = performance.now();
        this.sendFrame();
        resolve();
      });
    });
  }

  // ── caller -> model ─────────────────────────────────────────────────────────────────────────────

  private readonly sendFrame = (): void => {
    const ws = this.ws;
    if (this.ended || ws === undefined || ws.readyState !== WebSocket.OPEN) return;
    const k = this.framesSent++;
    const sentAt = performance.now();
    this.sentAt[k & (CALLER_RING - 1)] = sentAt;
    // The caller talks for the first half of every script cycle and is silent for the second.
    const cycleFrames = this.context.script.cycleMs / FRAME_MS;
    const payload = k % cycleFrames < cycleFrames / 2 ? CALLER_PAYLOADS[k % CALLER_PAYLOADS.length]! : SILENT_PAYLOAD;
    ws.send(
      `{"event":"media","sequenceNumber":"${++this.sequence}","media":{"track":"inbound","chunk":"${k + 1}","timestamp":"${k * FRAME_MS}","payload":"${payload}"},"streamSid":"${this.streamSid}"}`,
    );
    this.context.scheduler.at(this.startedAtMs + (k + 1) * FRAME_MS, this.sendFrame);
  };

  /**
   * The Live server received caller audio up to byte `receivedBytes` of this call (16 kHz PCM16, in messages of any
   * size): frame k has arrived once (k + 1) frames of bytes have.
   */
  onAudioAtModel(previousBytes: number, receivedBytes: number, atMs: number): void {
    if (receivedBytes > this.framesSent * MODEL_FRAME_BYTES) {
      this.context.recorder.violation('the model received more audio than the caller sent');
      return;
    }
    for (let k = Math.floor(previousBytes / MODEL_FRAME_BYTES); (k + 1) * MODEL_FRAME_BYTES <= receivedBytes; k++) {
      const sentAt = this.sentAt[k & (CALLER_RING - 1)]!;
      if (this.context.recorder.inWindow(sentAt)) this.context.recorder.callerToModel.push(atMs - sentAt);
    }
  }

  /** Frames sent in the window before `cutoffMs` that the model has not received (`receivedBytes` of audio so far). */
  framesMissingBefore(cutoffMs: number, receivedBytes: number): number {
    let missing = 0;
    for (let k = Math.max(Math.floor(receivedBytes / MODEL_FRAME_BYTES), this.framesSent - CALLER_RING); k < this.framesSent; k++) {
      const sentAt = this.sentAt[k & (CALLER_RING - 1)]!;
      if (sentAt < cutoffMs && this.context.recorder.inWindow(sentAt)) missing++;
    }
    return missing;
  }

  // ── model -> caller ─────────────────────────────────────────────────────────────────────────────

  private onMessage(raw: RawData, isBinary: boolean): void {
    const now = performance.now();
    const recorder = this.context.recorder;
    const data = Buffer.isBuffer(raw) ? raw : Array.isArray(raw) ? Buffer.concat(raw) : Buffer.from(raw);
    if (isBinary) {
      recorder.violation('the server sent a binary frame');
      return;
    }
    const first = data[EVENT_OFFSET];
    const second = data[EVENT_OFFSET + 1];
    if (first === 0x6d && second === 0x65) this.onMedia(data, now); // "media"
    else if (first === 0x6d && second === 0x61) this.onMark(data, now); // "mark"
    else if (first === 0x63) this.onClear(data, now); // "clear"
    else recorder.violation(`unexpected message ${data.toString('utf8', 0, 40)}`);
  }

  /**
   * Agent audio, counted in bytes (a bridge may send 20 ms frames or whole chunks): the message that brings the first
   * byte of chunk k times chunk k, and the audio plays out at real time after what is still playing.
   */
  private onMedia(data: Buffer, now: number): void {
    const bytes = base64ValueLength(data, PAYLOAD_KEY);
    if (this.checkedMedia < CHECKED_PER_CALL) {
      this.checkedMedia++;
      const message = this.parse(data) as { event?: string; media?: { payload?: string } } | undefined;
      if (message?.event !== 'media' || Buffer.from(message.media?.payload ?? '', 'base64').length !== bytes || bytes === 0) {
        this.context.recorder.violation('a media message carries no mu-law audio');
      }
    }
    if (!this.firstAudioSeen) {
      this.firstAudioSeen = true;
      this.context.recorder.streamStartToFirstAudio.push(now - this.startedAtMs);
    }
    const chunkBytes = chunkMulawBytes(this.context.script);
    const before = this.mediaBytesReceived;
    this.mediaBytesReceived += bytes;
    for (let chunk = Math.ceil(before / chunkBytes); chunk * chunkBytes < this.mediaBytesReceived; chunk++) {
      if (chunk < this.chunksSent) {
        const sentAt = this.chunkSentAt[chunk & this.chunkRingMask]!;
        if (this.context.recorder.inWindow(sentAt)) this.context.recorder.modelToCaller.push(now - sentAt);
      } else {
        this.context.recorder.violation('agent audio arrived for a chunk the model never sent');
      }
    }
    this.playEndMs = Math.max(now, this.playEndMs) + bytes / MULAW_BYTES_PER_MS;
  }

  private onMark(data: Buffer, now: number): void {
    let name: string | undefined;
    if (this.checkedMarks < CHECKED_PER_CALL) {
      this.checkedMarks++;
      const message = this.parse(data) as { event?: string; mark?: { name?: unknown } } | undefined;
      if (message?.event !== 'mark' || typeof message.mark?.name !== 'string') {
        this.context.recorder.violation('a mark message has no name');
        return;
      }
      name = message.mark.name;
    } else {
      const start = data.indexOf(NAME_KEY) + NAME_KEY.length;
      name = data.toString('utf8', start, data.indexOf(QUOTE, start));
    }
    if (this.pendingMarks.length === 0 && this.playEndMs <= now) {
      this.echoMark(name);
      return;
    }
    const mark = { name, dueMs: this.playEndMs };
    this.pendingMarks.push(mark);
    this.context.scheduler.at(mark.dueMs, () => this.playedUpTo(mark.dueMs));
  }

  private onClear(data: Buffer, now: number): void {
    const message = this.parse(data) as { event?: string; streamSid?: string } | undefined;
    if (message?.event !== 'clear') this.context.recorder.violation('a message starting like clear is not one');
    const sentAt = this.interruptsSentAt.shift();
    if (sentAt === undefined) this.context.recorder.violation('clear without an interruption');
    else if (this.context.recorder.inWindow(sentAt)) this.context.recorder.interruptedToClear.push(now - sentAt);
    // Twilio drops the buffered audio and echoes every pending mark at once.
    this.playEndMs = now;
    for (const mark of this.pendingMarks.splice(0)) this.echoMark(mark.name);
  }

  private playedUpTo(dueMs: number): void {
    while (this.pendingMarks.length > 0 && this.pendingMarks[0]!.dueMs <= dueMs) this.echoMark(this.pendingMarks.shift()!.name);
  }

  private echoMark(name: string): void {
    if (this.ended) return;
    this.ws?.send(`{"event":"mark","sequenceNumber":"${++this.sequence}","streamSid":"${this.streamSid}","mark":{"name":"${name}"}}`);
  }

  private parse(data: Buffer): unknown {
    try {
      const message = JSON.parse(data.toString()) as { streamSid?: unknown };
      if (message.streamSid !== this.streamSid) this.context.recorder.violation('a message for another streamSid');
      return message;
    } catch {
      this.context.recorder.violation('a message that is not JSON');
      return undefined;
    }
  }

  // ── end ───────────────────────────────────────────────────────────────────────────────────────

  /** The caller hangs up: `stop`, then the socket closes. */
  hangUp(): void {
    const ws = this.ws;
    if (this.ended || ws === undefined) return;
    this.ended = true;
    if (ws.readyState === WebSocket.OPEN) {
      ws.send(
        JSON.stringify({
          event: 'stop',
          sequenceNumber: String(++this.sequence),
          stop: { accountSid: BENCH_ACCOUNT_SID, callSid: this.callSid },
          streamSid: this.streamSid,
        }),
      );
      ws.close(1000);
    }
  }
}

/**
 * A lean Gemini Live server for load: the public BidiGenerateContent wire protocol and nothing the
 * benchmark does not need. `setup` -> `setupComplete` (JSON in a binary frame, as the service sends),
 * realtimeInput audio counted and timed (a sample of messages fully checked), the greeting cue
 * (`realtimeInput.text`) starts the agent's turns, which follow the CallScript: bursts of 200 ms
 * `modelTurn` audio chunks, `outputTranscription`, `generationComplete`, `interrupted`, `turnComplete`,
 * and `sessionResumptionUpdate`s (not resumable during a turn, a fresh handle after it).
 * Everything the load process sends is precomputed, so its own cost per message stays small.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { synthesizeSpeech } from '../../test/fakes/gemini-live/voice.js';
import { BENCH_GEMINI_KEY, base64ValueLength, type CallScript } from './common.js';
import type { Recorder } from './recorder.js';
import type { Scheduler } from './scheduler.js';
import type { BenchCall } from './twilio-calls.js';

const PATH = /GenerativeService\.BidiGenerateContent$/;
const AUDIO_PREFIX = Buffer.from('{"realtimeInput":{"audio":');
const DATA_KEY = Buffer.from('"data":"');
/** Messages of each kind fully parsed and checked per session; the rest are matched by prefix only. */
const CHECKED_PER_SESSION = 3;
const OUTPUT_RATE_HZ = 24000;

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
const SETUP_COMPLETE = json({ setupComplete: {} });
const GENERATION_COMPLETE = json({ serverContent: { generationComplete: true } });
const INTERRUPTED = json({ serverContent: { interrupted: true } });
const TURN_COMPLETE = json({
  serverContent: { turnComplete: true },
  usageMetadata: { promptTokenCount: 1200, responseTokenCount: 50, totalTokenCount: 1250 },
});
const TRANSCRIPT = json({ serverContent: { outputTranscription: { text: 'Thanks for calling, ' } } });
/** While the model generates, the session cannot be resumed; after the turn a fresh handle arrives. */
const NOT_RESUMABLE = json({ sessionResumptionUpdate: {} });
const resumable = (handle: number): Buffer => json({ sessionResumptionUpdate: { newHandle: `bench-handle-${handle}`, resumable: true } });

/** Speech-like 24 kHz reply audio cut into chunks, each a ready-to-send `modelTurn` frame. */
function audioChunks(script: CallScript): Buffer[] {
  const chunkSamples = (OUTPUT_RATE_HZ * script.chunkMs) / 1000;
  const speech = synthesizeSpeech('Thanks for calling the bench line. How can I help you today?');
  const chunks: Buffer[] = [];
  for (let c = 0; c < script.chunksPerTurn; c++) {
    const samples = new Int16Array(chunkSamples);
    for (let i = 0; i < chunkSamples; i++) samples[i] = speech[(c * chunkSamples + i) % speech.length]!;
    const data = Buffer.from(samples.buffer).toString('base64'); // little-endian host
    chunks.push(json({ serverContent: { modelTurn: { parts: [{ inlineData: { mimeType: `audio/pcm;rate=${OUTPUT_RATE_HZ}`, data } }] } } }));
  }
  return chunks;
}

function startsWith(data: Buffer, prefix: Buffer): boolean {
  return data.length >= prefix.length && data.compare(prefix, 0, prefix.length, 0, prefix.length) === 0;
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}

export class BenchLiveServer {
  readonly sessions = new Set<LiveBenchSession>();
  private readonly http: Server;
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  private expected: { call: BenchCall; resolve: () => void; reject: (error: Error) => void; timer: NodeJS.Timeout } | undefined;
  private chunks: Buffer[] = [];
  script: CallScript | undefined;
  /** No new turns or chunks: lets in-flight audio land before the counts are checked. */
  draining = false;

  constructor(
    readonly scheduler: Scheduler,
    readonly recorder: Recorder,
  ) {
    this.http = createServer((_req, res) => {
      res.writeHead(404).end();
    });
    this.http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
  }

  listen(): Promise<string> {
    return new Promise((resolve) => {
      this.http.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(this.http.address() as AddressInfo).port}`));
    });
  }

  useScript(script: CallScript): void {
    this.script = script;
    this.chunks = audioChunks(script);
    this.draining = false;
  }

  chunk(index: number): Buffer {
    return this.chunks[index % this.chunks.length]!;
  }

  /** The next session to complete setup belongs to `call` (calls are placed one at a time). */
  expect(call: BenchCall, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.expected = undefined;
        reject(new Error(`no Live session for call ${call.index} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.expected = { call, resolve, reject, timer };
    });
  }

  claim(session: LiveBenchSession): BenchCall | undefined {
    const expected = this.expected;
    if (expected === undefined) return undefined;
    this.expected = undefined;
    clearTimeout(expected.timer);
    expected.call.session = session;
    expected.resolve();
    return expected.call;
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => {});
    const url = req.url ?? '';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    const key = new URLSearchParams(query === -1 ? '' : url.slice(query + 1)).get('key');
    if (!PATH.test(path) || key !== BENCH_GEMINI_KEY) {
      this.recorder.violation(`Live upgrade refused: ${path} key ${key === null ? 'missing' : 'wrong'}`);
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const session = new LiveBenchSession(ws, this);
      this.sessions.add(session);
      ws.on('close', () => {
        session.open = false;
        this.sessions.delete(session);
      });
    });
  }
}

export class LiveBenchSession {
  open = true;
  call: BenchCall | undefined;
  /** Caller audio received, bytes of 16 kHz PCM16. */
  audioBytesReceived = 0;
  private setupDone = false;
  private talking = false;
  private turn = 0;
  private checked = 0;

  constructor(
    private readonly ws: WebSocket,
    private readonly server: BenchLiveServer,
  ) {
    ws.on('message', (data) => this.onMessage(toBuffer(data)));
    ws.on('error', () => {});
  }

  private onMessage(data: Buffer): void {
    const now = performance.now();
    const recorder = this.server.recorder;
    if (!this.setupDone) {
      const message = JSON.parse(data.toString()) as { setup?: { model?: unknown } };
      if (typeof message.setup?.model !== 'string') recorder.violation('first Live message is not a setup with a model');
      this.setupDone = true;
      this.call = this.server.claim(this);
      if (this.call === undefined) recorder.violation('a Live session arrived that no call was waiting for');
      this.ws.send(SETUP_COMPLETE, { binary: true });
      return;
    }
    if (startsWith(data, AUDIO_PREFIX)) {
      const call = this.call;
      const before = this.audioBytesReceived;
      this.audioBytesReceived += base64ValueLength(data, DATA_KEY);
      if (call !== undefined) call.onAudioAtModel(before, this.audioBytesReceived, now);
      if (this.checked < CHECKED_PER_SESSION) {
        this.checked++;
        const audio = (JSON.parse(data.toString()) as { realtimeInput?: { audio?: { data?: string; mimeType?: string } } }).realtimeInput?.audio;
        if (audio?.mimeType !== 'audio/pcm;rate=16000') recorder.violation(`realtimeInput audio with mimeType ${audio?.mimeType}`);
        else if (Buffer.from(audio.data ?? '', 'base64').length % 2 !== 0) recorder.violation('realtimeInput audio is not whole 16-bit samples');
      }
      return;
    }
    const message = JSON.parse(data.toString()) as { realtimeInput?: { text?: unknown } };
    if (typeof message.realtimeInput?.text === 'string' && !this.talking) {
      this.talking = true; // the greeting cue: the agent speaks first
      this.startTurn(now);
    }
  }

  private send(frame: Buffer): boolean {
    if (!this.open) return false;
    this.ws.send(frame, { binary: true });
    return true;
  }

  private startTurn(startMs: number): void {
    const { server } = this;
    const script = server.script;
    if (!this.open || server.draining || script === undefined) return;
    const turn = this.turn++;
    const interrupted = turn % 2 === 1;
    let chunk = 0;
    let cut = false;
    this.send(NOT_RESUMABLE);
    const complete = (): void => {
      this.send(TURN_COMPLETE);
      this.send(resumable(turn));
    };
    const sendChunk = (): void => {
      if (cut || !this.open || server.draining) return;
      const call = this.call;
      if (call !== undefined) call.chunkSentAt[call.chunksSent++ & call.chunkRingMask] = performance.now();
      this.send(server.chunk(chunk));
      if (chunk % 2 === 1) this.send(TRANSCRIPT);
      chunk++;
      if (chunk < script.chunksPerTurn) server.scheduler.at(startMs + chunk * script.chunkIntervalMs, sendChunk);
      else this.send(GENERATION_COMPLETE);
    };
    sendChunk();
    if (interrupted) {
      server.scheduler.at(startMs + script.interruptAfterMs, () => {
        if (!this.open || server.draining) return;
        cut = true;
        this.call?.interruptsSentAt.push(performance.now());
        this.send(INTERRUPTED);
        complete();
      });
    } else {
      server.scheduler.at(startMs + script.chunksPerTurn * script.chunkMs, complete);
    }
    server.scheduler.at(startMs + script.cycleMs, () => this.startTurn(startMs + script.cycleMs));
  }
}

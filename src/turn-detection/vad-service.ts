import { MULAW_BYTES_PER_MS } from '../audio/format.js';
import { MULAW_SQUARED_SAMPLE, meanSquareToDbfs } from '../audio/level.js';
import { mulawDecodeSample } from '../audio/mulaw.js';
import { SileroVad, VAD_CONTEXT_SAMPLES, VAD_INPUT_SAMPLES, VAD_STATE_FLOATS, VAD_WINDOW_SAMPLES } from './silero-vad.js';

/**
 * The neural VAD for every call of the process: each call's stream cuts its caller audio into 32 ms windows, and
 * the service scores the windows that are ready across all calls in one model run, since one run of N windows
 * costs far less than N runs (bench: about 150 µs for one window alone, 40 µs each in a batch of 32).
 *
 * It runs only where an answer can matter: a stream is off until its call asks for local turn detection, and a
 * window quieter than `skipBelowDbfs` is never scored, since no turn decision takes a window that quiet as speech
 * (CallerTurnDetector's `minSpeechLevelDbfs`). Each stream keeps the model's recurrent state and context as its
 * own; results come back in order, stamped with the stream's own clock.
 */

export interface VadWindow {
  /** The end of the window on the stream's clock: ms of caller audio pushed up to its last sample. */
  endMs: number;
  /** Silero's speech probability; 0 for a window too quiet to score. */
  speechProbability: number;
  /** RMS level of the window, dBFS. */
  levelDbfs: number;
}

export interface VadServiceOptions {
  /** How long the first ready window waits for other calls' windows to share its run; 0 runs at once. */
  batchDelayMs?: number;
  /** Windows quieter than this (dBFS RMS) are reported as probability 0 without running the model. */
  skipBelowDbfs?: number;
  /** Windows a stream may have waiting (the model fell behind); the oldest is dropped beyond this. */
  maxPendingWindows?: number;
  /** A listener that throws, or a failed model run; the other calls go on. */
  onError?: (error: unknown) => void;
}

export const DEFAULT_BATCH_DELAY_MS = 8;
/** A quarter of a second of windows: the model is seconds behind only if the machine is far overloaded. */
const DEFAULT_MAX_PENDING_WINDOWS = 8;

export interface VadServiceStats {
  runs: number;
  /** Windows the model scored, skipped as too quiet, and dropped because the model fell behind. */
  scored: number;
  skipped: number;
  dropped: number;
}

/** mu-law code → float in −1..1, as Silero takes it. */
const MULAW_FLOAT = Float32Array.from({ length: 256 }, (_, code) => mulawDecodeSample(code) / 32768);

interface Row {
  stream: VadStream;
  /** The stream's epoch when its window was taken: a result for an older epoch is discarded. */
  epoch: number;
  endMs: number;
  levelDbfs: number;
}

export class VadService {
  readonly stats: VadServiceStats = { runs: 0, scored: 0, skipped: 0, dropped: 0 };
  readonly skipBelowDbfs: number;
  readonly maxPendingWindows: number;
  private readonly batchDelayMs: number;
  private readonly onError: (error: unknown) => void;
  /** Streams with at least one window waiting, each once. */
  private ready: VadStream[] = [];
  /** Row records, reused from run to run. */
  private readonly rows: Row[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private closed = false;
  private readonly release: () => void;

  constructor(
    private readonly model: SileroVad,
    { batchDelayMs = DEFAULT_BATCH_DELAY_MS, skipBelowDbfs = -Infinity, maxPendingWindows = DEFAULT_MAX_PENDING_WINDOWS, onError = () => {} }: VadServiceOptions = {},
  ) {
    this.release = model.claim();
    this.batchDelayMs = Math.max(0, batchDelayMs);
    this.skipBelowDbfs = skipBelowDbfs;
    this.maxPendingWindows = maxPendingWindows;
    this.onError = onError;
  }

  /** A stream for one call's caller audio; it starts off (see VadStream.active). */
  openStream(listener: (window: VadWindow) => void): VadStream {
    return new VadStream(this, listener);
  }

  /** Scores what is waiting now, without the batch delay; resolves when every window pushed so far is delivered. */
  async flush(): Promise<void> {
    this.disarm();
    while (this.running !== undefined || this.ready.length > 0) await (this.running ?? this.startRun());
  }

  /** Stops scoring and lets the model go; the model stays loaded (whoever loaded it closes it). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.disarm();
    this.ready = [];
    await this.running;
    this.release();
  }

  /** A stream has a window waiting. */
  enqueue(stream: VadStream): void {
    if (this.closed) return;
    if (!stream.queued) {
      stream.queued = true;
      this.ready.push(stream);
    }
    // A run in flight picks it up when it ends; otherwise the first waiting window sets the batch's deadline.
    if (this.running === undefined) this.arm(this.batchDelayMs);
  }

  deliver(stream: VadStream, window: VadWindow): void {
    try {
      stream.listener(window);
    } catch (error) {
      this.onError(error);
    }
  }

  private arm(delayMs: number): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.running === undefined && this.ready.length > 0) this.startRun().catch(this.onError);
    }, delayMs);
  }

  private disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private startRun(): Promise<void> {
    const run = this.runOnce().finally(() => {
      this.running = undefined;
      // Windows that arrived meanwhile have already waited a run's length: score them now.
      if (!this.closed && this.ready.length > 0) this.arm(0);
    });
    this.running = run;
    return run;
  }

  /** One model run: the oldest window of every ready stream (too-quiet ones are answered without the model). */
  private async runOnce(): Promise<void> {
    const streams = this.ready;
    this.ready = [];
    let count = 0;
    for (const stream of streams) {
      stream.queued = false;
      if (stream.answerQuietWindows()) this.row(count++, stream);
    }
    if (count > 0) {
      this.model.reserve(count);
      for (let i = 0; i < count; i++) {
        const row = this.rows[i]!;
        row.endMs = row.stream.oldestEndMs;
        row.levelDbfs = row.stream.oldestLevelDbfs;
        row.stream.loadOldest(this.model, i, count);
      }
      await this.score(count);
    }
    for (const stream of streams) if (stream.pendingWindows > 0) this.enqueue(stream);
  }

  private async score(count: number): Promise<void> {
    try {
      await this.model.run(count);
    } catch (error) {
      this.onError(error); // those windows are lost; each stream keeps its state and goes on with the next
      return;
    }
    this.stats.runs++;
    this.stats.scored += count;
    for (let i = 0; i < count; i++) {
      const row = this.rows[i]!;
      if (row.stream.epoch !== row.epoch) continue; // reset or closed while the model ran
      row.stream.storeState(this.model, i, count);
      this.deliver(row.stream, { endMs: row.endMs, speechProbability: this.model.probabilities[i]!, levelDbfs: row.levelDbfs });
    }
  }

  private row(index: number, stream: VadStream): void {
    const row = this.rows[index];
    if (row === undefined) this.rows.push({ stream, epoch: stream.epoch, endMs: 0, levelDbfs: 0 });
    else {
      row.stream = stream;
      row.epoch = stream.epoch;
    }
  }
}

/**
 * One call's caller audio on its way to the VAD. Push Twilio's mu-law as it arrives; every 32 ms of it becomes a
 * window, scored in the next batch. While `active` is false the stream only keeps its clock: no window, no run.
 */
export class VadStream {
  /** Bumped at every reset: a result for an older epoch is discarded. */
  epoch = 0;
  queued = false;
  private isActive = false;
  private closed = false;
  private samples = 0;
  private readonly state = new Float32Array(VAD_STATE_FLOATS);
  /** The window being filled: context then new samples. */
  private readonly current = new Float32Array(VAD_INPUT_SAMPLES);
  private fill = VAD_CONTEXT_SAMPLES;
  private energy = 0;
  /** Windows waiting for the model, oldest at `head`. */
  private pending: Float32Array;
  private readonly pendingEndMs: Float64Array;
  private readonly pendingLevel: Float64Array;
  private head = 0;
  private count = 0;

  constructor(
    private readonly service: VadService,
    readonly listener: (window: VadWindow) => void,
  ) {
    const slots = service.maxPendingWindows;
    this.pending = new Float32Array(0); // allocated when first switched on
    this.pendingEndMs = new Float64Array(slots);
    this.pendingLevel = new Float64Array(slots);
  }

  get active(): boolean {
    return this.isActive;
  }

  /** Switching on starts the model afresh (its state from before would describe audio long gone). */
  set active(on: boolean) {
    if (this.closed || on === this.isActive) return;
    this.isActive = on;
    this.reset();
    if (on && this.pending.length === 0) this.pending = new Float32Array(this.service.maxPendingWindows * VAD_INPUT_SAMPLES);
  }

  /** ms of caller audio pushed so far: the stream's clock. */
  get clockMs(): number {
    return this.samples / MULAW_BYTES_PER_MS;
  }

  get pendingWindows(): number {
    return this.count;
  }

  /** Caller audio, mu-law, any length. */
  push(mulaw: Uint8Array): void {
    if (this.closed) return;
    const start = this.samples;
    this.samples += mulaw.length;
    if (!this.isActive) return;
    for (let i = 0; i < mulaw.length; i++) {
      const code = mulaw[i] as number;
      this.current[this.fill] = MULAW_FLOAT[code] as number;
      this.energy += MULAW_SQUARED_SAMPLE[code] as number;
      if (++this.fill === VAD_INPUT_SAMPLES) this.completeWindow(start + i + 1);
    }
  }

  close(): void {
    this.closed = true;
    this.isActive = false;
    this.reset();
  }

  get oldestEndMs(): number {
    return this.pendingEndMs[this.head] as number;
  }

  get oldestLevelDbfs(): number {
    return this.pendingLevel[this.head] as number;
  }

  /** Service side: answers waiting windows too quiet to score (probability 0); true if one to score is left. */
  answerQuietWindows(): boolean {
    while (this.count > 0 && this.oldestLevelDbfs < this.service.skipBelowDbfs) {
      const window = { endMs: this.oldestEndMs, speechProbability: 0, levelDbfs: this.oldestLevelDbfs };
      this.pop();
      this.service.stats.skipped++;
      this.service.deliver(this, window);
    }
    return this.count > 0;
  }

  /** Service side: moves the oldest waiting window and this stream's state into row `row` of a batch. */
  loadOldest(model: SileroVad, row: number, rows: number): void {
    const from = this.head * VAD_INPUT_SAMPLES;
    const to = row * VAD_INPUT_SAMPLES;
    for (let i = 0; i < VAD_INPUT_SAMPLES; i++) model.input[to + i] = this.pending[from + i] as number;
    model.setState(row, rows, this.state);
    this.pop();
  }

  /** Service side: keeps the state the run left in row `row`. */
  storeState(model: SileroVad, row: number, rows: number): void {
    model.getState(row, rows, this.state);
  }

  private completeWindow(endSample: number): void {
    const levelDbfs = meanSquareToDbfs(this.energy / VAD_WINDOW_SAMPLES);
    if (this.count === this.pendingEndMs.length) {
      this.pop(); // the model is a quarter second behind: the oldest window is dropped rather than memory growing
      this.service.stats.dropped++;
    }
    const slot = (this.head + this.count) % this.pendingEndMs.length;
    this.pending.set(this.current, slot * VAD_INPUT_SAMPLES);
    this.pendingEndMs[slot] = endSample / MULAW_BYTES_PER_MS;
    this.pendingLevel[slot] = levelDbfs;
    this.count++;
    // The next window's context is this one's last samples.
    this.current.copyWithin(0, VAD_WINDOW_SAMPLES, VAD_INPUT_SAMPLES);
    this.fill = VAD_CONTEXT_SAMPLES;
    this.energy = 0;
    this.service.enqueue(this);
  }

  private pop(): void {
    this.head = (this.head + 1) % this.pendingEndMs.length;
    this.count--;
  }

  private reset(): void {
    this.epoch++;
    this.state.fill(0);
    this.current.fill(0);
    this.fill = VAD_CONTEXT_SAMPLES;
    this.energy = 0;
    this.head = 0;
    this.count = 0;
  }
}

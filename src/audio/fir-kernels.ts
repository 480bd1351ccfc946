import { FIR_KERNELS_WASM_BASE64 } from './fir-kernels-wasm.js';

/**
 * The resamplers' dot products in WebAssembly SIMD (fir-kernels.wat): the same float64 operations in the same
 * order as plain JavaScript, two outputs per instruction, so the output is bit for bit the same at about half the
 * cost per frame (docs/audio-dsp.md §6). One module instance per process (per thread) serves every call: a kernel
 * call is synchronous, so calls never interleave in its memory. Each call's filter state stays with the call, as
 * the last input samples (the history), copied in before a block and out after it.
 */

interface KernelExports {
  readonly memory: { readonly buffer: ArrayBuffer };
  upsample2x(input: number, n: number, output: number, scratch: number, coefficients: number, taps: number): void;
  downsample3x(input: number, n: number, first: number, count: number, output: number, scratch: number, stride: number, coefficients: number, taps: number): void;
}

/** The most input samples one kernel call takes (200 ms at 24 kHz); longer inputs go in blocks, the state carried across. */
export const MAX_BLOCK_SAMPLES = 4800;
/** The last pass of a block computes up to 8 outputs past its end (unused vector lanes): room to read and write them. */
const LANE_SLACK = 8;
const INT16_BYTES = 2;
const FLOAT64_BYTES = 8;

const kernels = instantiate();
// The module declares all the memory it will have and never grows it, so these views stay valid.
const int16 = new Int16Array(kernels.memory.buffer);
const float64 = new Float64Array(kernels.memory.buffer);
let reservedBytes = 0;

/** The part of the WebAssembly global used here (the project's TypeScript libs do not declare it). */
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
}

function instantiate(): KernelExports {
  const api = (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly;
  if (api === undefined) throw new Error('the audio resamplers need WebAssembly, which this Node runs without (--jitless?)');
  return new api.Instance(new api.Module(Buffer.from(FIR_KERNELS_WASM_BASE64, 'base64'))).exports as KernelExports;
}

/** A region of the module's memory, in bytes, 16-byte aligned; fixed for the life of the process. */
function reserve(bytes: number): number {
  const at = Math.ceil(reservedBytes / 16) * 16;
  reservedBytes = at + bytes;
  if (reservedBytes > kernels.memory.buffer.byteLength) throw new Error(`fir-kernels: ${reservedBytes} bytes do not fit the module's memory`);
  return at;
}

/** The coefficients in the module's memory; returns their byte address. */
function placeCoefficients(coefficients: Float64Array): number {
  const at = reserve(coefficients.length * FLOAT64_BYTES);
  float64.set(coefficients, at / FLOAT64_BYTES);
  return at;
}

/** Where a block's input goes: the history, then the block. Copies both in; returns the block's int16 index. */
function loadBlock(inputAt: number, history: Int16Array, input: Int16Array, start: number, n: number): number {
  const historyIndex = inputAt / INT16_BYTES;
  int16.set(history, historyIndex);
  int16.set(start === 0 && n === input.length ? input : input.subarray(start, start + n), historyIndex + history.length);
  return historyIndex;
}

/** After a block of `n` samples: its newest samples (in the module's memory from `historyIndex`) become the history. */
function keepHistory(history: Int16Array, historyIndex: number, n: number): void {
  const from = historyIndex + n;
  for (let i = 0; i < history.length; i++) history[i] = int16[from + i]!;
}

/** Bytes between the ÷3 kernel's three phase arrays: each holds every third sample of a block and its history. */
function phaseStride(historyLength: number): number {
  return (Math.ceil((historyLength + MAX_BLOCK_SAMPLES) / 3) + LANE_SLACK) * FLOAT64_BYTES;
}

/** Copies int16 samples out of the module's memory; the view of the last length used is kept (no allocation per frame). */
class OutputCopier {
  private view = new Int16Array(0);

  constructor(private readonly outputAt: number) {}

  copy(length: number, output: Int16Array, outputOffset: number): void {
    if (this.view.length !== length) this.view = int16.subarray(this.outputAt / INT16_BYTES, this.outputAt / INT16_BYTES + length);
    output.set(this.view, outputOffset);
  }
}

/** One filter design's place in the module's memory: its coefficients, a block's input (history first), output, scratch. */
abstract class FirKernel {
  /** Input samples a call keeps between blocks: 2 · taps − 1. */
  readonly historyLength: number;
  protected readonly taps: number;
  protected readonly coefficientsAt: number;
  protected readonly inputAt: number;
  protected readonly outputAt: number;
  protected readonly scratchAt: number;
  protected readonly output: OutputCopier;

  constructor(foldedCoefficients: Float64Array, outputSamples: number, scratchBytes: (historyLength: number) => number) {
    this.taps = foldedCoefficients.length;
    this.historyLength = 2 * this.taps - 1;
    this.coefficientsAt = placeCoefficients(foldedCoefficients);
    this.inputAt = reserve((this.historyLength + MAX_BLOCK_SAMPLES + LANE_SLACK) * INT16_BYTES);
    this.outputAt = reserve((outputSamples + 2 * LANE_SLACK) * INT16_BYTES);
    this.scratchAt = reserve(scratchBytes(this.historyLength));
    this.output = new OutputCopier(this.outputAt);
  }
}

/** The ×2 half-band interpolator's kernel for one filter design (its folded even-phase coefficients). */
export class Upsample2xKernel extends FirKernel {
  constructor(foldedCoefficients: Float64Array) {
    // Scratch: the input widened to float64, then the even outputs' sums.
    super(foldedCoefficients, 2 * MAX_BLOCK_SAMPLES, (history) => (history + 2 * (MAX_BLOCK_SAMPLES + LANE_SLACK)) * FLOAT64_BYTES);
  }

  /** `inputLength` samples of `input` after `history` (updated) -> `2 · inputLength` samples at `output[outputOffset]`. */
  process(history: Int16Array, input: Int16Array, inputLength: number, output: Int16Array, outputOffset: number): void {
    for (let start = 0; start < inputLength; start += MAX_BLOCK_SAMPLES) {
      const n = Math.min(MAX_BLOCK_SAMPLES, inputLength - start);
      const historyIndex = loadBlock(this.inputAt, history, input, start, n);
      kernels.upsample2x(this.inputAt, n, this.outputAt, this.scratchAt, this.coefficientsAt, this.taps);
      this.output.copy(2 * n, output, outputOffset + 2 * start);
      keepHistory(history, historyIndex, n);
    }
  }
}

/** The ÷3 decimator's kernel for one filter design (its folded coefficients). */
export class Downsample3xKernel extends FirKernel {
  constructor(foldedCoefficients: Float64Array) {
    // Scratch: three phase arrays of the input widened to float64, then the outputs' sums.
    super(foldedCoefficients, MAX_BLOCK_SAMPLES / 3, (history) => 3 * phaseStride(history) + (MAX_BLOCK_SAMPLES / 3 + 2 * LANE_SLACK) * FLOAT64_BYTES);
  }

  /**
   * `inputLength` samples of `input` after `history` (updated), `phase` samples after the last output (0..2) ->
   * the outputs at every third input sample, written at `output[outputOffset]`. Returns how many.
   */
  process(history: Int16Array, phase: number, input: Int16Array, inputLength: number, output: Int16Array, outputOffset: number): number {
    let written = 0;
    for (let start = 0; start < inputLength; start += MAX_BLOCK_SAMPLES) {
      const n = Math.min(MAX_BLOCK_SAMPLES, inputLength - start);
      const count = Math.floor((phase + n) / 3);
      const historyIndex = loadBlock(this.inputAt, history, input, start, n);
      if (count > 0) {
        kernels.downsample3x(this.inputAt, n, 2 - phase, count, this.outputAt, this.scratchAt, phaseStride(this.historyLength), this.coefficientsAt, this.taps);
        this.output.copy(count, output, outputOffset + written);
      }
      keepHistory(history, historyIndex, n);
      phase = (phase + n) % 3;
      written += count;
    }
    return written;
  }
}

import { performance } from 'node:perf_hooks';
import { Samples } from '../stats.js';

/**
 * Latency samples of one measurement window. An event counts when the message that started it was
 * sent inside [windowStart, windowEnd); its answer may arrive a little after the window closes.
 */
export class Recorder {
  readonly callerToModel = new Samples();
  readonly modelToCaller = new Samples();
  readonly interruptedToClear = new Samples();
  readonly streamStartToFirstAudio = new Samples();
  private windowStart = Infinity;
  private windowEnd = Infinity;
  violations = 0;
  firstViolation: string | undefined;

  start(): void {
    this.callerToModel.clear();
    this.modelToCaller.clear();
    this.interruptedToClear.clear();
    this.windowStart = performance.now();
    this.windowEnd = Infinity;
  }

  end(): number {
    this.windowEnd = performance.now();
    return this.windowEnd;
  }

  /** Forget everything, before a new level. */
  reset(): void {
    this.start();
    this.windowStart = Infinity;
    this.streamStartToFirstAudio.clear();
    this.violations = 0;
    this.firstViolation = undefined;
  }

  inWindow(sentAtMs: number): boolean {
    return sentAtMs >= this.windowStart && sentAtMs < this.windowEnd;
  }

  violation(problem: string): void {
    this.violations++;
    this.firstViolation ??= problem;
  }
}

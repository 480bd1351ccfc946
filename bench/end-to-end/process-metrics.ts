import { monitorEventLoopDelay, performance, PerformanceObserver, type IntervalHistogram } from 'node:perf_hooks';
import { round } from '../stats.js';
import type { CpuWindow, EventLoopDelay, GcPauses } from './common.js';

/** How often the event-loop delay is sampled, ms. */
const RESOLUTION_MS = 10;

/**
 * CPU time, event-loop delay and garbage-collection pauses of this process over a measurement window. The delay
 * histogram holds the intervals of a RESOLUTION_MS timer, so the delay is what exceeds RESOLUTION_MS.
 */
export class ProcessWindow {
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  private cpuAtStart = process.cpuUsage();
  private startedAt = performance.now();
  private gc: GcPauses = { count: 0, maxMs: 0, totalMs: 0 };

  constructor() {
    this.histogram.enable();
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        this.gc.count++;
        this.gc.totalMs += entry.duration;
        this.gc.maxMs = Math.max(this.gc.maxMs, entry.duration);
      }
    }).observe({ entryTypes: ['gc'] });
  }

  start(): void {
    this.cpuAtStart = process.cpuUsage();
    this.startedAt = performance.now();
    this.histogram.reset();
    this.gc = { count: 0, maxMs: 0, totalMs: 0 };
  }

  end(): { cpu: CpuWindow; eventLoopDelay: EventLoopDelay; gcPauses: GcPauses } {
    const cpu = process.cpuUsage(this.cpuAtStart);
    const wallMs = performance.now() - this.startedAt;
    const cpuMs = (cpu.user + cpu.system) / 1000;
    const ms = (ns: number): number => round(Math.max(0, ns / 1e6 - RESOLUTION_MS), 2);
    return {
      cpu: { wallMs: round(wallMs, 0), cpuMs: round(cpuMs, 0), cores: round(cpuMs / wallMs, 3) },
      eventLoopDelay: { p50Ms: ms(this.histogram.percentile(50)), p99Ms: ms(this.histogram.percentile(99)), maxMs: ms(this.histogram.max) },
      gcPauses: { count: this.gc.count, maxMs: round(this.gc.maxMs, 2), totalMs: round(this.gc.totalMs, 1) },
    };
  }
}

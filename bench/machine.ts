import { cpus, loadavg, platform, arch, totalmem } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { round } from './stats.js';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  node: string;
  platform: string;
  totalMemoryGiB: number;
  date: string;
  loadAverage1m: number;
  /** Cores kept busy by other processes when the benchmark started (this one idle). */
  backgroundBusyCores: number;
}

/** Busy and total CPU time of the machine so far (ms, all cores). */
export function machineTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const cpu of cpus()) {
    const { user, nice, sys, idle, irq } = cpu.times;
    busy += user + nice + sys + irq;
    total += user + nice + sys + idle + irq;
  }
  return { busy, total };
}

/**
 * Runs `work` and reports how many cores other processes kept busy meanwhile (whole-machine busy
 * time minus this process's own CPU time, over the elapsed time).
 */
export async function withBackground<T>(work: () => Promise<T>): Promise<{ value: T; backgroundCores: number }> {
  const machineBefore = machineTimes();
  const ownBefore = process.cpuUsage();
  const value = await work();
  const machineAfter = machineTimes();
  const own = process.cpuUsage(ownBefore);
  const elapsedCoreMs = ((machineAfter.total - machineBefore.total) / cpus().length) || 1;
  const otherBusyMs = machineAfter.busy - machineBefore.busy - (own.user + own.system) / 1000;
  return { value, backgroundCores: round(Math.max(0, otherBusyMs / elapsedCoreMs), 2) };
}

/** Busy cores of the whole machine over `ms`. */
export async function busyCores(ms: number): Promise<number> {
  const before = machineTimes();
  await sleep(ms);
  const after = machineTimes();
  return ((after.busy - before.busy) / Math.max(1, after.total - before.total)) * cpus().length;
}

/** How long the whole run may spend waiting for other processes to quiet down, shared by every wait. */
export class Patience {
  constructor(private remainingMs: number) {}

  get left(): number {
    return this.remainingMs;
  }

  spend(ms: number): void {
    this.remainingMs = Math.max(0, this.remainingMs - ms);
  }
}

/**
 * Waits until other processes leave the machine nearly idle, because timings on a shared 2-core
 * machine mean little otherwise; never longer than `patience` allows. Returns the last background figure.
 */
export async function waitForQuietMachine(patience: Patience, thresholdCores = 0.3, onWait?: (busy: number) => void): Promise<number> {
  let busy = await busyCores(1000);
  while (busy > thresholdCores && patience.left > 0) {
    onWait?.(busy);
    const started = Date.now();
    busy = await busyCores(2000);
    patience.spend(Date.now() - started);
  }
  return round(busy, 2);
}

export function machineInfo(backgroundBusyCores: number): MachineInfo {
  return {
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    node: process.version,
    platform: `${platform()} ${arch()}`,
    totalMemoryGiB: round(totalmem() / 1024 ** 3, 1),
    date: new Date().toISOString(),
    loadAverage1m: round(loadavg()[0] ?? 0, 2),
    backgroundBusyCores,
  };
}

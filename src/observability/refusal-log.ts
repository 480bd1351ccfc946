import type { Logger } from './logger.js';

/** One log line per source per window; the rest are counted and reported when the window ends. */
export const REFUSAL_LOG_WINDOW_MS = 60_000;
/** Sources tracked at once; past this, refusals from new sources share one "other sources" entry. */
export const MAX_TRACKED_SOURCES = 10_000;
const OTHER_SOURCES = 'other sources';

interface SourceWindow {
  startedAtMs: number;
  /** Refusals after the logged one, by message. */
  suppressed: Map<string, number>;
}

export interface RefusalLogOptions {
  windowMs?: number;
  maxSources?: number;
  now?: () => number;
}

const shared = new WeakMap<Logger, RefusalLog>();

/**
 * Logs refused requests and streams without letting unauthenticated noise flood the log: the first refusal from
 * a source (its address) is logged in full; later ones are only counted, and while the source keeps at it one line
 * a minute gives the count (by reason). Memory is bounded (MAX_TRACKED_SOURCES).
 */
export class RefusalLog {
  private readonly windows = new Map<string, SourceWindow>();
  private timer: NodeJS.Timeout | undefined;
  private readonly windowMs: number;
  private readonly maxSources: number;
  private readonly now: () => number;

  constructor(
    private readonly log: Logger,
    options: RefusalLogOptions = {},
  ) {
    this.windowMs = options.windowMs ?? REFUSAL_LOG_WINDOW_MS;
    this.maxSources = options.maxSources ?? MAX_TRACKED_SOURCES;
    this.now = options.now ?? Date.now;
  }

  /** The refusal log every handler given this logger shares (one per running server). */
  static for(log: Logger): RefusalLog {
    let refusals = shared.get(log);
    if (refusals === undefined) {
      refusals = new RefusalLog(log);
      shared.set(log, refusals);
    }
    return refusals;
  }

  /** A refusal from `source` (the peer's address; undefined when unknown). */
  warn(source: string | undefined, fields: Record<string, unknown>, message: string): void {
    let key = source ?? 'unknown';
    if (!this.windows.has(key) && this.windows.size >= this.maxSources) key = OTHER_SOURCES;
    const window = this.windows.get(key);
    if (window === undefined) {
      this.windows.set(key, { startedAtMs: this.now(), suppressed: new Map() });
      this.log.warn({ source: key, ...fields }, message);
      this.schedule();
      return;
    }
    window.suppressed.set(message, (window.suppressed.get(message) ?? 0) + 1);
  }

  /** Reports the counts of every window that is over and forgets it. */
  flush(force = false): void {
    const now = this.now();
    for (const [source, window] of this.windows) {
      if (!force && now - window.startedAtMs < this.windowMs) continue;
      const count = [...window.suppressed.values()].reduce((sum, n) => sum + n, 0);
      if (count === 0 || force) this.windows.delete(source);
      if (count === 0) continue;
      this.log.warn(
        { source, count, windowMs: this.windowMs, reasons: Object.fromEntries(window.suppressed) },
        `refused ${count} more from this source in the last ${Math.round(this.windowMs / 1000)} s`,
      );
      // Still refusing: the next window starts now and is reported by its count alone, so a source that keeps
      // at it costs one line a minute.
      if (!force) this.windows.set(source, { startedAtMs: now, suppressed: new Map() });
    }
    if (this.windows.size === 0) this.stop();
  }

  /** Reports what is pending and stops the timer (at shutdown). */
  close(): void {
    this.flush(true);
    this.stop();
  }

  private schedule(): void {
    if (this.timer !== undefined) return;
    // One timer for all sources, checking a few times per window; it never holds the process open.
    this.timer = setInterval(() => this.flush(), Math.max(1, Math.ceil(this.windowMs / 4)));
    this.timer.unref();
  }

  private stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

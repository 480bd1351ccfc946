import type { Logger } from '../observability/logger.js';
import { callStateTtls, type CallStateStore } from './call-state.js';
import { MemoryCallStateStore } from './memory-call-state.js';
import { RedisCallStateStore } from './redis-call-state.js';

export interface OpenCallStateOptions {
  /** REDIS_URL: the fleet's shared state; without it, this process's memory (exactly one instance). */
  redisUrl: string | undefined;
  /** MAX_CALL_DURATION_MS: call records live this long plus a margin. */
  maxCallDurationMs: number;
  log: Logger;
  /** Every Redis error, e.g. `() => metrics.redisErrors.inc()`. */
  onRedisError?: (error: Error) => void;
}

/** The call state store for this configuration. A Redis store connects in the background and reconnects by itself. */
export function openCallStateStore({ redisUrl, maxCallDurationMs, log, onRedisError }: OpenCallStateOptions): CallStateStore {
  const ttls = callStateTtls(maxCallDurationMs);
  if (redisUrl === undefined) return new MemoryCallStateStore(ttls);
  return new RedisCallStateStore({ url: redisUrl, ttls, log, ...(onRedisError === undefined ? {} : { onError: onRedisError }) });
}

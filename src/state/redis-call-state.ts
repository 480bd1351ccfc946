import { createClient } from '@redis/client';
import type { Logger } from '../observability/logger.js';
import {
  newStreamToken,
  StateUnavailableError,
  tokensMatch,
  type AnswerResult,
  type CallPhase,
  type CallRecord,
  type CallSnapshot,
  type SharedCallStateStore,
  type CallStateTtls,
  type RedeemedCall,
  type ReissuedToken,
  type WarmTransferRecord,
} from './call-state.js';

/*
 * Layout: per call, a hash `<prefix>{<CallSid>}:call` (fields record = JSON of the call without its instance,
 * instance, phase, streams, reissues, handle, answeredBy, transfer = JSON of a warm transfer, transferAccepted) with
 * the call TTL, and a string `<prefix>{<CallSid>}:token` with the
 * token TTL. The braces are a hash tag: both keys of a call land in one Redis Cluster slot, so each Lua script
 * below runs atomically on one node. Every transition is one script: no read-modify-write races between instances.
 */

const ANSWER = `
if redis.call('EXISTS', KEYS[1]) == 1 then
  local token = redis.call('GET', KEYS[2])
  local state = redis.call('HMGET', KEYS[1], 'phase', 'reissues', 'instance')
  if token and state[1] == 'answered' and state[2] == '0' then return {'repeat', token, state[3]} end
  return {'refused'}
end
redis.call('HSET', KEYS[1], 'record', ARGV[1], 'instance', ARGV[2], 'phase', 'answered', 'streams', 0, 'reissues', 0)
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4])
return {'answered', ARGV[3]}`;

/** Compare-and-delete of the token the caller has already checked in constant time: only one redeemer wins. */
const REDEEM = `
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return false end
redis.call('DEL', KEYS[2])
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
redis.call('HSET', KEYS[1], 'phase', 'streaming')
local streams = redis.call('HINCRBY', KEYS[1], 'streams', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local fields = redis.call('HMGET', KEYS[1], 'record', 'instance', 'handle', 'reissues')
return {fields[1], fields[2], fields[3], streams, fields[4]}`;

const REISSUE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local state = redis.call('HMGET', KEYS[1], 'phase', 'reissues')
if state[1] == 'ended' then return false end
local token = redis.call('GET', KEYS[2])
if token and state[1] == 'answered' and state[2] ~= '0' then
  local fields = redis.call('HMGET', KEYS[1], 'record', 'instance')
  return {'repeat', token, fields[1], fields[2]}
end
redis.call('HSET', KEYS[1], 'instance', ARGV[1], 'phase', 'answered')
redis.call('HINCRBY', KEYS[1], 'reissues', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
return {'new', ARGV[2], redis.call('HGET', KEYS[1], 'record'), ARGV[1]}`;

const MARK_ENDED = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('DEL', KEYS[2])
if redis.call('HGET', KEYS[1], 'phase') ~= 'ended' then
  if ARGV[1] == '1' then redis.call('HSET', KEYS[1], 'phase', 'ended') else redis.call('HSET', KEYS[1], 'phase', 'stream-lost') end
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`;

/** Sets (or, with an empty value, deletes) fields of a known call: ARGV = TTL, then field, value pairs. */
const SAVE_FIELDS = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for i = 2, #ARGV, 2 do
  if ARGV[i + 1] == '' then redis.call('HDEL', KEYS[1], ARGV[i]) else redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1`;

/** Marks a warm transfer taken, if there is one: 1, else 0. */
const ACCEPT_TRANSFER = `
if redis.call('HEXISTS', KEYS[1], 'transfer') == 0 then return 0 end
redis.call('HSET', KEYS[1], 'transferAccepted', '1')
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1`;

/** Stores the proposed value unless one is there; answers the value stored. */
const AGREE = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX') then return ARGV[1] end
return redis.call('GET', KEYS[1])`;

export interface RedisCallStateOptions {
  url: string;
  ttls: CallStateTtls;
  log: Logger;
  /** Prepended to every key, e.g. per deployment sharing one Redis. */
  keyPrefix?: string;
  /** A command that takes longer fails with StateUnavailableError (the caller answers busy). */
  commandTimeoutMs?: number;
  /** Every Redis error (connection or command), e.g. to count it in metrics. */
  onError?: (error: Error) => void;
}

type StoredCall = Omit<CallRecord, 'instanceId'>;
type Reply = string | number | null | Reply[];

/**
 * The fleet's call state in Redis, through @redis/client (node-redis, the client the Redis project maintains).
 * The client reconnects by itself with capped backoff; while it is disconnected commands fail at once instead of
 * queueing (disableOfflineQueue), so a webhook gets the busy answer rather than hanging. Errors never escape as
 * unhandled 'error' events: they are logged once per outage, counted through `onError`, and surface to callers as
 * {@link StateUnavailableError}.
 */
export class RedisCallStateStore implements SharedCallStateStore {
  readonly shared = true;
  private readonly client;
  private readonly prefix: string;
  private readonly commandTimeoutMs: number;
  private outageLogged = false;
  private closed = false;
  private errorCount = 0;
  /** The values agreed on through this store, restored when Redis comes back without them. */
  private readonly agreed = new Map<string, string>();

  constructor(private readonly options: RedisCallStateOptions) {
    this.prefix = options.keyPrefix ?? 'phone-agent:';
    this.commandTimeoutMs = options.commandTimeoutMs ?? 1_000;
    this.client = createClient({
      url: options.url,
      disableOfflineQueue: true,
      socket: {
        connectTimeout: 2_000,
        // Keep trying for ever, 50 ms doubling up to 2 s between attempts: the service recovers when Redis returns.
        reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, 2_000),
      },
    });
    this.client.on('error', (error: Error) => this.connectionError(error));
    this.client.on('ready', () => {
      if (this.outageLogged) options.log.info('Redis reachable again: taking new calls');
      this.outageLogged = false;
      // A Redis restarted without persistence has lost the values the fleet agreed on: put ours back.
      for (const [name, value] of this.agreed) void this.agreeOn(name, value).catch(() => undefined);
    });
    this.client.connect().catch((error: unknown) => {
      if (!this.closed) this.connectionError(error instanceof Error ? error : new Error(String(error)));
    });
  }

  /** Resolves true once connected, false if not within `timeoutMs` (the store keeps trying either way). */
  async ready(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.client.isReady) {
      if (Date.now() >= deadline || this.closed) return false;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return true;
  }

  /** Connected right now. */
  get available(): boolean {
    return this.client.isReady;
  }

  /** Redis errors seen since start (connection attempts and failed commands). */
  get errors(): number {
    return this.errorCount;
  }

  async answer(call: CallRecord): Promise<AnswerResult> {
    const { instanceId, ...stored } = call;
    const token = newStreamToken();
    const reply = (await this.eval('answer', ANSWER, call.callSid, [JSON.stringify(stored), instanceId, token, this.ms(this.options.ttls.tokenTtlMs), this.ms(this.options.ttls.callTtlMs)])) as string[];
    if (reply[0] === 'answered') return { outcome: 'answered', token };
    if (reply[0] === 'repeat') return { outcome: 'repeat', token: reply[1]!, instanceId: reply[2]! };
    return { outcome: 'refused' };
  }

  async redeem(callSid: string, presented: string | undefined): Promise<RedeemedCall | undefined> {
    if (presented === undefined) return undefined;
    const issued = (await this.run('redeem', () => this.client.get(this.key(callSid, 'token')))) as string | null;
    if (issued === null || !tokensMatch(issued, presented)) return undefined;
    const reply = (await this.eval('redeem', REDEEM, callSid, [issued, this.ms(this.options.ttls.callTtlMs)])) as Reply[] | null;
    if (reply === null) return undefined; // another instance redeemed it first, or it expired in between
    const [record, instance, handle, streams, reissues] = reply as [string, string, string | null, number, string];
    return {
      call: this.record(record, instance),
      resumptionHandle: handle ?? undefined,
      streamNumber: Number(streams),
      failover: Number(reissues) > 0,
    };
  }

  async reissue(callSid: string, instanceId: string): Promise<ReissuedToken | undefined> {
    const token = newStreamToken();
    const reply = (await this.eval('reissue', REISSUE, callSid, [instanceId, token, this.ms(this.options.ttls.tokenTtlMs), this.ms(this.options.ttls.callTtlMs)])) as string[] | null;
    if (reply === null) return undefined;
    const [kind, issued, record, instance] = reply as [string, string, string, string];
    return { token: issued, call: this.record(record, instance), repeat: kind === 'repeat' };
  }

  async markEnded(callSid: string, { onPurpose }: { onPurpose: boolean }): Promise<void> {
    await this.eval('markEnded', MARK_ENDED, callSid, [onPurpose ? '1' : '0', this.ms(this.options.ttls.callTtlMs)]);
  }

  async get(callSid: string): Promise<CallSnapshot | undefined> {
    const fields = (await this.run('get', () => this.client.hGetAll(this.key(callSid, 'call')))) as Record<string, string>;
    if (fields.record === undefined || fields.instance === undefined) return undefined;
    return {
      call: this.record(fields.record, fields.instance),
      phase: fields.phase as CallPhase,
      resumptionHandle: fields.handle,
      streams: Number(fields.streams ?? 0),
      reissues: Number(fields.reissues ?? 0),
      answeredBy: fields.answeredBy,
      transfer: fields.transfer === undefined ? undefined : { ...(JSON.parse(fields.transfer) as WarmTransferRecord), accepted: fields.transferAccepted === '1' },
    };
  }

  async saveResumptionHandle(callSid: string, handle: string): Promise<void> {
    await this.saveFields('saveResumptionHandle', callSid, ['handle', handle]);
  }

  async saveAnsweredBy(callSid: string, answeredBy: string): Promise<void> {
    await this.saveFields('saveAnsweredBy', callSid, ['answeredBy', answeredBy]);
  }

  async saveTransfer(callSid: string, transfer: WarmTransferRecord): Promise<void> {
    await this.saveFields('saveTransfer', callSid, ['transfer', JSON.stringify(transfer), 'transferAccepted', '']);
  }

  async acceptTransfer(callSid: string): Promise<boolean> {
    return (await this.eval('acceptTransfer', ACCEPT_TRANSFER, callSid, [this.ms(this.options.ttls.callTtlMs)])) === 1;
  }

  private async saveFields(operation: string, callSid: string, fields: string[]): Promise<void> {
    await this.eval(operation, SAVE_FIELDS, callSid, [this.ms(this.options.ttls.callTtlMs), ...fields]);
  }

  async agreeOn(name: string, proposed: string): Promise<string> {
    const agreed = (await this.run('agreeOn', () => this.client.eval(AGREE, { keys: [`${this.prefix}agreed:${name}`], arguments: [proposed] }))) as string;
    this.agreed.set(name, agreed);
    return agreed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.client.isOpen && this.client.isReady) {
      await this.client.close().catch(() => this.client.destroy());
    } else {
      this.client.destroy();
    }
  }

  private key(callSid: string, part: 'call' | 'token'): string {
    return `${this.prefix}{${callSid}}:${part}`;
  }

  private ms(value: number): string {
    return String(Math.max(1, Math.round(value)));
  }

  private record(json: string, instanceId: string): CallRecord {
    const stored = JSON.parse(json) as StoredCall;
    return { callSid: stored.callSid, from: stored.from, to: stored.to, direction: stored.direction, agent: stored.agent, instanceId };
  }

  private eval(operation: string, script: string, callSid: string, args: string[]): Promise<unknown> {
    return this.run(operation, () => this.client.eval(script, { keys: [this.key(callSid, 'call'), this.key(callSid, 'token')], arguments: args }));
  }

  private async run<T>(operation: string, command: () => Promise<T>): Promise<T> {
    if (this.closed) throw new StateUnavailableError('call state store is closed');
    if (!this.client.isReady) {
      this.countError(new Error(`Redis not connected (${operation})`));
      throw new StateUnavailableError(`Redis is unavailable (${operation}): not connected`);
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        command(),
        new Promise<never>((_resolve, reject) => {
          timer = setTimeout(() => reject(new Error(`timed out after ${this.commandTimeoutMs} ms`)), this.commandTimeoutMs);
        }),
      ]);
    } catch (error) {
      const cause = error instanceof Error ? error : new Error(String(error));
      this.countError(cause);
      throw new StateUnavailableError(`Redis is unavailable (${operation}): ${cause.message}`, { cause });
    } finally {
      clearTimeout(timer);
    }
  }

  private connectionError(error: Error): void {
    this.countError(error);
    // One line per outage, not one per reconnect attempt.
    if (!this.outageLogged) {
      this.outageLogged = true;
      this.options.log.error({ err: error.message }, 'Redis unreachable: new calls get the busy answer until it returns; calls in progress continue');
    }
  }

  private countError(error: Error): void {
    this.errorCount++;
    this.options.onError?.(error);
  }
}

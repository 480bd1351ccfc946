import type { Logger } from '../observability/logger.js';
import { signToolRequest, TOOL_SIGNATURE_HEADER } from '../tools/http-tool.js';
import type { CallRecord } from './call-record.js';

/** The JSON body of a post-call webhook. */
export interface CallEndedPayload {
  event: 'call.ended';
  record: CallRecord;
}

/** Names the delivery: the same on every attempt of one call's webhook, so a receiver can ignore a repeat. */
export const DELIVERY_HEADER = 'Phone-Agent-Delivery';
/** Waits before each retry: about seven minutes in all, then the delivery is given up. */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [1_000, 5_000, 30_000, 120_000, 300_000];
const ATTEMPT_TIMEOUT_MS = 10_000;
/** Deliveries under way at once (first attempts and waiting retries); past it a new one is given up at once. */
const MAX_PENDING_DELIVERIES = 1_000;

export interface CallEndedWebhookOptions {
  url: URL;
  /** TOOL_WEBHOOK_SECRET: the body is signed as HTTP tool requests are (`Phone-Agent-Signature`). */
  secret: string;
  log: Logger;
  /** Counts a delivery given up (every attempt failed, the receiver refused it, or too many were pending). */
  onFailed: () => void;
  retryDelaysMs?: readonly number[];
  fetch?: typeof fetch;
}

/**
 * CALL_ENDED_WEBHOOK_URL: each call's record POSTed after the call, signed, retried with backoff on a network
 * error, a timeout, 408, 429 or a 5xx; never on the call's path (`send` only starts it). A 2xx is delivered; another
 * 4xx is the receiver refusing it, which no retry changes.
 */
export class CallEndedWebhook {
  private readonly pending = new Set<{ timer: NodeJS.Timeout | undefined }>();
  private readonly fetch: typeof fetch;
  private closed = false;

  constructor(private readonly options: CallEndedWebhookOptions) {
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  send(record: CallRecord): void {
    if (this.closed) return;
    if (this.pending.size >= MAX_PENDING_DELIVERIES) {
      this.giveUp(record, `${MAX_PENDING_DELIVERIES} deliveries are already pending`);
      return;
    }
    const delivery = { timer: undefined as NodeJS.Timeout | undefined };
    this.pending.add(delivery);
    const body = JSON.stringify({ event: 'call.ended', record } satisfies CallEndedPayload);
    const attempt = (n: number): void => {
      void this.post(record.callSid, body).then((result) => {
        if (this.closed) return;
        const delay = (this.options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS)[n];
        if (result.kind === 'delivered' || result.kind === 'refused' || delay === undefined) {
          this.pending.delete(delivery);
          if (result.kind === 'refused') this.giveUp(record, `the receiver answered HTTP ${result.status}`);
          else if (result.kind === 'failed') this.giveUp(record, `${n + 1} attempts failed, the last: ${result.reason}`);
          return;
        }
        this.options.log.warn({ callSid: record.callSid, attempt: n + 1, reason: result.reason, retryInMs: delay }, 'post-call webhook failed; retrying');
        delivery.timer = setTimeout(() => attempt(n + 1), delay);
      });
    };
    attempt(0);
  }

  /** Abandons the retries still waiting (server stopping). */
  close(): void {
    this.closed = true;
    for (const delivery of this.pending) clearTimeout(delivery.timer);
    if (this.pending.size > 0) this.options.log.warn({ abandoned: this.pending.size }, 'post-call webhook deliveries abandoned at shutdown');
    this.pending.clear();
  }

  private async post(callSid: string, body: string): Promise<{ kind: 'delivered' } | { kind: 'refused'; status: number } | { kind: 'failed'; reason: string }> {
    try {
      const response = await this.fetch(this.options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [TOOL_SIGNATURE_HEADER]: signToolRequest(this.options.secret, body), [DELIVERY_HEADER]: callSid },
        body,
        redirect: 'error', // a redirect would carry the signed record somewhere nobody configured
        signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
      });
      await response.body?.cancel();
      if (response.ok) return { kind: 'delivered' };
      if (response.status === 408 || response.status === 429 || response.status >= 500) return { kind: 'failed', reason: `HTTP ${response.status}` };
      return { kind: 'refused', status: response.status };
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      return { kind: 'failed', reason: cause ?? (error as Error).name ?? 'network error' };
    }
  }

  private giveUp(record: CallRecord, reason: string): void {
    this.options.onFailed();
    this.options.log.error({ callSid: record.callSid, reason }, 'post-call webhook not delivered');
  }
}

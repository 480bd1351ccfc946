import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Tool, ToolContext } from './tool.js';
import { ToolError } from './tool.js';

/** The header that carries an HTTP tool request's signature: `t=<unix seconds>,v1=<hex HMAC-SHA256>`. */
export const TOOL_SIGNATURE_HEADER = 'Phone-Agent-Signature';
/** A receiver should refuse signatures older (or newer) than this: it bounds what a captured request is worth. */
export const TOOL_SIGNATURE_TOLERANCE_SECONDS = 300;
/** An answer larger than this is refused (the dispatcher also caps what reaches the model). */
const MAX_RESPONSE_BYTES = 256 * 1024;

/** The JSON body of an HTTP tool request. */
export interface HttpToolRequest {
  tool: string;
  args: Record<string, unknown>;
  call: { callSid: string; from: string | undefined; to: string | undefined; direction: 'inbound' | 'outbound'; agent: string };
}

/** `t=…,v1=…` for a raw body: HMAC-SHA256 over "<t>.<raw body>", keyed with the shared secret (Stripe's scheme). */
export function signToolRequest(secret: string, rawBody: string, unixSeconds: number = Math.floor(Date.now() / 1000)): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${rawBody}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/**
 * Checks a `Phone-Agent-Signature` header against the raw request body, as a receiver written in TypeScript
 * would (docs/http-tools.md shows the same in a few lines for other languages). Constant-time comparison;
 * timestamps further than `toleranceSeconds` from now are refused.
 */
export function verifyToolRequestSignature(
  secret: string,
  rawBody: string,
  header: string | undefined,
  { nowSeconds = Math.floor(Date.now() / 1000), toleranceSeconds = TOOL_SIGNATURE_TOLERANCE_SECONDS } = {},
): boolean {
  if (header === undefined) return false;
  const parts = new Map(header.split(',').map((part) => part.trim().split('=', 2) as [string, string]));
  const t = Number(parts.get('t'));
  const presented = parts.get('v1');
  if (!Number.isInteger(t) || presented === undefined || !/^[0-9a-f]{64}$/.test(presented)) return false;
  if (Math.abs(nowSeconds - t) > toleranceSeconds) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${rawBody}`).digest();
  return timingSafeEqual(expected, Buffer.from(presented, 'hex'));
}

export interface HttpToolClientOptions {
  /** TOOL_WEBHOOK_SECRET. */
  secret: string;
  /** Replaces the global fetch (tests). */
  fetch?: typeof fetch;
}

/**
 * Runs HTTP tools: POSTs the call as signed JSON and turns the answer into the tool's output. Every failure
 * becomes a ToolError, so the model hears that the tool failed and the call goes on; the dispatcher's timeout
 * aborts the request through the context's signal.
 */
export class HttpToolClient {
  private readonly fetch: typeof fetch;

  constructor(private readonly options: HttpToolClientOptions) {
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  /** The tool with its `run` bound to this client; handler tools are returned as they are. */
  bind(tool: Tool): Tool {
    if (tool.url === undefined) return tool;
    return Object.freeze({ ...tool, run: (args: unknown, context: ToolContext) => this.run(tool, args, context) });
  }

  async run(tool: Tool, args: unknown, context: ToolContext): Promise<unknown> {
    const url = tool.url;
    if (url === undefined) throw new Error(`tool ${tool.name} has no url`);
    const { call } = context;
    const request: HttpToolRequest = {
      tool: tool.name,
      args: (args ?? {}) as Record<string, unknown>,
      call: { callSid: call.callSid, from: call.from, to: call.to, direction: call.direction, agent: call.agent },
    };
    const body = JSON.stringify(request);
    let response: Response;
    try {
      response = await this.fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', [TOOL_SIGNATURE_HEADER]: signToolRequest(this.options.secret, body) },
        body,
        signal: context.signal,
        redirect: 'error', // a redirect would carry the signed body somewhere the agent's author did not name
      });
    } catch (error) {
      if (context.signal.aborted) throw context.signal.reason;
      throw new ToolError(`${tool.name} could not be reached (${describeFetchError(error)}).`, { retryable: true });
    }
    const text = await readLimited(response, MAX_RESPONSE_BYTES).catch((error: unknown) => {
      if (context.signal.aborted) throw context.signal.reason;
      throw new ToolError(`${tool.name} sent an unreadable answer (${(error as Error).message}).`);
    });
    if (!response.ok) {
      context.log.warn({ status: response.status, url: url.origin + url.pathname }, 'HTTP tool answered with an error status');
      // A server error may pass; a refused request (4xx) will be refused again.
      throw new ToolError(`${tool.name} failed (HTTP ${response.status}).`, { retryable: response.status >= 500 });
    }
    try {
      // An empty body is a tool that did its job and has nothing to say (the dispatcher says so to the model).
      return text.trim() === '' ? undefined : (JSON.parse(text) as unknown);
    } catch {
      context.log.warn({ status: response.status, url: url.origin + url.pathname }, 'HTTP tool answered with a body that is not JSON');
      throw new ToolError(`${tool.name} sent an answer that is not JSON.`);
    }
  }
}

function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: { code?: string } }).cause;
  return cause?.code ?? (error as Error).message ?? 'network error';
}

async function readLimited(response: Response, maxBytes: number): Promise<string> {
  if (response.body === null) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of response.body) {
    total += chunk.byteLength;
    if (total > maxBytes) throw new Error(`larger than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

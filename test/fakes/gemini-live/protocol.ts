/**
 * Wire protocol of BidiGenerateContent (Gemini Developer API, camelCase JSON) as the fake sees it.
 *
 * Shapes come from the installed SDK's types (`@google/genai` 3.1.0), because on the Gemini API path
 * the SDK passes wire JSON through unchanged. Client frames are untrusted input: they are validated
 * here and turned into a typed union, or into the close code/reason the real service would use.
 */
import type {
  FunctionResponse,
  LiveClientContent,
  LiveClientContextUpdate,
  LiveClientSetup,
  LiveServerContent,
  LiveServerGoAway,
  LiveServerSessionResumptionUpdate,
  LiveServerSetupComplete,
  LiveServerToolCall,
  LiveServerToolCallCancellation,
  UsageMetadata,
} from '@google/genai';
import { isBase64 } from './pcm.js';

// ---------------------------------------------------------------------------------------------
// Close codes and reasons (WebSocket code ↔ google.rpc status as the service maps them).

export interface CloseSpec {
  code: number;
  reason: string;
}

/** INVALID_ARGUMENT → 1007; the generic text is what the service says for most malformed requests. */
export const INVALID_ARGUMENT = 'Request contains an invalid argument.';
export const MEDIA_CHUNKS_DEPRECATED =
  'realtime_input.media_chunks is deprecated. Use audio, video, or text instead.';
export const INVALID_API_KEY = 'API key not valid. Please pass a valid API key.';
export const MISSING_API_KEY =
  "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.";
export const NON_AUDIO_REQUEST = 'Cannot extract voices from a non-audio request.';
export const DEADLINE_EXPIRED = 'Deadline expired before operation could complete.';
export const INTERNAL_ERROR = 'Internal error encountered.';

export const invalidArgument = (reason: string = INVALID_ARGUMENT): CloseSpec => ({ code: 1007, reason });

/** A close reason may carry at most 123 UTF-8 bytes (RFC 6455 §5.5); `ws` throws beyond that. */
export function truncateCloseReason(reason: string): string {
  if (Buffer.byteLength(reason) <= 123) return reason;
  let out = '';
  for (const ch of reason) {
    if (Buffer.byteLength(out + ch) > 123) break;
    out += ch;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Server → client.

/** One server frame: `usageMetadata` may ride along with exactly one of the other fields. */
export interface WireServerMessage {
  setupComplete?: LiveServerSetupComplete;
  serverContent?: LiveServerContent;
  toolCall?: LiveServerToolCall;
  toolCallCancellation?: LiveServerToolCallCancellation;
  goAway?: LiveServerGoAway;
  sessionResumptionUpdate?: LiveServerSessionResumptionUpdate;
  usageMetadata?: UsageMetadata;
  /** Top-level voice activity, emitted by some models only (python-genai#2981); `voiceActivityType` on the wire. */
  voiceActivity?: { voiceActivityType: 'ACTIVITY_START' | 'ACTIVITY_END'; audioOffset: string };
}

/** protobuf-JSON Duration: seconds with up to 9 fractional digits, e.g. `"50s"`, `"0.250s"`. */
export function formatDuration(seconds: number): string {
  const fixed = Math.max(0, seconds).toFixed(9).replace(/\.?0+$/, '');
  return `${fixed}s`;
}

// ---------------------------------------------------------------------------------------------
// Client → server.

export type RealtimeInputEvent =
  | { type: 'audio'; mimeType: string; data: string; sampleRate: number }
  | { type: 'video'; mimeType: string; data: string }
  | { type: 'text'; text: string }
  | { type: 'audioStreamEnd' }
  | { type: 'activityStart' }
  | { type: 'activityEnd' }
  /** `{}` or `audioStreamEnd:false`: nothing set (protobuf default values mean "absent"). */
  | { type: 'empty' };

export type ClientMessage =
  | { kind: 'setup'; setup: LiveClientSetup }
  | { kind: 'clientContent'; clientContent: LiveClientContent }
  | { kind: 'realtimeInput'; input: RealtimeInputEvent }
  | { kind: 'toolResponse'; functionResponses: FunctionResponse[] }
  | { kind: 'contextUpdate'; contextUpdate: LiveClientContextUpdate };

export type ClientMessageKind = ClientMessage['kind'];

export type ParseResult = { ok: true; message: ClientMessage } | { ok: false; close: CloseSpec };

const TOP_LEVEL_KEYS = ['setup', 'clientContent', 'realtimeInput', 'toolResponse', 'contextUpdate'] as const;
const REALTIME_KEYS = ['mediaChunks', 'audio', 'audioStreamEnd', 'video', 'text', 'activityStart', 'activityEnd'] as const;

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The oneof of the envelope: exactly one known key (protobuf JSON drops explicit `null`s). */
function presentKeys(obj: Record<string, unknown>): string[] {
  return Object.keys(obj).filter((k) => obj[k] !== null && obj[k] !== undefined);
}

/** `audio/pcm` or `audio/pcm;rate=N` (parameters case/space-insensitive) → sample rate. */
export function pcmRateFromMime(mimeType: string): number | undefined {
  const m = /^audio\/pcm\s*(?:;\s*rate\s*=\s*(\d+)\s*)?$/i.exec(mimeType.trim());
  if (!m) return undefined;
  const rate = m[1] === undefined ? 16000 : Number(m[1]);
  return rate >= 8000 && rate <= 48000 ? rate : undefined;
}

/** Parse one client frame (text or binary; both carry UTF-8 JSON). */
export function parseClientFrame(text: string): ParseResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, close: invalidArgument() };
  }
  if (!isRecord(json)) return { ok: false, close: invalidArgument() };

  for (const key of Object.keys(json)) {
    if (!(TOP_LEVEL_KEYS as readonly string[]).includes(key)) {
      // The proto-JSON parser names unknown fields (cf. `Unknown name "proactivity" at 'setup'`).
      return { ok: false, close: invalidArgument(`Invalid JSON payload received. Unknown name "${key}": Cannot find field.`) };
    }
  }
  const keys = presentKeys(json);
  if (keys.length !== 1) return { ok: false, close: invalidArgument() };
  const key = keys[0] as (typeof TOP_LEVEL_KEYS)[number];
  const body = json[key];

  switch (key) {
    case 'setup':
      if (!isRecord(body)) return { ok: false, close: invalidArgument() };
      return { ok: true, message: { kind: 'setup', setup: body as LiveClientSetup } };
    case 'clientContent': {
      if (!isRecord(body)) return { ok: false, close: invalidArgument() };
      if (body['turns'] !== undefined && !Array.isArray(body['turns'])) return { ok: false, close: invalidArgument() };
      if (body['turnComplete'] !== undefined && typeof body['turnComplete'] !== 'boolean') {
        return { ok: false, close: invalidArgument() };
      }
      return { ok: true, message: { kind: 'clientContent', clientContent: body as LiveClientContent } };
    }
    case 'realtimeInput':
      return parseRealtimeInput(body);
    case 'toolResponse': {
      if (!isRecord(body) || !Array.isArray(body['functionResponses'])) return { ok: false, close: invalidArgument() };
      const responses: unknown[] = body['functionResponses'];
      // Gemini API: every response must carry the id of the call it answers (the SDK enforces it too).
      const valid = responses.every((r) => isRecord(r) && typeof r['id'] === 'string' && r['id'] !== '');
      if (!valid || responses.length === 0) return { ok: false, close: invalidArgument() };
      return { ok: true, message: { kind: 'toolResponse', functionResponses: responses as FunctionResponse[] } };
    }
    case 'contextUpdate':
      if (!isRecord(body)) return { ok: false, close: invalidArgument() };
      return { ok: true, message: { kind: 'contextUpdate', contextUpdate: body as LiveClientContextUpdate } };
  }
}

function parseRealtimeInput(body: unknown): ParseResult {
  if (!isRecord(body)) return { ok: false, close: invalidArgument() };
  for (const key of Object.keys(body)) {
    if (!(REALTIME_KEYS as readonly string[]).includes(key)) {
      return {
        ok: false,
        close: invalidArgument(`Invalid JSON payload received. Unknown name "${key}" at 'realtime_input': Cannot find field.`),
      };
    }
  }
  const keys = presentKeys(body);
  // Checked before the one-field rule: newer endpoints reject the deprecated field outright.
  if (keys.includes('mediaChunks')) return { ok: false, close: invalidArgument(MEDIA_CHUNKS_DEPRECATED) };
  const ok = (input: RealtimeInputEvent): ParseResult => ({ ok: true, message: { kind: 'realtimeInput', input } });
  if (keys.length === 0) return ok({ type: 'empty' });
  if (keys.length !== 1) return { ok: false, close: invalidArgument() };
  const key = keys[0] as (typeof REALTIME_KEYS)[number];
  const value = body[key];

  switch (key) {
    case 'audio':
    case 'video': {
      if (!isRecord(value) || typeof value['data'] !== 'string' || typeof value['mimeType'] !== 'string') {
        return { ok: false, close: invalidArgument() };
      }
      const data = value['data'];
      const mimeType = value['mimeType'];
      if (!isBase64(data)) {
        return {
          ok: false,
          close: invalidArgument(`Invalid value at 'realtime_input.${key}.data' (TYPE_BYTES), Base64 decoding failed`),
        };
      }
      if (key === 'video') {
        return /^image\/(jpeg|png|webp)$/i.test(mimeType) ? ok({ type: 'video', mimeType, data }) : { ok: false, close: invalidArgument() };
      }
      const sampleRate = pcmRateFromMime(mimeType);
      if (sampleRate === undefined) return { ok: false, close: invalidArgument() };
      return ok({ type: 'audio', mimeType, data, sampleRate });
    }
    case 'text':
      return typeof value === 'string' ? ok({ type: 'text', text: value }) : { ok: false, close: invalidArgument() };
    case 'audioStreamEnd':
      if (typeof value !== 'boolean') return { ok: false, close: invalidArgument() };
      return ok(value ? { type: 'audioStreamEnd' } : { type: 'empty' });
    case 'activityStart':
    case 'activityEnd':
      return isRecord(value) ? ok({ type: key }) : { ok: false, close: invalidArgument() };
    case 'mediaChunks':
      return { ok: false, close: invalidArgument(MEDIA_CHUNKS_DEPRECATED) };
  }
}

/**
 * Media Streams message shapes, written from Twilio's public docs
 * (https://www.twilio.com/docs/voice/media-streams/websocket-messages), independent of src/.
 * Numeric-looking fields are strings on the wire; sampleRate/channels are numbers.
 */

// ---- Twilio -> our server ----

export interface ConnectedMessage {
  event: 'connected';
  protocol: 'Call';
  version: '1.0.0';
}

export interface StartMessage {
  event: 'start';
  sequenceNumber: string;
  start: {
    accountSid: string;
    streamSid: string;
    callSid: string;
    tracks: ['inbound'];
    mediaFormat: { encoding: 'audio/x-mulaw'; sampleRate: 8000; channels: 1 };
    customParameters: Record<string, string>;
  };
  streamSid: string;
}

export interface InboundMediaMessage {
  event: 'media';
  sequenceNumber: string;
  media: { track: 'inbound'; chunk: string; timestamp: string; payload: string };
  streamSid: string;
}

export type DtmfDigit = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9' | '*' | '#';

export interface DtmfMessage {
  event: 'dtmf';
  streamSid: string;
  sequenceNumber: string;
  dtmf: { track: 'inbound_track'; digit: DtmfDigit };
}

export interface MarkEchoMessage {
  event: 'mark';
  sequenceNumber: string;
  streamSid: string;
  mark: { name: string };
}

export interface StopMessage {
  event: 'stop';
  sequenceNumber: string;
  stop: { accountSid: string; callSid: string };
  streamSid: string;
}

export type TwilioMessage =
  | ConnectedMessage
  | StartMessage
  | InboundMediaMessage
  | DtmfMessage
  | MarkEchoMessage
  | StopMessage;

// ---- our server -> Twilio (bidirectional streams accept only these three) ----

export type ServerMessage =
  | { event: 'media'; streamSid: string; media: { payload: string } }
  | { event: 'mark'; streamSid: string; mark: { name: string } }
  | { event: 'clear'; streamSid: string };

export type ParsedServerMessage =
  | { ok: true; event: 'media'; audio: Uint8Array }
  | { ok: true; event: 'mark'; name: string }
  | { ok: true; event: 'clear' }
  | { ok: false; code: 31950 | 31951; reason: string };

const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Validate one WebSocket frame our server sent, the way Twilio does: a JSON text frame whose `event` is media,
 * mark or clear, with exactly the documented fields, and the active `streamSid`. Binary frames are 31950;
 * everything else wrong is 31951 (https://www.twilio.com/docs/api/errors/31950, /31951).
 * `expectedStreamSid` is undefined before `start` was sent: then no message can be valid.
 */
export function parseServerMessage(
  data: string | Uint8Array,
  isBinary: boolean,
  expectedStreamSid: string | undefined,
): ParsedServerMessage {
  if (isBinary || typeof data !== 'string') return invalid(31950, 'binary frame (messages must be JSON text frames)');
  let msg: unknown;
  try {
    msg = JSON.parse(data);
  } catch {
    return invalid(31951, `not JSON: ${truncate(data)}`);
  }
  if (!isRecord(msg)) return invalid(31951, `not a JSON object: ${truncate(data)}`);
  const event = msg['event'];

  const fieldError = checkTopLevel(msg, event);
  if (fieldError) return invalid(31951, fieldError);

  if (msg['streamSid'] !== expectedStreamSid) {
    return invalid(31951, `${String(event)}: streamSid ${JSON.stringify(msg['streamSid'])} is not the active stream (${expectedStreamSid ?? 'none started'})`);
  }

  if (event === 'media') {
    const media = msg['media'];
    if (!isRecord(media) || !hasExactKeys(media, ['payload'])) return invalid(31951, 'media: media must be exactly { payload }');
    const payload = media['payload'];
    if (typeof payload !== 'string' || !STRICT_BASE64.test(payload)) return invalid(31951, 'media: payload is not base64');
    const audio = new Uint8Array(Buffer.from(payload, 'base64'));
    // Twilio plays payloads as raw mu-law; a WAV header would be played as noise (websocket-messages docs).
    if (audio.length >= 4 && Buffer.from(audio.subarray(0, 4)).toString('latin1') === 'RIFF') {
      return invalid(31951, 'media: payload starts with a RIFF/WAV header; send raw mu-law');
    }
    return { ok: true, event: 'media', audio };
  }
  if (event === 'mark') {
    const mark = msg['mark'];
    if (!isRecord(mark) || !hasExactKeys(mark, ['name']) || typeof mark['name'] !== 'string') {
      return invalid(31951, 'mark: mark must be exactly { name: string }');
    }
    return { ok: true, event: 'mark', name: mark['name'] };
  }
  return { ok: true, event: 'clear' };
}

function checkTopLevel(msg: Record<string, unknown>, event: unknown): string | undefined {
  switch (event) {
    case 'media':
      return hasExactKeys(msg, ['event', 'streamSid', 'media']) ? undefined : `media: fields must be exactly event, streamSid, media (got ${Object.keys(msg).join(', ')})`;
    case 'mark':
      return hasExactKeys(msg, ['event', 'streamSid', 'mark']) ? undefined : `mark: fields must be exactly event, streamSid, mark (got ${Object.keys(msg).join(', ')})`;
    case 'clear':
      return hasExactKeys(msg, ['event', 'streamSid']) ? undefined : `clear: fields must be exactly event, streamSid (got ${Object.keys(msg).join(', ')})`;
    default:
      return `unsupported event ${JSON.stringify(event)} (only media, mark, clear may be sent)`;
  }
}

function hasExactKeys(obj: Record<string, unknown>, keys: readonly string[]): boolean {
  const actual = Object.keys(obj);
  return actual.length === keys.length && keys.every((k) => Object.hasOwn(obj, k));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(code: 31950 | 31951, reason: string): ParsedServerMessage {
  return { ok: false, code, reason };
}

function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

import type { GoogleGenAI } from '@google/genai';
import WebSocket from 'ws';

/**
 * The socket the @google/genai SDK drives for a Live session, replaced by our own so that three of its
 * sharp edges cannot hurt a call (gemini-live.md §9-12):
 * - a frame that is not JSON makes the SDK's async parser reject with nobody listening, an unhandled
 *   rejection that kills the process: we parse frames first and close the session instead (and, once the session
 *   is set up, hand the parsed message on, so no frame is parsed twice: `deliverParsed`);
 * - `connect()` has no setup timeout and exposes no socket until setup completes: holding the socket
 *   here lets the caller terminate a setup that never finishes, so nothing leaks;
 * - sends on a closed socket vanish silently: `isOpen` lets the session refuse them visibly.
 * The interfaces mirror the SDK's internal WebSocket/WebSocketFactory contract (dist/genai.d.ts).
 */

interface SdkSocketCallbacks {
  onopen: () => void;
  onerror: (event: { message: string }) => void;
  onmessage: (event: { data: string }) => void;
  onclose: (event: { code: number; reason: string }) => void;
}

interface SdkSocket {
  connect(): void;
  send(message: string): void;
  close(): void;
}

interface SdkSocketFactory {
  create(url: string, headers: Record<string, string>, callbacks: SdkSocketCallbacks): SdkSocket;
}

/** Gemini Live audio chunks are a few hundred KiB at most; anything far larger is not a Live frame. */
const MAX_SERVER_FRAME_BYTES = 16 * 1024 * 1024;
/** How long a polite close may take before the socket is cut. */
const CLOSE_GRACE_MS = 2_000;

export class GuardedSdkSocket implements SdkSocket {
  private ws: WebSocket | undefined;
  private closeTimer: NodeJS.Timeout | undefined;
  private parsedHandler: ((message: Record<string, unknown>) => boolean) | undefined;

  constructor(
    private readonly url: string,
    private readonly headers: Record<string, string>,
    private readonly callbacks: SdkSocketCallbacks,
    private readonly onInvalidFrame: (problem: string) => void,
  ) {}

  connect(): void {
    const ws = new WebSocket(this.url, { headers: this.headers, maxPayload: MAX_SERVER_FRAME_BYTES });
    this.ws = ws;
    ws.on('open', () => this.callbacks.onopen());
    ws.on('error', (error) => this.callbacks.onerror({ message: error.message }));
    ws.on('close', (code, reason) => {
      clearTimeout(this.closeTimer);
      this.callbacks.onclose({ code, reason: reason.toString('utf8') });
    });
    ws.on('message', (data) => {
      const text = rawDataToText(data);
      const message = parseJsonObject(text);
      if (message === undefined) {
        this.onInvalidFrame(`server sent a frame that is not a JSON object (${text.length} chars)`);
        this.close(1007, 'invalid frame');
        return;
      }
      if (this.parsedHandler?.(message) !== true) this.callbacks.onmessage({ data: text });
    });
  }

  /**
   * Hands every later frame, parsed, to `handler` instead of the SDK's callback (which would parse it again); a frame
   * the handler declines (returns false) still goes to the SDK.
   */
  deliverParsed(handler: (message: Record<string, unknown>) => boolean): void {
    this.parsedHandler = handler;
  }

  get isOpen(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  send(message: string): void {
    if (this.isOpen) this.ws?.send(message);
  }

  /** A text frame given as its UTF-8 bytes: `ws` masks it straight into the frame and writes it once. */
  sendText(utf8: Buffer): void {
    if (this.isOpen) this.ws?.send(utf8, { binary: false });
  }

  close(code = 1000, reason = ''): void {
    const ws = this.ws;
    if (ws === undefined || ws.readyState === WebSocket.CLOSED) return;
    if (ws.readyState === WebSocket.CONNECTING) {
      ws.terminate();
      return;
    }
    ws.close(code, reason);
    clearTimeout(this.closeTimer);
    this.closeTimer = setTimeout(() => ws.terminate(), CLOSE_GRACE_MS);
    this.closeTimer.unref();
  }

  /** Cuts the connection at once, whatever state it is in. */
  terminate(): void {
    this.ws?.terminate();
  }
}

function rawDataToText(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return data instanceof ArrayBuffer ? Buffer.from(data).toString('utf8') : data.toString('utf8');
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Installs a factory on one GoogleGenAI client that builds exactly one guarded socket and hands it
 * back. One client per session keeps socket ownership unambiguous (constructing one costs ~10 µs).
 */
export function installGuardedSocket(ai: GoogleGenAI, onInvalidFrame: (problem: string) => void): { socket: () => GuardedSdkSocket | undefined } {
  const live = ai.live as unknown as { webSocketFactory?: SdkSocketFactory };
  if (typeof live.webSocketFactory?.create !== 'function') {
    throw new Error('@google/genai internals changed: Live.webSocketFactory not found; update src/model/sdk-websocket.ts');
  }
  let created: GuardedSdkSocket | undefined;
  live.webSocketFactory = {
    create(url, headers, callbacks) {
      created = new GuardedSdkSocket(url, headers, callbacks, onInvalidFrame);
      return created;
    },
  };
  return { socket: () => created };
}

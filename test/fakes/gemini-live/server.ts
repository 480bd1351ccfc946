/**
 * A local Gemini Live server (BidiGenerateContent over WebSocket), written from the public wire
 * protocol: the tests, the replay tool and local mode run the real bridge and the real SDK against it.
 * It follows the protocol, never the bridge's convenience; scripted replies stand in for the model.
 *
 * It follows the public wire protocol so the real `@google/genai` SDK can talk to it:
 *
 *   const fake = await startFakeGeminiLive({ replies: [{ text: 'Hello, how can I help?' }] });
 *   const ai = new GoogleGenAI({ apiKey: 'k', httpOptions: { baseUrl: fake.baseUrl } });
 *   // or: process.env.GOOGLE_GEMINI_BASE_URL = fake.baseUrl (read by the GoogleGenAI constructor)
 *
 * Behaviour (sources: the Live API reference, https://ai.google.dev/api/live, the @google/genai SDK's own code, and docs/real-service-behaviour.md):
 * - Accepts any path ending in `GenerativeService.BidiGenerateContent[Constrained]` (the SDK sends
 *   `//ws/...` with a base URL lacking a path), or Vertex AI's `LlmBidiService/BidiGenerateContent` (vertex.ts:
 *   bearer token checked on the upgrade, full model resource name); other paths get HTTP 404 on upgrade.
 * - First frame must be `setup`; replies `{"setupComplete":{}}`. All server frames are JSON in
 *   BINARY frames, like the service. Malformed input closes 1007 with a service-style reason.
 * - Caller turns come from an energy VAD over the received audio timeline, from `realtimeInput.text`,
 *   from `clientContent` with `turnComplete`, or from `activityStart/End` when automatic VAD is off.
 * - Each turn gets the next scripted reply: audio chunks (24 kHz) sent faster than real time,
 *   transcript fragments, `generationComplete`, then `turnComplete` + `usageMetadata` when real-time
 *   playback would end. Caller activity during a reply → `interrupted` (→ `toolCallCancellation`) →
 *   `turnComplete`.
 * - Session resumption handles, `goAway` + close 1011, tool calls with id checking.
 * - `quirks`: behaviour of the real service beyond its documentation, each with its source (types.ts).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { INVALID_API_KEY, MISSING_API_KEY } from './protocol.js';
import { LiveSession, type Conversation, type SessionHost } from './session.js';
import { VERTEX_PATH_RE, vertexUpgradeRefusal } from './vertex.js';
import type { FakeGeminiLive, FakeGeminiLiveOptions, FakeSession } from './types.js';

export type * from './types.js';
export { ALL_QUIRKS } from './types.js';
export { synthesizeSpeech, splitTranscript, OUTPUT_SAMPLE_RATE } from './voice.js';
export { decodePcm16Base64, encodePcm16Base64, rms, dbfs } from './pcm.js';
export { DEFAULT_VAD, EnergyVad } from './vad.js';
export {
  DEADLINE_EXPIRED,
  INTERNAL_ERROR,
  INVALID_ARGUMENT,
  INVALID_API_KEY,
  MEDIA_CHUNKS_DEPRECATED,
  NON_AUDIO_REQUEST,
} from './protocol.js';

const PATH_RE = /GenerativeService\.(BidiGenerateContent|BidiGenerateContentConstrained)$/;
const VERSION_RE = /generativelanguage\.([^./]+)\.GenerativeService/;

/** Start a fake on 127.0.0.1 with an ephemeral port. */
export async function startFakeGeminiLive(options: FakeGeminiLiveOptions = {}): Promise<FakeGeminiLive> {
  const server = new FakeGeminiLiveServer(options);
  await server.listen();
  return server;
}

class FakeGeminiLiveServer implements FakeGeminiLive, SessionHost {
  readonly sessions: LiveSession[] = [];
  private readonly http: Server;
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly handles = new Map<string, { conversation: Conversation; sessionIndex: number }>();
  private readonly waiters = new Set<() => boolean>();
  private nextConversationId = 0;
  private nextSessionIndex = 0;
  private address: AddressInfo | undefined;

  constructor(readonly options: FakeGeminiLiveOptions) {
    // Plain HTTP requests are not part of the Live API: answer like Google's front end does for unknown paths.
    this.http = createServer((_req, res) => {
      res.writeHead(404, { 'content-type': 'application/json; charset=UTF-8' });
      res.end(JSON.stringify({ error: { code: 404, message: 'Not Found', status: 'NOT_FOUND' } }));
    });
    this.http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
    this.http.on('clientError', (_err, socket) => socket.destroy());
    this.wss.on('error', () => {});
  }

  get port(): number {
    if (!this.address) throw new Error('fake Gemini Live server is not listening');
    return this.address.port;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(0, '127.0.0.1', () => {
        this.address = this.http.address() as AddressInfo;
        resolve();
      });
    });
  }

  waitForSession(index = 0, timeoutMs = 5000): Promise<FakeSession> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const s = this.sessions.find((session) => session.index === index);
        if (!s || (s.setup === undefined && s.closeInfo === undefined)) return false;
        clearTimeout(timer);
        resolve(s);
        return true;
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`fake Gemini Live: session #${index} did not arrive within ${timeoutMs} ms`));
      }, timeoutMs);
      if (!check()) this.waiters.add(check);
    });
  }

  async close(): Promise<void> {
    for (const s of this.sessions) s.terminate();
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await new Promise<void>((resolve) => {
      this.http.close(() => resolve());
      this.http.closeAllConnections();
    });
  }

  // SessionHost ---------------------------------------------------------------------------------

  newConversation(): Conversation {
    return { id: this.nextConversationId++, turnCount: 0, promptTextTokens: 0, promptAudioTokens: 0 };
  }

  registerHandle(handle: string, conversation: Conversation, sessionIndex: number): void {
    this.handles.set(handle, { conversation, sessionIndex });
  }

  lookupHandle(handle: string): { conversation: Conversation; sessionIndex: number } | undefined {
    return this.handles.get(handle);
  }

  notify(): void {
    for (const check of [...this.waiters]) if (check()) this.waiters.delete(check);
  }

  // Connections ---------------------------------------------------------------------------------

  /** A long-running server (local mode) must not keep every call's audio forever: see `keepClosedSessions`. */
  private forgetOldClosedSessions(): void {
    const keep = this.options.keepClosedSessions;
    if (keep === undefined) return;
    let closed = this.sessions.filter((session) => session.closeInfo !== undefined).length;
    for (let i = 0; i < this.sessions.length && closed > keep; ) {
      if (this.sessions[i]?.closeInfo !== undefined) {
        this.sessions.splice(i, 1);
        closed--;
      } else {
        i++;
      }
    }
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => {});
    try {
      const rawUrl = req.url ?? '/';
      // Split by hand: `new URL('//ws/...')` would read `ws` as a host name.
      const q = rawUrl.indexOf('?');
      const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
      const query = new URLSearchParams(q === -1 ? '' : rawUrl.slice(q + 1));
      const match = PATH_RE.exec(path);
      const vertex = match ? undefined : VERTEX_PATH_RE.exec(path);
      if (!match && !vertex) {
        socket.end('HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 9\r\nConnection: close\r\n\r\nNot Found');
        return;
      }
      // Vertex: Google's front end checks the OAuth token before any upgrade (vertex.ts).
      const refusal = vertex ? vertexUpgradeRefusal(req.headers, this.options.accessToken) : undefined;
      if (refusal !== undefined) {
        socket.end(refusal);
        return;
      }
      const method = match?.[1] === 'BidiGenerateContentConstrained' ? 'BidiGenerateContentConstrained' : 'BidiGenerateContent';
      const apiKey = vertex ? undefined : ((method === 'BidiGenerateContent' ? query.get('key') : query.get('access_token')) ?? undefined);
      this.wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
        const session = new LiveSession(
          ws,
          { index: this.nextSessionIndex++, path, apiVersion: (vertex ?? VERSION_RE.exec(path))?.[1], method, apiKey, headers: req.headers },
          this,
        );
        this.sessions.push(session);
        this.forgetOldClosedSessions();
        this.notify();
        // The service authenticates after the upgrade and closes with a status-mapped code.
        const expected = this.options.apiKey;
        if (!vertex && expected !== undefined && apiKey !== expected) {
          if (apiKey === undefined || apiKey === '') session.closeWith(1008, MISSING_API_KEY);
          else session.closeWith(1007, INVALID_API_KEY);
        }
      });
    } catch {
      socket.destroy();
    }
  }
}

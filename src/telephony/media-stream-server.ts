import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';
import { publicWssUrl, type Config } from '../settings/config.js';
import type { Logger } from '../observability/logger.js';
import { RefusalLog } from '../observability/refusal-log.js';
import { TwilioMediaStream } from './media-stream-connection.js';
import { parseTwilioMessage, type StartEvent } from './media-stream-protocol.js';
import type { CallInfo } from './stream-tokens.js';
import { isValidTwilioSignature } from './twilio-signature.js';
import { MEDIA_STREAM_PATH, STREAM_TOKEN_PARAMETER } from './voice-webhook.js';

/** Twilio sends `connected` and `start` right after the upgrade; a socket silent this long is not Twilio. */
export const START_TIMEOUT_MS = 5_000;
/** Twilio's frames are a few hundred bytes; cap what one message may cost us to parse. */
export const MAX_MESSAGE_BYTES = 64 * 1024;
/** Upgraded sockets still waiting for their `start`: past this many, new upgrades are refused with 503. */
export const MAX_PENDING_STREAMS = 64;
/** What a stream may send while its token is being redeemed (kept for the call): seconds of real frames. */
const MAX_EARLY_BYTES = 256 * 1024;

/** A stream allowed in by a credential other than Twilio's signature: for this call and account only. */
export interface StreamGrant {
  callSid: string;
  accountSid: string;
}

/** `undefined`: the upgrade carries no such credential (a Twilio stream, or nothing). */
export type UpgradeCredential = undefined | { ok: false } | { ok: true; grant: StreamGrant };

export interface AuthenticatedStream {
  stream: TwilioMediaStream;
  start: StartEvent;
  call: CallInfo;
  /** Set when this stream continues a call whose earlier stream was lost: resume the model session from it. */
  resumptionHandle: string | undefined;
  /** The token came from the `<Connect action>` failover. */
  failover: boolean;
}

/** What a redeemed stream token says about its call. */
export interface RedeemedStream {
  call: CallInfo;
  resumptionHandle: string | undefined;
  failover: boolean;
}

export interface MediaStreamServerDeps {
  config: Pick<Config, 'publicUrl' | 'twilio' | 'telephony'>;
  /**
   * Redeems the stream token in `start`, once (fleet-wide with shared state). `browserPhone`: the stream came in
   * with a browser phone credential. Rejects when the call state cannot be reached.
   */
  redeem(callSid: string, token: string | undefined, browserPhone: boolean): Promise<RedeemedStream | undefined>;
  log: Logger;
  /** True while a stream for this call is live: a second stream for one call is refused. */
  isCallActive(callSid: string): boolean;
  /** Only streams that passed every check reach the call layer. */
  onStream(authenticated: AuthenticatedStream): void;
  /**
   * The browser phone, when enabled: an upgrade carrying its credential skips the Twilio signature, and its
   * `start` must then be for the call that credential was issued for (src/browser-phone/browser-phone.ts).
   */
  /** Another way in than Twilio's signature: the browser phone's single-use credential. */
  browserPhone?: { redeemUpgrade(request: IncomingMessage): UpgradeCredential };
  /** Default MAX_PENDING_STREAMS. */
  maxPendingStreams?: number;
}

/**
 * Why a browser phone's stream was refused at the upgrade (a WebSocket close reason: at most 123 bytes). In a fleet
 * the usual cause is a load balancer that sent the stream to another instance than the one that issued the session.
 */
export const BROWSER_CREDENTIAL_REFUSED = 'browser call refused: its session is unknown on this instance, used or expired';

/** WebSocket close codes we use when refusing a stream. */
const CLOSE = { policy: 1008, invalid: 1007, unsupported: 1003 } as const;

/**
 * The `/media` WebSocket endpoint. A stream reaches the call layer (and so may open a paid Gemini
 * session) only after: a valid `x-twilio-signature` on the upgrade, computed over the public wss URL;
 * then a well-formed `start` within START_TIMEOUT_MS whose token was issued for its CallSid by our
 * signed webhook, unused and unexpired; and no other live stream for that call.
 */
export class MediaStreamServer {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES, perMessageDeflate: false });
  private readonly refusals: RefusalLog;
  /** Upgraded sockets that have not sent a valid `start` yet (nor been refused or closed). */
  private pending = 0;

  constructor(private readonly deps: MediaStreamServerDeps) {
    this.refusals = RefusalLog.for(deps.log);
  }

  /** Sockets waiting for their `start` (bounded by MAX_PENDING_STREAMS). */
  get pendingStreams(): number {
    return this.pending;
  }

  /** Handles an HTTP upgrade for `/media`; answers 403 without upgrading when the signature is wrong. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const source = request.socket.remoteAddress;
    const browser = this.deps.browserPhone?.redeemUpgrade(request);
    if (browser !== undefined) {
      if (!browser.ok) {
        this.refusals.warn(source, {}, 'media stream refused: browser phone credential unknown, used or expired');
        this.refuseWithReason(request, socket, head, BROWSER_CREDENTIAL_REFUSED);
        return;
      }
      this.upgrade(request, socket, head, browser.grant);
      return;
    }
    if (!this.deps.config.telephony.enabled) {
      this.refusals.warn(source, { missing: this.deps.config.telephony.missing }, 'media stream refused: Twilio is not configured');
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const header = request.headers['x-twilio-signature'];
    const signature = Array.isArray(header) ? header[0] : header;
    // Twilio signs the wss URL it connected to: /media, or /media/<instance id> (stream affinity).
    const signedUrl = publicWssUrl(this.deps.config, (request.url ?? '').split('?')[0] ?? MEDIA_STREAM_PATH);
    if (!isValidTwilioSignature(this.deps.config.twilio.authToken, signature, signedUrl, {})) {
      this.refusals.warn(source, { signedUrl, hasSignature: signature !== undefined }, 'media stream refused: bad x-twilio-signature on upgrade');
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.upgrade(request, socket, head);
  }

  /** Upgrades, unless too many sockets already wait for their `start`: each one holds memory and a timer. */
  private upgrade(request: IncomingMessage, socket: Duplex, head: Buffer, grant?: StreamGrant): void {
    const source = request.socket.remoteAddress;
    if (this.pending >= (this.deps.maxPendingStreams ?? MAX_PENDING_STREAMS)) {
      this.refusals.warn(source, { pendingStreams: this.pending }, 'media stream refused: too many streams waiting for their start');
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 5\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    // Counted from here, so upgrades in flight count too; released once, however the wait ends.
    this.pending++;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.pending--;
    };
    socket.once('close', release);
    this.wss.handleUpgrade(request, socket, head, (ws) => this.awaitStart(ws, grant, source, release));
  }

  /**
   * A browser cannot read the status of a refused upgrade (its WebSocket only says 1006), so a browser phone's
   * stream is accepted and closed at once with the reason, which the page shows. Nothing is read from it.
   */
  private refuseWithReason(request: IncomingMessage, socket: Duplex, head: Buffer, reason: string): void {
    if (this.pending >= (this.deps.maxPendingStreams ?? MAX_PENDING_STREAMS)) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 5\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(request, socket, head, (ws) => {
      ws.on('error', () => undefined);
      ws.close(CLOSE.policy, reason);
      setTimeout(() => ws.terminate(), 1_000).unref();
    });
  }

  /** Stops accepting; live sockets are the calls' to end. */
  close(): void {
    this.wss.close();
  }

  /** `grant`: a browser-phone stream, which may start only the call its credential was issued for. */
  private awaitStart(ws: WebSocket, grant: StreamGrant | undefined, source: string | undefined, release: () => void): void {
    const log = this.deps.log;
    let sawConnected = false;
    const refuse = (code: number, reason: string, detail: Record<string, unknown> = {}): void => {
      clearTimeout(timer);
      release();
      ws.off('message', onMessage);
      this.refusals.warn(source, { reason, ...detail }, 'media stream refused');
      ws.close(code, reason);
      // A peer that ignores the close handshake must not hold the socket.
      setTimeout(() => ws.terminate(), 1_000).unref();
    };
    const timer = setTimeout(() => refuse(CLOSE.policy, 'no start event in time'), START_TIMEOUT_MS);
    const onError = (error: Error): void => log.warn({ err: error }, 'media stream socket error before start');
    ws.on('error', onError);
    ws.on('close', () => {
      clearTimeout(timer);
      release();
    });

    const onMessage = (data: WebSocket.RawData, isBinary: boolean): void => {
      if (isBinary) return refuse(CLOSE.unsupported, 'binary frame');
      const parsed = parseTwilioMessage(data.toString());
      if (!parsed.ok) return refuse(CLOSE.invalid, 'malformed message before start', { problem: parsed.error });
      const message = parsed.message;
      if (message.event === 'connected' && !sawConnected) {
        sawConnected = true;
        return;
      }
      if (message.event !== 'start') return refuse(CLOSE.policy, `unexpected ${message.event} before start`);

      const startedAtMs = performance.now();
      const problem = this.checkStart(message, grant);
      if (problem !== undefined) return refuse(CLOSE.policy, problem, { callSid: message.start.callSid });
      // Redeeming may wait on shared state: what arrives meanwhile (media right behind start) is kept for the call.
      ws.off('message', onMessage);
      const callSid = message.start.callSid;
      const early: Array<{ data: WebSocket.RawData; isBinary: boolean }> = [];
      let earlyBytes = 0;
      const keep = (data: WebSocket.RawData, binary: boolean): void => {
        earlyBytes += rawLength(data);
        if (earlyBytes <= MAX_EARLY_BYTES) return void early.push({ data, isBinary: binary });
        ws.off('message', keep);
        refuse(CLOSE.policy, 'too much sent before its token was checked', { callSid });
      };
      ws.on('message', keep);
      this.deps.redeem(callSid, message.start.customParameters[STREAM_TOKEN_PARAMETER], grant !== undefined).then(
        (redeemed) => {
          ws.off('message', keep);
          if (redeemed === undefined) return refuse(CLOSE.policy, 'stream token missing, invalid, expired or already used', { callSid });
          if (ws.readyState !== WebSocket.OPEN) return refuse(CLOSE.policy, 'socket closed while its token was redeemed', { callSid });
          clearTimeout(timer);
          release();
          ws.off('error', onError);
          const stream = new TwilioMediaStream(ws, message.streamSid, log.child({ callSid, streamSid: message.streamSid }), startedAtMs);
          this.deps.onStream({ stream, start: message, call: redeemed.call, resumptionHandle: redeemed.resumptionHandle, failover: redeemed.failover });
          for (const { data: frame, isBinary: binary } of early) stream.receiveRaw(frame, binary);
        },
        (error: unknown) => {
          ws.off('message', keep);
          log.error({ err: error, callSid }, 'media stream refused: the call state cannot be reached');
          refuse(1011, 'call state unavailable', { callSid });
        },
      );
    };
    ws.on('message', onMessage);
  }

  private checkStart(message: StartEvent, grant: StreamGrant | undefined): string | undefined {
    const { start } = message;
    if (grant !== undefined && start.callSid !== grant.callSid) return 'start is for another call than its browser phone session';
    if (start.accountSid !== (grant?.accountSid ?? this.deps.config.twilio.accountSid)) return 'start is for another Twilio account';
    if (this.deps.isCallActive(start.callSid)) return 'a stream for this call is already live';
    const format = start.mediaFormat;
    if (format.encoding !== 'audio/x-mulaw' || format.sampleRate !== 8000 || format.channels !== 1) {
      return `unsupported media format ${format.encoding}/${format.sampleRate}/${format.channels}`;
    }
    return undefined;
  }
}

function rawLength(data: WebSocket.RawData): number {
  return Array.isArray(data) ? data.reduce((sum, part) => sum + part.length, 0) : data.byteLength;
}

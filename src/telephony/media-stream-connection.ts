import WebSocket from 'ws';
import type { PlayoutSink } from '../call/agent-playout.js';
import type { Logger } from '../observability/logger.js';
import { clearMessage, markMessage, mediaMessage, parseTwilioMessage, type TwilioInboundMessage } from './media-stream-protocol.js';

/** After this many malformed messages on one stream, the peer is not Twilio or is broken: hang up. */
export const MAX_MALFORMED_MESSAGES = 20;

export type StreamEndReason = 'stop' | 'socket-closed' | 'malformed' | 'closed-by-us';

export interface StreamHandlers {
  onMessage(message: TwilioInboundMessage): void;
  onEnd(reason: StreamEndReason, detail: string): void;
}

/**
 * One authenticated Twilio media stream after its `start`: validated messages in, `media`/`mark`/
 * `clear` out. Malformed input is logged and dropped; it never throws into the call.
 */
export class TwilioMediaStream implements PlayoutSink {
  private handlers: StreamHandlers | undefined;
  private malformed = 0;
  private ended = false;

  constructor(
    private readonly ws: WebSocket,
    readonly streamSid: string,
    private readonly log: Logger,
  ) {
    ws.on('message', (data, isBinary) => this.receive(data, isBinary));
    ws.on('close', (code, reason) => this.end('socket-closed', `code ${code} ${reason.toString('utf8')}`.trim()));
    ws.on('error', (error) => this.log.warn({ err: error }, 'media stream socket error'));
  }

  /** The call takes over the stream here; nothing is delivered before. */
  attach(handlers: StreamHandlers): void {
    this.handlers = handlers;
  }

  sendMedia(payloadBase64: string): void {
    this.send(mediaMessage(this.streamSid, payloadBase64));
  }

  sendMark(name: string): void {
    this.send(markMessage(this.streamSid, name));
  }

  sendClear(): void {
    this.send(clearMessage(this.streamSid));
  }

  /** Closing the socket with nothing after `</Connect>` in the TwiML ends the phone call. */
  close(reason: string): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) {
      this.ws.close(1000, reason.slice(0, 100));
    }
    this.end('closed-by-us', reason);
  }

  private send(text: string): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(text);
  }

  private receive(data: WebSocket.RawData, isBinary: boolean): void {
    if (this.ended) return;
    if (isBinary) {
      this.reject('binary frame');
      return;
    }
    const parsed = parseTwilioMessage(data.toString());
    if (!parsed.ok) {
      this.reject(parsed.error);
      return;
    }
    const message = parsed.message;
    if (message.event !== 'connected' && message.streamSid !== this.streamSid) {
      this.reject('streamSid does not match this stream');
      return;
    }
    this.handlers?.onMessage(message);
    if (message.event === 'stop') this.end('stop', 'Twilio sent stop');
  }

  private reject(problem: string): void {
    this.malformed++;
    if (this.malformed <= 3 || this.malformed === MAX_MALFORMED_MESSAGES) {
      this.log.warn({ problem, malformedCount: this.malformed }, 'dropped a malformed media stream message');
    }
    if (this.malformed >= MAX_MALFORMED_MESSAGES) {
      this.ws.close(1007, 'too many malformed messages');
      this.end('malformed', `${this.malformed} malformed messages`);
    }
  }

  private end(reason: StreamEndReason, detail: string): void {
    if (this.ended) return;
    this.ended = true;
    this.handlers?.onEnd(reason, detail);
  }
}

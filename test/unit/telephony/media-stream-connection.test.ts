import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { MAX_UNSENT_BYTES, TwilioMediaStream, type StreamEndReason } from '../../../src/telephony/media-stream-connection.js';
import { capturingLogger } from '../../support/log-capture.js';

/** A real socket pair on loopback: the server's end wrapped as a media stream, the client's end a peer. */
let server: WebSocketServer | undefined;
afterEach(async () => {
  for (const client of server?.clients ?? []) client.terminate();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

it('hangs up a peer that does not read what it is sent, once its unread bytes pass MAX_UNSENT_BYTES', async () => {
  server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((resolve) => server!.once('listening', resolve));
  const accepted = new Promise<WebSocket>((resolve) => server!.once('connection', resolve));
  const peer = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
  await new Promise((resolve) => peer.once('open', resolve));
  const { log, lines } = capturingLogger();
  const stream = new TwilioMediaStream(await accepted, 'MZ00000000000000000000000000000000', log);
  const ended = new Promise<{ reason: StreamEndReason; detail: string }>((resolve) => stream.attach({ onMessage: () => undefined, onEnd: (reason, detail) => resolve({ reason, detail }) }));
  const peerClosed = new Promise((resolve) => peer.once('close', resolve));

  // The peer stops reading: what we send piles up in the kernel's buffers, then in ours.
  (peer as unknown as { _socket: { pause(): void } })._socket.pause();
  const frame = new Uint8Array(30_000).fill(0xff);
  let sent = 0;
  while (sent < 2_000 && lines.length === 0) {
    stream.sendMedia(frame);
    sent++;
    if (sent % 50 === 0) await new Promise((resolve) => setImmediate(resolve)); // let the socket write
  }
  expect(await ended).toMatchObject({ reason: 'not-reading' });
  expect(lines.filter((line) => line.msg === 'hanging up a media stream that does not read what it is sent')).toHaveLength(1);
  expect(lines[0]!.unsentBytes).toBeGreaterThan(MAX_UNSENT_BYTES);
  await peerClosed; // the socket is gone, its buffers with it
  stream.sendMedia(frame); // nothing more is queued or logged
  expect(lines).toHaveLength(1);
});

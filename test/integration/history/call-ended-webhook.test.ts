import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CallEndedWebhook, DELIVERY_HEADER, type CallEndedPayload } from '../../../src/history/call-ended-webhook.js';
import { TOOL_SIGNATURE_HEADER, verifyToolRequestSignature } from '../../../src/tools/http-tool.js';
import { sampleCallRecord } from '../../support/call-record.js';
import { capturingLogger } from '../../support/log-capture.js';
import { freePort } from '../../support/servers/process.js';

const SECRET = 'webhook-secret-of-at-least-24-chars';

interface Received {
  status: number;
  body: string;
  signature: string | undefined;
  delivery: string | undefined;
}

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
  server = undefined;
});

/** A receiver answering each attempt with the next status of `statuses` (the last one repeats). */
async function receiver(statuses: number[]): Promise<{ url: URL; received: Received[] }> {
  const received: Received[] = [];
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const status = statuses[Math.min(received.length, statuses.length - 1)] ?? 200;
      received.push({ status, body, signature: req.headers[TOOL_SIGNATURE_HEADER.toLowerCase()] as string, delivery: req.headers[DELIVERY_HEADER.toLowerCase()] as string });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: new URL(`http://127.0.0.1:${(server!.address() as AddressInfo).port}/hooks/call-ended`), received };
}

describe('the post-call webhook', () => {
  it('POSTs the record signed like HTTP tools, retrying with backoff until the receiver takes it', async () => {
    const { url, received } = await receiver([503, 500, 200]);
    const { log, lines } = capturingLogger();
    let failed = 0;
    const webhook = new CallEndedWebhook({ url, secret: SECRET, log, onFailed: () => failed++, retryDelaysMs: [50, 200, 1_000] });
    const record = sampleCallRecord();
    const sentAt = performance.now();
    webhook.send(record);
    await expect.poll(() => received.length).toBe(3);
    // The backoff: 50 ms, then 200 ms between attempts.
    expect(performance.now() - sentAt).toBeGreaterThanOrEqual(250);
    for (const attempt of received) {
      expect(verifyToolRequestSignature(SECRET, attempt.body, attempt.signature)).toBe(true);
      expect(verifyToolRequestSignature('another-secret-of-24-characters', attempt.body, attempt.signature)).toBe(false);
      expect(attempt.delivery).toBe(record.callSid);
      expect(JSON.parse(attempt.body)).toEqual({ event: 'call.ended', record } satisfies CallEndedPayload);
    }
    expect(failed).toBe(0);
    expect(lines.filter((line) => line.msg === 'post-call webhook failed; retrying').map((line) => line.reason)).toEqual(['HTTP 503', 'HTTP 500']);
    webhook.close();
  });

  it('gives up on a refusal at once, and after the last retry, counting each', async () => {
    const { url, received } = await receiver([400]);
    const { log, lines } = capturingLogger();
    let failed = 0;
    const webhook = new CallEndedWebhook({ url, secret: SECRET, log, onFailed: () => failed++, retryDelaysMs: [20] });
    webhook.send(sampleCallRecord());
    await expect.poll(() => failed).toBe(1);
    expect(received).toHaveLength(1);
    expect(lines.at(-1)).toMatchObject({ msg: 'post-call webhook not delivered', reason: 'the receiver answered HTTP 400' });

    const unreachable = new CallEndedWebhook({ url: new URL(`http://127.0.0.1:${await freePort()}/nothing`), secret: SECRET, log, onFailed: () => failed++, retryDelaysMs: [20] });
    unreachable.send(sampleCallRecord());
    await expect.poll(() => failed).toBe(2);
    expect(lines.at(-1)).toMatchObject({ msg: 'post-call webhook not delivered', reason: '2 attempts failed, the last: ECONNREFUSED' });
    webhook.close();
    unreachable.close();
  });
});

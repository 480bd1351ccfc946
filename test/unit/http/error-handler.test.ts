import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterEach, expect, it } from 'vitest';
import { errorHandler } from '../../../src/http/error-handler.js';
import { capturingLogger } from '../../support/log-capture.js';

const TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>';
let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

/** An app whose routes fail the way a bug would: an error carrying a request body, thrown or passed on. */
async function start(): Promise<{ url: string; lines: ReturnType<typeof capturingLogger>['lines']; text: () => string }> {
  const { log, lines, text } = capturingLogger();
  const app = express();
  const bug = Object.assign(new Error('cannot read the thing'), { body: 'the-request-body', status: 'not a number' });
  app.post('/voice', () => {
    throw bug;
  });
  app.get('/api', (_req, _res, next) => next(bug));
  app.get('/teapot', (_req, _res, next) => next(Object.assign(new Error('refused'), { status: 418, body: 'the-request-body' })));
  app.use(errorHandler({ log, twiml: { paths: ['/voice'], body: TWIML } }));
  server = createServer(app);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, lines, text };
}

it('answers a bug with 500 and a short message (TwiML on a Twilio route), and logs it as an error without the body', async () => {
  const { url, lines, text } = await start();
  const voice = await fetch(`${url}/voice`, { method: 'POST' });
  expect(voice.status).toBe(500);
  expect(await voice.text()).toBe(TWIML);
  const api = await fetch(`${url}/api`);
  expect(api.status).toBe(500);
  expect(await api.json()).toEqual({ error: 'Internal error.' });
  const failures = lines.filter((line) => line.msg === 'request failed');
  expect(failures).toHaveLength(2);
  expect(failures[0]).toMatchObject({ level: 50, path: '/voice', status: 500, err: { message: 'cannot read the thing' } });
  expect(text()).not.toContain('the-request-body');
});

it('passes a client error\'s status on, with a message of its own, logged once per source', async () => {
  const { url, lines, text } = await start();
  for (let i = 0; i < 5; i++) {
    const response = await fetch(`${url}/teapot`);
    expect(response.status).toBe(418);
    expect(await response.json()).toEqual({ error: 'Bad request.' });
  }
  expect(lines.filter((line) => line.msg.startsWith('request refused'))).toHaveLength(1);
  expect(text()).not.toContain('the-request-body');
});

import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { INVALID_ARGUMENT, startFakeGeminiLive, type FakeGeminiLive } from '../../fakes/gemini-live/server.js';
import { INVALID_CREDENTIAL, MISSING_CREDENTIAL } from '../../fakes/gemini-live/vertex.js';

/** The fake's Vertex AI surface, driven by a raw client so that every refusal can be observed on the wire. */
const PATH = '//ws/google.cloud.aiplatform.v1beta1.LlmBidiService/BidiGenerateContent';
const TOKEN = 'ya29.expected';
const FULL_MODEL = 'projects/p-123456/locations/us-central1/publishers/google/models/gemini-live-2.5-flash-native-audio';

let fake: FakeGeminiLive | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

type Outcome = { upgraded: false; status: number; body: string } | { upgraded: true; ws: WebSocket };

function connect(f: FakeGeminiLive, path: string, headers: Record<string, string> = {}): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${f.port}${path}`, { headers });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ upgraded: false, status: res.statusCode ?? 0, body }));
    });
    ws.once('open', () => resolve({ upgraded: true, ws }));
    ws.once('error', reject);
  });
}

async function setupAndClose(ws: WebSocket, model: string): Promise<{ code: number; reason: string; first?: string }> {
  return new Promise((resolve) => {
    let first: string | undefined;
    ws.on('message', (data: Buffer) => {
      first ??= data.toString('utf8');
      ws.close();
    });
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString('utf8'), ...(first === undefined ? {} : { first }) }));
    ws.send(JSON.stringify({ setup: { model } }));
  });
}

describe('fake Gemini Live: Vertex AI path', () => {
  it('refuses an upgrade without the bearer token with HTTP 401 UNAUTHENTICATED', async () => {
    fake = await startFakeGeminiLive({ accessToken: TOKEN });
    const missing = await connect(fake, PATH);
    expect(missing).toMatchObject({ upgraded: false, status: 401 });
    expect(JSON.parse((missing as { body: string }).body)).toEqual({ error: { code: 401, message: MISSING_CREDENTIAL, status: 'UNAUTHENTICATED' } });
    const wrong = await connect(fake, PATH, { authorization: 'Bearer ya29.wrong' });
    expect(JSON.parse((wrong as { body: string }).body).error.message).toBe(INVALID_CREDENTIAL);
    // An API key is not an OAuth credential for this path.
    const key = await connect(fake, `${PATH}?key=${TOKEN}`);
    expect(key).toMatchObject({ upgraded: false, status: 401 });
    expect(fake.sessions).toHaveLength(0);
  });

  it('accepts the token and the full model resource name; refuses bare or unknown models', async () => {
    fake = await startFakeGeminiLive({ accessToken: TOKEN, models: ['gemini-live-2.5-flash-native-audio'] });
    const auth = { authorization: `Bearer ${TOKEN}` };
    const ok = await connect(fake, PATH, auth);
    expect(ok.upgraded).toBe(true);
    const accepted = await setupAndClose((ok as { ws: WebSocket }).ws, FULL_MODEL);
    expect(JSON.parse(accepted.first ?? '{}')).toHaveProperty('setupComplete');
    const session = await fake.waitForSession(0);
    expect(session.apiVersion).toBe('v1beta1');
    expect(session.apiKey).toBeUndefined();

    for (const model of ['gemini-live-2.5-flash-native-audio', 'models/gemini-live-2.5-flash-native-audio', 'publishers/google/models/x']) {
      const c = await connect(fake, PATH, auth);
      expect(await setupAndClose((c as { ws: WebSocket }).ws, model)).toMatchObject({ code: 1007, reason: INVALID_ARGUMENT });
    }
    const unknown = await connect(fake, PATH, auth);
    const other = FULL_MODEL.replace(/models\/.*$/, 'models/gemini-0-unknown');
    const closed = await setupAndClose((unknown as { ws: WebSocket }).ws, other);
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/^Publisher Model `projects\/p-123456\/locations\/us-central1\/publishers\/google\/models\/gemini-0-unknown` not found/);
  });

  it('keeps the key path as it was: the access token does not open it, the key does', async () => {
    fake = await startFakeGeminiLive({ accessToken: TOKEN, apiKey: 'the-key' });
    const path = '//ws/google.ai.generativelanguage.v1.GenerativeService.BidiGenerateContent';
    const bearer = await connect(fake, `${path}?key=wrong`, { authorization: `Bearer ${TOKEN}` });
    expect(await setupAndClose((bearer as { ws: WebSocket }).ws, 'models/m')).toMatchObject({ code: 1007 });
    const keyed = await connect(fake, `${path}?key=the-key`);
    const done = await setupAndClose((keyed as { ws: WebSocket }).ws, 'models/m');
    expect(JSON.parse(done.first ?? '{}')).toHaveProperty('setupComplete');
  });
});

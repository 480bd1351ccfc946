/**
 * `npm run dev`: with a substitute tunnel (the @ngrok/ngrok package cannot reach ngrok from a test) it starts the
 * real server under `tsx watch` with the tunnel's URL as PUBLIC_URL, and `--configure` points the number at it on
 * the fake Twilio REST API. Without a token it says exactly what to do, and opens nothing.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noTunnelInstructions, startDev, type DevSession } from '../../scripts/dev.js';
import type { OpenTunnel, TunnelRequest } from '../../scripts/lib/tunnel.js';
import { parseConnectStreamTwiml, postVoiceWebhook, startFakeTwilioRestApi, TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, type FakeTwilioRestApi } from '../fakes/twilio/index.js';
import { captureOutput, freePort } from '../support/run-script.js';

const TUNNEL_URL = 'https://dev-tunnel-4821.ngrok-free.app';
const NGROK_TOKEN = '2fakeNgrokAuthtoken_0123456789abcdefghij';
const OUR_NUMBER = '+14155550100';

/** Stands in for ngrok: records what it was asked to forward, and whether it was closed. */
function substituteTunnel(): { open: OpenTunnel; requests: TunnelRequest[]; closed: () => boolean } {
  const requests: TunnelRequest[] = [];
  let closed = false;
  return {
    requests,
    closed: () => closed,
    open: async (request) => {
      requests.push(request);
      return {
        url: TUNNEL_URL,
        close: async () => {
          closed = true;
        },
      };
    },
  };
}

describe('npm run dev', () => {
  let rest: FakeTwilioRestApi;
  let dataDir: string;

  beforeAll(async () => {
    rest = await startFakeTwilioRestApi({ accountSid: TEST_ACCOUNT_SID, authToken: TEST_AUTH_TOKEN });
    rest.addIncomingNumber({ phoneNumber: OUR_NUMBER });
    dataDir = mkdtempSync(join(tmpdir(), 'dev-script-'));
  });
  afterAll(async () => {
    await rest.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('without NGROK_AUTHTOKEN or PUBLIC_URL, prints every way forward and opens nothing', async () => {
    const tunnel = substituteTunnel();
    const run = captureOutput();
    const session = await startDev({ args: ['--configure'], env: { PORT: '9123' }, output: run.output, openTunnel: tunnel.open });
    expect(session).toBeUndefined();
    expect(tunnel.requests).toEqual([]);
    expect(run.stdout()).toBe('');
    expect(run.stderr()).toBe(noTunnelInstructions(9123));
    for (const step of [
      'https://dashboard.ngrok.com/get-started/your-authtoken',
      'NGROK_AUTHTOKEN=<your authtoken>',
      'ngrok http 9123',
      'PUBLIC_URL=https://<id>.ngrok-free.app',
      'npm run dev -- --configure',
    ]) {
      expect(run.stderr()).toContain(step);
    }
  });

  it('reports a tunnel that cannot be opened, and starts no server', async () => {
    const run = captureOutput();
    const port = await freePort();
    const session = await startDev({
      args: [],
      env: { PORT: String(port), NGROK_AUTHTOKEN: NGROK_TOKEN },
      output: run.output,
      openTunnel: async () => {
        throw new Error('authentication failed');
      },
    });
    expect(session).toBeUndefined();
    expect(run.stderr()).toBe('Could not open the tunnel: authentication failed');
    expect(await fetch(`http://127.0.0.1:${port}/healthz`).then(() => 'listening', () => 'nothing')).toBe('nothing');
  });

  describe('with a tunnel and --configure', () => {
    let session: DevSession | undefined;
    let port: number;
    let serverLog = '';
    const tunnel = substituteTunnel();
    const run = captureOutput();

    beforeAll(async () => {
      port = await freePort();
      session = await startDev({
        args: ['--configure'],
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          PORT: String(port),
          HOST: '127.0.0.1',
          NGROK_AUTHTOKEN: NGROK_TOKEN,
          GEMINI_API_KEY: 'dev-test-gemini-key',
          TWILIO_ACCOUNT_SID: TEST_ACCOUNT_SID,
          TWILIO_AUTH_TOKEN: TEST_AUTH_TOKEN,
          TWILIO_API_BASE_URL: rest.baseUrl,
          TWILIO_PHONE_NUMBER: OUR_NUMBER,
          DATA_DIR: dataDir,
          LOG_LEVEL: 'info',
        },
        output: run.output,
        openTunnel: tunnel.open,
        serverStdio: 'pipe',
      });
      session?.server.stdout?.on('data', (chunk: Buffer) => (serverLog += chunk.toString()));
      session?.server.stderr?.on('data', (chunk: Buffer) => (serverLog += chunk.toString()));
    }, 60_000);
    afterAll(async () => {
      await session?.stop();
    });

    it('forwards the tunnel to PORT and runs the server with the tunnel URL as PUBLIC_URL', async () => {
      expect(session, run.all()).toBeDefined();
      expect(tunnel.requests).toEqual([{ port, authtoken: NGROK_TOKEN, domain: undefined }]);
      expect(session!.publicUrl).toBe(TUNNEL_URL);
      // Twilio signs over the tunnel URL; the server must verify against it and stream to wss://<tunnel host>.
      const answer = await postVoiceWebhook({ serverUrl: `http://127.0.0.1:${port}`, publicUrl: TUNNEL_URL, authToken: TEST_AUTH_TOKEN, params: { AccountSid: TEST_ACCOUNT_SID } });
      expect(answer.status).toBe(200);
      expect(parseConnectStreamTwiml(answer.body).streamUrl).toMatch(/^wss:\/\/dev-tunnel-4821\.ngrok-free\.app\/media\/[A-Za-z0-9._-]+$/);
    });

    it('points the number\'s voice webhook at the tunnel and says which number to call', async () => {
      expect(rest.getIncomingNumber(OUR_NUMBER)).toMatchObject({ voiceUrl: `${TUNNEL_URL}/voice`, voiceMethod: 'POST' });
      expect(run.stdout()).toContain(`✔ ${OUR_NUMBER} now sends its calls to ${TUNNEL_URL}/voice (HTTP POST).`);
      expect(run.stdout()).toContain(`Call ${OUR_NUMBER} to talk to the agent.`);
      expect(run.stdout()).toContain(`PUBLIC_URL=${TUNNEL_URL} npm run call -- +1XXXXXXXXXX`);
      expect(run.stderr()).toBe('');
    });

    it('keeps the ngrok token from the server and out of every output', async () => {
      // The server process's environment, where the platform shows it (Linux): PUBLIC_URL set, no token.
      const environ = `/proc/${session!.server.pid}/environ`;
      if (existsSync(environ)) {
        const variables = readFileSync(environ, 'utf8').split('\0');
        expect(variables).toContain(`PUBLIC_URL=${TUNNEL_URL}`);
        expect(variables.filter((variable) => variable.startsWith('NGROK_AUTHTOKEN='))).toEqual([]);
      }
      expect(serverLog).toContain('phone agent ready');
      expect(serverLog).toContain(`${TUNNEL_URL}/voice`);
      expect(serverLog + run.all()).not.toContain(NGROK_TOKEN);
      expect(serverLog).not.toContain(TEST_AUTH_TOKEN);
    });

    it('stops the server and closes the tunnel', async () => {
      await session!.stop();
      expect(await session!.serverExited).not.toBe(undefined);
      expect(tunnel.closed()).toBe(true);
      expect(await fetch(`http://127.0.0.1:${port}/healthz`).then(() => 'listening', () => 'nothing')).toBe('nothing');
    });
  });
});

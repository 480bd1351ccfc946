import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createRestaurantAgent } from '../../examples/restaurant/agent.js';
import type { Agent } from '../../src/agents/agent.js';
import type { RealtimeModel } from '../../src/model/realtime-model.js';
import type { Config } from '../../src/settings/config.js';
import { loadConfig } from '../../src/settings/resolve-config.js';
import { createLogger } from '../../src/observability/logger.js';
import { startService, type RunningService } from '../../src/service/start-service.js';
import { afterEach } from 'vitest';
import { startFakeGeminiLive, type FakeGeminiLive, type FakeGeminiLiveOptions, type FakeSession } from '../fakes/gemini-live/server.js';
import {
  FakeTwilioMediaStream,
  TEST_ACCOUNT_SID,
  TEST_AUTH_TOKEN,
  defaultVoiceWebhookParams,
  parseConnectStreamTwiml,
  postVoiceWebhook,
  startFakeTwilioRestApi,
  type ConnectStreamTwiml,
  type FakeTwilioMediaStreamOptions,
  type FakeTwilioRestApi,
} from '../fakes/twilio/index.js';

/** The public origin Twilio would see; the server itself listens on an ephemeral loopback port. */
export const PUBLIC_URL = 'https://agent.example.test';
export const GEMINI_TEST_KEY = 'test-gemini-key';

export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

export interface Bridge {
  app: RunningService;
  /** The agents the service runs (default: the restaurant example). */
  agents: readonly Agent[];
  gemini: FakeGeminiLive;
  config: Config;
  /** Every JSON line the service logged, parsed; `logText()` is the raw text (for secret checks). */
  logs: LogLine[];
  logText(): string;
  /**
   * A signed webhook for a new inbound call; returns the parsed TwiML and the webhook parameters. `path` is what
   * Twilio requests (and signs), query included: `/voice?agent=<name>` for a call we placed.
   */
  ringWebhook(overrides?: Record<string, string | undefined>, path?: string): Promise<{ callSid: string; twiml: ConnectStreamTwiml; params: Record<string, string> }>;
  /** What Twilio does for a call: webhook, then the media stream the TwiML asks for. */
  placeCall(options?: Partial<FakeTwilioMediaStreamOptions>): Promise<{ callSid: string; twilio: FakeTwilioMediaStream }>;
  /** Opens a media stream for a webhook answer (to test what happens around the happy path). */
  openStream(callSid: string, twiml: ConnectStreamTwiml, options?: Partial<FakeTwilioMediaStreamOptions>): Promise<FakeTwilioMediaStream>;
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  stop(): Promise<void>;
}

export interface BridgeOptions {
  gemini?: FakeGeminiLiveOptions;
  env?: Record<string, string>;
  /** The agents the service runs, given the bridge's own data directory; default: the restaurant example there. */
  agents?: (dataDir: string) => Agent[];
  /** Another model than Gemini Live through the fake (whose server then sits idle). */
  model?: RealtimeModel;
}

/**
 * The real service on loopback (real HTTP server, real WebSocket server, real @google/genai SDK),
 * with the fake Gemini Live server behind GOOGLE_GEMINI_BASE_URL and a fake Twilio in front.
 */
export async function startBridge(options: BridgeOptions = {}): Promise<Bridge> {
  const gemini = await startFakeGeminiLive({ apiKey: GEMINI_TEST_KEY, ...options.gemini });
  // The SDK reads this when each session's client is built, exactly as in production.
  process.env.GOOGLE_GEMINI_BASE_URL = gemini.baseUrl;

  const dataDir = mkdtempSync(join(tmpdir(), 'bridge-data-'));
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    PUBLIC_URL,
    GEMINI_API_KEY: GEMINI_TEST_KEY,
    TWILIO_ACCOUNT_SID: TEST_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN: TEST_AUTH_TOKEN,
    LOG_LEVEL: 'debug',
    GEMINI_SETUP_TIMEOUT_MS: '2000',
    DATA_DIR: dataDir,
    ...options.env,
  });

  let text = '';
  const logs: LogLine[] = [];
  const waiters = new Set<() => void>();
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const lines = chunk.toString();
      text += lines;
      for (const line of lines.split('\n')) if (line.trim() !== '') logs.push(JSON.parse(line) as LogLine);
      for (const wake of waiters) wake();
      done();
    },
  });
  const log = createLogger({ level: config.logging.level, destination, transcripts: config.logging.transcripts });
  // Each bridge gets its own freshly seeded bookings database.
  const agents = options.agents?.(dataDir) ?? [createRestaurantAgent({ dataDir })];
  const app = await startService({ config, log, agents, ...(options.model === undefined ? {} : { model: options.model }) });
  const wsUrl = app.localUrl.replace('http://', 'ws://');

  const bridge: Bridge = {
    app,
    agents,
    gemini,
    config,
    logs,
    logText: () => text,
    async ringWebhook(overrides = {}, path = '/voice') {
      const params = defaultVoiceWebhookParams({ AccountSid: TEST_ACCOUNT_SID, ...overrides });
      const response = await postVoiceWebhook({ serverUrl: app.localUrl, publicUrl: PUBLIC_URL, authToken: TEST_AUTH_TOKEN, params, path });
      if (response.status !== 200) throw new Error(`webhook answered ${response.status}: ${response.body}`);
      return { callSid: params.CallSid as string, twiml: parseConnectStreamTwiml(response.body), params };
    },
    async openStream(callSid, twiml, streamOptions = {}) {
      return FakeTwilioMediaStream.connect({
        serverUrl: `${wsUrl}/media`,
        streamUrl: twiml.streamUrl,
        authToken: TEST_AUTH_TOKEN,
        accountSid: TEST_ACCOUNT_SID,
        callSid,
        customParameters: twiml.parameters,
        ...streamOptions,
      });
    },
    async placeCall(streamOptions = {}) {
      const { callSid, twiml } = await bridge.ringWebhook();
      return { callSid, twilio: await bridge.openStream(callSid, twiml, streamOptions) };
    },
    waitForLog(predicate, timeoutMs = 5_000) {
      return new Promise<LogLine>((resolve, reject) => {
        const check = (): void => {
          const found = logs.find(predicate);
          if (found === undefined) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching log line within ${timeoutMs} ms; last lines:\n${logs.slice(-8).map((l) => JSON.stringify(l)).join('\n')}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async stop() {
      await app.stop();
      await gemini.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return bridge;
}

let restaurantGreeting: string | undefined;

/**
 * The text the restaurant example cues the model with when an inbound call connects (its greeting names the
 * restaurant, read from its seeded database): what the fake model answers with a greeting.
 */
/**
 * A bridge that places calls: the fake Twilio REST API owning `phoneNumber`, and the service set to place calls from
 * it with `POST /calls` (bearer `apiKey`, 100 a minute) plus whatever `options.env` adds.
 */
export async function startPlacingBridge(phoneNumber: string, apiKey: string, options: BridgeOptions = {}): Promise<{ rest: FakeTwilioRestApi; bridge: Bridge }> {
  const rest = await startFakeTwilioRestApi({ accountSid: TEST_ACCOUNT_SID, authToken: TEST_AUTH_TOKEN });
  rest.addIncomingNumber({ phoneNumber });
  const env = { TWILIO_API_BASE_URL: rest.baseUrl, TWILIO_PHONE_NUMBER: phoneNumber, OUTBOUND_API_KEY: apiKey, OUTBOUND_CALLS_PER_MINUTE: '100', ...options.env };
  const bridge = await startBridge({ ...options, env });
  return { rest, bridge };
}

export function restaurantGreetingCue(): string {
  if (restaurantGreeting === undefined) {
    const dataDir = mkdtempSync(join(tmpdir(), 'restaurant-greeting-'));
    restaurantGreeting = createRestaurantAgent({ dataDir }).greeting.inbound;
    rmSync(dataDir, { recursive: true, force: true });
  }
  return restaurantGreeting;
}

/** Resolves after `ms`; for letting real-time audio play. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The realtime texts (cues, keypad digits) a session of the fake received, in order. */
export function textsSent(session: FakeSession): string[] {
  return session.receivedMessages.flatMap((message) => (message.kind === 'realtimeInput' && message.input.type === 'text' ? [message.input.text] : []));
}

export interface BridgeCall {
  callSid: string;
  twilio: FakeTwilioMediaStream;
  /** The call's first Live session. */
  session: FakeSession;
  bridge: Bridge;
  rest: FakeTwilioRestApi;
}

/**
 * Keeps one bridge, with a fake Twilio REST API behind it, per test: `start` rings a call into it and (unless told not
 * to) waits for its first model turn, the greeting, to complete; the bridge and the REST API stop after each test.
 */
export function bridgeCalls(): { start(options: BridgeOptions & { twilio?: Partial<FakeTwilioMediaStreamOptions>; waitForGreeting?: boolean }): Promise<BridgeCall> } {
  let bridge: Bridge | undefined;
  let rest: FakeTwilioRestApi | undefined;
  afterEach(async () => {
    await bridge?.stop();
    await rest?.close();
    bridge = undefined;
    rest = undefined;
  });
  return {
    async start({ twilio: streamOptions, waitForGreeting = true, ...options }) {
      rest = await startFakeTwilioRestApi({ accountSid: TEST_ACCOUNT_SID, authToken: TEST_AUTH_TOKEN });
      bridge = await startBridge({ ...options, env: { TWILIO_API_BASE_URL: rest.baseUrl, ...options.env } });
      const { callSid, twiml } = await bridge.ringWebhook();
      rest.addCall({ sid: callSid });
      const twilio = await bridge.openStream(callSid, twiml, streamOptions);
      const session = await bridge.gemini.waitForSession(0);
      if (waitForGreeting) await session.waitUntil((s) => s.modelTurns[0]?.outcome === 'completed', 10_000);
      return { callSid, twilio, session, bridge, rest };
    },
  };
}

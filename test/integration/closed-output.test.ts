import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { TEST_ACCOUNT_SID, TEST_AUTH_TOKEN } from '../fakes/twilio/index.js';

/**
 * Whoever reads the service's output may go away (a terminal closed, a log shipper restarted, a parent test
 * died): writes to stdout and stderr then fail with EPIPE. The service must carry on, and not turn each failed
 * write into an uncaught exception whose report fails the same way: a process found spinning a whole core, for
 * an hour, with no call, after its parent had gone.
 */

const REPO = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'closed-output-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** CPU time (user + system) the process has used, in ms, from /proc (Linux clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

it('keeps serving, without spinning, after its stdout and stderr pipes close', async () => {
  const agentFile = join(dir, 'agent.json');
  writeFileSync(agentFile, JSON.stringify({ name: 'quiet', instructions: 'You answer calls.' }));
  // A fault injected from outside: a bug that throws on its own stack, as one did in the process we found.
  const fault = `data:text/javascript,${encodeURIComponent("process.on('SIGUSR2', () => setImmediate(() => { throw new Error('injected fault'); }));")}`;
  const child = spawn(process.execPath, ['--import', fault, '--import', 'tsx', 'src/main.ts', agentFile], {
    cwd: REPO,
    env: {
      PATH: process.env.PATH,
      PORT: '0',
      HOST: '127.0.0.1',
      PUBLIC_URL: 'https://agent.example.test',
      TWILIO_ACCOUNT_SID: TEST_ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: TEST_AUTH_TOKEN,
      GEMINI_API_KEY: 'unused-key',
      BROWSER_PHONE: '0',
      DATA_DIR: join(dir, 'data'),
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const url = await new Promise<string>((done, fail) => {
      let output = '';
      const timer = setTimeout(() => fail(new Error(`no start within 60 s:\n${output}`)), 60_000);
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /"localUrl":"(http:\/\/[^"]+)"/.exec(output);
        if (match !== null) {
          clearTimeout(timer);
          done(match[1]!);
        }
      });
    });
    // The reader goes away.
    child.stdout!.destroy();
    child.stderr!.destroy();
    // Something worth a log line: a webhook with a bad signature (refused, logged as a warning).
    const refused = await fetch(`${url}/voice`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'bad' }, body: 'CallSid=x' });
    expect(refused.status).toBe(403);
    // And then a bug throws: its report goes to the closed stderr.
    child.kill('SIGUSR2');
    await new Promise((done) => setTimeout(done, 300));

    const before = cpuMs(child.pid!);
    await new Promise((done) => setTimeout(done, 1_500));
    // Idle, it uses next to nothing; the failure this guards against used a whole core (1 500 ms here).
    expect(cpuMs(child.pid!) - before).toBeLessThan(500);
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
  } finally {
    child.kill('SIGKILL');
  }
}, 90_000);

import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';

const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ScriptResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `scripts/<name>.ts` as `npm run` does (through tsx), in a scratch directory so no developer's .env is read,
 * with exactly `env` (plus PATH).
 */
export function runScript(name: string, args: string[], env: Record<string, string>, timeoutMs = 30_000): Promise<ScriptResult> {
  const tsx = createRequire(import.meta.url).resolve('tsx/cli');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [tsx, `${PROJECT_ROOT}scripts/${name}.ts`, ...args], {
      cwd: tmpdir(),
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`scripts/${name}.ts did not finish within ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Collects what a command prints, as the terminal would show it. */
export function captureOutput(): { output: { out(line: string): void; err(line: string): void }; stdout: () => string; stderr: () => string; all: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  const all: string[] = [];
  return {
    output: {
      out: (line) => {
        out.push(line);
        all.push(line);
      },
      err: (line) => {
        err.push(line);
        all.push(line);
      },
    },
    stdout: () => out.join('\n'),
    stderr: () => err.join('\n'),
    all: () => all.join('\n'),
  };
}

/** A loopback port nothing listens on (it was free a moment ago). */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * `npm run dev [-- --configure]`: the server with reload on change, reachable by Twilio.
 *
 * With NGROK_AUTHTOKEN, an ngrok tunnel to PORT is opened once (it outlives reloads, so its URL stays put) and its
 * URL becomes the server's PUBLIC_URL; `--configure` then points TWILIO_PHONE_NUMBER's voice webhook at it. Without
 * a token, an existing PUBLIC_URL is used as is (your own tunnel), and without either it says what to set up.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ConfigError } from '../src/settings/resolve-config.js';
import { loadTwilioCommandConfig } from '../src/settings/twilio-commands.js';
import { VOICE_WEBHOOK_PATH } from '../src/telephony/voice-webhook.js';
import { isMainModule, loadDotEnv, terminal, type CommandOutput, type Env } from './lib/cli.js';
import { openNgrokTunnel, TunnelError, type OpenTunnel, type Tunnel } from './lib/tunnel.js';
import { configureNumber } from './configure-number.js';

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
const DEFAULT_PORT = 8080;
/** The first start compiles with tsx and opens the bookings database: seconds, not minutes. */
const DEFAULT_START_TIMEOUT_MS = 30_000;
/** On stop, the server drains calls in progress (src/main.ts); in development a few seconds is patience enough. */
const STOP_GRACE_MS = 10_000;

/** Printed when there is neither NGROK_AUTHTOKEN nor PUBLIC_URL: every way forward, with exact values. */
export function noTunnelInstructions(port: number): string {
  return [
    'npm run dev needs a public https URL that Twilio can reach. Either:',
    '',
    '  1. Let it open an ngrok tunnel (recommended):',
    '     - sign up at https://dashboard.ngrok.com/signup (free), then copy your authtoken from',
    '       https://dashboard.ngrok.com/get-started/your-authtoken',
    '     - add it to .env:   NGROK_AUTHTOKEN=<your authtoken>',
    '     - optional: claim your free static domain at https://dashboard.ngrok.com/domains and add',
    '       NGROK_DOMAIN=<name>.ngrok-free.app, so the URL (and your number\'s webhook) stays the same',
    '     - run:              npm run dev -- --configure',
    '',
    '  2. Or run a tunnel yourself:',
    `     - in another terminal: ngrok http ${port}`,
    '     - add the https "Forwarding" URL it prints to .env:   PUBLIC_URL=https://<id>.ngrok-free.app',
    '     - run:              npm run dev -- --configure',
    '',
    '--configure points TWILIO_PHONE_NUMBER\'s voice webhook at the tunnel (needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN',
    'and TWILIO_PHONE_NUMBER in .env); without it, set the webhook yourself (docs/twilio.md).',
  ].join('\n');
}

export interface DevOptions {
  args: string[];
  env: Env;
  output: CommandOutput;
  /** Opens the tunnel when NGROK_AUTHTOKEN is set; tests substitute one (ngrok is not reachable from a test). */
  openTunnel?: OpenTunnel;
  /** `inherit` shows the server's log in the terminal; tests `pipe` it to read it. */
  serverStdio?: 'inherit' | 'pipe';
  startTimeoutMs?: number;
}

export interface DevSession {
  /** The server's PUBLIC_URL: the tunnel's URL, or PUBLIC_URL as given. */
  publicUrl: string;
  server: ChildProcess;
  /** Resolves with the server process's exit code (null when killed by a signal). */
  serverExited: Promise<number | null>;
  /** Stops the server (it drains briefly) and closes the tunnel. */
  stop(): Promise<void>;
}

/**
 * Starts the development setup and returns it running, or prints what is wrong and returns undefined. The server is
 * `tsx watch src/main.ts` in the project root: it restarts when a source file or .env changes.
 */
export async function startDev(options: DevOptions): Promise<DevSession | undefined> {
  const { env, output } = options;
  let flags;
  try {
    flags = parseArgs({ args: options.args, options: { configure: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } }).values;
  } catch (error) {
    output.err(`${(error as Error).message}\nUsage: npm run dev [-- --configure]`);
    return undefined;
  }
  if (flags.help === true) {
    output.out('Usage: npm run dev [-- --configure]\n  --configure  point TWILIO_PHONE_NUMBER\'s voice webhook at the public URL\n\n' + noTunnelInstructions(DEFAULT_PORT));
    return undefined;
  }
  const portText = env.PORT?.trim() || String(DEFAULT_PORT);
  const port = /^\d+$/.test(portText) && Number(portText) >= 1 && Number(portText) <= 65535 ? Number(portText) : undefined;
  if (port === undefined) {
    output.err(`PORT must be an integer from 1 to 65535 for npm run dev (got "${portText}"): the tunnel forwards to it.`);
    return undefined;
  }
  const authtoken = env.NGROK_AUTHTOKEN?.trim() || undefined;
  if (authtoken === undefined && !env.PUBLIC_URL?.trim()) {
    output.err(noTunnelInstructions(port));
    return undefined;
  }
  if (await isPortInUse(port)) {
    output.err(`Port ${port} is already in use (another server still running?). Stop it, or set PORT to a free port.`);
    return undefined;
  }

  let tunnel: Tunnel | undefined;
  let publicUrl: string;
  if (authtoken !== undefined) {
    output.out(`Opening an ngrok tunnel to http://127.0.0.1:${port} …`);
    try {
      tunnel = await (options.openTunnel ?? openNgrokTunnel)({ port, authtoken, domain: env.NGROK_DOMAIN?.trim() || undefined });
    } catch (error) {
      output.err(error instanceof TunnelError ? error.message : `Could not open the tunnel: ${(error as Error).message}`);
      return undefined;
    }
    publicUrl = tunnel.url;
    if (env.PUBLIC_URL?.trim() && env.PUBLIC_URL.trim() !== publicUrl) output.out(`The tunnel's URL replaces PUBLIC_URL (${env.PUBLIC_URL.trim()}) for this run.`);
  } else {
    publicUrl = (env.PUBLIC_URL ?? '').trim();
    output.out(`NGROK_AUTHTOKEN is not set: using PUBLIC_URL=${publicUrl} as is. It must forward to http://localhost:${port}.`);
  }

  // The token stays with this process: the server does not need it.
  const { NGROK_AUTHTOKEN: _token, ...serverEnv } = env;
  const server = spawn(process.execPath, [tsxCli(), 'watch', '--clear-screen=false', '--include', '.env', 'src/main.ts'], {
    cwd: PROJECT_ROOT,
    env: { ...serverEnv, PUBLIC_URL: publicUrl },
    // With the terminal's stdin, Return reruns the server (tsx watch).
    stdio: (options.serverStdio ?? 'inherit') === 'inherit' ? 'inherit' : ['ignore', 'pipe', 'pipe'],
  });
  const serverExited = new Promise<number | null>((resolve) => {
    server.once('exit', (code) => resolve(code));
    server.once('error', (error) => {
      output.err(`Could not start the server: ${error.message}`);
      resolve(1);
    });
  });
  let stopping: Promise<void> | undefined;
  const session: DevSession = {
    publicUrl,
    server,
    serverExited,
    stop: () =>
      (stopping ??= (async () => {
        if (server.exitCode === null && server.signalCode === null) {
          server.kill('SIGTERM');
          const killTimer = setTimeout(() => server.kill('SIGKILL'), STOP_GRACE_MS);
          await serverExited;
          clearTimeout(killTimer);
        }
        await tunnel?.close().catch((error: unknown) => output.err(`Closing the tunnel failed: ${(error as Error).message}`));
      })()),
  };

  try {
    await announce(session, { port, env, output, configure: flags.configure === true, startTimeoutMs: options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS });
  } catch (error) {
    await session.stop(); // nothing may outlive a failed start: neither the server nor the tunnel
    throw error;
  }
  return session;
}

/** Waits for the server, configures the number if asked, and prints where things are. */
async function announce(
  session: DevSession,
  { port, env, output, configure, startTimeoutMs }: { port: number; env: Env; output: CommandOutput; configure: boolean; startTimeoutMs: number },
): Promise<void> {
  const healthy = await waitForHealth(port, session.serverExited, startTimeoutMs);
  if (!healthy) {
    output.err(
      `The server did not answer http://127.0.0.1:${port}/healthz in time: see its output above. It restarts when you save a file or .env.` +
        (configure ? ' The number was not configured.' : ''),
    );
    return;
  }

  const voiceUrl = `${session.publicUrl.replace(/\/+$/, '')}${VOICE_WEBHOOK_PATH}`;
  let configured = false;
  let phoneNumber = env.TWILIO_PHONE_NUMBER?.trim() || undefined;
  if (configure) {
    try {
      const config = loadTwilioCommandConfig({ ...env, PUBLIC_URL: session.publicUrl });
      phoneNumber = config.twilio.phoneNumber;
      configured = await configureNumber(config, output);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      output.err(`--configure needs more settings; the server runs anyway.\n${error.message}`);
    }
  }

  output.out('');
  output.out(`  Public URL     ${session.publicUrl}  →  http://127.0.0.1:${port}`);
  output.out(`  Voice webhook  ${voiceUrl}  (HTTP POST)`);
  if (configured && phoneNumber !== undefined) {
    output.out(`  Call ${phoneNumber} to talk to the agent.`);
  } else if (!configure) {
    output.out(`  Point ${phoneNumber ?? 'your Twilio number'}'s voice webhook at it: npm run dev -- --configure, or in the console (docs/twilio.md).`);
  }
  // Only this process knows the tunnel's URL; a call placed from another terminal needs it spelled out.
  output.out(`  Have the agent call you:  PUBLIC_URL=${session.publicUrl} npm run call -- +1XXXXXXXXXX`);
  output.out('  Ctrl-C stops the server and the tunnel.');
  output.out('');
}

function tsxCli(): string {
  return createRequire(import.meta.url).resolve('tsx/cli');
}

/** Whether something already accepts connections on the port (whose /healthz would fool the start-up check). */
function isPortInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitForHealth(port: number, exited: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const deadline = Date.now() + timeoutMs;
  while (!gone && Date.now() < deadline) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1_000) });
      if (response.ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return false;
}

if (isMainModule(import.meta.url)) {
  loadDotEnv();
  const session = await startDev({ args: process.argv.slice(2), env: process.env, output: terminal });
  if (session === undefined) {
    process.exitCode = 1;
  } else {
    let signalled = false;
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.on(signal, () => {
        if (signalled) return;
        signalled = true;
        void session.stop().then(() => process.exit(0));
      });
    }
    const code = await session.serverExited;
    if (!signalled) {
      await session.stop();
      process.exit(code ?? 1);
    }
  }
}

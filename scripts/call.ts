/**
 * `npm run call -- +15551234567 [--agent <name>]`: the agent calls that number: the one named, or else the
 * default agent of AGENT (the agent without phone numbers, else the first), as the server picks for `POST /calls`. Twilio places the call from TWILIO_PHONE_NUMBER;
 * when it is answered, Twilio fetches PUBLIC_URL/voice (Direction=outbound-api) and the running server connects the
 * agent, cued to introduce itself. Progress arrives at PUBLIC_URL/call-status, in the server's log.
 */
import { parseArgs } from 'node:util';
import { isAgentName, resolveDefaultAgentName } from './lib/agents.js';
import { publicHttpsUrl } from '../src/settings/config.js';
import { createOutboundCallPlacer, OutboundCallError, outboundNumberProblem } from '../src/telephony/outbound-calls.js';
import { VOICE_WEBHOOK_PATH } from '../src/telephony/voice-webhook.js';
import { isMainModule, loadDotEnv, loadTwilioSettingsOrReport, runCommand, terminal, type CommandOutput, type Env } from './lib/cli.js';

const USAGE = 'Usage: npm run call -- +15551234567 [--agent <name>] [--skip-check]';
/** How long the server at PUBLIC_URL gets to answer /healthz before the call is not placed. */
const SERVER_CHECK_TIMEOUT_MS = 5_000;

export async function callCommand(args: string[], env: Env, output: CommandOutput): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { agent: { type: 'string' }, 'skip-check': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  } catch (error) {
    output.err(`${(error as Error).message}\n${USAGE}`);
    return 1;
  }
  if (parsed.values.help === true) {
    output.out(
      `${USAGE}\n  Places a call from TWILIO_PHONE_NUMBER; the server at PUBLIC_URL must be running.\n` +
        '  --agent <name>  the agent that talks (default: the default agent of AGENT, as the server runs it)\n' +
        '  --skip-check    place it without first checking that PUBLIC_URL/healthz answers',
    );
    return 0;
  }
  if (parsed.positionals.length !== 1) {
    output.err(`Give exactly one number to call.\n${USAGE}`);
    return 1;
  }

  const requestedAgent = parsed.values.agent;
  if (requestedAgent !== undefined && !isAgentName(requestedAgent)) {
    output.err(`✖ --agent must be an agent's name: letters, digits, - and _ (got "${requestedAgent}").\n${USAGE}`);
    return 1;
  }

  const config = loadTwilioSettingsOrReport(env, output);
  if (config === undefined) return 1;
  const { phoneNumber: from } = config.twilio;
  // People paste numbers the way they are written ("+1 (415) 555-0100"); the API wants digits only.
  const to = (parsed.positionals[0] as string).replace(/[\s().-]/g, '');
  const problem = outboundNumberProblem(to, from);
  if (problem !== undefined) {
    output.err(`✖ ${problem}${to.startsWith('+') ? '' : ' (start with + and the country code)'}.`);
    return 1;
  }

  if (parsed.values['skip-check'] !== true) {
    const unreachable = await serverProblem(config.publicUrl);
    if (unreachable !== undefined) {
      output.err(
        `✖ Not calling: ${unreachable}\n` +
          '  The callee would answer to an error message. Start the server (npm run dev, or npm start), and if PUBLIC_URL is a\n' +
          '  tunnel, set it to the tunnel\'s current URL (npm run dev prints it). --skip-check places the call anyway.',
      );
      return 1;
    }
  }

  let agent = requestedAgent;
  if (agent === undefined) {
    const resolved = await resolveDefaultAgentName(env);
    if ('error' in resolved) {
      output.err(`✖ ${resolved.error}\n  Name the agent with --agent <name>.`);
      return 1;
    }
    agent = resolved.name;
  }

  output.out(`Calling ${to} from ${from} (agent ${agent}) …`);
  try {
    const placer = createOutboundCallPlacer({ rest: config.twilio, from, publicUrl: config.publicUrl, machineDetection: config.machineDetection });
    const call = await placer.place(to, agent);
    output.out(
      `✔ Twilio accepted the call: ${call.callSid} (${call.status}). When it is answered, Twilio fetches ` +
        `${publicHttpsUrl(config, VOICE_WEBHOOK_PATH)} and the agent opens the conversation; progress is in the server's log.`,
    );
    return 0;
  } catch (error) {
    if (!(error instanceof OutboundCallError)) throw error;
    output.err(`✖ ${error.message}`);
    return 1;
  }
}

/**
 * Whether our server answers at PUBLIC_URL: a call Twilio cannot fetch TwiML for plays an error to whoever picks
 * up. Undefined when it answers; otherwise what is wrong.
 */
export async function serverProblem(publicUrl: URL, timeoutMs = SERVER_CHECK_TIMEOUT_MS): Promise<string | undefined> {
  const url = `${publicUrl.origin}/healthz`;
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
  } catch (error) {
    // fetch says only "fetch failed"; the cause has the code (ECONNREFUSED, ENOTFOUND, a certificate error).
    const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
    const reason =
      (error as Error).name === 'TimeoutError'
        ? `no answer within ${timeoutMs / 1000} s`
        : typeof cause?.code === 'string'
          ? cause.code
          : typeof cause?.message === 'string'
            ? cause.message
            : (error as Error).message;
    return `${url} cannot be reached (${reason}).`;
  }
  const body = await response.text().catch(() => '');
  if (!response.ok) return `${url} answered HTTP ${response.status}, not this service${/ngrok/i.test(body) ? ' (ngrok says the tunnel is offline)' : ''}.`;
  try {
    if ((JSON.parse(body) as { status?: unknown }).status === 'ok') return undefined;
  } catch {
    // not JSON: something else answers at that URL
  }
  return `${url} answered, but not as this service does.`;
}

if (isMainModule(import.meta.url)) {
  loadDotEnv();
  runCommand(() => callCommand(process.argv.slice(2), process.env, terminal));
}

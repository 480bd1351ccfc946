import { randomBytes } from 'node:crypto';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import twilio from 'twilio';
import type { Agent } from '../agents/agent.js';
import { createLogger, type Logger, type LogLevel } from '../observability/logger.js';
import type { TurnDetection } from '../model/realtime-model.js';
import { findRecording, RECORDING_FILE_MODE } from '../recording/call-recordings.js';
import { parseRecordingLog, type RecordingLog } from '../recording/recording-format.js';
import { startService, type RunningService } from '../service/start-service.js';
import { publicHttpsUrl } from '../settings/config.js';
import { resolveConfig } from '../settings/resolve-config.js';
import { STREAM_TOKEN_PARAMETER, VOICE_WEBHOOK_PATH } from '../telephony/voice-webhook.js';
import { checkExpectations } from './expectations.js';
import { ModelScript, replayModel } from './model-script.js';
import { buildReport, type ReplayReport } from './report.js';
import type { ReplayScenario } from './scenario.js';
import { TwilioCaller } from './twilio-caller.js';
import { startTwilioRestStub, type TwilioRestStub } from './twilio-rest-stub.js';

/** Nobody reaches this origin: it is only what Twilio would sign webhooks and streams for. */
const PUBLIC_URL = 'https://replay.invalid';
/** The number the replayed caller dials. */
const AGENT_NUMBER = '+15005550199';
/** A call the agent should end gets this long after the caller's last action before the caller gives up. */
const AGENT_END_GRACE_MS = 30_000;
/** After the stream ends, the server needs a moment to end the call and hand over its recording. */
const CALL_END_WAIT_MS = 5_000;
export interface ReplayOptions {
  /** The new recording is copied here as `<name>.wav` and `<name>.json`. */
  outputDir: string;
  /** The server's own log (default: warnings and errors to stderr). */
  log?: Logger;
  logLevel?: LogLevel;
  /** The agents the replayed call reaches, made for a fresh data directory (their tools' own data lives there). */
  agents: (dataDir: string) => Promise<readonly Agent[]> | readonly Agent[];
  /** Who detects the caller's turns for agents that do not say (TURN_DETECTION): the model (default), or the service. */
  turnDetection?: TurnDetection;
}

export interface ReplayResult {
  report: ReplayReport;
  /** Where the call differed from the scenario's expectations (empty: as expected). */
  problems: string[];
}

/**
 * Replays a call through the real server, in this process: the service as `startService` runs it (real
 * HTTP and WebSocket server, the agents' real tools on fresh data, recording on), a scripted model
 * playing the scenario's model script, and a Twilio side that signs the webhook, streams the caller's
 * audio on a real-time clock and plays the agent's.
 * The report is read from the recording the server made of the call, which is kept as the output.
 */
export async function replayCall(scenario: ReplayScenario, options: ReplayOptions): Promise<ReplayResult> {
  const accountSid = `AC${randomBytes(16).toString('hex')}`;
  const authToken = randomBytes(16).toString('hex');
  const callSid = `CA${randomBytes(16).toString('hex')}`;
  const script = new ModelScript(scenario.replies);
  const notes: string[] = [];
  let dataDir: string | undefined;
  let rest: TwilioRestStub | undefined;
  let app: RunningService | undefined;
  let caller: TwilioCaller | undefined;
  try {
    dataDir = await mkdtemp(join(tmpdir(), 'replay-'));
    rest = await startTwilioRestStub({ accountSid, authToken, onUpdate: () => caller?.hangUp() }); // Twilio ends the stream
    const config = resolveConfig({
      settings: {
        port: 0,
        host: '127.0.0.1',
        publicUrl: PUBLIC_URL,
        twilio: { accountSid, authToken, apiBaseUrl: rest.baseUrl },
        stores: { dataDir },
        recording: { enabled: true },
        logging: { level: options.logLevel ?? 'warn' },
        turnDetection: options.turnDetection ?? 'model',
      },
    });
    app = await startService({
      config,
      model: replayModel(script),
      agents: await options.agents(dataDir),
      log: options.log ?? createLogger({ level: config.logging.level, destination: process.stderr }),
    });

    const { streamUrl, parameters } = await ringWebhook(app.localUrl, { accountSid, authToken, callSid, from: scenario.callerNumber });
    caller = await TwilioCaller.connect({
      // Twilio connects to the <Stream url> itself: its path (/media/<instance id>) on our local host.
      serverUrl: `${app.localUrl.replace(/^http/, 'ws')}${new URL(streamUrl).pathname}`,
      streamUrl,
      accountSid,
      authToken,
      callSid,
      customParameters: parameters,
      callerAudio: scenario.callerAudio,
      keys: scenario.keys,
    });
    const activeCaller = caller;
    const lastActionMs = Math.max(scenario.callerAudio.length / 8, ...scenario.keys.map((key) => key.atMs));
    const hangUpAtMs = scenario.hangUpAtMs ?? lastActionMs + AGENT_END_GRACE_MS;
    const hangUpTimer = setTimeout(() => {
      if (scenario.hangUpAtMs === undefined) notes.push(`the call did not end by itself; the caller hung up ${AGENT_END_GRACE_MS / 1000} s after their last words`);
      activeCaller.hangUp();
    }, hangUpAtMs);
    const end = await activeCaller.ended;
    clearTimeout(hangUpTimer);
    if (end.by === 'server' && rest.updates.length === 0) notes.push(`the server closed the media stream at ${(end.atMs / 1000).toFixed(1)} s`);
    notes.push(...activeCaller.protocolProblems.map((problem) => `Twilio side: ${problem}`));

    await waitFor(() => app!.calls.size === 0, CALL_END_WAIT_MS);
    await app.stop(); // ends anything left and waits for the recording to be written
    app = undefined;

    const paths = await findRecording(config.recording.dir, callSid);
    if (paths === undefined) throw new Error('the server wrote no recording of the replayed call; see its log above');
    const log = parseRecordingLog(JSON.parse(await readFile(paths.json, 'utf8')));
    await mkdir(options.outputDir, { recursive: true, mode: 0o700 });
    const output = outputPaths(options.outputDir, scenario.name, scenario.sourceFiles ?? []);
    // Both files as private as the server's own recordings (a copy would otherwise take the umask's mode).
    await copyFile(paths.wav, output.wav);
    await chmod(output.wav, RECORDING_FILE_MODE);
    await writeFile(output.json, `${JSON.stringify({ ...log, audio: { ...log.audio, file: basename(output.wav) } }, null, 2)}\n`, { mode: RECORDING_FILE_MODE });
    await chmod(output.json, RECORDING_FILE_MODE);

    notes.push(...script.notes());
    const report = buildReport(scenario, withArgumentsAsSent(log, script.toolCallsMade), notes, output);
    return { report, problems: scenario.expect === undefined ? [] : checkExpectations(report, scenario.expect) };
  } finally {
    caller?.hangUp();
    await app?.stop().catch(() => undefined);
    await rest?.close();
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
  }
}

/**
 * Where the replay's recording goes: `<name>.wav/.json` in `dir`, unless that would replace a file the scenario was
 * read from (replaying a replay in its own folder): then `<name>.replay`, `<name>.replay-2`, …
 */
export function outputPaths(dir: string, name: string, sourceFiles: readonly string[]): { wav: string; json: string } {
  const sources = new Set(sourceFiles.map((file) => resolve(file)));
  for (let attempt = 0; ; attempt++) {
    const base = attempt === 0 ? name : attempt === 1 ? `${name}.replay` : `${name}.replay-${attempt}`;
    const paths = { wav: join(dir, `${base}.wav`), json: join(dir, `${base}.json`) };
    if (!sources.has(resolve(paths.wav)) && !sources.has(resolve(paths.json))) return paths;
  }
}

/**
 * The recording's tool calls with the arguments the script had the model send: the server's recording masks
 * arguments marked `sensitive`, and the report (and a fixture's expectations) are about what the model asked.
 */
export function withArgumentsAsSent(log: RecordingLog, made: ReadonlyArray<{ name: string; args: Record<string, unknown> }>): RecordingLog {
  let next = 0;
  const events = log.events.map((event) => {
    if (event.type !== 'toolCall') return event;
    const index = made.findIndex((call, i) => i >= next && call.name === event.name);
    if (index === -1) return event;
    next = index + 1;
    return { ...event, args: made[index]!.args };
  });
  return { ...log, events };
}

/** What Twilio does when the call comes in: a signed webhook; the answer says where to stream, with which token. */
async function ringWebhook(
  localUrl: string,
  call: { accountSid: string; authToken: string; callSid: string; from: string | undefined },
): Promise<{ streamUrl: string; parameters: Record<string, string> }> {
  const from = call.from ?? 'anonymous'; // what Twilio sends for a withheld number
  const params: Record<string, string> = {
    AccountSid: call.accountSid,
    ApiVersion: '2010-04-01',
    CallSid: call.callSid,
    CallStatus: 'ringing',
    Direction: 'inbound',
    From: from,
    Caller: from,
    To: AGENT_NUMBER,
    Called: AGENT_NUMBER,
  };
  const signature = twilio.getExpectedTwilioSignature(call.authToken, publicHttpsUrl({ publicUrl: new URL(PUBLIC_URL) }, VOICE_WEBHOOK_PATH), params);
  const response = await fetch(`${localUrl}${VOICE_WEBHOOK_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
    body: new URLSearchParams(params).toString(),
  });
  const twiml = await response.text();
  if (response.status !== 200) throw new Error(`the voice webhook answered ${response.status}: ${twiml.slice(0, 200)}`);
  const streamUrl = /<Stream\b[^>]*\burl="([^"]+)"/.exec(twiml)?.[1];
  if (streamUrl === undefined) throw new Error(`the voice webhook did not answer with a <Stream>: ${twiml.slice(0, 200)}`);
  const parameters: Record<string, string> = {};
  for (const match of twiml.matchAll(/<Parameter\b[^>]*\bname="([^"]+)"[^>]*\bvalue="([^"]*)"/g)) parameters[unescapeXml(match[1]!)] = unescapeXml(match[2]!);
  if (parameters[STREAM_TOKEN_PARAMETER] === undefined) throw new Error('the voice webhook gave the stream no token');
  return { streamUrl: unescapeXml(streamUrl), parameters };
}

function unescapeXml(text: string): string {
  return text.replace(/&(quot|apos|lt|gt|amp);/g, (_, entity: string) => ({ quot: '"', apos: "'", lt: '<', gt: '>', amp: '&' })[entity] ?? '');
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition() && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}

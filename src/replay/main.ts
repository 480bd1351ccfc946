/**
 * `npm run replay -- <fixture-or-recording> [--out <dir>] [--log-level <level>] [--turn-detection <model|local>]`
 *
 * Replays a call through the real server against a scripted model and prints what happened:
 * the transcript, tool calls, interruptions and response latencies, with the stereo WAV of the
 * replayed call. A fixture is `fixtures/calls/<name>` (or its call.json); a recording is the
 * `<CallSid>.json` or `.wav` written with RECORD_CALLS=1.
 *
 * Exit status: 0 as expected, 1 when a fixture's expectations were not met, 2 for bad input.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Agent } from '../agents/agent.js';
import { EXAMPLE_AGENT_FILE } from '../agents/example-agent.js';
import { loadAgents } from '../index.js';
import type { LogLevel } from '../observability/logger.js';
import { FIXTURE_FILE, loadCallFixture } from './fixture.js';
import { loadRecording } from './from-recording.js';
import { formatReport } from './report.js';
import { replayCall } from './replay.js';
import { ReplayInputError, type ReplayScenario } from './scenario.js';

const USAGE = `Usage: npm run replay -- <fixture-dir | call.json | recording.json | recording.wav> [--out <dir>] [--log-level <level>] [--turn-detection <model|local>]

  fixture           fixtures/calls/<name>: caller audio, timeline, model script and expectations
  recording         DATA_DIR/recordings/<date>/<CallSid>.json (or .wav), made with RECORD_CALLS=1
  --out             where the new recording goes as <name>.wav and <name>.json (default: data/replays)
  --log-level       the server's log on stderr: fatal … trace, or silent (default: warn)
  --turn-detection  who detects the caller's turns: the model, or this service (default: TURN_DETECTION, else model)`;

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function loadScenario(path: string): ReplayScenario {
  if (!existsSync(path)) throw new ReplayInputError(`${path} does not exist`);
  if (statSync(path).isDirectory()) {
    if (!existsSync(join(path, FIXTURE_FILE))) throw new ReplayInputError(`${path} has no ${FIXTURE_FILE}: not a call fixture`);
    return loadCallFixture(path);
  }
  if (path.endsWith(FIXTURE_FILE)) return loadCallFixture(path);
  if (path.endsWith('.json') || path.endsWith('.wav')) return loadRecording(path);
  throw new ReplayInputError(`${path} is neither a call fixture nor a recording`);
}

async function main(): Promise<number> {
  let values: { out?: string; 'log-level'?: string; 'turn-detection'?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      allowPositionals: true,
      options: { out: { type: 'string' }, 'log-level': { type: 'string' }, 'turn-detection': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const [path, ...extra] = positionals;
  const logLevel = (values['log-level'] ?? 'warn') as LogLevel;
  const turnDetection = values['turn-detection'] ?? process.env.TURN_DETECTION ?? 'model';
  if (path === undefined || extra.length > 0 || !LOG_LEVELS.includes(logLevel) || (turnDetection !== 'model' && turnDetection !== 'local')) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }

  let scenario: ReplayScenario;
  try {
    scenario = loadScenario(path);
  } catch (error) {
    if (!(error instanceof ReplayInputError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 2;
  }
  const seconds = Math.round(scenario.callerAudio.length / 800) / 10;
  process.stderr.write(`Replaying ${scenario.name} (${seconds} s of caller audio, in real time)…\n`);
  const agentFile = process.env.AGENT ?? EXAMPLE_AGENT_FILE;
  const agents = async (dataDir: string): Promise<Agent[]> => {
    process.env.DATA_DIR = dataDir; // the example agent keeps its data under DATA_DIR
    return loadAgents(agentFile);
  };
  const { report, problems } = await replayCall(scenario, { outputDir: values.out ?? join('data', 'replays'), logLevel, agents, turnDetection });
  process.stdout.write(`${formatReport(report, problems, scenario.expect === undefined ? undefined : scenario.expectationsFrom)}\n`);
  return problems.length > 0 && scenario.expectationsFrom === 'fixture' ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`replay failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 3;
  },
);

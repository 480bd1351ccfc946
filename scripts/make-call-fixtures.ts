/**
 * Builds the call fixtures in fixtures/calls/ that `npm run replay` plays and `npm test` checks:
 * each a directory with call.json (caller timeline, model script, expectations) and the caller's
 * speech clips, synthesized with espeak-ng and converted with sox exactly as scripts/make-fixtures.sh
 * does (pinned voice settings, `sox -D`: no dither), so the same tool versions give the same bytes.
 *
 * The timeline is planned from the clips' real durations and from how the replay's scripted model answers
 * (its energy VAD waits 500 ms of silence, it "thinks" 150 ms, and it speaks 60 ms per character),
 * with most of a second of slack around every exchange, so replays line up the same way every time.
 *
 * Needs espeak-ng and sox (Debian: apt-get install -y espeak-ng sox). CI does not run this: it replays
 * the committed fixtures.
 *
 *   npx tsx scripts/make-call-fixtures.ts           write fixtures/calls/
 *   npx tsx scripts/make-call-fixtures.ts --check   rebuild in a temporary directory and compare
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mulawDecodeSample } from '../src/audio/mulaw.js';
import { TURN_DETECTION } from '../src/model/scripted/caller-turns.js';
import { DEFAULT_TIMING } from '../src/model/scripted/scripted-conversation.js';
import { loadCallFixture } from '../src/replay/fixture.js';
import { KEYPAD_DIGITS_PLACEHOLDER } from '../src/replay/model-script.js';
import { KEY_INTERVAL_MS, type ExpectedLine, type ReplayExpectations, type ScriptedReply, type ScriptedToolCall } from '../src/replay/scenario.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = join(ROOT, 'fixtures', 'calls');

// The synthesis of scripts/make-fixtures.sh, and the versions the committed files were made with.
const ESPEAK = ['espeak-ng', '-v', 'en-us', '-s', '160', '-p', '50', '-a', '100', '-g', '0'];
const SOX_OUT = ['-t', 'raw', '-r', '8000', '-e', 'mu-law', '-b', '8', '-c', '1'];
const SOX_EFFECTS = ['reverse', 'silence', '1', '0.01', '-50d', 'reverse', 'gain', '-n', '-3', 'rate', '-h', '8000', 'pad', '0.2', '0.1'];
const EXPECTED_ESPEAK = '1.51';
const EXPECTED_SOX = 'v14.4.2';

// How the replay's scripted model answers (src/model/scripted), for planning the timeline.
const CLIP_TAIL_SILENCE_MS = 100; // the `pad 0.2 0.1` above
const LIVE_VAD_END_SILENCE_MS = TURN_DETECTION.endSilenceMs;
const LIVE_THINKING_MS = DEFAULT_TIMING.responseLatencyMs;
const LIVE_MS_PER_CHAR = DEFAULT_TIMING.msPerChar;
/** The greeting: session setup, the cue, thinking. */
const GREETING_STARTS_BY_MS = 500;
/** A tool call adds its answer's round trip and another think. */
const TOOL_ROUND_TRIP_MS = LIVE_THINKING_MS + 100;
/** The caller waits this long after the agent stops before speaking, keying or hanging up. */
const CALLER_PAUSE_MS = 800;
/** The longest quiet stretch allowed inside a clip: shorter than the scripted model's end-of-speech wait. */
const MAX_PAUSE_IN_CLIP_MS = LIVE_VAD_END_SILENCE_MS - 100;

type AgentReply = { text: string; toolCalls?: ScriptedToolCall[] };
type Step =
  | { kind: 'greeting'; agent: AgentReply }
  | { kind: 'say'; clip: string; text: string; agent?: AgentReply; bargeInAfterMs?: number }
  | { kind: 'keys'; keys: string; agent: AgentReply }
  | { kind: 'hangUp' };

interface FixtureSpec {
  name: string;
  description: string;
  callerNumber: string;
  steps: Step[];
  expect: Omit<ReplayExpectations, 'transcript'>;
}

const DANA = '+14155550123';
/**
 * What find_booking answers for Dana's seeded booking (examples/restaurant/seed.json), whichever way the code came in.
 * Not its date: the seed dates it from the day the bookings database is created, so a replay's is not a recording's.
 */
const DANAS_BOOKING = { found: true, booking: { confirmationCode: 'K7Q2M9', guestName: 'Dana Whitfield', partySize: 4, status: 'confirmed' } };

const FIXTURES: FixtureSpec[] = [
  {
    name: 'booking-lookup',
    description: 'Dana asks about her booking and says its code; the agent looks it up with find_booking, then ends the call with end_call.',
    callerNumber: DANA,
    steps: [
      { kind: 'greeting', agent: { text: 'Blue Door, how can I help?' } },
      {
        kind: 'say',
        clip: 'lookup.ulaw',
        text: 'Hi, can you check my booking? The code is K 7 Q 2 M 9.',
        agent: { toolCalls: [{ name: 'find_booking', args: { code: 'K7Q2M9' } }], text: 'Found it: a table for four on Saturday, December 5 at 7:30 PM.' },
      },
      { kind: 'say', clip: 'goodbye.ulaw', text: "That's all, thank you. Bye!", agent: { toolCalls: [{ name: 'end_call', args: {} }], text: 'Thanks for calling. Goodbye!' } },
    ],
    expect: {
      toolCalls: [
        { name: 'find_booking', args: { code: 'K7Q2M9' }, result: { output: DANAS_BOOKING } },
        { name: 'end_call', result: { output: { status: 'ending' } } },
      ],
      interruptions: 0,
      endReason: 'agent-hung-up',
      maxResponseLatencyMs: 2_000,
    },
  },
  {
    name: 'barge-in',
    description: 'The caller talks over a long answer; the agent stops at once and answers what the caller said instead.',
    callerNumber: '+14155550178',
    steps: [
      { kind: 'greeting', agent: { text: 'Blue Door, how can I help?' } },
      {
        kind: 'say',
        clip: 'question.ulaw',
        text: 'Do you have a table for two on Friday evening?',
        agent: {
          text: 'Let me tell you about Friday evenings. We seat guests from five until nine, and the early tables go quickly, so most people book a week ahead.',
        },
      },
      { kind: 'say', clip: 'interrupt.ulaw', text: 'Sorry, actually, make that Saturday.', bargeInAfterMs: 2_500, agent: { text: 'Of course, Saturday. What time would you like?' } },
      { kind: 'hangUp' },
    ],
    expect: { toolCalls: [], interruptions: 1, endReason: 'caller-hung-up', maxResponseLatencyMs: 2_000 },
  },
  {
    name: 'keypad-code',
    description: 'The caller keys the booking code on the keypad (letters as their digits: K7Q2M9 is 5 7 7 2 6 9); the agent looks it up with what was keyed.',
    callerNumber: '+16505550142',
    steps: [
      { kind: 'greeting', agent: { text: 'Blue Door, how can I help?' } },
      {
        kind: 'say',
        clip: 'ask.ulaw',
        text: "I'd like to check my booking. I will type the code.",
        agent: { text: 'Sure. Please key in the code, then press pound.' },
      },
      {
        kind: 'keys',
        keys: '577269#',
        agent: { toolCalls: [{ name: 'find_booking', args: { code: KEYPAD_DIGITS_PLACEHOLDER } }], text: 'Thank you. That is a table for four on Saturday, December 5 at 7:30 PM.' },
      },
      { kind: 'hangUp' },
    ],
    expect: {
      toolCalls: [{ name: 'find_booking', args: { code: '577269' }, result: { output: DANAS_BOOKING } }],
      interruptions: 0,
      endReason: 'caller-hung-up',
      maxResponseLatencyMs: 2_000,
    },
  },
];

function main(): void {
  const check = process.argv.includes('--check');
  for (const tool of ['espeak-ng', 'sox', 'sha256sum']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      throw new Error(`missing tool: ${tool} (apt-get install -y espeak-ng sox)`);
    }
  }
  const espeakVersion = /eSpeak NG text-to-speech: (\S+)/.exec(execFileSync('espeak-ng', ['--version'], { encoding: 'utf8' }))?.[1] ?? 'unknown';
  const soxVersion = /SoX (v\S+)/.exec(execFileSync('sox', ['--version'], { encoding: 'utf8' }))?.[1] ?? 'unknown';
  if (espeakVersion !== EXPECTED_ESPEAK) process.stderr.write(`warning: espeak-ng ${espeakVersion}, fixtures were made with ${EXPECTED_ESPEAK}\n`);
  if (soxVersion !== EXPECTED_SOX) process.stderr.write(`warning: sox ${soxVersion}, fixtures were made with ${EXPECTED_SOX}\n`);

  const out = check ? mkdtempSync(join(tmpdir(), 'call-fixtures-')) : OUT;
  try {
    const rows = FIXTURES.map((spec) => writeFixture(spec, join(out, spec.name)));
    writeFileSync(join(out, 'README.md'), readme(rows, espeakVersion, soxVersion));
    for (const spec of FIXTURES) loadCallFixture(join(out, spec.name)); // what the replay reads must parse
    if (check) {
      const differences = compareTrees(out, OUT);
      if (differences.length > 0) throw new Error(`fixtures/calls differs from a fresh build:\n  ${differences.join('\n  ')}`);
      process.stdout.write('fixtures/calls is exactly what this script builds\n');
    }
  } finally {
    if (check) rmSync(out, { recursive: true, force: true });
  }
}

interface FixtureRow {
  name: string;
  description: string;
  durationMs: number;
  files: Array<{ file: string; bytes: number; sha256: string }>;
}

function writeFixture(spec: FixtureSpec, dir: string): FixtureRow {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const timeline: Array<Record<string, unknown>> = [];
  const replies: ScriptedReply[] = [];
  const transcript: ExpectedLine[] = [];
  let agentStartMs = 0;
  let agentEndMs = 0;
  let lastMs = 0;
  const agentSays = (reply: AgentReply, to: ScriptedReply['to'], inputEndMs: number, heard?: string): void => {
    replies.push({ to, ...(heard === undefined ? {} : { heard }), ...(reply.toolCalls === undefined ? {} : { toolCalls: reply.toolCalls }), text: reply.text });
    agentStartMs = inputEndMs + LIVE_THINKING_MS + (reply.toolCalls === undefined ? 0 : TOOL_ROUND_TRIP_MS);
    agentEndMs = agentStartMs + reply.text.length * LIVE_MS_PER_CHAR;
    transcript.push({ speaker: 'agent', text: reply.text });
  };

  for (const step of spec.steps) {
    if (step.kind === 'greeting') {
      agentSays(step.agent, 'cue', GREETING_STARTS_BY_MS - LIVE_THINKING_MS);
    } else if (step.kind === 'say') {
      const clip = synthesize(step.text, join(dir, step.clip));
      let atMs = agentEndMs + CALLER_PAUSE_MS;
      if (step.bargeInAfterMs !== undefined) {
        atMs = agentStartMs + step.bargeInAfterMs;
        if (atMs >= agentEndMs - CALLER_PAUSE_MS) throw new Error(`${spec.name}: the barge-in at ${atMs} ms comes after the agent has finished`);
        transcript[transcript.length - 1] = { ...transcript.at(-1)!, interrupted: true };
      }
      atMs = Math.ceil(atMs / 100) * 100;
      timeline.push({ atMs, say: step.clip, text: step.text });
      transcript.push({ speaker: 'caller', text: step.text });
      const speechEndMs = atMs + clip.durationMs - CLIP_TAIL_SILENCE_MS;
      lastMs = atMs + clip.durationMs;
      if (step.agent !== undefined) agentSays(step.agent, 'speech', speechEndMs + LIVE_VAD_END_SILENCE_MS, step.text);
    } else if (step.kind === 'keys') {
      const atMs = Math.ceil((agentEndMs + CALLER_PAUSE_MS) / 100) * 100;
      timeline.push({ atMs, keys: step.keys });
      transcript.push({ speaker: 'keypad', text: step.keys });
      // `#` sends the digits at once; without it the call waits for a 2 s pause.
      const sentMs = atMs + (step.keys.length - 1) * KEY_INTERVAL_MS + (step.keys.endsWith('#') ? 0 : 2_000);
      lastMs = sentMs;
      agentSays(step.agent, 'keypad', sentMs);
    } else {
      const atMs = Math.ceil((Math.max(agentEndMs, lastMs) + CALLER_PAUSE_MS) / 100) * 100;
      timeline.push({ atMs, hangUp: true });
    }
  }

  const fixture = {
    description: spec.description,
    caller: { number: spec.callerNumber },
    timeline,
    model: { replies },
    expect: { transcript, ...spec.expect },
  };
  writeFileSync(join(dir, 'call.json'), `${JSON.stringify(fixture, null, 2)}\n`);
  const files = readdirSync(dir)
    .sort()
    .map((file) => {
      const bytes = readFileSync(join(dir, file));
      return { file, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
    });
  const hangUp = timeline.find((action) => action['hangUp'] === true)?.['atMs'];
  return { name: spec.name, description: spec.description, durationMs: typeof hangUp === 'number' ? hangUp : Math.max(agentEndMs, lastMs), files };
}

/** Speech for `text` as 8 kHz mu-law in `path`; refuses a clip whose pauses would split it into two turns. */
function synthesize(text: string, path: string): { durationMs: number } {
  if (/["\\|]/.test(text)) throw new Error(`clip text must not contain quotes, backslashes or bars: ${text}`);
  const tmp = mkdtempSync(join(tmpdir(), 'espeak-'));
  try {
    const wav = join(tmp, 'speech.wav');
    execFileSync(ESPEAK[0]!, [...ESPEAK.slice(1), '-w', wav, text]);
    execFileSync('sox', ['-D', wav, ...SOX_OUT, path, ...SOX_EFFECTS]);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const clip = readFileSync(path);
  const pauseMs = longestInnerPauseMs(clip);
  if (pauseMs > MAX_PAUSE_IN_CLIP_MS) throw new Error(`"${text}" pauses ${pauseMs} ms: the scripted model would end the caller's turn inside it`);
  return { durationMs: Math.round(clip.length / 8) };
}

/** The longest run of 20 ms windows below −35 dBFS (the scripted model's turn threshold) between the first and last speech. */
function longestInnerPauseMs(mulaw: Uint8Array): number {
  const windowBytes = 160;
  const voiced: boolean[] = [];
  for (let offset = 0; offset + windowBytes <= mulaw.length; offset += windowBytes) {
    let sum = 0;
    for (let i = offset; i < offset + windowBytes; i++) sum += (mulawDecodeSample(mulaw[i]!) / 32768) ** 2;
    voiced.push(10 * Math.log10(sum / windowBytes + 1e-12) >= TURN_DETECTION.thresholdDbfs);
  }
  const first = voiced.indexOf(true);
  const last = voiced.lastIndexOf(true);
  let longest = 0;
  let run = 0;
  for (let i = first; i <= last; i++) {
    run = voiced[i] ? 0 : run + 1;
    longest = Math.max(longest, run);
  }
  return longest * 20;
}

function readme(rows: FixtureRow[], espeakVersion: string, soxVersion: string): string {
  const lines = [
    '# Call fixtures',
    '',
    'Generated by `scripts/make-call-fixtures.ts`; do not edit by hand (change the script and run it again:',
    '`npx tsx scripts/make-call-fixtures.ts`, or `--check` to verify these files are exactly what it builds).',
    '`npm test` replays every directory here (`test/replay/replay-fixtures.test.ts`); `npm run replay -- fixtures/calls/<name>`',
    'replays one and prints its report. The format of `call.json` is described in `src/replay/fixture.ts` and the README.',
    '',
    `Speech made with eSpeak NG **${espeakVersion}** and SoX **${soxVersion}** (\`${ESPEAK.join(' ')}\`, then`,
    `\`sox -D … ${SOX_OUT.join(' ')} … ${SOX_EFFECTS.join(' ')}\`): raw 8 kHz mu-law, no header.`,
    '',
    '| fixture | what happens | length |',
    '|---|---|---|',
    ...rows.map((row) => `| \`${row.name}\` | ${row.description} | ${(row.durationMs / 1000).toFixed(1)} s |`),
    '',
    '| file | bytes | sha256 |',
    '|---|---|---|',
    ...rows.flatMap((row) => row.files.map((file) => `| \`${row.name}/${file.file}\` | ${file.bytes} | \`${file.sha256.slice(0, 16)}…\` |`)),
    '',
  ];
  return lines.join('\n');
}

function compareTrees(built: string, committed: string): string[] {
  const differences: string[] = [];
  const walk = (relative: string): void => {
    const here = join(built, relative);
    for (const entry of readdirSync(here, { withFileTypes: true })) {
      const path = join(relative, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (!existsSync(join(committed, path))) differences.push(`${path} is missing`);
      else if (!readFileSync(join(built, path)).equals(readFileSync(join(committed, path)))) differences.push(`${path} differs`);
    }
  };
  walk('');
  return differences;
}

try {
  main();
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exitCode = 1;
}

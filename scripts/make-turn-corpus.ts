/**
 * Builds the turn-taking corpus in fixtures/turn-taking/: caller audio as a phone line carries it while the agent
 * talks or is silent (8 kHz mu-law, phone band 300–3400 Hz), with labels.json saying where the caller really
 * speaks, which sounds are echo, noise or backchannels, and where the agent is talking. `npm run bench` and the
 * turn-detection tests read it; CI uses the committed files and never runs this.
 *
 * Every sound is made here from Debian's tools: caller and agent voices by espeak-ng (voice variants and speeds),
 * noise by sox (`-R`: fixed seeds), all mixed by sox with dither off (`-D`), so the same tool versions give the
 * same bytes. Levels are RMS after the phone band filter; SNRs are relative to the caller's normal level.
 *
 * Needs espeak-ng and sox (Debian: apt-get install -y espeak-ng sox).
 *
 *   npx tsx scripts/make-turn-corpus.ts           write fixtures/turn-taking/
 *   npx tsx scripts/make-turn-corpus.ts --check   rebuild in a temporary directory and compare with the committed files
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BackgroundKind, CallerSegment, Interval, SceneGroup, SceneLabels, TurnCorpus } from '../test/support/turn-corpus.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = join(ROOT, 'fixtures', 'turn-taking');
const EXPECTED_ESPEAK = '1.51';
const EXPECTED_SOX = 'v14.4.2';

/**
 * Levels (dBFS RMS over the clip, phone band). ITU-T P.56 puts nominal active speech on a line around −26 dBov;
 * the agent's audio, from a TTS model, is louder. The echo is the agent's level minus the return loss.
 */
const LEVELS = { callerNormalDbfs: -24, callerQuietDbfs: -34, agentDbfs: -20, lineNoiseDbfs: -66 } as const;
const RATE = 8000;
const FLOAT_WAV = ['-r', String(RATE), '-c', '1', '-e', 'floating-point', '-b', '32'];
const MULAW_RAW = ['-t', 'raw', '-r', String(RATE), '-e', 'mu-law', '-b', '8', '-c', '1'];
const PHONE_BAND = ['sinc', '300-3400'];
/** espeak-ng's trailing and leading pauses trimmed: the label's start and end are where the voice is. */
const TRIM = ['reverse', 'silence', '1', '0.01', '-50d', 'reverse', 'silence', '1', '0.01', '-50d'];
const AGENT_VOICE = { voice: 'en-us+f3', wordsPerMinute: 170 };
const AGENT_START_MS = 300;

const AGENT_TEXTS = {
  'agent-a':
    'Thanks for calling Bella Vista. We have tables at seven and at half past eight on Friday, and the terrace is open ' +
    'if the weather holds. Would you like me to book one of those for you, and how many people will be joining?',
  'agent-b':
    'Your appointment is on Tuesday the fourteenth at nine thirty with Doctor Patel. Please arrive ten minutes early ' +
    'and bring your insurance card. If you need to cancel, just call us back at least a day before.',
} as const;
type AgentClip = keyof typeof AGENT_TEXTS;

/** Other people talking in the room (babble) and a television across it. */
const BABBLE_TEXTS: Array<[voice: string, text: string]> = [
  ['en-us+m3', 'So I told him the whole thing was off, and he just laughed and ordered another round for the table.'],
  ['en-gb+f2', 'Did you see the match last night? The second half was completely different, they looked like a new team.'],
  ['en-029+m1', 'We could take the train on Saturday morning and be there before lunch if nothing is delayed again.'],
  ['en-gb-x-rp+f5', 'The kids want pizza again, but I think we should try that new place by the river for once.'],
  ['en-us+m6', 'Honestly the report is fine, it just needs a summary at the top and fewer charts in the middle.'],
];
const TV_TEXT: [voice: string, text: string] = [
  'en-gb+m2',
  'And now the weather. A band of rain will move in from the west overnight, clearing by mid morning, with highs of ' +
    'fourteen degrees and a fresh breeze along the coast. Tomorrow brings sunshine and the odd shower inland.',
];

interface Speech {
  kind: CallerSegment['kind'];
  text: string;
  voice: string;
  wordsPerMinute: number;
  level: CallerSegment['level'];
  startMs: number;
  /** A pause inside the sentence: `text` is said, then this silence, then `continuation`. */
  pause?: { ms: number; continuation: string };
}

interface SceneSpec {
  name: string;
  group: SceneGroup;
  agent?: AgentClip;
  echo?: { returnLossDb: number; delayMs: number };
  background?: { kind: BackgroundKind; snrDb: number };
  caller: Speech[];
  /** Fixed length; otherwise the last speech's end plus TAIL_MS. */
  durationMs?: number;
}

const TAIL_MS = 1500;

const sentence = (voice: string, wordsPerMinute: number, text: string, startMs: number, level: Speech['level'] = 'normal'): Speech => ({
  kind: 'sentence',
  text,
  voice,
  wordsPerMinute,
  level,
  startMs,
});
const backchannel = (voice: string, text: string, startMs: number, level: Speech['level'] = 'normal'): Speech => ({
  kind: 'backchannel',
  text,
  voice,
  wordsPerMinute: 170,
  level,
  startMs,
});

const SCENES: SceneSpec[] = [
  // The caller talks over the agent, whose voice always comes back at some level (a real line has echo).
  { name: 'barge-in-01', group: 'barge-in', agent: 'agent-a', echo: { returnLossDb: 30, delayMs: 100 }, caller: [sentence('en-us', 160, 'Wait, sorry, I need to change the time.', 2000)] },
  { name: 'barge-in-02', group: 'barge-in', agent: 'agent-b', echo: { returnLossDb: 25, delayMs: 50 }, caller: [sentence('en-us+f2', 190, 'Actually, can you book it for Saturday instead?', 1800)] },
  { name: 'barge-in-03', group: 'barge-in', agent: 'agent-a', echo: { returnLossDb: 35, delayMs: 200 }, caller: [sentence('en-gb+m3', 140, 'No, no, that is not what I said.', 2400)] },
  { name: 'barge-in-04', group: 'barge-in', agent: 'agent-b', echo: { returnLossDb: 30, delayMs: 150 }, caller: [sentence('en-gb-x-rp+f4', 175, 'Hold on, let me check my calendar first.', 1600, 'quiet')] },
  { name: 'barge-in-05', group: 'barge-in', agent: 'agent-a', echo: { returnLossDb: 30, delayMs: 100 }, background: { kind: 'pink', snrDb: 20 }, caller: [sentence('en-029+m5', 160, 'Can I speak to a real person, please?', 2200)] },
  { name: 'barge-in-06', group: 'barge-in', agent: 'agent-b', echo: { returnLossDb: 30, delayMs: 100 }, background: { kind: 'street', snrDb: 20 }, caller: [sentence('en-us+f2', 160, 'Excuse me, how much does that cost?', 1900)] },
  { name: 'barge-in-07', group: 'barge-in', agent: 'agent-a', echo: { returnLossDb: 30, delayMs: 100 }, background: { kind: 'babble', snrDb: 20 }, caller: [sentence('en-gb-scotland+f1', 170, 'Sorry, could you say that again?', 2100)] },
  { name: 'barge-in-08', group: 'barge-in', agent: 'agent-b', echo: { returnLossDb: 25, delayMs: 200 }, background: { kind: 'pink', snrDb: 10 }, caller: [sentence('en-us+m7', 150, 'Stop, I already have an appointment.', 1700)] },
  { name: 'barge-in-09', group: 'barge-in', agent: 'agent-a', echo: { returnLossDb: 30, delayMs: 50 }, background: { kind: 'street', snrDb: 10 }, caller: [sentence('en-us', 200, 'We are six people, not four.', 2300, 'quiet')] },
  { name: 'barge-in-10', group: 'barge-in', agent: 'agent-b', echo: { returnLossDb: 30, delayMs: 100 }, background: { kind: 'tv', snrDb: 15 }, caller: [sentence('en-gb+m3', 160, 'Can we make it the afternoon instead?', 2000)] },
  { name: 'barge-in-11', group: 'barge-in', agent: 'agent-a', echo: { returnLossDb: 35, delayMs: 100 }, background: { kind: 'white', snrDb: 20 }, caller: [sentence('en-us+f2', 210, 'Perfect, the seven o clock table works for us.', 1800)] },
  { name: 'barge-in-12', group: 'barge-in', agent: 'agent-b', echo: { returnLossDb: 25, delayMs: 100 }, background: { kind: 'babble', snrDb: 10 }, caller: [sentence('en-gb-x-rp+f4', 160, 'Hang on, which doctor did you say?', 2500)] },
  // Backchannels over the agent: two per scene.
  { name: 'backchannel-01', group: 'backchannel', agent: 'agent-a', echo: { returnLossDb: 30, delayMs: 100 }, caller: [backchannel('en-us', 'mm-hm', 1500), backchannel('en-us', 'okay', 4500)], durationMs: 7000 },
  { name: 'backchannel-02', group: 'backchannel', agent: 'agent-b', echo: { returnLossDb: 30, delayMs: 100 }, caller: [backchannel('en-us+f2', 'uh-huh', 1600), backchannel('en-us+f2', 'yeah', 4400)], durationMs: 7000 },
  { name: 'backchannel-03', group: 'backchannel', agent: 'agent-a', echo: { returnLossDb: 30, delayMs: 100 }, caller: [backchannel('en-gb+m3', 'right', 1700), backchannel('en-gb+m3', 'I see', 4600)], durationMs: 7000 },
  { name: 'backchannel-04', group: 'backchannel', agent: 'agent-b', echo: { returnLossDb: 30, delayMs: 100 }, caller: [backchannel('en-029+m5', 'sure', 1500), backchannel('en-029+m5', 'mhm', 4300)], durationMs: 7000 },
  { name: 'backchannel-05', group: 'backchannel', agent: 'agent-a', echo: { returnLossDb: 30, delayMs: 100 }, caller: [backchannel('en-gb-x-rp+f4', 'yes', 1800), backchannel('en-gb-x-rp+f4', 'okay', 4700, 'quiet')], durationMs: 7000 },
  { name: 'backchannel-06', group: 'backchannel', agent: 'agent-b', echo: { returnLossDb: 30, delayMs: 100 }, background: { kind: 'pink', snrDb: 20 }, caller: [backchannel('en-us+m7', 'yeah', 1600), backchannel('en-us+m7', 'uh-huh', 4500)], durationMs: 7000 },
  { name: 'backchannel-07', group: 'backchannel', agent: 'agent-a', echo: { returnLossDb: 25, delayMs: 150 }, caller: [backchannel('en-gb-scotland+f1', 'hmm', 1700), backchannel('en-gb-scotland+f1', 'oh', 4600)], durationMs: 7000 },
  { name: 'backchannel-08', group: 'backchannel', agent: 'agent-b', echo: { returnLossDb: 35, delayMs: 50 }, background: { kind: 'street', snrDb: 20 }, caller: [backchannel('en-us', 'uh', 1500), backchannel('en-us', 'yep', 4400)], durationMs: 7000 },
  // The agent's own voice back from the phone, at each return loss and delay, nothing else.
  ...[25, 30, 35].flatMap((returnLossDb) =>
    [50, 120, 200].map(
      (delayMs, i): SceneSpec => ({
        name: `echo-${returnLossDb}db-${delayMs}ms`,
        group: 'echo',
        agent: i % 2 === 0 ? 'agent-a' : 'agent-b',
        echo: { returnLossDb, delayMs },
        caller: [],
        durationMs: 8000,
      }),
    ),
  ),
  // Noise while the agent talks, without echo, so each false barge-in has one cause.
  ...(
    [
      ['pink', 20],
      ['pink', 10],
      ['white', 20],
      ['street', 20],
      ['street', 10],
      ['babble', 20],
      ['babble', 10],
      ['tv', 15],
    ] as Array<[BackgroundKind, number]>
  ).map(
    ([kind, snrDb], i): SceneSpec => ({
      name: `noise-${kind}-${snrDb}db`,
      group: 'noise',
      agent: i % 2 === 0 ? 'agent-b' : 'agent-a',
      background: { kind, snrDb },
      caller: [],
      durationMs: 8000,
    }),
  ),
  // The agent is silent: the caller's turn, its onset and its end, in quiet and in noise, with pauses inside.
  { name: 'turn-01', group: 'turn', caller: [sentence('en-us', 160, 'Hi, I would like to book a table for Friday evening.', 800)] },
  { name: 'turn-02', group: 'turn', caller: [{ ...sentence('en-us+f2', 190, 'I would like to move my appointment', 800), pause: { ms: 600, continuation: 'to next Thursday if possible.' } }] },
  { name: 'turn-03', group: 'turn', background: { kind: 'pink', snrDb: 20 }, caller: [sentence('en-gb+m3', 150, 'Do you have anything earlier in the week?', 900)] },
  { name: 'turn-04', group: 'turn', background: { kind: 'street', snrDb: 20 }, caller: [sentence('en-029+m5', 170, 'I am calling about my order from last Tuesday.', 700)] },
  { name: 'turn-05', group: 'turn', background: { kind: 'babble', snrDb: 20 }, caller: [sentence('en-gb-x-rp+f4', 160, 'Could you check whether the terrace is open tonight?', 800)] },
  { name: 'turn-06', group: 'turn', caller: [sentence('en-us+m7', 140, 'Yes, that is right, four people.', 800, 'quiet')] },
  { name: 'turn-07', group: 'turn', caller: [{ ...sentence('en-gb-scotland+f1', 160, 'My number is', 900), pause: { ms: 900, continuation: 'oh seven seven, two three four, five five six.' } }] },
  { name: 'turn-08', group: 'turn', background: { kind: 'pink', snrDb: 10 }, caller: [sentence('en-us+f2', 170, 'Can I pay by card when I arrive?', 800)] },
];

// ----- tools ------------------------------------------------------------------------------------------------

function sox(args: string[]): string {
  // sox prints stats and warnings on stderr.
  return execFileSync('sox', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}

function soxStderr(args: string[]): string {
  const result = execFileSync('sh', ['-c', `sox "$@" 2>&1`, 'sox', ...args], { encoding: 'utf8' });
  return result.toString();
}

function rmsDbfs(file: string): number {
  const match = /RMS lev dB\s+(-?[\d.]+|-inf)/.exec(soxStderr([file, '-n', 'stats']));
  if (match === null || match[1] === '-inf') throw new Error(`no RMS level for ${file}`);
  return Number(match[1]);
}

function samples(file: string): number {
  return Number(execFileSync('soxi', ['-s', file], { encoding: 'utf8' }).trim());
}

/** Scales a clip so its RMS is `dbfs` (the clip is rewritten). */
function setLevel(file: string, dbfs: number, tmp: string): void {
  const scaled = join(tmp, 'level.wav');
  sox(['-D', file, ...FLOAT_WAV, scaled, 'gain', (dbfs - rmsDbfs(file)).toFixed(3)]);
  execFileSync('mv', [scaled, file]);
}

let clipCounter = 0;
function tempFile(tmp: string, stem: string): string {
  return join(tmp, `${stem}-${++clipCounter}.wav`);
}

/** One utterance, trimmed to its voice, phone band, at `dbfs` RMS. */
function speak(tmp: string, voice: string, wordsPerMinute: number, text: string, dbfs: number): string {
  const raw = tempFile(tmp, 'espeak');
  execFileSync('espeak-ng', ['-v', voice, '-s', String(wordsPerMinute), '-a', '100', '-g', '0', '-w', raw, text]);
  const out = tempFile(tmp, 'speech');
  sox(['-D', raw, ...FLOAT_WAV, out, ...TRIM, 'rate', '-h', String(RATE), ...PHONE_BAND]);
  setLevel(out, dbfs, tmp);
  return out;
}

/** A caller segment as audio (one clip, pauses included), and its labels relative to its start. */
function callerSpeech(tmp: string, speech: Speech): { file: string; durationMs: number; pauses: Interval[] } {
  const dbfs = speech.level === 'normal' ? LEVELS.callerNormalDbfs : LEVELS.callerQuietDbfs;
  const first = speak(tmp, speech.voice, speech.wordsPerMinute, speech.text, dbfs);
  if (speech.pause === undefined) return { file: first, durationMs: samples(first) / (RATE / 1000), pauses: [] };
  const second = speak(tmp, speech.voice, speech.wordsPerMinute, speech.pause.continuation, dbfs);
  const joined = tempFile(tmp, 'paused');
  const gap = tempFile(tmp, 'gap');
  sox(['-n', ...FLOAT_WAV, gap, 'trim', '0', (speech.pause.ms / 1000).toFixed(3)]);
  sox(['-D', first, gap, second, ...FLOAT_WAV, joined]);
  const pauseStartMs = samples(first) / (RATE / 1000);
  return { file: joined, durationMs: samples(joined) / (RATE / 1000), pauses: [{ startMs: pauseStartMs, endMs: pauseStartMs + speech.pause.ms }] };
}

/** Loops of several voices talking at once (babble) or one distant, reverberant voice (tv), `seconds` long. */
function voicesBed(tmp: string, kind: 'babble' | 'tv', seconds: number): string {
  const voices = kind === 'babble' ? BABBLE_TEXTS : [TV_TEXT];
  const beds = voices.map(([voice, text], i) => {
    const clip = speak(tmp, voice, 165, text, -30);
    const bed = tempFile(tmp, 'bed');
    // Each voice starts at a different point of its loop so the voices never line up.
    const loops = Math.ceil(seconds / (samples(clip) / RATE)) + 1;
    sox(['-D', ...Array.from({ length: loops }, () => clip), ...FLOAT_WAV, bed, 'trim', (0.7 * i).toFixed(2), String(seconds)]);
    return bed;
  });
  const mixed = tempFile(tmp, kind);
  if (beds.length === 1) sox(['-D', beds[0]!, ...FLOAT_WAV, mixed, 'reverb', '60', '50', '80', ...PHONE_BAND]);
  else sox(['-D', '-m', ...beds.flatMap((bed) => ['-v', '1', bed]), ...FLOAT_WAV, mixed, ...PHONE_BAND]);
  return mixed;
}

/** A long stretch of each background; scenes cut different parts of it so no two scenes share the same noise. */
function backgroundBeds(tmp: string, seconds: number): Record<BackgroundKind, string> {
  const synth = (noise: string): string => {
    const file = tempFile(tmp, noise);
    sox(['-R', '-n', ...FLOAT_WAV, file, 'synth', String(seconds), noise, ...PHONE_BAND]);
    return file;
  };
  const brown = synth('brownnoise');
  const pink = synth('pinknoise');
  // Street: traffic rumble (brown) and hiss (pink) swelling slowly as cars pass.
  const street = tempFile(tmp, 'street');
  sox(['-D', '-m', '-v', '1', brown, '-v', '0.5', pink, ...FLOAT_WAV, street, 'tremolo', '0.15', '60', ...PHONE_BAND]);
  return { pink, white: synth('whitenoise'), street, babble: voicesBed(tmp, 'babble', seconds), tv: voicesBed(tmp, 'tv', seconds) };
}

// ----- scenes -----------------------------------------------------------------------------------------------

interface Built {
  labels: SceneLabels;
  files: Record<string, Buffer>;
}

function buildAgentClips(tmp: string): Record<AgentClip, { wav: string; ulaw: Buffer; durationMs: number }> {
  const clips = {} as Record<AgentClip, { wav: string; ulaw: Buffer; durationMs: number }>;
  for (const name of Object.keys(AGENT_TEXTS) as AgentClip[]) {
    const wav = speak(tmp, AGENT_VOICE.voice, AGENT_VOICE.wordsPerMinute, AGENT_TEXTS[name], LEVELS.agentDbfs);
    const ulawFile = join(tmp, `${name}.ulaw`);
    sox(['-D', wav, ...MULAW_RAW, ulawFile]);
    // The echo is made from what the phone played: the mu-law the bridge sent, decoded.
    const played = tempFile(tmp, `${name}-played`);
    sox(['-D', ...MULAW_RAW, ulawFile, ...FLOAT_WAV, played]);
    clips[name] = { wav: played, ulaw: readFileSync(ulawFile), durationMs: samples(played) / (RATE / 1000) };
  }
  return clips;
}

function buildScene(
  tmp: string,
  spec: SceneSpec,
  agents: ReturnType<typeof buildAgentClips>,
  beds: Record<BackgroundKind, string>,
  bedOffsetSeconds: number,
): SceneLabels {
  const parts: string[] = [];
  const caller: CallerSegment[] = spec.caller.map((speech) => {
    const audio = callerSpeech(tmp, speech);
    const placed = tempFile(tmp, 'placed');
    sox(['-D', audio.file, ...FLOAT_WAV, placed, 'pad', (speech.startMs / 1000).toFixed(3)]);
    parts.push(placed);
    const text = speech.pause === undefined ? speech.text : `${speech.text} … ${speech.pause.continuation}`;
    return {
      kind: speech.kind,
      text,
      voice: speech.voice,
      wordsPerMinute: speech.wordsPerMinute,
      level: speech.level,
      startMs: speech.startMs,
      endMs: round(speech.startMs + audio.durationMs),
      pauses: audio.pauses.map((p) => ({ startMs: round(speech.startMs + p.startMs), endMs: round(speech.startMs + p.endMs) })),
    };
  });
  const lastEnd = Math.max(0, ...caller.map((c) => c.endMs));
  const durationMs = spec.durationMs ?? Math.ceil((lastEnd + TAIL_MS) / 100) * 100;
  const seconds = (durationMs / 1000).toFixed(3);

  let agent: SceneLabels['agent'];
  let echoPart: string | undefined;
  if (spec.agent !== undefined) {
    const clip = agents[spec.agent];
    agent = { file: `${spec.agent}.ulaw`, startMs: AGENT_START_MS, endMs: Math.min(durationMs, AGENT_START_MS + clip.durationMs) };
    if (spec.echo !== undefined) {
      const echo = tempFile(tmp, 'echo');
      const delay = ((AGENT_START_MS + spec.echo.delayMs) / 1000).toFixed(3);
      sox(['-D', clip.wav, ...FLOAT_WAV, echo, 'gain', String(-spec.echo.returnLossDb), 'pad', delay, ...PHONE_BAND]);
      parts.push(echo);
      echoPart = echo;
    }
  }
  if (spec.background !== undefined) {
    const bed = tempFile(tmp, 'background');
    sox(['-D', beds[spec.background.kind], ...FLOAT_WAV, bed, 'trim', bedOffsetSeconds.toFixed(3), seconds]);
    setLevel(bed, LEVELS.callerNormalDbfs - spec.background.snrDb, tmp);
    parts.push(bed);
  }
  // A faint hiss everywhere: a phone line is never digital silence.
  const hiss = tempFile(tmp, 'hiss');
  sox(['-R', '-n', ...FLOAT_WAV, hiss, 'synth', seconds, 'whitenoise', ...PHONE_BAND]);
  setLevel(hiss, LEVELS.lineNoiseDbfs, tmp);
  parts.push(hiss);

  mix(parts, join(tmp, `${spec.name}.ulaw`), seconds);
  // The same line without the echo: for a test phone that echoes what the agent really played (the agent pauses).
  if (echoPart !== undefined) mix(parts.filter((part) => part !== echoPart), join(tmp, `${spec.name}.dry.ulaw`), seconds);
  return {
    name: spec.name,
    group: spec.group,
    file: `${spec.name}.ulaw`,
    ...(echoPart === undefined ? {} : { dryFile: `${spec.name}.dry.ulaw` }),
    durationMs,
    ...(agent === undefined ? {} : { agent }),
    ...(spec.echo === undefined || spec.agent === undefined ? {} : { echo: spec.echo }),
    ...(spec.background === undefined ? {} : { background: spec.background }),
    caller,
  };
}

function mix(parts: string[], out: string, seconds: string): void {
  const mixArgs = parts.length === 1 ? parts : ['-m', ...parts.flatMap((part) => ['-v', '1', part])];
  sox(['-D', ...mixArgs, ...MULAW_RAW, out, 'trim', '0', seconds]);
}

const round = (ms: number): number => Math.round(ms);

function toolVersions(): TurnCorpus['tools'] {
  const espeak = /text-to-speech: (\S+)/.exec(execFileSync('espeak-ng', ['--version'], { encoding: 'utf8' }))?.[1] ?? 'unknown';
  const soxVersion = /SoX (v\S+)/.exec(execFileSync('sox', ['--version'], { encoding: 'utf8' }))?.[1] ?? 'unknown';
  if (espeak !== EXPECTED_ESPEAK) process.stderr.write(`warning: espeak-ng ${espeak}, the corpus was made with ${EXPECTED_ESPEAK}\n`);
  if (soxVersion !== EXPECTED_SOX) process.stderr.write(`warning: sox ${soxVersion}, the corpus was made with ${EXPECTED_SOX}\n`);
  return { espeakNg: espeak, sox: soxVersion };
}

function build(outDir: string): Built['files'] {
  const tmp = mkdtempSync(join(tmpdir(), 'turn-corpus-'));
  try {
    const tools = toolVersions();
    const agents = buildAgentClips(tmp);
    const longest = Math.max(...SCENES.map((s) => s.durationMs ?? 12_000));
    const bedSeconds = (SCENES.length * 1.3 + longest / 1000) | 0;
    const beds = backgroundBeds(tmp, bedSeconds);
    const scenes = SCENES.map((spec, i) => buildScene(tmp, spec, agents, beds, i * 1.3));
    const corpus: TurnCorpus = { levels: { ...LEVELS }, tools, scenes };
    const files: Record<string, Buffer> = { 'labels.json': Buffer.from(`${JSON.stringify(corpus, null, 2)}\n`) };
    for (const name of Object.keys(agents) as AgentClip[]) files[`${name}.ulaw`] = agents[name].ulaw;
    for (const scene of scenes) for (const file of [scene.file, scene.dryFile ?? []].flat()) files[file] = readFileSync(join(tmp, file));
    files['README.md'] = Buffer.from(readme(corpus, files));
    mkdirSync(outDir, { recursive: true });
    for (const [name, bytes] of Object.entries(files)) writeFileSync(join(outDir, name), bytes);
    return files;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function readme(corpus: TurnCorpus, files: Record<string, Buffer>): string {
  const seconds = (group: SceneGroup): number => corpus.scenes.filter((s) => s.group === group).reduce((sum, s) => sum + s.durationMs, 0) / 1000;
  const rows = corpus.scenes.map((s) => {
    const what = [
      s.agent === undefined ? 'agent silent' : `agent talks (${s.agent.file.replace('.ulaw', '')})`,
      s.echo === undefined ? '' : `echo −${s.echo.returnLossDb} dB, ${s.echo.delayMs} ms`,
      s.background === undefined ? '' : `${s.background.kind} at ${s.background.snrDb} dB SNR`,
      ...s.caller.map((c) => `${c.kind} "${c.text}" (${c.voice}, ${c.wordsPerMinute} wpm${c.level === 'quiet' ? ', quiet' : ''}) ${c.startMs}–${c.endMs} ms`),
    ].filter((part) => part !== '');
    const sha = createHash('sha256').update(files[s.file]!).digest('hex').slice(0, 12);
    return `| \`${s.file}\` | ${s.group} | ${s.durationMs} | ${what.join('; ')} | \`${sha}\` |`;
  });
  const total = Object.values(files).reduce((sum, f) => sum + f.length, 0);
  return `# Turn-taking corpus (caller audio)

Generated by \`npx tsx scripts/make-turn-corpus.ts\`; do not edit by hand (this README and \`labels.json\` are generated too).

Raw G.711 **mu-law**, **8000 Hz**, mono, no header: what a caller's phone sends while the agent talks or is silent.
Every sound is band-limited to the phone band (300–3400 Hz). Levels, RMS: caller ${corpus.levels.callerNormalDbfs} dBFS
(quiet: ${corpus.levels.callerQuietDbfs}), agent ${corpus.levels.agentDbfs} dBFS, line hiss ${corpus.levels.lineNoiseDbfs} dBFS;
SNRs are relative to the caller's normal level; echo is the agent's audio as played, attenuated by its return loss and
delayed. \`agent-a.ulaw\` / \`agent-b.ulaw\` are the agent's audio as the caller heard it (for echo-aware detection);
\`labels.json\` places them on each scene's timeline. A scene with echo also comes without it (\`*.dry.ulaw\`), for a
test phone that echoes what the agent really played: a paused agent's echo stops with it.

Made with eSpeak NG **${corpus.tools.espeakNg}** and SoX **${corpus.tools.sox}**; ${(total / 1e6).toFixed(2)} MB in all.
Speech: ${seconds('barge-in') + seconds('backchannel') + seconds('turn')} s of scenes with caller speech; agent talking with
only echo ${seconds('echo')} s, only noise ${seconds('noise')} s.

| file | group | ms | what is on the line | sha256 |
|---|---|---|---|---|
${rows.join('\n')}

Listen to one with \`play -t raw -r 8000 -e mu-law -c 1 fixtures/turn-taking/barge-in-01.ulaw\`.
`;
}

const check = process.argv.includes('--check');
if (check) {
  const dir = mkdtempSync(join(tmpdir(), 'turn-corpus-check-'));
  try {
    const files = build(dir);
    const committed = new Set(readdirSync(OUT));
    const differing = Object.entries(files).filter(([name, bytes]) => !committed.has(name) || !readFileSync(join(OUT, name)).equals(bytes));
    if (differing.length > 0) {
      process.stderr.write(`differs from the committed corpus: ${differing.map(([name]) => name).join(', ')}\n`);
      process.exitCode = 1;
    } else process.stdout.write(`fixtures/turn-taking matches (${Object.keys(files).length} files)\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
} else {
  const files = build(OUT);
  const total = Object.values(files).reduce((sum, f) => sum + f.length, 0);
  process.stdout.write(`fixtures/turn-taking: ${Object.keys(files).length} files, ${(total / 1e6).toFixed(2)} MB\n`);
}

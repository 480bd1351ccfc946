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
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BackgroundKind, CallerSegment, Interval, SceneGroup, SceneLabels, TurnCorpus } from '../test/support/turn-corpus.js';
import { backgroundBeds, backgroundClip, buildOrCheck, durationMs, FLOAT_WAV, lineHiss, mixToMulaw, MULAW_RAW, PHONE_BAND, placed, silenceClip, sox, speak, tempFile, toolVersions, writeCorpus } from './corpus/sound.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = join(ROOT, 'fixtures', 'turn-taking');

/**
 * Levels (dBFS RMS over the clip, phone band). ITU-T P.56 puts nominal active speech on a line around −26 dBov;
 * the agent's audio, from a TTS model, is louder. The echo is the agent's level minus the return loss.
 */
const LEVELS = { callerNormalDbfs: -24, callerQuietDbfs: -34, agentDbfs: -20, lineNoiseDbfs: -66 } as const;
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

// ----- scenes -----------------------------------------------------------------------------------------------

/** A caller segment as audio (one clip, pauses included), and its labels relative to its start. */
function callerSpeech(tmp: string, speech: Speech): { file: string; durationMs: number; pauses: Interval[] } {
  const dbfs = speech.level === 'normal' ? LEVELS.callerNormalDbfs : LEVELS.callerQuietDbfs;
  const first = speak(tmp, speech.voice, speech.wordsPerMinute, speech.text, dbfs);
  if (speech.pause === undefined) return { file: first, durationMs: durationMs(first), pauses: [] };
  const second = speak(tmp, speech.voice, speech.wordsPerMinute, speech.pause.continuation, dbfs);
  const joined = tempFile(tmp, 'paused');
  const gap = silenceClip(tmp, speech.pause.ms);
  sox(['-D', first, gap, second, ...FLOAT_WAV, joined]);
  const pauseStartMs = durationMs(first);
  return { file: joined, durationMs: durationMs(joined), pauses: [{ startMs: pauseStartMs, endMs: pauseStartMs + speech.pause.ms }] };
}

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
    clips[name] = { wav: played, ulaw: readFileSync(ulawFile), durationMs: durationMs(played) };
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
    parts.push(placed(tmp, audio.file, speech.startMs));
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
    parts.push(backgroundClip(tmp, beds[spec.background.kind], bedOffsetSeconds, seconds, LEVELS.callerNormalDbfs - spec.background.snrDb));
  }
  parts.push(lineHiss(tmp, seconds, LEVELS.lineNoiseDbfs));
  mixToMulaw(parts, join(tmp, `${spec.name}.ulaw`), seconds);
  // The same line without the echo: for a test phone that echoes what the agent really played (the agent pauses).
  if (echoPart !== undefined) mixToMulaw(parts.filter((part) => part !== echoPart), join(tmp, `${spec.name}.dry.ulaw`), seconds);
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

const round = (ms: number): number => Math.round(ms);

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
    const clips: Record<string, Buffer> = {};
    for (const name of Object.keys(agents) as AgentClip[]) clips[`${name}.ulaw`] = agents[name].ulaw;
    return writeCorpus(tmp, outDir, corpus, clips, readme);
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

buildOrCheck(OUT, build);

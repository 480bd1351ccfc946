/**
 * Builds the answering-machine corpus in fixtures/answering-machine/: the callee's side of an outbound call in its
 * first seconds (8 kHz mu-law, phone band 300–3400 Hz), with labels.json saying who answered and where each sound
 * is. The detector tests and `npm run bench` read it; CI uses the committed files and never runs this.
 *
 * - machines: voicemail greetings of many lengths and voices, then a beep (440–1950 Hz, 150 ms to 1 s, some double,
 *   some after a long pause), some in noise; and greetings with no beep at all;
 * - people: hellos short and long, repeated, late, in noise;
 * - call-screening assistants asking for a name and a reason (worded after Google's Call Screen and iOS's "Ask
 *   Reason for Calling", in our own words);
 * - fax machines: the 2100 Hz answer tone (ITU-T T.30 CED).
 *
 * Voices by espeak-ng, tones and noise by sox (scripts/corpus/sound.ts): the same tool versions give the same bytes.
 * Needs espeak-ng and sox (Debian: apt-get install -y espeak-ng sox).
 *
 *   npx tsx scripts/make-answering-machine-corpus.ts           write fixtures/answering-machine/
 *   npx tsx scripts/make-answering-machine-corpus.ts --check   rebuild in a temporary directory and compare
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AnsweredByLabel, AnsweringMachineCorpus, AnsweringMachineScene, LabelledSpeech } from '../test/support/answering-machine-corpus.js';
import { backgroundBeds, backgroundClip, buildOrCheck, durationMs, FLOAT_WAV, lineHiss, mixToMulaw, type NoiseKind, PHONE_BAND, placed, silenceClip, sox, speak, setLevel, tempFile, toolVersions, writeCorpus } from './corpus/sound.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = join(ROOT, 'fixtures', 'answering-machine');

/** RMS levels: speech as on a phone line (ITU-T P.56 nominal about −26 dBov), beeps louder, as machines play them. */
const LEVELS = { speechDbfs: -24, beepDbfs: -16, faxDbfs: -18, lineNoiseDbfs: -66 } as const;
/** Silence after the last sound: long enough for every rule that waits on quiet to have its say. */
const TAIL_MS = { human: 2_500, machine: 1_500, noBeep: 3_500, screener: 2_500, fax: 1_000 } as const;
/** Pause between the utterances of one scene. */
const UTTERANCE_GAP_MS = 350;

interface Utterance {
  voice: string;
  wordsPerMinute: number;
  text: string;
  /** Silence before it (after the previous utterance, or from the start). */
  afterMs?: number;
}

interface SceneSpec {
  name: string;
  answeredBy: AnsweredByLabel;
  speech: Utterance[];
  /** Where the first utterance starts. */
  startMs?: number;
  beep?: { frequencyHz: number; ms: number; gapMs: number; double?: boolean };
  fax?: { startMs: number; ms: number };
  background?: { kind: NoiseKind; snrDb: number };
}

const say = (voice: string, wordsPerMinute: number, text: string, afterMs?: number): Utterance => ({ voice, wordsPerMinute, text, ...(afterMs === undefined ? {} : { afterMs }) });

const SCENES: SceneSpec[] = [
  // Voicemail greetings, then a beep.
  { name: 'machine-01', answeredBy: 'machine', speech: [say('en-us+f3', 160, "Hi, you've reached Sarah. I can't come to the phone right now, please leave a message after the tone.")], beep: { frequencyHz: 1000, ms: 500, gapMs: 600 } },
  { name: 'machine-02', answeredBy: 'machine', speech: [say('en-gb+m3', 150, "Hello, this is Mark. Leave your name and number and I'll call you back.")], beep: { frequencyHz: 850, ms: 300, gapMs: 400 } },
  { name: 'machine-03', answeredBy: 'machine', speech: [say('en-us+m2', 170, 'The person you are calling is not available. Please leave a message after the beep.')], beep: { frequencyHz: 1400, ms: 1000, gapMs: 300 } },
  { name: 'machine-04', answeredBy: 'machine', speech: [say('en-us+f2', 180, "Hi! It's Jenny. Sorry I missed you, leave a message!")], beep: { frequencyHz: 1000, ms: 400, gapMs: 500 } },
  {
    name: 'machine-05',
    answeredBy: 'machine',
    speech: [say('en-gb-x-rp+f4', 155, 'Thank you for calling Bright Dental. Our office is now closed. Our hours are Monday to Friday, nine to five. Please leave a message and we will return your call.')],
    beep: { frequencyHz: 440, ms: 800, gapMs: 700 },
  },
  { name: 'machine-06', answeredBy: 'machine', speech: [say('en-us+m7', 165, "Hey, it's Tom.")], beep: { frequencyHz: 1000, ms: 250, gapMs: 300 } },
  { name: 'machine-07', answeredBy: 'machine', speech: [say('en-029+m5', 160, 'At the tone, please record your message. When you have finished recording, you may hang up.')], beep: { frequencyHz: 1950, ms: 200, gapMs: 400 } },
  { name: 'machine-08', answeredBy: 'machine', speech: [say('en-us', 170, 'You have reached the voicemail box of extension four two one. Please leave a message.')], beep: { frequencyHz: 1400, ms: 150, gapMs: 500, double: true } },
  {
    name: 'machine-09',
    answeredBy: 'machine',
    speech: [say('en-gb-scotland+f1', 160, "Hiya, this is Fiona's phone. I'm not here right now, so leave a wee message.")],
    beep: { frequencyHz: 850, ms: 500, gapMs: 900 },
    background: { kind: 'pink', snrDb: 25 },
  },
  {
    name: 'machine-10',
    answeredBy: 'machine',
    speech: [say('en-us+f3', 190, "Hi, this is Dana with Greenleaf Realty. I'm either on the phone or away from my desk. Leave me a message and I'll get back to you as soon as I can.")],
    beep: { frequencyHz: 1000, ms: 600, gapMs: 500 },
    background: { kind: 'street', snrDb: 20 },
  },
  { name: 'machine-11', answeredBy: 'machine', speech: [say('en-gb+f2', 150, "Hello. You've reached Paul and Maria. We can't take your call right now.")], beep: { frequencyHz: 440, ms: 1000, gapMs: 1200 } },
  { name: 'machine-12', answeredBy: 'machine', speech: [say('en-us+m3', 140, 'Please leave your message for'), say('en-us+m6', 150, 'Robert Chen.', 300)], beep: { frequencyHz: 1000, ms: 500, gapMs: 400 } },
  { name: 'machine-13', answeredBy: 'machine', speech: [say('en-us+f2', 175, 'Hey! Leave it at the beep.')], beep: { frequencyHz: 1400, ms: 300, gapMs: 300 } },
  {
    name: 'machine-14',
    answeredBy: 'machine',
    speech: [say('en-gb-x-rp+m1', 160, 'This is Alex. I am travelling this week with limited access to my phone. For anything urgent, please call the office. Otherwise leave a message.')],
    beep: { frequencyHz: 1950, ms: 500, gapMs: 600 },
    background: { kind: 'babble', snrDb: 20 },
  },
  // Greetings with no beep: the machine records after the greeting, in silence.
  { name: 'machine-nobeep-01', answeredBy: 'machine', speech: [say('en-us+m2', 160, "Hi, you've reached Chris. Leave a message.")] },
  { name: 'machine-nobeep-02', answeredBy: 'machine', speech: [say('en-us+f3', 160, 'The number you have dialed is not available. Please leave a message.')] },
  { name: 'machine-nobeep-03', answeredBy: 'machine', speech: [say('en-gb+m3', 150, "Sorry, I can't take your call. Please leave your name and number, and I'll call you back.")] },
  // People.
  { name: 'human-01', answeredBy: 'human', speech: [say('en-us', 160, 'Hello?')], startMs: 400 },
  { name: 'human-02', answeredBy: 'human', speech: [say('en-us+f2', 170, 'Hello, this is Sarah.')], startMs: 300 },
  { name: 'human-03', answeredBy: 'human', speech: [say('en-gb+m3', 150, 'Yeah?')], startMs: 600 },
  { name: 'human-04', answeredBy: 'human', speech: [say('en-us+m7', 160, "Hi, who's calling?")], startMs: 350 },
  { name: 'human-05', answeredBy: 'human', speech: [say('en-gb-x-rp+f4', 165, 'Good morning, Bright Dental, how can I help you?')], startMs: 300 },
  { name: 'human-06', answeredBy: 'human', speech: [say('en-029+m5', 160, 'Hello?'), say('en-029+m5', 160, 'Hello?', 1_600)], startMs: 300 },
  { name: 'human-07', answeredBy: 'human', speech: [say('en-us+f2', 160, 'Mark speaking.')], startMs: 500 },
  { name: 'human-08', answeredBy: 'human', speech: [say('en-us', 160, 'Hello?')], startMs: 2_600 },
  { name: 'human-09', answeredBy: 'human', speech: [say('en-gb-scotland+f1', 160, 'Hello?')], startMs: 400, background: { kind: 'street', snrDb: 15 } },
  { name: 'human-10', answeredBy: 'human', speech: [say('en-us+m3', 180, 'Yes, hello, who is this please?')], startMs: 300 },
  { name: 'human-11', answeredBy: 'human', speech: [say('en-us+f3', 150, 'Hi there.')], startMs: 500, background: { kind: 'pink', snrDb: 20 } },
  { name: 'human-12', answeredBy: 'human', speech: [say('en-gb+f2', 170, 'Hello, Smith residence, Anna speaking.')], startMs: 300 },
  { name: 'human-13', answeredBy: 'human', speech: [say('en-us+m7', 160, 'Yep, go ahead.')], startMs: 700, background: { kind: 'babble', snrDb: 15 } },
  // Call-screening assistants.
  {
    name: 'screener-01',
    answeredBy: 'screener',
    speech: [say('en-us+f3', 165, "Hi, the person you're calling is using a screening service and will get a copy of this conversation. Go ahead and say your name and why you're calling.")],
    startMs: 300,
  },
  { name: 'screener-02', answeredBy: 'screener', speech: [say('en-us+m2', 170, "Hi, if you record your name and reason for calling, I'll see if this person is available.")], startMs: 400 },
  { name: 'screener-03', answeredBy: 'screener', speech: [say('en-gb+f2', 160, "Hello, I'm an automated assistant for the person you're trying to reach. Can I ask what you're calling about?")], startMs: 300 },
  // Fax machines.
  { name: 'fax-01', answeredBy: 'fax', speech: [], fax: { startMs: 500, ms: 3_300 } },
  { name: 'fax-02', answeredBy: 'fax', speech: [], fax: { startMs: 1_500, ms: 2_800 }, background: { kind: 'pink', snrDb: 25 } },
];

// ----- scenes -----------------------------------------------------------------------------------------------

/** A sine tone of `ms` at `dbfs` RMS in the phone band. */
function tone(tmp: string, frequencyHz: number, ms: number, dbfs: number): string {
  const file = tempFile(tmp, 'tone');
  sox(['-n', ...FLOAT_WAV, file, 'synth', (ms / 1000).toFixed(3), 'sine', String(frequencyHz), ...PHONE_BAND]);
  setLevel(file, dbfs, tmp);
  return file;
}

/** The scene's utterances, placed one after another; their labels. */
function placeSpeech(tmp: string, spec: SceneSpec, parts: string[]): LabelledSpeech[] {
  let atMs = spec.startMs ?? 300;
  return spec.speech.map((utterance, index) => {
    if (index > 0) atMs += utterance.afterMs ?? UTTERANCE_GAP_MS;
    const clip = speak(tmp, utterance.voice, utterance.wordsPerMinute, utterance.text, LEVELS.speechDbfs);
    const lengthMs = Math.round(durationMs(clip));
    parts.push(placed(tmp, clip, atMs));
    const label = { text: utterance.text, voice: utterance.voice, startMs: atMs, endMs: atMs + lengthMs };
    atMs += lengthMs;
    return label;
  });
}

function placeBeep(tmp: string, beep: NonNullable<SceneSpec['beep']>, afterMs: number, parts: string[]): NonNullable<AnsweringMachineScene['beep']> {
  const startMs = afterMs + beep.gapMs;
  const one = tone(tmp, beep.frequencyHz, beep.ms, LEVELS.beepDbfs);
  const clip = beep.double === true ? tempFile(tmp, 'double') : one;
  if (beep.double === true) sox(['-D', one, silenceClip(tmp, 100), one, ...FLOAT_WAV, clip]);
  parts.push(placed(tmp, clip, startMs));
  return { frequencyHz: beep.frequencyHz, count: beep.double === true ? 2 : 1, startMs, endMs: startMs + (beep.double === true ? 2 * beep.ms + 100 : beep.ms) };
}

function buildScene(tmp: string, spec: SceneSpec, beds: Record<NoiseKind, string>, bedOffsetSeconds: number): AnsweringMachineScene {
  const parts: string[] = [];
  const speech = placeSpeech(tmp, spec, parts);
  const speechEndMs = speech.at(-1)?.endMs ?? 0;
  const beep = spec.beep === undefined ? undefined : placeBeep(tmp, spec.beep, speechEndMs, parts);
  let faxTone: AnsweringMachineScene['faxTone'];
  if (spec.fax !== undefined) {
    parts.push(placed(tmp, tone(tmp, 2100, spec.fax.ms, LEVELS.faxDbfs), spec.fax.startMs));
    faxTone = { startMs: spec.fax.startMs, endMs: spec.fax.startMs + spec.fax.ms };
  }
  const lastMs = Math.max(speechEndMs, beep?.endMs ?? 0, faxTone?.endMs ?? 0);
  const tail = spec.answeredBy === 'machine' ? (beep === undefined ? TAIL_MS.noBeep : TAIL_MS.machine) : TAIL_MS[spec.answeredBy];
  const sceneMs = Math.ceil((lastMs + tail) / 100) * 100;
  const seconds = (sceneMs / 1000).toFixed(3);
  if (spec.background !== undefined) parts.push(backgroundClip(tmp, beds[spec.background.kind], bedOffsetSeconds, seconds, LEVELS.speechDbfs - spec.background.snrDb));
  parts.push(lineHiss(tmp, seconds, LEVELS.lineNoiseDbfs));
  mixToMulaw(parts, join(tmp, `${spec.name}.ulaw`), seconds);
  return {
    name: spec.name,
    answeredBy: spec.answeredBy,
    file: `${spec.name}.ulaw`,
    durationMs: sceneMs,
    speech,
    ...(beep === undefined ? {} : { beep }),
    ...(faxTone === undefined ? {} : { faxTone }),
    ...(spec.answeredBy === 'machine' ? { recordingStartsAtMs: beep?.endMs ?? speechEndMs } : {}),
    ...(spec.background === undefined ? {} : { background: spec.background }),
  };
}

function build(outDir: string): Record<string, Buffer> {
  const tmp = mkdtempSync(join(tmpdir(), 'answering-machine-corpus-'));
  try {
    const tools = toolVersions();
    const beds = backgroundBeds(tmp, SCENES.length * 1.3 + 20);
    const scenes = SCENES.map((spec, i) => buildScene(tmp, spec, beds, i * 1.3));
    const corpus: AnsweringMachineCorpus = { levels: { ...LEVELS }, tools, scenes };
    return writeCorpus(tmp, outDir, corpus, {}, readme);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function readme(corpus: AnsweringMachineCorpus, files: Record<string, Buffer>): string {
  const count = (label: AnsweredByLabel): number => corpus.scenes.filter((s) => s.answeredBy === label).length;
  const rows = corpus.scenes.map((s) => {
    const what = [
      ...s.speech.map((u) => `"${u.text}" (${u.voice}) ${u.startMs}–${u.endMs} ms`),
      s.beep === undefined ? '' : `${s.beep.count === 2 ? 'double ' : ''}beep ${s.beep.frequencyHz} Hz ${s.beep.startMs}–${s.beep.endMs} ms`,
      s.faxTone === undefined ? '' : `fax tone 2100 Hz ${s.faxTone.startMs}–${s.faxTone.endMs} ms`,
      s.answeredBy === 'machine' && s.beep === undefined ? 'no beep' : '',
      s.background === undefined ? '' : `${s.background.kind} at ${s.background.snrDb} dB SNR`,
    ].filter((part) => part !== '');
    const sha = createHash('sha256').update(files[s.file]!).digest('hex').slice(0, 12);
    return `| \`${s.file}\` | ${s.answeredBy} | ${s.durationMs} | ${what.join('; ')} | \`${sha}\` |`;
  });
  const total = Object.values(files).reduce((sum, f) => sum + f.length, 0);
  const seconds = corpus.scenes.reduce((sum, s) => sum + s.durationMs, 0) / 1000;
  return `# Answering-machine corpus (the callee's side of an outbound call)

Generated by \`npx tsx scripts/make-answering-machine-corpus.ts\`; do not edit by hand (this README and \`labels.json\` are generated too).

Raw G.711 **mu-law**, **8000 Hz**, mono, no header: what the callee's side sends in the first seconds of an outbound
call. Every sound is band-limited to the phone band (300–3400 Hz). Levels, RMS: speech ${corpus.levels.speechDbfs} dBFS, beeps
${corpus.levels.beepDbfs} dBFS, fax tone ${corpus.levels.faxDbfs} dBFS, line hiss ${corpus.levels.lineNoiseDbfs} dBFS; SNRs are relative to the speech.
\`recordingStartsAtMs\` in \`labels.json\` is where a machine starts recording: a voicemail left before it is cut.

${corpus.scenes.length} scenes, ${seconds.toFixed(1)} s: ${count('machine')} machines, ${count('human')} people, ${count('screener')} call screeners, ${count('fax')} fax machines.
Made with eSpeak NG **${corpus.tools.espeakNg}** and SoX **${corpus.tools.sox}**; ${(total / 1e6).toFixed(2)} MB in all.

| file | answered by | ms | what is on the line | sha256 |
|---|---|---|---|---|
${rows.join('\n')}

Listen to one with \`play -t raw -r 8000 -e mu-law -c 1 fixtures/answering-machine/machine-01.ulaw\`.
`;
}

buildOrCheck(OUT, build);

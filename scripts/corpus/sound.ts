/**
 * Sound for the committed test corpora (scripts/make-*-corpus.ts), made with Debian's tools only: voices by
 * espeak-ng, tones and noise by sox (`-R`: fixed seeds), mixed by sox with dither off (`-D`), so the same tool
 * versions give the same bytes. Every clip is 8 kHz float WAV in the phone band until it is written as mu-law.
 *
 * Needs espeak-ng and sox (Debian: apt-get install -y espeak-ng sox).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const RATE = 8000;
export const FLOAT_WAV = ['-r', String(RATE), '-c', '1', '-e', 'floating-point', '-b', '32'];
export const MULAW_RAW = ['-t', 'raw', '-r', String(RATE), '-e', 'mu-law', '-b', '8', '-c', '1'];
export const PHONE_BAND = ['sinc', '300-3400'];
/** espeak-ng's trailing and leading pauses trimmed: a label's start and end are where the voice is. */
const TRIM = ['reverse', 'silence', '1', '0.01', '-50d', 'reverse', 'silence', '1', '0.01', '-50d'];
/** The versions the committed corpora were made with. */
const EXPECTED_ESPEAK = '1.51';
const EXPECTED_SOX = 'v14.4.2';

export type NoiseKind = 'pink' | 'white' | 'street' | 'babble' | 'tv';

export function sox(args: string[]): string {
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

export function samples(file: string): number {
  return Number(execFileSync('soxi', ['-s', file], { encoding: 'utf8' }).trim());
}

export function durationMs(file: string): number {
  return samples(file) / (RATE / 1000);
}

/** Scales a clip so its RMS is `dbfs` (the clip is rewritten). */
export function setLevel(file: string, dbfs: number, tmp: string): void {
  const scaled = join(tmp, 'level.wav');
  sox(['-D', file, ...FLOAT_WAV, scaled, 'gain', (dbfs - rmsDbfs(file)).toFixed(3)]);
  execFileSync('mv', [scaled, file]);
}

let clipCounter = 0;
export function tempFile(tmp: string, stem: string): string {
  return join(tmp, `${stem}-${++clipCounter}.wav`);
}

/** One utterance, trimmed to its voice, phone band, at `dbfs` RMS. */
export function speak(tmp: string, voice: string, wordsPerMinute: number, text: string, dbfs: number): string {
  const raw = tempFile(tmp, 'espeak');
  execFileSync('espeak-ng', ['-v', voice, '-s', String(wordsPerMinute), '-a', '100', '-g', '0', '-w', raw, text]);
  const out = tempFile(tmp, 'speech');
  sox(['-D', raw, ...FLOAT_WAV, out, ...TRIM, 'rate', '-h', String(RATE), ...PHONE_BAND]);
  setLevel(out, dbfs, tmp);
  return out;
}

/** `ms` of digital silence. */
export function silenceClip(tmp: string, ms: number): string {
  const file = tempFile(tmp, 'gap');
  sox(['-n', ...FLOAT_WAV, file, 'trim', '0', (ms / 1000).toFixed(3)]);
  return file;
}

/** `clip` placed `startMs` into the scene (silence before it). */
export function placed(tmp: string, clip: string, startMs: number): string {
  const file = tempFile(tmp, 'placed');
  sox(['-D', clip, ...FLOAT_WAV, file, 'pad', (startMs / 1000).toFixed(3)]);
  return file;
}

/** A faint hiss, `seconds` long: a phone line is never digital silence. */
export function lineHiss(tmp: string, seconds: string, dbfs: number): string {
  const hiss = tempFile(tmp, 'hiss');
  sox(['-R', '-n', ...FLOAT_WAV, hiss, 'synth', seconds, 'whitenoise', ...PHONE_BAND]);
  setLevel(hiss, dbfs, tmp);
  return hiss;
}

/** Mixes `parts` (each starting at 0) into `seconds` of raw mu-law at `out`. */
export function mixToMulaw(parts: string[], out: string, seconds: string): void {
  const mixArgs = parts.length === 1 ? parts : ['-m', ...parts.flatMap((part) => ['-v', '1', part])];
  sox(['-D', ...mixArgs, ...MULAW_RAW, out, 'trim', '0', seconds]);
}

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
export function backgroundBeds(tmp: string, seconds: number): Record<NoiseKind, string> {
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

/** `seconds` of `bed` from `offsetSeconds`, at `dbfs` RMS. */
export function backgroundClip(tmp: string, bed: string, offsetSeconds: number, seconds: string, dbfs: number): string {
  const clip = tempFile(tmp, 'background');
  sox(['-D', bed, ...FLOAT_WAV, clip, 'trim', offsetSeconds.toFixed(3), seconds]);
  setLevel(clip, dbfs, tmp);
  return clip;
}

/** The tools' versions, with a warning when they differ from those the corpora were made with. */
export function toolVersions(): { espeakNg: string; sox: string } {
  const espeak = /text-to-speech: (\S+)/.exec(execFileSync('espeak-ng', ['--version'], { encoding: 'utf8' }))?.[1] ?? 'unknown';
  const soxVersion = /SoX (v\S+)/.exec(execFileSync('sox', ['--version'], { encoding: 'utf8' }))?.[1] ?? 'unknown';
  if (espeak !== EXPECTED_ESPEAK) process.stderr.write(`warning: espeak-ng ${espeak}, the corpus was made with ${EXPECTED_ESPEAK}\n`);
  if (soxVersion !== EXPECTED_SOX) process.stderr.write(`warning: sox ${soxVersion}, the corpus was made with ${EXPECTED_SOX}\n`);
  return { espeakNg: espeak, sox: soxVersion };
}

/**
 * Writes a corpus to `outDir`: `labels.json` (the corpus as JSON), the `extra` files, each scene's audio (made in
 * `tmp`: its `file`, and its `dryFile` when it has one) and `README.md`, which `readme` writes from the corpus and the
 * files before it. Returns every file.
 */
export function writeCorpus<C extends { scenes: ReadonlyArray<{ file: string; dryFile?: string }> }>(
  tmp: string,
  outDir: string,
  corpus: C,
  extra: Record<string, Buffer>,
  readme: (corpus: C, files: Record<string, Buffer>) => string,
): Record<string, Buffer> {
  const files: Record<string, Buffer> = { 'labels.json': Buffer.from(`${JSON.stringify(corpus, null, 2)}\n`), ...extra };
  for (const scene of corpus.scenes) for (const file of [scene.file, scene.dryFile ?? []].flat()) files[file] = readFileSync(join(tmp, file));
  files['README.md'] = Buffer.from(readme(corpus, files));
  mkdirSync(outDir, { recursive: true });
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(outDir, name), bytes);
  return files;
}

/**
 * A corpus script's command line: without arguments, builds into `outDir`; with `--check`, builds into a temporary
 * directory and compares with the committed files (exit code 1 when any differs).
 */
export function buildOrCheck(outDir: string, build: (dir: string) => Record<string, Buffer>): void {
  const label = outDir.slice(outDir.lastIndexOf('fixtures'));
  if (process.argv.includes('--check')) {
    const dir = mkdtempSync(join(tmpdir(), 'corpus-check-'));
    try {
      const files = build(dir);
      const committed = new Set(readdirSync(outDir));
      const differing = Object.entries(files).filter(([name, bytes]) => !committed.has(name) || !readFileSync(join(outDir, name)).equals(bytes));
      if (differing.length > 0) {
        process.stderr.write(`differs from the committed corpus: ${differing.map(([name]) => name).join(', ')}\n`);
        process.exitCode = 1;
      } else process.stdout.write(`${label} matches (${Object.keys(files).length} files)\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return;
  }
  const files = build(outDir);
  const total = Object.values(files).reduce((sum, f) => sum + f.length, 0);
  process.stdout.write(`${label}: ${Object.keys(files).length} files, ${(total / 1e6).toFixed(2)} MB\n`);
}

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The answering-machine corpus (fixtures/answering-machine/, made by scripts/make-answering-machine-corpus.ts): what
 * the callee's side of an outbound call sends in its first seconds: a person's hello, a voicemail greeting and its
 * beep, a call-screening assistant's prompt, a fax's answer tone. Raw G.711 mu-law, 8000 Hz, mono, no header
 * (Twilio's inbound `media` payload), with labels saying who answered and where each sound is.
 */

export type AnsweredByLabel = 'human' | 'machine' | 'screener' | 'fax';

export interface LabelledSpeech {
  text: string;
  /** espeak-ng voice, e.g. `en-gb+m3`. */
  voice: string;
  startMs: number;
  endMs: number;
}

export interface AnsweringMachineScene {
  name: string;
  answeredBy: AnsweredByLabel;
  /** The audio, relative to fixtures/answering-machine/. */
  file: string;
  durationMs: number;
  speech: LabelledSpeech[];
  /** A machine's beep (two when `count` is 2, `gapMs` apart): its pitch and where the last one ends. */
  beep?: { frequencyHz: number; count: 1 | 2; startMs: number; endMs: number };
  /** A fax machine's 2100 Hz answer tone. */
  faxTone?: { startMs: number; endMs: number };
  /** A machine starts recording here: the end of its beep, or of its greeting when it has none. */
  recordingStartsAtMs?: number;
  background?: { kind: string; snrDb: number };
}

export interface AnsweringMachineCorpus {
  levels: { speechDbfs: number; beepDbfs: number; faxDbfs: number; lineNoiseDbfs: number };
  tools: { espeakNg: string; sox: string };
  scenes: AnsweringMachineScene[];
}

export const ANSWERING_MACHINE_CORPUS_DIR = fileURLToPath(new URL('../../fixtures/answering-machine/', import.meta.url));

export function loadAnsweringMachineCorpus(): AnsweringMachineCorpus {
  return JSON.parse(readFileSync(`${ANSWERING_MACHINE_CORPUS_DIR}labels.json`, 'utf8')) as AnsweringMachineCorpus;
}

export function loadAnsweringMachineAudio(scene: AnsweringMachineScene): Uint8Array {
  return new Uint8Array(readFileSync(`${ANSWERING_MACHINE_CORPUS_DIR}${scene.file}`));
}

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MULAW_BYTES_PER_MS } from '../../src/audio/format.js';
import { MULAW_SILENCE_BYTE, mulawDecodeSample } from '../../src/audio/mulaw.js';

/**
 * The caller-audio corpus for turn taking (fixtures/turn-taking/, made by scripts/make-turn-corpus.ts): what a
 * caller's phone sends while the agent talks or is silent, with labels saying where the caller really speaks and
 * what else is on the line. Audio is raw G.711 mu-law, 8000 Hz, mono, no header (Twilio's inbound `media` payload).
 */

/** What a scene measures. */
export type SceneGroup =
  /** The caller says a sentence over the agent: it must cut the agent. */
  | 'barge-in'
  /** The caller says "mm-hm", "okay"… over the agent: it must not cut the agent. */
  | 'backchannel'
  /** Only the agent's own voice echoed back from the caller's phone: nothing may happen. */
  | 'echo'
  /** Only noise while the agent talks: nothing may happen. */
  | 'noise'
  /** The agent is silent; the caller takes a turn (onset, pauses inside it, its end). */
  | 'turn';

export type BackgroundKind = 'pink' | 'white' | 'street' | 'babble' | 'tv';

export interface Interval {
  startMs: number;
  endMs: number;
}

export interface CallerSegment extends Interval {
  kind: 'sentence' | 'backchannel';
  text: string;
  /** espeak-ng voice, e.g. `en-gb+m3`. */
  voice: string;
  wordsPerMinute: number;
  level: 'normal' | 'quiet';
  /** Silences inside the segment that are not the end of the caller's turn (a mid-sentence pause). */
  pauses: Interval[];
}

export interface SceneLabels {
  name: string;
  group: SceneGroup;
  /** The caller audio, relative to fixtures/turn-taking/. */
  file: string;
  /** The same without the echo (scenes with echo): a test phone adds the echo of what the agent really played. */
  dryFile?: string;
  durationMs: number;
  /** The agent's audio the caller heard (a clip of the corpus) and when; absent when the agent is silent. */
  agent?: { file: string } & Interval;
  /** The agent's voice coming back from the caller's phone: how much quieter and how late. */
  echo?: { returnLossDb: number; delayMs: number };
  /** Sound on the line other than the caller and the echo; SNR relative to the caller's normal speech level. */
  background?: { kind: BackgroundKind; snrDb: number };
  caller: CallerSegment[];
}

export interface TurnCorpus {
  /** How the audio was made: levels in dBFS RMS after the phone band filter. */
  levels: { callerNormalDbfs: number; callerQuietDbfs: number; agentDbfs: number; lineNoiseDbfs: number };
  tools: { espeakNg: string; sox: string };
  scenes: SceneLabels[];
}

export const TURN_CORPUS_DIR = fileURLToPath(new URL('../../fixtures/turn-taking/', import.meta.url));

export function loadTurnCorpus(): TurnCorpus {
  return JSON.parse(readFileSync(`${TURN_CORPUS_DIR}labels.json`, 'utf8')) as TurnCorpus;
}

/** The caller audio of a scene (mu-law bytes); `dry`: without the echo, where the scene has one. */
export function loadSceneAudio(scene: SceneLabels, options: { dry?: boolean } = {}): Uint8Array {
  return new Uint8Array(readFileSync(`${TURN_CORPUS_DIR}${(options.dry === true ? scene.dryFile : undefined) ?? scene.file}`));
}

/** The agent audio the caller heard, placed on the scene's timeline (mu-law silence where the agent is quiet). */
export function loadSceneAgentAudio(scene: SceneLabels): Uint8Array {
  const timeline = new Uint8Array(scene.durationMs * MULAW_BYTES_PER_MS).fill(MULAW_SILENCE_BYTE);
  if (scene.agent === undefined) return timeline;
  const clip = new Uint8Array(readFileSync(`${TURN_CORPUS_DIR}${scene.agent.file}`));
  const start = scene.agent.startMs * MULAW_BYTES_PER_MS;
  const length = Math.min(clip.length, (scene.agent.endMs - scene.agent.startMs) * MULAW_BYTES_PER_MS, timeline.length - start);
  timeline.set(clip.subarray(0, length), start);
  return timeline;
}

/**
 * What the agent says in a scene, as a Live model speaks it (24 kHz PCM16, linear interpolation ×3), for the fake's
 * reply: its clip, as long as the scene plays it.
 */
export function loadSceneAgentSpeech(scene: SceneLabels): Int16Array {
  if (scene.agent === undefined) return new Int16Array(0);
  const clip = readFileSync(`${TURN_CORPUS_DIR}${scene.agent.file}`).subarray(0, (scene.agent.endMs - scene.agent.startMs) * MULAW_BYTES_PER_MS);
  const out = new Int16Array(clip.length * 3);
  for (let i = 0; i < clip.length; i++) {
    const here = mulawDecodeSample(clip[i]!);
    const next = i + 1 < clip.length ? mulawDecodeSample(clip[i + 1]!) : here;
    for (let k = 0; k < 3; k++) out[i * 3 + k] = Math.round(here + ((next - here) * k) / 3);
  }
  return out;
}

export function sceneNamed(name: string): SceneLabels {
  const scene = loadTurnCorpus().scenes.find((s) => s.name === name);
  if (scene === undefined) throw new Error(`no scene ${name} in the turn-taking corpus`);
  return scene;
}

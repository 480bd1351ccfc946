import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MULAW_BYTES_PER_MS } from '../../src/audio/format.js';
import { MULAW_SILENCE_BYTE } from '../../src/audio/mulaw.js';

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

/** The caller audio of a scene (mu-law bytes). */
export function loadSceneAudio(scene: SceneLabels): Uint8Array {
  return new Uint8Array(readFileSync(`${TURN_CORPUS_DIR}${scene.file}`));
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

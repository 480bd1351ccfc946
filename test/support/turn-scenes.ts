import { FRAME_MS, MULAW_BYTES_PER_MS, TWILIO_FRAME_BYTES } from '../../src/audio/format.js';
import type { FakeSession } from '../fakes/gemini-live/server.js';
import type { FakeTwilioMediaStream, FakeTwilioMediaStreamOptions } from '../fakes/twilio/index.js';
import { loadSceneAudio, type SceneLabels } from './turn-corpus.js';

/**
 * The caller's phone for a scene: it echoes what it really plays as the scene's echo says (so a paused agent's echo
 * stops with it). Open the call's stream with these options, and play the scene with `playScene`.
 */
export function phoneFor(scene: SceneLabels): Partial<FakeTwilioMediaStreamOptions> {
  return scene.echo === undefined ? {} : { echo: scene.echo };
}

/**
 * A corpus scene played on a call through the real server, as the caller's phone sends it: the scene without its
 * echo (the phone, `phoneFor`, adds the echo of the agent's real audio). The model should speak the scene's agent
 * audio (loadSceneAgentSpeech). The scene starts where its agent starts talking, the moment the agent's first audio
 * reaches Twilio (it plays from arrival); returns where the scene's time 0 falls on the fake Twilio's clock.
 */
export async function playScene(twilio: FakeTwilioMediaStream, scene: SceneLabels, options: { agentTimeoutMs?: number } = {}): Promise<ScenePlayback> {
  const audio = loadSceneAudio(scene, { dry: true });
  const agentStartMs = scene.agent?.startMs ?? 0;
  if (scene.agent !== undefined) await twilio.waitForAgentAudio({ timeoutMs: options.agentTimeoutMs ?? 5_000 });
  const sentBefore = twilio.sent.length;
  const played = audio.subarray(agentStartMs * MULAW_BYTES_PER_MS);
  const firstPayload = Buffer.from(played.subarray(0, TWILIO_FRAME_BYTES)).toString('base64');
  const playback = await twilio.playCallerAudio(played);
  const first = twilio.sent.slice(sentBefore).find((record) => record.message.event === 'media' && record.message.media.payload === firstPayload);
  const timestamp = first?.message.event === 'media' ? Number(first.message.media.timestamp) : Number.NaN;
  return { sceneStartAtMs: (playback.firstFrameAtMs ?? Number.NaN) - agentStartMs, sceneStartStreamMs: timestamp - agentStartMs };
}

/** Where a scene's time 0 fell: on the fake Twilio's clock, and on the stream's (`media.timestamp`, the model's audio). */
export interface ScenePlayback {
  sceneStartAtMs: number;
  sceneStartStreamMs: number;
}

/**
 * The model's view of one activity: ms of caller audio it had received when `activityStart` and `activityEnd`
 * came (the audio's own clock; it counts the onset the call sends again after `activityStart`).
 */
export interface ActivityMarks {
  startAudioMs: number;
  endAudioMs: number | undefined;
}

/** Every activityStart (and its activityEnd) a fake Live session received, in order. */
export function activityMarks(session: FakeSession): ActivityMarks[] {
  const marks: ActivityMarks[] = [];
  let audioMs = 0;
  for (const message of session.receivedMessages) {
    if (message.kind !== 'realtimeInput') continue;
    const input = message.input;
    if (input.type === 'audio') audioMs += Buffer.from(input.data, 'base64').length / 2 / (input.sampleRate / 1000);
    else if (input.type === 'activityStart') marks.push({ startAudioMs: audioMs, endAudioMs: undefined });
    else if (input.type === 'activityEnd' && marks.length > 0 && marks.at(-1)!.endAudioMs === undefined) marks.at(-1)!.endAudioMs = audioMs;
  }
  return marks;
}

/** Where on the stream's clock (`media.timestamp`) Twilio got its `clear`s: the last caller frame sent before each. */
export function clearsOnStreamClock(twilio: FakeTwilioMediaStream): number[] {
  return twilio.clears.map((clear) => {
    const before = twilio.sent.filter((record) => record.message.event === 'media' && record.atMs <= clear.atMs).at(-1);
    return before?.message.event === 'media' ? Number(before.message.media.timestamp) + FRAME_MS : Number.NaN;
  });
}

import { describe, expect, it } from 'vitest';
import { localDetectorSettings } from '../../../src/agents/turn-taking.js';
import { mulawEncodeSample, MULAW_SILENCE_BYTE } from '../../../src/audio/mulaw.js';
import { AgentPlayout } from '../../../src/call/agent-playout.js';
import { LocalTurnTaking } from '../../../src/call/local-turn-taking.js';

/**
 * The per-call coordinator with the energy detector (synchronous, so every decision happens inside the frame that
 * causes it): what reaches the model and Twilio for each thing a caller does. The neural detector goes through the
 * same decisions; test/integration/local-turn-detection.test.ts runs it on real speech through the real server.
 */

const FRAME = 160;
/** A 20 ms frame of a 400 Hz tone at about −20 dBFS: loud enough for the energy detector (−40 dBFS). */
const TONE = Uint8Array.from({ length: FRAME }, (_, i) => mulawEncodeSample(Math.round(3_300 * Math.sin((2 * Math.PI * 400 * i) / 8_000))));
const SILENCE = new Uint8Array(FRAME).fill(MULAW_SILENCE_BYTE);

type Sent = 'activityStart' | 'activityEnd' | { audioMs: number };

function harness(options: { callerInterrupts?: boolean } = {}) {
  const toModel: Sent[] = [];
  const twilio: Array<'media' | 'mark' | 'clear'> = [];
  const hooks: string[] = [];
  let turns: LocalTurnTaking;
  const playout = new AgentPlayout(
    {
      sendMedia: (mulaw) => {
        twilio.push('media');
        turns.agentAudioSent(mulaw);
      },
      sendMark: () => twilio.push('mark'),
      sendClear: () => {
        twilio.push('clear');
        turns.agentAudioCleared();
      },
    },
    () => {},
    { resumable: true, now: () => 0 },
  );
  turns = new LocalTurnTaking({
    turnTaking: { detector: 'energy', settings: localDetectorSettings({}), callerInterrupts: options.callerInterrupts ?? true, preRoll: true },
    vad: undefined,
    // The phone's own mu-law in: what the model gets is the caller's bytes, so replays can be counted.
    modelInput: { encoding: 'mulaw', sampleRateHz: 8_000 },
    conversation: {
      sendAudio: (audio) => {
        const last = toModel.at(-1);
        if (typeof last === 'object') last.audioMs += audio.length / 8;
        else toModel.push({ audioMs: audio.length / 8 });
      },
      activityStart: () => toModel.push('activityStart'),
      activityEnd: () => toModel.push('activityEnd'),
    },
    playout,
    hooks: {
      callerSpeechStarted: () => hooks.push('started'),
      callerSpeechEnded: (silenceMs) => hooks.push(`ended ${silenceMs} ms after the last speech`),
      cutAgent: () => {
        hooks.push('cut');
        playout.interrupt();
      },
    },
  });
  /** The caller's phone: `ms` of a frame, each sent to the model (as the call does) and to the coordinator. */
  const caller = (frame: Uint8Array, ms: number): void => {
    for (let t = 0; t < ms; t += 20) {
      toModel.push({ audioMs: 20 }); // the call sends every frame to the model first
      turns.callerAudio(frame);
    }
  };
  const agentTalks = (ms: number): void => playout.push(new Uint8Array(ms * 8).fill(0x10));
  /** What reached the model, live audio in stretches between marks (the pre-roll is the stretch right after a start). */
  const model = (): Array<string | number> => {
    const out: Array<string | number> = [];
    for (const item of toModel) {
      if (typeof item === 'string') out.push(item);
      else if (typeof out.at(-1) === 'number') out[out.length - 1] = (out.at(-1) as number) + item.audioMs;
      else out.push(item.audioMs);
    }
    return out;
  };
  return { caller, agentTalks, model, twilio, hooks, playout };
}

describe('LocalTurnTaking', () => {
  it('the agent silent: activityStart with the onset sent again after it, then activityEnd after the end silence', () => {
    const h = harness();
    h.caller(SILENCE, 200);
    h.caller(TONE, 400);
    h.caller(SILENCE, 600);
    const settings = localDetectorSettings({});
    // 200 ms of silence and the 80 ms of speech the detector needed (its 20 ms frames past the 64 ms onset); then
    // the onset again (those 80 ms and the 100 ms before them), the rest of the speech, the end silence; the rest.
    expect(h.model()).toEqual([280, 'activityStart', 180 + 320 + settings.endSilenceMs, 'activityEnd', 600 - settings.endSilenceMs]);
    expect(h.hooks).toEqual(['started', `ended ${settings.endSilenceMs} ms after the last speech`]);
    expect(h.twilio).toEqual([]);
  });

  it('a short sound over the agent: Twilio cleared, the agent resumed after the silence; the model hears nothing', () => {
    const h = harness();
    h.agentTalks(3_000);
    h.caller(SILENCE, 200);
    h.caller(TONE, 300); // a backchannel: shorter than minBargeInSpeechMs
    expect(h.twilio.at(-1)).toBe('clear');
    expect(h.playout.isPaused).toBe(true);
    const sent = h.twilio.length;
    h.caller(SILENCE, 600);
    expect(h.playout.isPaused).toBe(false);
    expect(h.twilio.slice(sent)).toContain('media'); // what the caller had not heard, sent again
    expect(h.model().filter((item) => typeof item === 'string')).toEqual([]);
    expect(h.hooks).toEqual([]);
  });

  it('talking over the agent long enough: cleared at the onset, cut at the minimum, the model told with the onset', () => {
    const h = harness();
    h.agentTalks(3_000);
    h.caller(SILENCE, 200);
    h.caller(TONE, 100);
    expect(h.twilio.filter((item) => item === 'clear')).toHaveLength(1); // paused within 100 ms
    h.caller(TONE, 900);
    expect(h.hooks.slice(0, 2)).toEqual(['cut', 'started']);
    expect(h.twilio.filter((item) => item === 'clear')).toHaveLength(1); // the pause already cleared it
    const [, start, during] = h.model();
    expect(start).toBe('activityStart');
    // The whole speech so far (700 ms of it to decide) and 100 ms before, then the rest live.
    expect(during).toBeGreaterThanOrEqual(localDetectorSettings({}).minBargeInSpeechMs + 100);
    h.caller(SILENCE, 600);
    expect(h.model().at(-2)).toBe('activityEnd');
    expect(h.playout.isPaused).toBe(false);
  });

  it('callerInterrupts false: the agent is never paused, and the caller still has turns', () => {
    const h = harness({ callerInterrupts: false });
    h.agentTalks(3_000);
    h.caller(TONE, 1_000);
    h.caller(SILENCE, 600);
    expect(h.twilio).not.toContain('clear');
    expect(h.model().filter((item) => typeof item === 'string')).toEqual(['activityStart', 'activityEnd']);
    expect(h.hooks).toHaveLength(2);
  });
});

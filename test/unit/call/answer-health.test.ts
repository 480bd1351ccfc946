import { describe, expect, it } from 'vitest';
import { mulawEncodeSample } from '../../../src/audio/mulaw.js';
import { AnswerHealth, INAUDIBLE_BELOW_DBFS, MIN_JUDGED_ANSWER_MS, REJECTED_RUN_TO_RECOVER } from '../../../src/call/answer-health.js';

/** `ms` of a 440 Hz tone at `dbfs` RMS, as 8 kHz mu-law, in 20 ms frames. */
function tone(ms: number, dbfs: number): Uint8Array[] {
  const amplitude = 32768 * Math.SQRT2 * 10 ** (dbfs / 20);
  const frames: Uint8Array[] = [];
  for (let start = 0; start < ms * 8; start += 160) {
    frames.push(Uint8Array.from({ length: 160 }, (_, i) => mulawEncodeSample(Math.round(amplitude * Math.sin((2 * Math.PI * 440 * (start + i)) / 8000)))));
  }
  return frames;
}

function answer(health: AnswerHealth, ms: number, dbfs: number, interrupted = false) {
  for (const frame of tone(ms, dbfs)) health.audio(frame);
  return health.turnEnded(interrupted);
}

describe('AnswerHealth', () => {
  it('passes answers at speaking level and refuses full-length answers too quiet to hear (the samples themselves, not the events)', () => {
    const health = new AnswerHealth();
    expect(answer(health, 2_000, -20)).toBeUndefined();
    expect(answer(health, 2_000, INAUDIBLE_BELOW_DBFS + 3)).toBeUndefined(); // quiet but audible
    expect(answer(health, 2_000, -70)).toBe('inaudibleAnswer'); // a full answer at near-zero amplitude
    expect(answer(health, 2_000, INAUDIBLE_BELOW_DBFS - 3)).toBe('inaudibleAnswer');
    expect(health.stats).toEqual({ inaudibleAnswers: 2, rejectedTurns: 0 });
  });

  it('judges neither a very short sound nor a turn the caller cut, and starts afresh each turn', () => {
    const health = new AnswerHealth();
    expect(answer(health, MIN_JUDGED_ANSWER_MS - 40, -80)).toBeUndefined();
    expect(answer(health, 2_000, -80, true)).toBeUndefined();
    expect(answer(health, 1_000, -20)).toBeUndefined(); // the quiet turns before do not count towards this one
    expect(health.turnEnded(false)).toBeUndefined(); // an empty turn is the watchdog's
    expect(health.stats.inaudibleAnswers).toBe(0);
  });

  it('recovers from a run of rejected turns, not from one; an answer the caller heard ends the run', () => {
    const health = new AnswerHealth();
    expect(health.rejected()).toBeUndefined();
    expect(answer(health, 1_000, -20)).toBeUndefined();
    expect(health.rejected()).toBeUndefined();
    for (let i = 2; i < REJECTED_RUN_TO_RECOVER; i++) expect(health.rejected()).toBeUndefined();
    expect(health.rejected()).toBe('rejectedTurns');
    expect(health.rejected()).toBeUndefined(); // the run starts over after a recovery
    expect(health.stats.rejectedTurns).toBe(REJECTED_RUN_TO_RECOVER + 2);
  });
});

import { dbfsToMeanSquare, mulawMeanSquare } from '../audio/level.js';
import { MULAW_BYTES_PER_MS } from '../audio/format.js';

/**
 * Notices model answers that never reach the caller although every event looks healthy, and says when to recover.
 * Both reported on Vertex AI's `gemini-live-2.5-flash-native-audio` (google-gemini/gemini-live-api-examples#40):
 *   - a full-length answer streamed at near-zero amplitude: the caller hears silence while audio bytes, turns and
 *     transcripts all look normal (5.9 % of one user's production calls);
 *   - turns closed with `turnCompleteReason: "RESPONSE_REJECTED"` and no audio, up to 27 in a row while the
 *     caller kept talking.
 * An answer's loudness is measured from the samples the caller gets (8 kHz mu-law), one table lookup and one add
 * per sample on the way to the phone, nothing allocated. Recovery, for both: a fresh model connection resumed from
 * the latest handle, and a cue asking the model to say it again. A single rejected turn is left to the stall
 * watchdog (an empty turn is cued once); a run of them means the connection itself is stuck.
 */

/**
 * An answer quieter than this (RMS over the whole turn) cannot be heard on a phone line, whose own noise sits
 * around -60 dBFS; speech sits at -30 to -15 dBFS (src/audio/speech-detector.ts).
 */
export const INAUDIBLE_BELOW_DBFS = -55;
/** Shorter answers are not judged: a click or a breath is not an answer. */
export const MIN_JUDGED_ANSWER_MS = 400;
/** Rejected turns in a row that make the call move to a fresh connection. */
export const REJECTED_RUN_TO_RECOVER = 2;

const INAUDIBLE_MEAN_SQUARE = dbfsToMeanSquare(INAUDIBLE_BELOW_DBFS);
const MIN_JUDGED_SAMPLES = MIN_JUDGED_ANSWER_MS * MULAW_BYTES_PER_MS;

export type AnswerRecovery = 'inaudibleAnswer' | 'rejectedTurns';

export class AnswerHealth {
  readonly stats = { inaudibleAnswers: 0, rejectedTurns: 0 };
  private sumOfSquares = 0;
  private samples = 0;
  private rejectedRun = 0;

  /** Agent audio of the current turn, as the caller gets it (8 kHz mu-law). */
  audio(mulaw: Uint8Array): void {
    this.sumOfSquares += mulawMeanSquare(mulaw) * mulaw.length;
    this.samples += mulaw.length;
  }

  /**
   * The agent's turn ended: `inaudibleAnswer` when it was long enough to judge and too quiet to hear. A turn the
   * caller cut is not judged (the model answers what they said next).
   */
  turnEnded(interrupted: boolean): AnswerRecovery | undefined {
    const { sumOfSquares, samples } = this;
    this.sumOfSquares = 0;
    this.samples = 0;
    if (interrupted || samples < MIN_JUDGED_SAMPLES) return undefined;
    if (sumOfSquares / samples >= INAUDIBLE_MEAN_SQUARE) {
      this.rejectedRun = 0; // an answer the caller heard: the connection works
      return undefined;
    }
    this.stats.inaudibleAnswers++;
    return 'inaudibleAnswer';
  }

  /** The model declined to answer a turn: `rejectedTurns` once enough did in a row. */
  rejected(): AnswerRecovery | undefined {
    this.stats.rejectedTurns++;
    this.rejectedRun++;
    if (this.rejectedRun < REJECTED_RUN_TO_RECOVER) return undefined;
    this.rejectedRun = 0;
    return 'rejectedTurns';
  }
}

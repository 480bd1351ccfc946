import { FRAME_MS } from '../../audio/format.js';
import { meanSquareToDbfs } from '../../audio/level.js';
import { SpeechDetector } from '../../audio/speech-detector.js';

/** The scripted models take caller audio as Gemini does: 16 kHz PCM16 LE mono. */
export const SCRIPTED_INPUT_RATE_HZ = 16_000;
const WINDOW_SAMPLES = (SCRIPTED_INPUT_RATE_HZ * FRAME_MS) / 1000;

/**
 * When a caller's turn starts and ends: speech louder than −35 dBFS for 60 ms starts it, 500 ms of quiet ends it.
 * Quicker than the call's own detector (speech-detector.ts defaults), so the model, like a real one, has heard the
 * turn end before the call's stall clock starts.
 */
export const TURN_DETECTION = { thresholdDbfs: -35, startMs: 60, endSilenceMs: 500 } as const;

/** One caller turn as heard, on the conversation's audio timeline (ms since its first audio). */
export interface HeardTurn {
  startMs: number;
  endMs: number;
  /** The turn's audio (16 kHz), at most `maxTurnMs` of it. */
  audio: Int16Array;
  /** Level of the turn's speech, and of the quiet the model heard before it (−Infinity: digital silence). */
  levelDbfs: number;
  quietLevelDbfs: number;
}

export interface CallerTurnsListener {
  started(): void;
  ended(turn: HeardTurn): void;
}

/**
 * Turns in a stream of caller audio: windows of FRAME_MS through the shared energy detector, the audio of each turn
 * kept from its first voiced window (the detector reports the start `startDelayMs` late) to its last. Or, when the
 * call detects the turns (`manual`), from its `activityStart` to its `activityEnd`, as a Live model takes them.
 */
export class CallerTurns {
  private readonly detector = new SpeechDetector(TURN_DETECTION);
  private readonly window = new Int16Array(WINDOW_SAMPLES);
  private windowFill = 0;
  private windowsHeard = 0;
  /** The latest windows, so a turn starts where its voice did, not where the detector was sure of it. */
  private readonly recent: Array<{ samples: Int16Array; meanSquare: number }> = [];
  private turn: { startWindow: number; windows: Int16Array[] } | undefined;
  /** The quiet heard since the last turn: its summed mean squares and how many windows. */
  private quietEnergy = 0;
  private quietWindows = 0;
  /** A byte of a sample split across two `push` calls. */
  private oddByte: number | undefined;

  constructor(
    private readonly listener: CallerTurnsListener,
    private readonly maxTurnMs: number,
    private readonly manual = false,
  ) {}

  /** The call says the caller started talking (manual turns): the turn's audio starts with the next window. */
  activityStart(): void {
    if (!this.manual || this.turn !== undefined) return;
    this.turn = { startWindow: this.windowsHeard, windows: [] };
    this.listener.started();
  }

  /** The call says the caller's turn is over (manual turns): it holds everything since its start. */
  activityEnd(): void {
    if (this.manual && this.turn !== undefined) this.finishTurn(this.windowsHeard);
  }

  /** Caller audio, PCM16 LE bytes; any length. */
  push(pcm: Uint8Array): void {
    let i = 0;
    if (this.oddByte !== undefined && pcm.length > 0) {
      this.addSample(toInt16(this.oddByte, pcm[0]!));
      this.oddByte = undefined;
      i = 1;
    }
    for (; i + 1 < pcm.length; i += 2) this.addSample(toInt16(pcm[i]!, pcm[i + 1]!));
    if (i < pcm.length) this.oddByte = pcm[i];
  }

  private addSample(sample: number): void {
    this.window[this.windowFill++] = sample;
    if (this.windowFill === WINDOW_SAMPLES) {
      this.windowFill = 0;
      this.onWindow(this.window.slice());
    }
  }

  private onWindow(samples: Int16Array): void {
    let sum = 0;
    for (const sample of samples) sum += sample * sample;
    const meanSquare = sum / samples.length;
    this.windowsHeard++;
    this.recent.push({ samples, meanSquare });
    if (this.recent.length > this.detector.startDelayMs / FRAME_MS) this.recent.shift();
    if (this.turn !== undefined && this.turn.windows.length * FRAME_MS < this.maxTurnMs) this.turn.windows.push(samples);
    if (this.manual) {
      if (this.turn === undefined) this.addQuiet(meanSquare);
      return;
    }
    const transition = this.detector.pushMeanSquare(meanSquare);
    if (transition === 'started') this.onStarted();
    else if (transition === 'ended') this.onEnded();
    else if (this.turn === undefined) this.addQuiet(meanSquare);
  }

  private addQuiet(meanSquare: number): void {
    this.quietEnergy += meanSquare;
    this.quietWindows++;
  }

  private onStarted(): void {
    const voiced = this.recent.slice(-this.detector.startDelayMs / FRAME_MS);
    // Those windows were counted as quiet before the detector was sure they were speech.
    for (const { meanSquare } of voiced.slice(0, -1)) {
      this.quietEnergy -= meanSquare;
      this.quietWindows--;
    }
    this.turn = { startWindow: this.windowsHeard - voiced.length, windows: voiced.map(({ samples }) => samples) };
    this.listener.started();
  }

  private onEnded(): void {
    this.finishTurn(this.windowsHeard - this.detector.endDelayMs / FRAME_MS);
  }

  /** The turn ends at window `endWindow` (its trailing quiet not included). */
  private finishTurn(endWindow: number): void {
    const turn = this.turn;
    this.turn = undefined;
    if (turn === undefined) return;
    const kept = turn.windows.slice(0, Math.max(0, Math.min(turn.windows.length, endWindow - turn.startWindow)));
    const audio = new Int16Array(kept.length * WINDOW_SAMPLES);
    let energy = 0;
    kept.forEach((samples, index) => audio.set(samples, index * WINDOW_SAMPLES));
    for (const sample of audio) energy += sample * sample;
    const quietLevelDbfs = dbfs(this.quietEnergy, this.quietWindows);
    this.quietEnergy = 0;
    this.quietWindows = 0;
    this.listener.ended({
      startMs: turn.startWindow * FRAME_MS,
      endMs: endWindow * FRAME_MS,
      audio,
      levelDbfs: dbfs(energy / WINDOW_SAMPLES, kept.length),
      quietLevelDbfs,
    });
  }
}

/** The level of `windows` windows whose mean squares add up to `energy`. */
function dbfs(energy: number, windows: number): number {
  return windows <= 0 ? -Infinity : meanSquareToDbfs(energy / windows);
}

function toInt16(low: number, high: number): number {
  return ((high << 8) | low) << 16 >> 16;
}

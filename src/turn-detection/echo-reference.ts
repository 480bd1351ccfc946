import { FRAME_MS, MULAW_BYTES_PER_MS, TWILIO_FRAME_BYTES } from '../audio/format.js';
import { meanSquareToDbfs, mulawMeanSquare } from '../audio/level.js';

/**
 * How loud the agent's own voice could be coming back from the caller's phone right now. The service knows what
 * the caller heard and when (the playout, from Twilio's marks); echo arrives 50–200 ms later and 25–35 dB down
 * on phones that leak. This keeps the level of each 20 ms of agent audio on the call's clock and answers with the
 * loudest one that could still be echoing into a window of caller audio: CallerTurnDetector's echo test.
 */

/** Echo delays up to 200 ms, plus what the playout's position may be off by. */
export const ECHO_REACH_MS = 300;

export class AgentEchoReference {
  /** Per 20 ms of agent audio: when it started playing (call clock) and its mean square; oldest at `head`. */
  private startMs = new Float64Array(64);
  private meanSquare = new Float64Array(64);
  private head = 0;
  private count = 0;

  constructor(private readonly reachMs = ECHO_REACH_MS) {}

  /** Agent audio (mu-law) that started playing to the caller at `startMs`, in order; it may lie ahead of now. */
  played(startMs: number, mulaw: Uint8Array): void {
    for (let offset = 0; offset < mulaw.length; offset += TWILIO_FRAME_BYTES) {
      this.append(startMs + offset / MULAW_BYTES_PER_MS, mulawMeanSquare(mulaw, offset, Math.min(mulaw.length, offset + TWILIO_FRAME_BYTES)));
    }
  }

  /** Twilio dropped what had not played by `atMs` (a `clear`): it will never echo. */
  clearFrom(atMs: number): void {
    while (this.count > 0 && (this.startMs[this.slot(this.count - 1)] as number) >= atMs) this.count--;
  }

  /** The loudest agent audio (dBFS) that can echo into the caller window `(endMs − durationMs, endMs]`. */
  loudestDbfs(endMs: number, durationMs: number): number {
    const from = endMs - durationMs - this.reachMs - FRAME_MS;
    // Older frames can never echo again: later windows only look further ahead.
    while (this.count > 0 && (this.startMs[this.head] as number) < from) {
      this.head = (this.head + 1) % this.startMs.length;
      this.count--;
    }
    let loudest = 0;
    for (let i = 0; i < this.count; i++) {
      const slot = this.slot(i);
      if ((this.startMs[slot] as number) >= endMs) break;
      loudest = Math.max(loudest, this.meanSquare[slot] as number);
    }
    return meanSquareToDbfs(loudest);
  }

  private slot(index: number): number {
    return (this.head + index) % this.startMs.length;
  }

  private append(startMs: number, meanSquare: number): void {
    if (this.count === this.startMs.length) this.grow();
    const slot = this.slot(this.count);
    this.startMs[slot] = startMs;
    this.meanSquare[slot] = meanSquare;
    this.count++;
  }

  /** Agent audio queued ahead of its playing (a model reply arrives faster than real time) needs room. */
  private grow(): void {
    const startMs = new Float64Array(this.startMs.length * 2);
    const meanSquare = new Float64Array(this.startMs.length * 2);
    for (let i = 0; i < this.count; i++) {
      startMs[i] = this.startMs[this.slot(i)] as number;
      meanSquare[i] = this.meanSquare[this.slot(i)] as number;
    }
    this.startMs = startMs;
    this.meanSquare = meanSquare;
    this.head = 0;
  }
}

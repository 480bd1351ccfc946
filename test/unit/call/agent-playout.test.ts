import { describe, expect, it } from 'vitest';
import { AgentPlayout, type PlayoutSink } from '../../../src/call/agent-playout.js';
import { MAX_UNCONFIRMED_AGENT_MS } from '../../../src/telephony/media-stream-connection.js';

type Sent = { kind: 'media'; bytes: Buffer } | { kind: 'mark'; name: string } | { kind: 'clear' };

function recordingSink(): PlayoutSink & { sent: Sent[] } {
  const sent: Sent[] = [];
  return {
    sent,
    sendMedia: (mulaw) => sent.push({ kind: 'media', bytes: Buffer.from(mulaw) }), // a copy: the playout reuses its frame
    sendMark: (name) => sent.push({ kind: 'mark', name }),
    sendClear: () => sent.push({ kind: 'clear' }),
  };
}

const bytes = (length: number, value = 0x10) => new Uint8Array(length).fill(value);
const marks = (sent: Sent[]) => sent.filter((item): item is Extract<Sent, { kind: 'mark' }> => item.kind === 'mark').map((item) => item.name);

describe('AgentPlayout', () => {
  it('sends whole 160-byte frames, each batch followed by a mark', () => {
    const sink = recordingSink();
    const playout = new AgentPlayout(sink);
    playout.push(bytes(400)); // 2 frames now, 80 bytes held
    playout.push(bytes(100)); // completes a frame (80 + 80), 20 bytes held
    playout.finishTurn(); // pads the last 20 bytes to a frame
    const media = sink.sent.filter((item) => item.kind === 'media');
    expect(media.every((item) => item.kind === 'media' && item.bytes.length === 160)).toBe(true);
    expect(media).toHaveLength(4);
    expect(sink.sent.map((item) => item.kind)).toEqual(['media', 'media', 'mark', 'media', 'mark', 'media', 'mark']);
    const last = media[3];
    expect(last?.kind === 'media' && [...last.bytes.subarray(20)].every((b) => b === 0xff)).toBe(true);
    expect(playout.currentTurn()).toEqual({ turn: 1, sentMs: 80, heardMs: 0 });
  });

  it('counts heard audio from echoed marks only', () => {
    const sink = recordingSink();
    const playout = new AgentPlayout(sink);
    playout.push(bytes(320));
    playout.push(bytes(480));
    const [first, second] = marks(sink.sent);
    playout.onMarkEcho(first!);
    expect(playout.currentTurn().heardMs).toBe(40);
    expect(playout.unconfirmedMs).toBe(60);
    playout.onMarkEcho(first!); // a duplicate echo counts once
    playout.onMarkEcho('t9:m99'); // unknown marks are ignored
    playout.onMarkEcho(second!);
    expect(playout.totals).toEqual({ sentMs: 100, heardMs: 100 });
    expect(playout.unconfirmedMs).toBe(0);
  });

  it('on interrupt sends clear, reports what was heard and ignores the marks the clear returns', () => {
    const sink = recordingSink();
    const playout = new AgentPlayout(sink);
    playout.push(bytes(160 * 5));
    playout.push(bytes(160 * 5));
    playout.push(bytes(100)); // partial frame, dropped by the interrupt
    const [first, second] = marks(sink.sent);
    playout.onMarkEcho(first!);

    const heard = playout.interrupt();
    expect(sink.sent.at(-1)).toEqual({ kind: 'clear' });
    expect(heard).toEqual({ turn: 1, sentMs: 200, heardMs: 100 });
    expect(playout.unconfirmedMs).toBe(0);

    // The next turn plays normally; the old turn's mark echoed by the clear must not count for it.
    playout.push(bytes(160));
    playout.onMarkEcho(second!);
    expect(playout.currentTurn()).toEqual({ turn: 2, sentMs: 20, heardMs: 0 });
    const newMark = marks(sink.sent).at(-1)!;
    expect(newMark).toMatch(/^t2:/);
    playout.onMarkEcho(newMark);
    expect(playout.currentTurn()).toEqual({ turn: 2, sentMs: 20, heardMs: 20 });
    expect(playout.totals).toEqual({ sentMs: 220, heardMs: 120 });
    // The interrupted turn's partial frame never went out.
    expect(sink.sent.filter((item) => item.kind === 'media')).toHaveLength(11);
  });

  it('a peer that never echoes marks: past MAX_UNCONFIRMED_AGENT_MS the oldest marks are given up, so memory stays bounded', () => {
    const sink = recordingSink();
    const playout = new AgentPlayout(sink);
    for (let i = 0; i < 3_000; i++) playout.push(bytes(1_600)); // ten minutes of 200 ms chunks, no echo
    expect(playout.unconfirmedMs).toBe(MAX_UNCONFIRMED_AGENT_MS);
    expect(playout.totals).toEqual({ sentMs: 600_000, heardMs: 0 });
    // The echo of a mark given up counts for nothing; a recent one still counts.
    const names = marks(sink.sent);
    playout.onMarkEcho(names[0]!);
    playout.onMarkEcho(names.at(-1)!);
    expect(playout.totals.heardMs).toBe(200);
  });

  describe('pause and resume (local turn detection)', () => {
    /** A playout on a clock the test moves; frames carry their index so what is resent can be told apart. */
    function pausable() {
      const sink = recordingSink();
      let nowMs = 0;
      const playout = new AgentPlayout(sink, () => {}, { resumable: true, now: () => nowMs });
      const frames = (first: number, count: number) => {
        const out = new Uint8Array(count * 160);
        for (let i = 0; i < count; i++) out.fill(first + i, i * 160, (i + 1) * 160);
        return out;
      };
      const mediaSince = (index: number) => sink.sent.slice(index).flatMap((item) => (item.kind === 'media' ? [item.bytes[0]] : []));
      return { sink, playout, frames, mediaSince, at: (ms: number) => void (nowMs = ms) };
    }

    it('clears Twilio, keeps what the caller has not heard, and resumes from there with what arrived meanwhile', () => {
      const { sink, playout, frames, mediaSince, at } = pausable();
      playout.push(frames(0, 10)); // 200 ms, sent at 0
      playout.push(frames(10, 10)); // 200 ms more, queued behind it
      const [first] = marks(sink.sent);
      at(200);
      playout.onMarkEcho(first!); // the first batch has played
      at(260); // 60 ms into the second batch
      playout.pause();
      expect(sink.sent.at(-1)).toEqual({ kind: 'clear' });
      expect(playout.isPaused).toBe(true);
      playout.push(frames(20, 5)); // the model goes on while the caller talks: held, not sent
      const resumedFrom = sink.sent.length;
      expect(playout.unconfirmedMs).toBe(240); // 140 ms unheard + 100 ms held
      playout.resume();
      // Frames 13.. (the caller heard 10, 11 and 12), then the held ones, in one batch with its mark.
      expect(mediaSince(resumedFrom)).toEqual([13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24]);
      expect(sink.sent.at(-1)?.kind).toBe('mark');
      // The resent part is not counted as sent twice.
      expect(playout.currentTurn().sentMs).toBe(500);
    });

    it('a cut while paused drops what was held and sends no second clear', () => {
      const { sink, playout, frames, at } = pausable();
      playout.push(frames(0, 10));
      at(100);
      playout.pause();
      playout.push(frames(10, 10));
      const before = sink.sent.length;
      expect(playout.interrupt()).toEqual({ turn: 1, sentMs: 200, heardMs: 0 });
      expect(sink.sent.length).toBe(before);
      expect(playout.unconfirmedMs).toBe(0);
      playout.resume(); // nothing to resume after a cut
      expect(sink.sent.length).toBe(before);
    });

    it('learns how late Twilio plays what it is sent from the echo of a batch sent to an idle Twilio', () => {
      const { sink, playout, frames, at } = pausable();
      playout.push(frames(0, 10)); // 200 ms to an idle Twilio at 0
      playout.push(frames(10, 10)); // queued: its echo says nothing about the lag
      const [first, second] = marks(sink.sent);
      at(270);
      playout.onMarkEcho(first!);
      expect(playout.lagMs).toBe(70);
      at(600);
      playout.onMarkEcho(second!);
      expect(playout.lagMs).toBe(70);
    });

    it('a playout made without resumable never pauses', () => {
      const sink = recordingSink();
      const playout = new AgentPlayout(sink);
      playout.push(bytes(320));
      playout.pause();
      expect(playout.isPaused).toBe(false);
      expect(sink.sent.some((item) => item.kind === 'clear')).toBe(false);
    });
  });
});

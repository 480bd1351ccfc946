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
});

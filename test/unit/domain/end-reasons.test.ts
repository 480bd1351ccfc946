import { describe, expect, it } from 'vitest';
import { asEndReason, END_REASONS, isLostStream, LOST_STREAM_REASONS } from '../../../src/domain/end-reasons.js';
import { parseRecordingLog, RECORDING_FORMAT, RECORDING_FORMAT_VERSION } from '../../../src/recording/recording-format.js';

describe('end reasons', () => {
  it('count only a lost stream as an ending a failover may continue', () => {
    expect(END_REASONS.filter(isLostStream)).toEqual([...LOST_STREAM_REASONS]);
    for (const reason of ['caller-hung-up', 'agent-hung-up', 'transferred', 'caller-silent', 'max-duration', 'model-lost', 'model-setup-failed', 'caller-audio-over-real-time', 'stream-not-reading'] as const) {
      expect(isLostStream(reason)).toBe(false);
    }
  });

  it('read back from text only when they are one of the list', () => {
    expect(asEndReason('stream-socket-closed')).toBe('stream-socket-closed');
    expect(asEndReason('stream-')).toBeUndefined();
    expect(asEndReason('Caller-Hung-Up')).toBeUndefined();
  });

  it('are checked where a recording is read', () => {
    const log = { format: RECORDING_FORMAT, version: RECORDING_FORMAT_VERSION, callSid: 'CA1', durationMs: 1, audio: { file: 'CA1.wav' }, events: [], agentTurns: [] };
    expect(parseRecordingLog({ ...log, endReason: 'agent-hung-up' }).endReason).toBe('agent-hung-up');
    expect(() => parseRecordingLog({ ...log, endReason: 'hung up' })).toThrow(/endReason is not one of caller-hung-up, .* \(got "hung up"\)/);
  });
});

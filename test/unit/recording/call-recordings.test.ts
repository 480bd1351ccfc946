import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CallSummary } from '../../../src/call/phone-call.js';
import { CallRecordings, deleteOldRecordings, findRecording } from '../../../src/recording/call-recordings.js';
import type { ObjectParameter } from '../../../src/tools/schema.js';
import { parseRecordingLog } from '../../../src/recording/recording-format.js';
import { readPcm16Wav, wavChannel } from '../../../src/recording/wav.js';
import { mulawDecodeSample } from '../../../src/audio/mulaw.js';
import { capturingLogger } from '../../support/log-capture.js';

const CALL_SID = `CA${'a'.repeat(32)}`;
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'recordings-'));
  dirs.push(dir);
  return dir;
}

const summary = { endReason: 'caller-hung-up' } as CallSummary;

function recordThreeSecondsOfCaller(recordings: CallRecordings, log: ReturnType<typeof capturingLogger>['log']): void {
  const recorder = recordings.start({
    callSid: CALL_SID,
    streamSid: `MZ${'b'.repeat(32)}`,
    call: { from: '+14155550123', to: '+16505550199', direction: 'inbound' },
    callLimitMs: 60_000,
    log,
  });
  for (let ms = 0; ms < 3_000; ms += 20) recorder.listener({ type: 'callerAudio', mulaw: Buffer.alloc(160, ms < 1_500 ? 0x20 : 0xa0), timestampMs: ms });
  recorder.listener({ type: 'ended', reason: summary.endReason, summary });
}

describe('CallRecordings', () => {
  it('writes <date>/<CallSid>.wav and .json, private to the service, and logs where', async () => {
    const dir = join(tempDir(), 'recordings');
    const { log, lines } = capturingLogger();
    const recordings = new CallRecordings({ dir, log });
    recordThreeSecondsOfCaller(recordings, log);
    await recordings.idle();

    const found = await findRecording(dir, CALL_SID);
    expect(found).toBeDefined();
    expect(readdirSync(found!.dayDir).sort()).toEqual([`${CALL_SID}.json`, `${CALL_SID}.wav`]); // no partial files left
    expect(statSync(found!.wav).mode & 0o777).toBe(0o600);
    expect(statSync(found!.json).mode & 0o777).toBe(0o600);

    const wav = readPcm16Wav(readFileSync(found!.wav));
    expect(wav).toMatchObject({ sampleRateHz: 8_000, channels: 2 });
    expect(wav.frames).toBeGreaterThanOrEqual(3_000 * 8);
    const left = wavChannel(wav, 0);
    expect(left[0]).toBe(mulawDecodeSample(0x20));
    expect(left[2_000 * 8]).toBe(mulawDecodeSample(0xa0));
    expect(wavChannel(wav, 1).every((sample) => sample === 0)).toBe(true);

    const json = parseRecordingLog(JSON.parse(readFileSync(found!.json, 'utf8')));
    expect(json).toMatchObject({ callSid: CALL_SID, from: '+1********23', audio: { file: `${CALL_SID}.wav`, frames: wav.frames } });
    expect(found!.dayDir).toBe(join(dir, json.startedAt.slice(0, 10))); // the UTC day the call started
    expect(lines.find((line) => line.msg === 'call recording saved')).toMatchObject({ wav: found!.wav, json: found!.json });
  });

  it('a disk it cannot write to costs the recording, logged, and nothing else', async () => {
    const blocker = join(tempDir(), 'not-a-directory');
    writeFileSync(blocker, 'a file where the recordings directory should be');
    const { log, lines } = capturingLogger();
    const recordings = new CallRecordings({ dir: blocker, log });
    recordThreeSecondsOfCaller(recordings, log);
    await expect(recordings.idle()).resolves.toBeUndefined();
    expect(lines.find((line) => line.msg === 'could not save the call recording')).toBeDefined();
    expect(await findRecording(blocker, CALL_SID)).toBeUndefined();
  });

  it('masks the tool arguments marked sensitive, keeps the rest, and masks an undeclared tool whole', async () => {
    const dir = join(tempDir(), 'recordings');
    const { log } = capturingLogger();
    const booking: ObjectParameter = {
      type: 'object',
      properties: {
        guest_name: { type: 'string', sensitive: true },
        party_size: { type: 'integer' },
        phone: { type: 'string', sensitive: true },
        notes: { type: 'string' },
      },
    };
    const recordings = new CallRecordings({ dir, log, tools: { get: (name) => (name === 'create_booking' ? { parameters: booking } : undefined) } });
    const recorder = recordings.start({ callSid: CALL_SID, streamSid: `MZ${'b'.repeat(32)}`, call: { from: undefined, to: undefined, direction: 'inbound' }, callLimitMs: 60_000, log });
    recorder.listener({ type: 'toolCall', id: 't1', name: 'create_booking', args: { guest_name: 'Ada Lovelace', party_size: 2, phone: '+14155550123', notes: 'call me on +14155550123' } });
    recorder.listener({ type: 'toolCall', id: 't2', name: 'made_up_tool', args: { secret: 'Ada' } });
    recorder.listener({ type: 'ended', reason: summary.endReason, summary });
    await recordings.idle();
    const found = await findRecording(dir, CALL_SID);
    const text = readFileSync(found!.json, 'utf8');
    expect(text).not.toContain('Ada');
    expect(text).not.toContain('+14155550123');
    const calls = parseRecordingLog(JSON.parse(text)).events.filter((event) => event.type === 'toolCall');
    expect(calls.map((call) => call.args)).toEqual([
      { guest_name: '[redacted]', party_size: 2, phone: '[redacted]', notes: 'call me on +1********23' },
      '[redacted]',
    ]);
  });
});

describe('RECORDINGS_RETENTION_DAYS', () => {
  /** Waits on the real clock (only intervals are faked) for the file system work to finish. */
  async function until(condition: () => boolean): Promise<void> {
    for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(condition()).toBe(true);
  }

  function dayFolders(dir: string, days: string[]): void {
    for (const day of days) {
      mkdirSync(join(dir, day), { recursive: true });
      writeFileSync(join(dir, day, `${CALL_SID}.json`), '{}');
    }
  }

  it('deletes the day folders whose calls all started more than N days ago, and nothing else', async () => {
    const dir = tempDir();
    dayFolders(dir, ['2026-01-05', '2026-01-06', '2026-01-07', '2026-01-10']);
    mkdirSync(join(dir, 'keep-me'));
    writeFileSync(join(dir, 'notes.txt'), 'not a recording');
    // 3 days: on Jan 10 at noon, Jan 6's last call started at most 3.5 days ago; Jan 7's may be 2.5 days old.
    const deleted = await deleteOldRecordings(dir, 3, new Date('2026-01-10T12:00:00Z'));
    expect(deleted).toEqual(['2026-01-05', '2026-01-06']);
    expect(readdirSync(dir).sort()).toEqual(['2026-01-07', '2026-01-10', 'keep-me', 'notes.txt']);
    await expect(deleteOldRecordings(join(dir, 'missing'), 3, new Date())).resolves.toEqual([]);
  });

  it('runs at start-up and then every hour, and logs what it deleted', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const dir = tempDir();
      dayFolders(dir, ['2026-01-01']);
      let now = new Date('2026-01-04T00:00:00Z'); // Jan 1 ended two days ago
      const { log, lines } = capturingLogger();
      const recordings = new CallRecordings({ dir, log, retentionDays: 2, now: () => now });
      await until(() => lines.some((line) => line.msg === 'deleted recordings past RECORDINGS_RETENTION_DAYS'));
      expect(readdirSync(dir)).toEqual([]);
      dayFolders(dir, ['2026-01-02']);
      now = new Date('2026-01-05T00:30:00Z');
      vi.advanceTimersByTime(60 * 60 * 1_000);
      await until(() => readdirSync(dir).length === 0);
      recordings.close();
    } finally {
      vi.useRealTimers();
    }
  });
});

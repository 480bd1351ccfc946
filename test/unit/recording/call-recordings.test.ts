import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CallSummary } from '../../../src/observability/call-events.js';
import { CallRecordings, findRecording } from '../../../src/recording/call-recordings.js';
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
  for (let ms = 0; ms < 3_000; ms += 20) recorder.listener({ type: 'callerAudio', mulaw: new Uint8Array(160).fill(ms < 1_500 ? 0x20 : 0xa0), timestampMs: ms });
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
});

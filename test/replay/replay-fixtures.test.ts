import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRestaurantAgent } from '../../examples/restaurant/agent.js';
import { createLogger } from '../../src/observability/logger.js';
import { parseRecordingLog } from '../../src/recording/recording-format.js';
import { readPcm16Wav } from '../../src/recording/wav.js';
import { loadCallFixture } from '../../src/replay/fixture.js';
import { loadRecording } from '../../src/replay/from-recording.js';
import { replayCall, type ReplayResult } from '../../src/replay/replay.js';
import { formatReport } from '../../src/replay/report.js';
import type { ReplayScenario } from '../../src/replay/scenario.js';
import type { TurnDetection } from '../../src/model/realtime-model.js';

const FIXTURES_DIR = fileURLToPath(new URL('../../fixtures/calls/', import.meta.url));
const FIXTURES = readdirSync(FIXTURES_DIR, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

/**
 * Every fixture under fixtures/calls/ replayed through the real server (real tools, the scripted model
 * playing its script, a Twilio side streaming its caller audio in real time), and checked against its
 * expectations. Then the recording the server made of that replay is replayed in turn, as a recording
 * from production would be, and must tell the same conversation. The fixtures run side by side.
 */
describe('call fixtures replay as their expectations say', () => {
  let outputDir: string;

  beforeAll(() => {
    outputDir = mkdtempSync(join(tmpdir(), 'replays-'));
  });
  afterAll(() => {
    rmSync(outputDir, { recursive: true, force: true });
  });

  /** Replays with the server's warnings and errors kept for the failure message. */
  async function replay(scenario: ReplayScenario, dir: string, turnDetection: TurnDetection): Promise<ReplayResult & { serverLog: string }> {
    let serverLog = '';
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        serverLog += chunk.toString();
        done();
      },
    });
    const result = await replayCall(scenario, {
      outputDir: join(outputDir, dir),
      turnDetection,
      log: createLogger({ level: 'warn', destination }),
      // The fixtures are calls to the restaurant example, on a fresh copy of its seeded bookings.
      agents: (dataDir) => [createRestaurantAgent({ dataDir })],
    });
    return { ...result, serverLog };
  }

  it('ship a booking lookup, a barge-in and a keypad code', () => {
    expect(FIXTURES).toEqual(expect.arrayContaining(['booking-lookup', 'barge-in', 'keypad-code']));
  });

  // With the model detecting the caller's turns, then with this service detecting them (Silero VAD): one mode at a
  // time, so no more calls stream in real time at once than there are fixtures.
  describe.each(['model', 'local'] as const)('turn detection: %s', (turnDetection) => {
    it.concurrent.each(FIXTURES)(
      '%s',
      async (name) => {
        const scenario = loadCallFixture(join(FIXTURES_DIR, name));
        expect(scenario.expect, `${name} has no expectations`).toBeDefined();
        const first = await replay(scenario, `${name}-${turnDetection}`, turnDetection);
        const explain = `${formatReport(first.report, first.problems, 'fixture')}\n\nserver log:\n${first.serverLog}`;
        expect(first.problems, explain).toEqual([]);
        expect(first.report.notes, explain).toEqual([]); // every caller turn scripted, every reply used
        expect(first.serverLog, explain).toBe(''); // no warnings or errors from the server

        // The new recording: an 8 kHz stereo WAV as long as the call, and its event log.
        const recording = first.report.recording!;
        const wav = readPcm16Wav(readFileSync(recording.wav));
        const log = parseRecordingLog(JSON.parse(readFileSync(recording.json, 'utf8')));
        expect(wav).toMatchObject({ sampleRateHz: 8_000, channels: 2, frames: log.audio.frames });
        expect(Math.abs(wav.frames / 8 - log.durationMs)).toBeLessThanOrEqual(20);
        // The recording masks what the tools mark sensitive (a booking code); the report has what the model sent.
        for (const event of log.events) if (event.type === 'toolCall' && event.name === 'find_booking') expect(event.args).toEqual({ code: '[redacted]' });
        expect(statSync(recording.json).mode & 0o777).toBe(0o600);
        expect(statSync(recording.wav).mode & 0o777).toBe(0o600);

        // Replayed from its recording, the call goes the same way: same words, same tool calls, same end.
        const again = await replay(loadRecording(recording.json), `${name}-${turnDetection}-from-recording`, turnDetection);
        const explainAgain = `${formatReport(again.report, again.problems, 'recording')}\n\nserver log:\n${again.serverLog}`;
        expect(again.problems, explainAgain).toEqual([]);
        const lines = (result: ReplayResult) => result.report.transcript.map(({ speaker, text, interrupted }) => ({ speaker, interrupted: interrupted === true, text }));
        const [before, after] = [lines(first), lines(again)];
        expect(after.map(({ speaker, interrupted }) => [speaker, interrupted]), explainAgain).toEqual(before.map(({ speaker, interrupted }) => [speaker, interrupted]));
        after.forEach((line, i) => {
          const original = before[i]!.text;
          // A cut-off line is what the model had sent when cut; the replay of it may be cut a little earlier.
          if (line.interrupted) expect(original.startsWith(line.text) && line.text !== '', explainAgain).toBe(true);
          else expect(line.text, explainAgain).toBe(original);
        });
      },
      120_000,
    );
  });
});

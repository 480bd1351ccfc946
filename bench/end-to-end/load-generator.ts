/**
 * The load side of the end-to-end benchmark, in its own process so its CPU is not charged to the
 * server: the Twilio side of every call and the Live server they reach through the service.
 * Both halves share one clock (performance.now()), so per-frame latencies are simple differences.
 * Calls are placed one at a time, so the n-th Live session to complete setup is the n-th call's.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { round, summarize, type Percentiles } from '../stats.js';
import { type HangupResult, type LoadCommand, type LoadReply, type RampResult, type WindowResult, chunkMulawBytes, type CallScript } from './common.js';
import { BenchLiveServer } from './live-server.js';
import { ProcessWindow } from './process-metrics.js';
import { Recorder } from './recorder.js';
import { Scheduler } from './scheduler.js';
import { BenchCall } from './twilio-calls.js';

const SESSION_TIMEOUT_MS = 10_000;

const send = (reply: LoadReply): void => {
  process.send?.(reply);
};

const scheduler = new Scheduler();
const recorder = new Recorder();
const live = new BenchLiveServer(scheduler, recorder);
const metrics = new ProcessWindow();
let calls: BenchCall[] = [];
let script: CallScript | undefined;

process.on('message', (command: LoadCommand) => {
  void handle(command).catch((error: unknown) => send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) }));
});

async function handle(command: LoadCommand): Promise<void> {
  switch (command.type) {
    case 'ramp':
      send({ type: 'ramped', result: await ramp(command.serverUrl, command.calls, command.script) });
      return;
    case 'window-start':
      recorder.start();
      metrics.start();
      send({ type: 'window-started' });
      return;
    case 'window-end':
      send({ type: 'window', result: await endWindow(command.graceMs) });
      return;
    case 'hangup':
      send({ type: 'hung-up', result: await hangUp() });
      return;
    case 'exit':
      scheduler.stop();
      process.exit(0);
  }
}

async function ramp(serverUrl: string, count: number, callScript: CallScript): Promise<RampResult> {
  recorder.reset();
  script = callScript;
  live.useScript(callScript);
  calls = [];
  const startedAt = performance.now();
  let failures = 0;
  let firstError: string | undefined;
  for (let i = 0; i < count; i++) {
    try {
      let linked: Promise<void> | undefined;
      const call = await BenchCall.place(i, { serverUrl, scheduler, recorder, script: callScript }, (created) => {
        linked = live.expect(created, SESSION_TIMEOUT_MS);
        linked.catch(() => undefined); // awaited below; a failed upgrade must not leave it unhandled
      });
      try {
        await linked;
      } catch (error) {
        call.hangUp();
        throw error;
      }
      calls.push(call);
    } catch (error) {
      failures++;
      firstError ??= error instanceof Error ? error.message : String(error);
    }
  }
  return { callsUp: calls.length, failures, firstError, rampMs: round(performance.now() - startedAt, 0) };
}

/** After the window closes, answers to what was sent inside it may still arrive for `graceMs`. */
async function endWindow(graceMs: number): Promise<WindowResult> {
  const endedAt = recorder.end();
  const usage = metrics.end();
  await sleep(graceMs);
  let missing = 0;
  for (const call of calls) missing += call.framesMissingBefore(endedAt, call.session?.audioBytesReceived ?? 0);
  return {
    callerToModelMs: rounded(summarize(recorder.callerToModel.values())),
    modelToCallerMs: rounded(summarize(recorder.modelToCaller.values())),
    interruptedToClearMs: rounded(summarize(recorder.interruptedToClear.values())),
    streamStartToFirstAudioMs: rounded(summarize(recorder.streamStartToFirstAudio.values())),
    cpu: usage.cpu,
    eventLoopDelay: usage.eventLoopDelay,
    callerFramesMissing: missing,
    protocolViolations: recorder.violations,
    firstViolation: recorder.firstViolation,
  };
}

async function hangUp(): Promise<HangupResult> {
  // Let audio already sent land, then check that every chunk became exactly its frames.
  live.draining = true;
  await sleep(500);
  let mismatches = 0;
  const perChunk = script === undefined ? 1600 : chunkMulawBytes(script);
  for (const call of calls) if (call.mediaBytesReceived !== call.chunksSent * perChunk) mismatches++;
  for (const call of calls) call.hangUp();
  const deadline = performance.now() + SESSION_TIMEOUT_MS;
  while (live.sessions.size > 0 && performance.now() < deadline) await sleep(50);
  calls = [];
  return { frameCountMismatches: mismatches, sessionsStillOpen: live.sessions.size };
}

function rounded(values: Percentiles): Percentiles {
  return { count: values.count, p50: round(values.p50, 3), p99: round(values.p99, 3), max: round(values.max, 3) };
}

send({ type: 'ready', liveUrl: await live.listen() });

/**
 * What a bridge under test (server-child.ts, baseline-bridge.ts) answers over IPC: its own CPU, event-loop delay,
 * garbage collection and memory, measured inside it, so the load generator's work is never charged to it.
 */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import type { ServerCommand, ServerReply } from './common.js';
import { ProcessWindow } from './process-metrics.js';

export interface BridgeUnderTest {
  /** Calls up now. */
  activeCalls(): number;
  stop(): Promise<void>;
}

const send = (reply: ServerReply): void => {
  process.send?.(reply);
};

/** Answers the benchmark's commands for `bridge`, then says it is ready at `url`. */
export function serveBenchCommands(bridge: BridgeUnderTest, url: string): void {
  const window = new ProcessWindow();
  let profiler: Session | undefined;
  const handle = async (command: ServerCommand): Promise<void> => {
    switch (command.type) {
      case 'window-start':
        window.start();
        return;
      case 'window-end':
        send({ type: 'window', ...window.end(), activeCalls: bridge.activeCalls() });
        return;
      case 'memory': {
        // Settle garbage first so the figure is live memory, not what the collector has yet to reclaim (unless a
        // sample of the moment is wanted: collecting would itself stall the process being watched).
        const gc = command.settle === false ? undefined : (globalThis as { gc?: () => void }).gc;
        gc?.();
        gc?.();
        const usage = process.memoryUsage();
        send({ type: 'memory', memory: { rssBytes: usage.rss, heapUsedBytes: usage.heapUsed, externalBytes: usage.external, activeCalls: bridge.activeCalls() } });
        return;
      }
      case 'profile-start':
        profiler = new Session();
        profiler.connect();
        await profiler.post('Profiler.enable');
        await profiler.post('Profiler.setSamplingInterval', { interval: 100 });
        await profiler.post('Profiler.start');
        send({ type: 'profile-started' });
        return;
      case 'profile-stop': {
        if (profiler === undefined) throw new Error('profiler not started');
        const { profile } = await profiler.post('Profiler.stop');
        await writeFile(command.file, JSON.stringify(profile));
        profiler.disconnect();
        profiler = undefined;
        send({ type: 'profile-stopped', file: command.file });
        return;
      }
      case 'stop':
        await bridge.stop();
        process.exit(0);
    }
  };
  process.on('message', (command: ServerCommand) => {
    void handle(command).catch((error: unknown) => send({ type: 'error', message: String(error) }));
  });
  send({ type: 'ready', url });
}

import type { CallDetails } from '../domain/call-details.js';
import { listenerFor, type CallEventListener } from './call-events.js';
import type { AppMetrics } from './metrics.js';

/** A call's events, counted: active calls, starts and ends, model setup and first-audio times. */
export function metricsListener(metrics: AppMetrics, call: CallDetails, kind: 'phone' | 'browser'): CallEventListener {
  return listenerFor(['started', 'modelReady', 'ended'], (event) => {
    switch (event.type) {
      case 'started':
        metrics.activeCalls.inc();
        metrics.callsStarted.inc({ direction: kind === 'browser' ? 'browser' : call.direction });
        return;
      case 'modelReady':
        metrics.geminiSessionSetupSeconds.observe(event.setupMs / 1000);
        return;
      case 'ended':
        metrics.activeCalls.dec();
        metrics.callsEnded.inc({ reason: event.reason });
        if (event.summary.streamStartToFirstAgentAudioMs !== undefined) metrics.streamStartToFirstAudioSeconds.observe(event.summary.streamStartToFirstAgentAudioMs / 1000);
        return;
    }
  });
}

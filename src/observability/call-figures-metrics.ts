import type { CallObserver } from './call-observation.js';
import type { AppMetrics } from './metrics.js';

/** A call's figures in the fleet's metrics: heard and model latency per turn, barge-in clears, tool durations, tokens and cost. */
export function callFiguresMetrics(metrics: AppMetrics, agent: string): CallObserver {
  return (event) => {
    switch (event.type) {
      case 'turnLatency':
        metrics.modelLatencySeconds.observe({ agent }, event.latency.modelMs / 1000);
        if (event.latency.heardMs !== undefined) metrics.heardLatencySeconds.observe({ agent }, event.latency.heardMs / 1000);
        return;
      case 'bargeInTiming':
        if (event.timing.clearMs !== undefined) metrics.bargeInClearSeconds.observe({ agent }, event.timing.clearMs / 1000);
        return;
      case 'toolResult':
        metrics.toolDurationSeconds.observe({ tool: event.name, outcome: event.ok ? 'ok' : 'error' }, event.durationMs / 1000);
        return;
      case 'ended': {
        const { tokens, cost } = event.summary;
        const kinds: Record<string, number> = {
          input_text: tokens.input.text,
          input_audio: tokens.input.audio,
          input_other: tokens.input.other,
          output_text: tokens.output.text,
          output_audio: tokens.output.audio,
          thinking: tokens.thinking,
          tool_use_prompt: tokens.toolUsePrompt,
        };
        for (const [kind, count] of Object.entries(kinds)) if (count > 0) metrics.modelTokens.inc({ agent, kind }, count);
        if (cost.model !== undefined) metrics.callCostUsd.inc({ agent, part: 'model' }, cost.model);
        if (cost.telephony > 0) metrics.callCostUsd.inc({ agent, part: 'telephony' }, cost.telephony);
        if (cost.estimated) metrics.estimatedCosts.inc({ agent });
        return;
      }
      default:
        return;
    }
  };
}

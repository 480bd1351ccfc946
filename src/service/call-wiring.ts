import { EventEmitter } from 'node:events';
import { agentHooksListener } from '../agents/agent-listeners.js';
import type { AgentDirectory, CallAgent } from '../agents/agent-directory.js';
import { browserCallControl, isBrowserPhoneCall, type BrowserPhone } from '../browser-phone/browser-phone.js';
import { pageEventsListener } from '../browser-phone/call-events.js';
import type { CallRegistry } from '../call/call-registry.js';
import type { WarmTransfers } from '../call/call-tools.js';
import type { EarlyConversations } from '../call/early-conversations.js';
import { PhoneCall } from '../call/phone-call.js';
import type { TwilioAnsweredBy } from '../domain/answered-by.js';
import { callRates } from '../costs/prices.js';
import { callDetails, type CallDetails } from '../domain/call-details.js';
import { mayContinue, type EndReason } from '../domain/end-reasons.js';
import type { RealtimeModel } from '../model/realtime-model.js';
import type { CallEventListener } from '../observability/call-events.js';
import { callLogListener } from '../observability/call-log.js';
import type { Logger } from '../observability/logger.js';
import type { AppMetrics } from '../observability/metrics.js';
import { metricsListener } from '../observability/metrics-listener.js';
import { AnsweredByRelay } from '../outbound/answered-by-relay.js';
import { maskToolArguments, type CallRecordings } from '../recording/call-recordings.js';
import { callFiguresMetrics } from '../observability/call-figures-metrics.js';
import { observeCall, type CallObserver } from '../observability/call-observation.js';
import { recordingFiles, type CallKeeping } from './observability.js';
import type { Config } from '../settings/config.js';
import type { CallStateStore } from '../state/call-state.js';
import type { AuthenticatedStream } from '../telephony/media-stream-server.js';
import type { CallControl, TwilioRecordings } from '../telephony/twilio-rest.js';
import { isTransferNotTaken, TRANSFER_NOT_TAKEN_PARAMETER, TRANSFER_NOT_TAKEN_WORDS } from '../telephony/warm-transfer.js';
import type { VadService } from '../turn-detection/vad-service.js';

export interface CallWiringDeps {
  config: Pick<Config, 'limits' | 'tools' | 'logging' | 'prices' | 'recording'>;
  log: Logger;
  /** This instance's calls: each one is added when its stream starts, removed when it ends. */
  calls: CallRegistry<PhoneCall>;
  agents: AgentDirectory;
  model: RealtimeModel;
  state: CallStateStore;
  early: EarlyConversations;
  metrics: AppMetrics;
  callControl: CallControl;
  /** Warm transfers of Twilio calls (telephony/warm-transfer.ts). */
  warmTransfers: WarmTransfers;
  /** Twilio's own recording of each phone call (TWILIO_RECORDING), when on. */
  twilioRecordings: TwilioRecordings | undefined;
  recordings: CallRecordings | undefined;
  browserPhone: BrowserPhone | undefined;
  /** The process's neural VAD, for agents that detect turns locally with it. */
  vad: VadService | undefined;
  /** The call history and traces: each call's observers. */
  keeping: CallKeeping;
}

/**
 * From an authenticated stream to a running PhoneCall: its agent, its model session (the one opened at the
 * webhook, or a resumed one after a failover), and everyone who listens to its events (log, recording, browser
 * page, metrics, the agent's hooks). Keeps the calls of this instance, and the shared state told of each end.
 */
export class CallWiring {
  readonly calls: CallRegistry<PhoneCall>;
  /** Emits `ended` after each call has ended: a drain waits on it. */
  readonly ended = new EventEmitter();
  /** Writes to the shared state still in flight; stopping waits for them. */
  private readonly stateWrites = new Set<Promise<void>>();
  /** Twilio's answering-machine verdicts, to the call wherever it lives. */
  private readonly answeredBy: AnsweredByRelay;

  constructor(private readonly deps: CallWiringDeps) {
    this.calls = deps.calls;
    this.answeredBy = new AnsweredByRelay({ state: deps.state, shared: deps.state.shared, liveCall: (callSid) => deps.calls.get(callSid), log: deps.log });
  }

  /** Twilio's AMD callback reached this instance. */
  twilioAnsweredBy(callSid: string, answeredBy: TwilioAnsweredBy): void {
    this.answeredBy.received(callSid, answeredBy);
  }

  start({ stream, start, call: info, resumptionHandle, failover }: AuthenticatedStream): void {
    const agent = this.deps.agents.byAgentName(info.agent);
    if (agent === undefined) {
      stream.close('agent-gone'); // cannot happen within one process; in a fleet, an agent removed mid-call
      return;
    }
    const browser = isBrowserPhoneCall(info);
    const details = callDetails(info, agent.agent.name);
    const callLog = this.deps.log.child({ callSid: info.callSid, agent: agent.agent.name });
    const early = failover ? undefined : this.deps.early.take(info.callSid);
    // A stream that brings the caller back from a warm transfer says why (its TwiML is ours, its token checked).
    const backFromTransfer = start.start.customParameters[TRANSFER_NOT_TAKEN_PARAMETER];
    const transferNotTaken = isTransferNotTaken(backFromTransfer) ? TRANSFER_NOT_TAKEN_WORDS[backFromTransfer] : undefined;
    if (transferNotTaken !== undefined) {
      callLog.info({ resumed: resumptionHandle !== undefined, notTaken: backFromTransfer }, 'the caller is back from a warm transfer nobody took');
    } else if (failover) {
      this.deps.metrics.failovers.inc();
      callLog.warn({ resumed: resumptionHandle !== undefined }, 'continuing a call whose stream was lost');
    } else if (!browser && details.direction === 'inbound') {
      // Affinity: the stream reached the instance holding its pre-opened session (hit), or it opens its own.
      this.deps.metrics.streamAffinity.inc({ result: early === undefined ? 'miss' : 'hit' });
    }
    const { limits, tools } = this.deps.config;
    const call = new PhoneCall(stream, details, {
      agent,
      model: this.deps.model,
      log: this.deps.log,
      // A browser call has no Twilio leg to hang up or redirect; its page watches the call live.
      callControl: browser ? browserCallControl : this.deps.callControl,
      ...(browser ? {} : { warmTransfers: this.deps.warmTransfers }),
      ...(transferNotTaken === undefined ? {} : { transferNotTaken }),
      toolTimeoutMs: tools.timeoutMs,
      limits,
      rates: callRates(this.deps.config.prices, agent.modelName, browser ? 'browser' : details.direction),
      listeners: this.listeners(details, agent, { streamSid: stream.streamSid, browser, log: callLog }),
      ...(this.deps.vad === undefined ? {} : { vad: this.deps.vad }),
      ...(early === undefined ? {} : { early }),
      ...(resumptionHandle === undefined ? {} : { resumptionHandle }),
      // Stored where another instance can resume the conversation if this one dies.
      ...(browser ? {} : { onResumptionHandle: (handle: string) => void this.deps.state.saveResumptionHandle(info.callSid, handle).catch(() => undefined) }),
      onEnded: (ended, reason) => this.onEnded(ended, reason, browser, callLog),
    });
    this.calls.add(call.callSid, call);
    call.start();
    if (!browser && !failover) this.startTwilioSide(call, details.direction === 'outbound', callLog);
  }

  /** Ends every call now (a stop), as a lost stream: Twilio's `<Connect action>` may continue each elsewhere. */
  endAll(): void {
    this.answeredBy.close();
    for (const call of [...this.calls.values()]) call.end('server-stopping');
  }

  /** A phone call's first stream here: Twilio's verdict for a call we placed, and Twilio's recording when asked for. */
  private startTwilioSide(call: PhoneCall, placed: boolean, log: Logger): void {
    if (placed) this.answeredBy.watch(call.callSid);
    this.deps.twilioRecordings?.start(call.callSid).then(
      (recording) => call.onTwilioRecording(recording),
      (error: unknown) => log.warn({ err: error }, 'Twilio could not start recording the call; it goes on unrecorded'),
    );
  }

  /** Waits for the shared state to hear of every call that ended. */
  async idle(): Promise<void> {
    await Promise.all([...this.stateWrites]);
  }

  private listeners(details: CallDetails, agent: CallAgent, call: { streamSid: string; browser: boolean; log: Logger }): CallEventListener[] {
    const { config, recordings, browserPhone, metrics } = this.deps;
    const pageObserver = call.browser ? browserPhone?.events.observerFor(details.callSid) : undefined;
    const recorder = recordings?.start({ callSid: details.callSid, streamSid: call.streamSid, call: details, callLimitMs: config.limits.maxCallDurationMs, log: call.log, tools: agent.tools });
    const hooks = agentHooksListener(agent.agent, details, call.log);
    const recording = recorder === undefined ? undefined : recordingFiles(config.recording.dir, details.callSid, recorder.startedAt);
    return [
      callLogListener(call.log, details, { logTranscripts: config.logging.transcripts }),
      ...(recorder === undefined ? [] : [recorder.listener]),
      ...(pageObserver === undefined ? [] : [pageEventsListener(details.callSid, pageObserver)]),
      metricsListener(metrics, details, call.browser ? 'browser' : 'phone'),
      observeCall(this.observers(details, agent, call.browser ? 'browser' : 'phone', recording), (error, event) => call.log.warn({ err: error, event: event.type }, 'a call observer failed')),
      ...(hooks === undefined ? [] : [hooks]),
    ];
  }

  /** What keeps the call after it: its history record, its place among the live calls, the metrics' figures, traces. */
  private observers(details: CallDetails, agent: CallAgent, channel: 'phone' | 'browser', recording: { wav: string; events: string } | undefined): CallObserver[] {
    const { history, tracing } = this.deps.keeping;
    return [
      ...history.observers({ call: details, channel, model: agent.modelName, maskToolArguments: (name, args) => maskToolArguments(agent.tools.get(name)?.parameters, args), recording }),
      callFiguresMetrics(this.deps.metrics, agent.agent.name),
      ...(tracing === undefined ? [] : [tracing.observer(details, { channel, model: agent.modelName })]),
    ];
  }

  private onEnded(call: PhoneCall, reason: EndReason, browser: boolean, log: Logger): void {
    this.calls.remove(call.callSid, call);
    this.answeredBy.forget(call.callSid);
    this.ended.emit('ended');
    if (browser) return;
    // A lost stream may be continued by Twilio's <Connect action>, a warm transfer by its <Dial action>; anything
    // else ended the call for good.
    const write = this.deps.state
      .markEnded(call.callSid, { onPurpose: !mayContinue(reason) })
      .catch((error: unknown) => log.warn({ err: error }, 'could not record the end of the call in the shared state'))
      .finally(() => this.stateWrites.delete(write));
    this.stateWrites.add(write);
  }
}

import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CallAgent } from '../../src/agents/agent-directory.js';
import { meanSquareToDbfs } from '../../src/audio/level.js';
import { callerAudioConverter } from '../../src/audio/model-audio.js';
import { callDetails } from '../../src/domain/call-details.js';
import { geminiBackend } from '../../src/model/gemini/gemini-auth.js';
import { liveApiVersion, liveFeatureConfig } from '../../src/model/gemini/live-model-features.js';
import { GeminiLiveSession, type SessionEvent } from '../../src/model/gemini/live-session.js';
import { probeLiveSetup, type SetupProbeOptions } from '../../src/model/gemini/setup-probe.js';
import type { ConversationSettings } from '../../src/model/realtime-model.js';
import type { ToolDeclaration } from '../../src/domain/tool-declaration.js';

/**
 * `npm run test:live`: does the real Live service still behave the way this project's code relies on? A scripted
 * conversation through the real API with recorded caller audio (fixtures/calls), each behaviour our code relies on
 * (docs/real-service-behaviour.md, docs/architecture.md) set against what happened. Costs cents.
 */

/** How sessions are opened (as the doctor's probe opens them), and what the script runs. */
export interface ConformanceOptions extends SetupProbeOptions {
  /** Every agent's setup is checked; the conversation runs on the first one's model and features. */
  agents: readonly CallAgent[];
  fixturesDir: string;
  /** Recorded audio is sent this many times faster than real time: 1 for the real service; a local server takes more. */
  audioSpeed?: number;
}

export type BehaviourResult = 'as relied on' | 'different' | 'not seen';

export interface Behaviour {
  id: string;
  /** What the project's code relies on, and where that is written down. */
  reliedOn: string;
  observed: string;
  result: BehaviourResult;
}

export interface ConformanceReport {
  date: string;
  backend: string;
  model: string;
  apiVersion: string;
  versions: { package: string; sdk: string; node: string };
  behaviours: Behaviour[];
  /** What the model said and heard, for a bug report (recorded test speech only, nothing personal). */
  transcripts: { caller: string[]; agent: string[] };
  /** Every server event of the conversation, by type, with its time from the start (ms). */
  timeline: Array<{ atMs: number; event: string; detail?: string }>;
}

const CONFORMANCE_INSTRUCTIONS =
  'You are a test agent on a phone line. Keep answers to one or two short sentences. When the caller asks about a booking and gives a code, call find_booking with the code. When asked to talk at length, talk until interrupted.';
const FIND_BOOKING = (behavior: ToolDeclaration['behavior']): ToolDeclaration => ({
  name: 'find_booking',
  description: 'Finds a restaurant booking by its confirmation code.',
  behavior,
  parameters: { type: 'object', properties: { code: { type: 'string', description: 'The confirmation code, letters and digits.' } }, required: ['code'] },
});
const BOOKING = { found: true, booking: { code: 'K7Q2M9', guest: 'Dana', partySize: 4, when: 'Saturday at 7:30 PM' } };
/** What the script says to the model as text, in order (a local server scripts its replies to these). */
export const SCRIPT_CUES = {
  greeting: 'The phone call has just been connected. Greet the caller now.',
  longTalk: 'Please describe the restaurant, its history and its menu in detail, for about a minute.',
  resumed: 'You are back on the line after a short break. In one sentence, say what the caller asked you before.',
} as const;
/** After the caller's last word the service's voice detection needs trailing audio (openclaw/openclaw#152830). */
const TRAILING_SILENCE_MS = 1_500;
const ANSWER_TIMEOUT_MS = 15_000;
/** Louder than this is an answer a caller can hear (src/call/answer-health.ts). */
const AUDIBLE_DBFS = -55;

/** Runs the conformance: every agent's setup, then the scripted conversation. Never throws for what the service does. */
export async function runLiveConformance(options: ConformanceOptions): Promise<ConformanceReport> {
  const backend = geminiBackend(options.auth);
  const behaviours: Behaviour[] = [];
  for (const agent of options.agents) behaviours.push(await setupBehaviour(options, agent));
  const first = options.agents[0];
  if (first === undefined) throw new Error('no agent to run the conformance on');
  const settings = conformanceSettings(first);
  const apiVersion = liveApiVersion(settings.model, backend, settings.features, options.apiVersion);
  const conversation = new ScriptedConversation(options, settings, apiVersion);
  try {
    behaviours.push(...(await conversation.run()));
  } finally {
    conversation.close();
  }
  return {
    date: new Date().toISOString(),
    backend,
    model: settings.model,
    apiVersion: apiVersion ?? 'the SDK default',
    versions: versions(),
    behaviours,
    transcripts: conversation.transcripts,
    timeline: conversation.timeline,
  };
}

async function setupBehaviour(options: ConformanceOptions, agent: CallAgent): Promise<Behaviour> {
  const call = callDetails({ callSid: `CA${'0'.repeat(32)}`, from: '+15005550006', to: agent.agent.phoneNumbers[0] ?? '+15005550006', direction: 'inbound' }, agent.agent.name);
  const settings = await agent.conversationSettings(call);
  const probe = await probeLiveSetup(options, settings);
  return {
    id: `setup of agent "${agent.agent.name}"`,
    reliedOn: `the model accepts the agent's setup: ${settings.model}, its features and ${settings.tools.length} tool${settings.tools.length === 1 ? '' : 's'} (docs/models.md)`,
    observed: probe.ok ? `accepted in ${probe.setupMs} ms (API version ${probe.apiVersion ?? 'the SDK default'})` : probe.message,
    result: probe.ok ? 'as relied on' : 'different',
  };
}

/**
 * The first agent's model, voice and features, with the script's own instructions and tool, declared the way this
 * model runs tools (as the built-in end_call is: BLOCKING unless the model runs tools only asynchronously).
 */
function conformanceSettings(agent: CallAgent): ConversationSettings {
  const behavior = agent.tools.declarations().find((tool) => tool.name === 'end_call')?.behavior ?? 'BLOCKING';
  return { agentName: 'conformance', model: agent.modelName, voice: agent.agent.voice, instructions: CONFORMANCE_INSTRUCTIONS, tools: [FIND_BOOKING(behavior)], features: agent.agent.features };
}

function versions(): ConformanceReport['versions'] {
  return { package: packageVersion(fileURLToPath(new URL('../..', import.meta.url))), sdk: packageVersion(dirname(createRequire(import.meta.url).resolve('@google/genai'))), node: process.version };
}

/** The version in the nearest package.json at or above `dir` (the SDK's exports hide its package.json from require). */
function packageVersion(dir: string): string {
  for (let at = dir; ; at = dirname(at)) {
    const file = join(at, 'package.json');
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version ?? 'unknown';
    if (dirname(at) === at) return 'unknown';
  }
}

/** One conversation through the real SDK: sends the script, records every event with its time. */
class ScriptedConversation {
  readonly timeline: ConformanceReport['timeline'] = [];
  readonly transcripts = { caller: [] as string[], agent: [] as string[] };
  private readonly events: Array<{ atMs: number; event: SessionEvent }> = [];
  private readonly startedAt = performance.now();
  private session: GeminiLiveSession | undefined;
  private readonly waiters = new Set<() => void>();

  constructor(
    private readonly options: ConformanceOptions,
    private readonly settings: ConversationSettings,
    private readonly apiVersion: string | undefined,
  ) {}

  async run(): Promise<Behaviour[]> {
    const results: Behaviour[] = [];
    await this.open(undefined);
    results.push(...(await this.greeting()));
    results.push(...(await this.lookup()));
    results.push(await this.bargeIn());
    results.push(this.usage(), this.turnEnds());
    results.push(...(await this.resume()));
    results.push(this.goAway());
    return results;
  }

  close(): void {
    this.session?.close();
  }

  private now(): number {
    return Math.round(performance.now() - this.startedAt);
  }

  private async open(handle: string | undefined): Promise<void> {
    const backend = geminiBackend(this.options.auth);
    this.session = await GeminiLiveSession.open({
      auth: this.options.auth,
      model: this.settings.model,
      apiVersion: this.apiVersion,
      voice: this.settings.voice,
      instructions: this.settings.instructions,
      tools: this.settings.tools,
      features: liveFeatureConfig(this.settings.model, backend, this.settings.features),
      setupTimeoutMs: this.options.setupTimeoutMs,
      ...(this.options.baseUrl === undefined ? {} : { baseUrl: this.options.baseUrl }),
      ...(this.options.googleAuthOptions === undefined ? {} : { googleAuthOptions: this.options.googleAuthOptions }),
      ...(handle === undefined ? {} : { resumptionHandle: handle }),
      log: this.options.log,
      onEvent: (event) => this.record(event),
    });
  }

  private record(event: SessionEvent): void {
    const atMs = this.now();
    this.events.push({ atMs, event });
    if (event.type === 'inputTranscript') this.transcripts.caller.push(event.text);
    if (event.type === 'outputTranscript') this.transcripts.agent.push(event.text);
    if (event.type !== 'audio' && event.type !== 'inputTranscript' && event.type !== 'outputTranscript') {
      this.timeline.push({ atMs, event: event.type, ...detailOf(event) });
    }
    for (const wake of [...this.waiters]) wake();
  }

  /** Resolves with the first event from `sinceMs` on that matches, or undefined after `timeoutMs`. */
  private waitFor(predicate: (event: SessionEvent) => boolean, sinceMs: number, timeoutMs = ANSWER_TIMEOUT_MS): Promise<{ atMs: number; event: SessionEvent } | undefined> {
    return new Promise((resolve) => {
      const check = (): void => {
        const found = this.events.find((e) => e.atMs >= sinceMs && predicate(e.event));
        if (found === undefined) return;
        finish(found);
      };
      const finish = (found: { atMs: number; event: SessionEvent } | undefined): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(found);
      };
      const timer = setTimeout(() => finish(undefined), timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /** A turn's end (turnComplete or generationComplete) after `sinceMs`. */
  private turnEnd(sinceMs: number, timeoutMs = ANSWER_TIMEOUT_MS) {
    return this.waitFor((event) => event.type === 'turnComplete' || event.type === 'generationComplete', sinceMs, timeoutMs);
  }

  private audioSince(sinceMs: number, untilMs = Number.POSITIVE_INFINITY): { ms: number; dbfs: number } {
    let sum = 0;
    let samples = 0;
    for (const { atMs, event } of this.events) {
      if (event.type !== 'audio' || atMs < sinceMs || atMs > untilMs) continue;
      const pcm = new Int16Array(event.audio.buffer, event.audio.byteOffset, event.audio.byteLength >> 1);
      for (const sample of pcm) sum += sample * sample;
      samples += pcm.length;
    }
    return { ms: Math.round(samples / 24), dbfs: samples === 0 ? -Infinity : Math.round(meanSquareToDbfs(sum / samples)) };
  }

  private async greeting(): Promise<Behaviour[]> {
    const cuedAt = this.now();
    this.session?.sendText(SCRIPT_CUES.greeting);
    const first = await this.waitFor((event) => event.type === 'audio', cuedAt);
    const end = await this.turnEnd(cuedAt);
    const audio = this.audioSince(cuedAt, end?.atMs);
    const transcript = this.events.some((e) => e.atMs >= cuedAt && e.event.type === 'outputTranscript');
    return [
      behaviour('spoken answer to a text cue', 'realtimeInput.text makes the model speak first: the greeting (docs/architecture.md)', first === undefined ? 'no audio' : `audio ${first.atMs - cuedAt} ms after the cue, ${audio.ms} ms of it`, first !== undefined),
      behaviour('audible answer', `answers are audible: above ${AUDIBLE_DBFS} dBFS (google-gemini/gemini-live-api-examples#40)`, `${audio.dbfs} dBFS RMS`, audio.ms > 0 && audio.dbfs > AUDIBLE_DBFS, audio.ms === 0),
      behaviour('output transcription', 'outputTranscription fragments accompany the spoken answer', transcript ? `"${this.transcripts.agent.join('').trim().slice(0, 80)}"` : 'none', transcript),
    ];
  }

  private async lookup(): Promise<Behaviour[]> {
    const saidAt = this.now();
    await this.say('booking-lookup/lookup.ulaw');
    const heard = await this.waitFor((event) => event.type === 'inputTranscript', saidAt);
    const call = await this.waitFor((event) => event.type === 'toolCall', saidAt);
    let answered = false;
    if (call !== undefined && call.event.type === 'toolCall') {
      this.session?.sendToolAnswers(call.event.calls.map((c) => ({ id: c.id, name: c.name, response: { output: BOOKING } })));
      answered = (await this.waitFor((event) => event.type === 'audio', call.atMs)) !== undefined;
    }
    await this.turnEnd(call?.atMs ?? saidAt);
    const toolCall = call?.event.type === 'toolCall' ? call.event.calls[0] : undefined;
    return [
      behaviour('input transcription', "the caller's words come back as inputTranscription fragments", heard === undefined ? 'none' : `"${this.transcripts.caller.join('').trim().slice(0, 80)}"`, heard !== undefined),
      behaviour('tool call', 'a toolCall carries an id, the name and arguments (docs/tools.md)', toolCall === undefined ? 'no tool call' : `${toolCall.name}(${JSON.stringify(toolCall.args)}), id ${toolCall.id === '' ? 'missing' : 'present'}`, toolCall !== undefined && toolCall.id !== ''),
      behaviour('tool answer taken', 'the model speaks after its tool answer (toolResponse with the id)', answered ? 'spoke after the answer' : 'no audio after the answer', answered, call === undefined),
    ];
  }

  private async bargeIn(): Promise<Behaviour> {
    const cuedAt = this.now();
    this.session?.sendText(SCRIPT_CUES.longTalk);
    const talking = await this.waitFor((event) => event.type === 'audio', cuedAt);
    if (talking === undefined) return behaviour('barge-in', 'caller speech over an answer produces interrupted', 'the model did not start talking', false, true);
    await sleep(1_500);
    const spokeAt = this.now();
    const speaking = this.say('barge-in/interrupt.ulaw');
    const cut = await this.waitFor((event) => event.type === 'interrupted', spokeAt, 8_000);
    await speaking;
    await this.turnEnd(spokeAt);
    return behaviour('barge-in', 'caller speech over an answer produces serverContent.interrupted (docs/architecture.md)', cut === undefined ? 'no interrupted' : `interrupted ${cut.atMs - spokeAt} ms after the caller started`, cut !== undefined);
  }

  private usage(): Behaviour {
    const reports = this.events.filter((e) => e.event.type === 'usage').length;
    return behaviour('usage reported', 'usageMetadata arrives, about once per response (docs/realtime-model.md)', `${reports} reports`, reports > 0, reports === 0);
  }

  private turnEnds(): Behaviour {
    const ends = this.timeline.filter((t) => t.event === 'generationComplete' || t.event === 'turnComplete').map((t) => t.event);
    const generation = ends.filter((e) => e === 'generationComplete').length;
    const turn = ends.filter((e) => e === 'turnComplete').length;
    return {
      id: 'how turns end',
      reliedOn: 'a turn ends with generationComplete, turnComplete, or both; the first one ends it (docs/real-service-behaviour.md)',
      observed: `${generation} generationComplete, ${turn} turnComplete`,
      result: generation + turn > 0 ? 'as relied on' : 'not seen',
    };
  }

  private async resume(): Promise<Behaviour[]> {
    const update = [...this.events].reverse().find((e) => e.event.type === 'resumptionUpdate' && e.event.resumable && e.event.handle !== undefined);
    const handle = update?.event.type === 'resumptionUpdate' ? update.event.handle : undefined;
    const issued = behaviour('resumption handle', 'sessionResumptionUpdate issues resumable handles (docs/architecture.md, failover and handover)', handle === undefined ? 'none' : 'issued', handle !== undefined);
    if (handle === undefined) return [issued, behaviour('resumed conversation', 'a connection opened with the handle continues the conversation', 'no handle to resume with', false, true)];
    this.session?.close();
    const resumedAt = this.now();
    try {
      await this.open(handle);
    } catch (error) {
      return [issued, behaviour('resumed conversation', 'a connection opened with the handle continues the conversation', (error as Error).message, false)];
    }
    const before = this.transcripts.agent.length;
    this.session?.sendText(SCRIPT_CUES.resumed);
    const answer = await this.waitFor((event) => event.type === 'audio', resumedAt);
    await this.turnEnd(resumedAt);
    const said = this.transcripts.agent.slice(before).join('').trim();
    return [
      issued,
      behaviour('resumed conversation', 'a connection opened with the handle continues the conversation (read what it says it remembers)', answer === undefined ? 'set up, but no answer' : `answered: "${said.slice(0, 100)}"`, answer !== undefined),
    ];
  }

  private goAway(): Behaviour {
    const notice = this.events.find((e) => e.event.type === 'goAway');
    const timeLeft = notice?.event.type === 'goAway' ? notice.event.timeLeftMs : undefined;
    return {
      id: 'goAway',
      reliedOn: 'goAway announces a connection\'s end with timeLeft; the call hands over at a turn boundary (docs/architecture.md)',
      observed: notice === undefined ? 'not sent during this run (connections last about ten minutes)' : `after ${notice.atMs} ms, timeLeft ${timeLeft === undefined ? 'missing' : `${timeLeft} ms`}`,
      result: notice === undefined ? 'not seen' : timeLeft === undefined ? 'different' : 'as relied on',
    };
  }

  /** A recorded caller utterance (8 kHz mu-law), then trailing silence, as 20 ms frames the way a call sends them. */
  private async say(fixture: string): Promise<void> {
    const mulaw = readFileSync(join(this.options.fixturesDir, fixture));
    const silence = Buffer.alloc(TRAILING_SILENCE_MS * 8, 0xff);
    const audio = Buffer.concat([mulaw, silence]);
    const converter = callerAudioConverter({ encoding: 'pcm16le', sampleRateHz: 16_000 });
    const frameMs = 20 / (this.options.audioSpeed ?? 1);
    const started = performance.now();
    for (let offset = 0, frame = 0; offset < audio.length; offset += 160, frame++) {
      this.session?.sendAudio(converter.convert(audio.subarray(offset, Math.min(offset + 160, audio.length))));
      const due = started + (frame + 1) * frameMs - performance.now();
      if (due > 0) await sleep(due);
    }
  }
}

function behaviour(id: string, reliedOn: string, observed: string, ok: boolean, notSeen = false): Behaviour {
  return { id, reliedOn, observed, result: notSeen ? 'not seen' : ok ? 'as relied on' : 'different' };
}

function detailOf(event: SessionEvent): { detail?: string } {
  switch (event.type) {
    case 'turnComplete':
      return event.detail === undefined ? {} : { detail: event.detail };
    case 'goAway':
      return { detail: `timeLeft ${event.timeLeftMs ?? 'missing'} ms` };
    case 'closed':
      return { detail: `${event.code} ${event.reason}` };
    case 'toolCall':
      return { detail: event.calls.map((call) => call.name).join(', ') };
    case 'resumptionUpdate':
      return { detail: event.resumable ? 'resumable' : 'not resumable' };
    default:
      return {};
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The report as a table for the terminal: one line per behaviour. */
export function formatConformanceTable(report: ConformanceReport): string[] {
  const marks: Record<BehaviourResult, string> = { 'as relied on': '✓', different: '✗', 'not seen': '–' };
  const width = Math.max(...report.behaviours.map((b) => b.id.length));
  return [
    `Gemini Live conformance: ${report.model} on ${report.backend} (API version ${report.apiVersion}), ${report.date}`,
    ...report.behaviours.map((b) => `${marks[b.result]} ${b.id.padEnd(width)}  ${b.observed}\n    relied on: ${b.reliedOn}`),
  ];
}

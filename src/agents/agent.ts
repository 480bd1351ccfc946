import type { CallDetails } from '../domain/call-details.js';
import { E164_HINT, isE164, LANGUAGE_TAG_PATTERN } from '../domain/identifiers.js';
import { DefinitionError, type Tool } from '../tools/tool.js';
import type { CallEvent, CallSummary } from '../observability/call-events.js';
import type { InputTranscriptionSettings, ModelFeatures, ThinkingSetting, TurnDetection } from '../model/realtime-model.js';
import { turnTakingDefinitionProblems, type TurnTakingSettings } from './turn-taking.js';

/**
 * What the service tells the model (or, for `apology`, what Twilio says) at the moments a phone call has in
 * common whatever the business. Cues are instructions to the model, not words to read out; write them in the
 * language the agent speaks. Every phrase has an English default.
 */
export interface AgentCues {
  /** When an inbound call connects: the model speaks first. */
  inboundGreeting: string;
  /** When the person we called answers: they need to hear who calls and why. */
  outboundGreeting: string;
  /** Keypad digits, batched: `{digits}` is replaced by the digits pressed, space-separated. */
  keypadDigits: string;
  /** The caller pressed # alone. */
  keypadHash: string;
  /** The caller finished speaking and the model has said nothing for STALL_TIMEOUT_MS. */
  stall: string;
  /** The model answered with an empty turn. */
  emptyTurn: string;
  /** The model's last answer did not reach the caller (inaudible, or declined turn after turn). */
  unheardAnswer: string;
  /** The caller has been silent for SILENCE_TIMEOUT_MS. */
  silenceCheckIn: string;
  /** The caller stayed silent after the check-in: say goodbye, then the call ends. */
  silenceGoodbye: string;
  /** MAX_CALL_DURATION_MS reached: say goodbye, then the call ends. */
  maxDurationGoodbye: string;
  /** transfer_call did not go through and the caller is still there. */
  transferFailed: string;
  /** Spoken by Twilio's own text-to-speech when the model cannot be reached any more, before it hangs up. */
  apology: string;
  /** Spoken by Twilio when nobody answers a transfer, before it hangs up. */
  transferNotAnswered: string;
  /** An outbound call reached a call-screening assistant that asks who is calling (docs/outbound.md). */
  screening: string;
  /** An outbound call reached an answering machine, now recording: `{message}` is the agent's `voicemail.message`. */
  voicemailMessage: string;
  /** The same, for a message the model composes: `{instructions}` is the agent's `voicemail.instructions`. */
  voicemailCompose: string;
  /** A warm transfer was not taken and the caller is back: `{outcome}` says why (nobody answered, busy, declined). */
  transferNotTaken: string;
  /** Spoken by Twilio to the person a warm transfer calls, before they take it: `{summary}` is the model's. */
  transferWhisper: string;
  /** Spoken by Twilio after the whisper: how the person takes the call (any key; otherwise the caller comes back). */
  transferAccept: string;
}

/** What an outbound call does when a machine answers: leave a message the agent wrote, one the model composes, or hang up. */
export type VoicemailSetting = { readonly message: string } | { readonly instructions: string } | 'hang-up';

/** The voicemail the model composes when an agent says nothing about machines. */
export const DEFAULT_VOICEMAIL_INSTRUCTIONS = 'Say who you are, why you called and how to reach you, in at most three short sentences.';

export const DEFAULT_CUES: Readonly<AgentCues> = Object.freeze({
  inboundGreeting: 'The phone call has just been connected. Greet the caller now.',
  outboundGreeting:
    'You placed this phone call, and the person you called has just answered. Introduce yourself, say why you are calling, and ask whether now is a good time to talk.',
  keypadDigits: 'The caller typed on the keypad: {digits}',
  keypadHash: 'The caller pressed the # key on the keypad.',
  stall: 'The caller has finished speaking and is waiting for your answer. Please respond now.',
  emptyTurn: 'Your last reply was empty. The caller is still waiting; please answer what they just said.',
  unheardAnswer: 'The caller could not hear your last answer. Please say it again.',
  silenceCheckIn: 'The caller has been silent for a while. Briefly ask whether they are still there.',
  silenceGoodbye: 'The caller is still silent. Say a brief, polite goodbye now; the call will then end.',
  maxDurationGoodbye: 'This call has reached its time limit. Apologise, say a brief, polite goodbye now; the call will then end.',
  transferFailed:
    'The transfer did not go through and the caller is still on the line with you. Apologise briefly and offer to help another way or to take a message.',
  apology: 'Sorry, our assistant is having technical difficulties and cannot continue this call. Please call again in a few minutes. Goodbye.',
  transferNotAnswered: 'Sorry, nobody could take your call right now. Please try again later. Goodbye.',
  screening:
    'An automated call-screening assistant answered and asks who is calling. Say only your name, whom you are calling for and why, in one short sentence, then stop and wait. Do not start your pitch; when the person comes on the line, greet them and carry on.',
  voicemailMessage: 'You reached an answering machine and it is recording now. Leave this message, word for word, then stop talking: {message}',
  voicemailCompose: 'You reached an answering machine and it is recording now. Leave a voicemail: {instructions} Then stop talking; the call ends when you finish.',
  transferNotTaken:
    'The transfer did not go through: {outcome}. The caller is back on the line with you. Apologise briefly and offer to take a message for your colleague.',
  transferWhisper: 'A call transferred to you by the phone assistant. {summary}',
  transferAccept: 'Press any key to take the call.',
});

/** Cues that must keep a placeholder, and which. */
const CUE_PLACEHOLDERS: Partial<Record<keyof AgentCues, string>> = {
  keypadDigits: '{digits}',
  voicemailMessage: '{message}',
  voicemailCompose: '{instructions}',
  transferNotTaken: '{outcome}',
  transferWhisper: '{summary}',
};

/** An agent's instructions: fixed text, or written for each call (who calls, which number, which way). */
export type Instructions = string | ((call: CallDetails) => string | Promise<string>);

/** Everything `defineAgent` accepts. Only `name` and `instructions` are required. */
export interface AgentDefinition {
  /** Names the agent in logs, call summaries, `POST /calls` and `npm run call -- --agent`: letters, digits, `-` and `_`. */
  name: string;
  /** The system instruction: who the agent is and how it behaves. A function is called once per call. */
  instructions: Instructions;
  /**
   * The voice, by its name at the model's provider (Gemini Live: one of `GEMINI_VOICES`, default Kore). The model
   * checks it when the service starts.
   */
  voice?: string;
  /**
   * The language the agent speaks, as a BCP-47 tag (e.g. `de-DE`). Native-audio models choose their language
   * from the conversation and do not accept a fixed `languageCode`, so this becomes an instruction, and it is
   * the language of Twilio's spoken apology.
   */
  language?: string;
  /** The realtime model for this agent, by its provider's name for it; default GEMINI_MODEL. */
  model?: string;
  /**
   * Who hears where the caller's turns start and end: the model's own voice detection (`'model'`), or this service
   * (`'local'`: a voice detector here pauses the agent the moment the caller talks over it, lets backchannels by,
   * ignores the agent's own echo, and tells the model when the caller's turn starts and ends). Default:
   * TURN_DETECTION, else `'model'`. docs/turn-taking.md says which to choose.
   */
  turnDetection?: TurnDetection;
  /** Turn-taking settings (docs/turn-taking.md), checked against the model when the service starts. */
  turnTaking?: TurnTakingSettings;
  /** Hints for transcribing the caller, on models that take them: `{ languages: ['en-US'], vocabulary: ['Acme'] }`. */
  inputTranscription?: InputTranscriptionSettings;
  /**
   * Tone that follows the caller's (affective dialog), on models that offer it (docs/models.md). The service checks
   * every model feature against its model when it starts, and picks the API version a feature needs.
   */
  affectiveDialog?: boolean;
  /** The model may stay silent when what it hears is not meant for it (proactive audio), on models that offer it. */
  proactiveAudio?: boolean;
  /** How much the model reasons first: `{ level: 'low' }` or `{ budget: 0 }`, whichever the model takes. */
  thinking?: ThinkingSetting;
  /** Sampling temperature, 0 to 2; default: the model's. */
  temperature?: number;
  /**
   * How the agent opens the call: an instruction to the model, for inbound calls (a string) or per direction.
   * Default: greet the caller (inbound); introduce yourself and say why you call (outbound).
   */
  greeting?: string | { inbound?: string; outbound?: string };
  /** The agent's tools (`defineTool`). `end_call` is always added; `transfer_call` when a transfer number is set. */
  tools?: readonly Tool[];
  /** E.164 numbers this agent answers. An agent without numbers is the default for every other number. */
  phoneNumbers?: readonly string[];
  /** Where `transfer_call` sends the caller (E.164); default TRANSFER_NUMBER. */
  transferNumber?: string;
  /**
   * `cold` (default TRANSFER_MODE, else cold): the caller is put through at once. `warm`: the person called first hears
   * the model's summary of the call and takes it with a key; if nobody answers, the line is busy or they decline, the
   * caller comes back to the agent (docs/outbound.md).
   */
  transferMode?: 'cold' | 'warm';
  /**
   * When an outbound call reaches an answering machine: leave `{ message }` (the agent's words, spoken by the model)
   * or a message the model composes from `{ instructions }`, once the greeting and its beep have ended, then hang
   * up; or `'hang-up'` at once. Default: a message composed from DEFAULT_VOICEMAIL_INSTRUCTIONS.
   */
  voicemail?: VoicemailSetting;
  /** Overrides for the service's cues, e.g. in the agent's language. */
  cues?: Partial<AgentCues>;
  /**
   * Every event of every call this agent takes, as it happens (started, speech, barge-in, transcripts, tools,
   * session switches, ended). Called synchronously on the call's path: return quickly; errors are logged and
   * ignored, a returned promise is not awaited.
   */
  onCallEvent?: (event: CallEvent, call: CallDetails) => void;
  /** The call has ended: e.g. write its summary to a CRM. Errors and rejections are logged and ignored. */
  onCallEnded?: (summary: CallSummary, call: CallDetails) => void | Promise<void>;
}

/** An agent, checked and with its defaults filled in: what `defineAgent` returns and the service runs. */
export interface Agent {
  readonly kind: 'gemini-phone-agent/agent';
  readonly name: string;
  readonly instructions: Instructions;
  /** Undefined: the model's default voice. */
  readonly voice: string | undefined;
  readonly language: string | undefined;
  readonly model: string | undefined;
  /** Undefined: the service's default (TURN_DETECTION). */
  readonly turnDetection: TurnDetection | undefined;
  readonly turnTaking: Readonly<TurnTakingSettings>;
  readonly inputTranscription: Readonly<InputTranscriptionSettings>;
  /** The model features the agent set: affective dialog, proactive audio, thinking, temperature. */
  readonly features: ModelFeatures;
  readonly greeting: { readonly inbound: string; readonly outbound: string };
  readonly tools: readonly Tool[];
  readonly phoneNumbers: readonly string[];
  readonly transferNumber: string | undefined;
  /** Undefined: the service's TRANSFER_MODE. */
  readonly transferMode: 'cold' | 'warm' | undefined;
  readonly voicemail: VoicemailSetting;
  readonly cues: Readonly<AgentCues>;
  readonly onCallEvent: AgentDefinition['onCallEvent'];
  readonly onCallEnded: AgentDefinition['onCallEnded'];
}

const AGENT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const KNOWN_FIELDS = new Set([
  'name', 'instructions', 'voice', 'language', 'model', 'turnDetection', 'turnTaking', 'inputTranscription', 'affectiveDialog', 'proactiveAudio',
  'thinking', 'temperature', 'greeting', 'tools', 'phoneNumbers',
  'transferNumber', 'transferMode', 'voicemail', 'cues', 'onCallEvent', 'onCallEnded',
]);
const THINKING_LEVELS = ['minimal', 'low', 'medium', 'high'] as const;
/** Gemini takes temperatures from 0 to 2 (GenerationConfig.temperature). */
const MAX_TEMPERATURE = 2;

/**
 * Declares a phone agent. Every mistake in the definition is reported at once, naming the agent and the field,
 * when the module is loaded: at start-up, never in the middle of a call.
 */
export function defineAgent(definition: AgentDefinition): Agent {
  const problems = agentDefinitionProblems(definition);
  if (problems.length > 0) throw new DefinitionError(problems);
  const greeting = typeof definition.greeting === 'string' ? { inbound: definition.greeting } : (definition.greeting ?? {});
  const cues: AgentCues = { ...DEFAULT_CUES, ...definition.cues };
  return Object.freeze({
    kind: 'gemini-phone-agent/agent',
    name: definition.name,
    instructions: definition.instructions,
    voice: definition.voice,
    language: definition.language,
    model: definition.model,
    turnDetection: definition.turnDetection,
    turnTaking: Object.freeze({ ...definition.turnTaking }),
    inputTranscription: Object.freeze({
      ...(definition.inputTranscription?.languages === undefined ? {} : { languages: Object.freeze([...definition.inputTranscription.languages]) }),
      ...(definition.inputTranscription?.vocabulary === undefined ? {} : { vocabulary: Object.freeze([...definition.inputTranscription.vocabulary]) }),
    }),
    features: Object.freeze(modelFeatures(definition)),
    greeting: Object.freeze({ inbound: greeting.inbound ?? cues.inboundGreeting, outbound: greeting.outbound ?? cues.outboundGreeting }),
    tools: Object.freeze([...(definition.tools ?? [])]),
    phoneNumbers: Object.freeze([...(definition.phoneNumbers ?? [])]),
    transferNumber: definition.transferNumber,
    transferMode: definition.transferMode,
    voicemail: typeof definition.voicemail === 'object' ? Object.freeze({ ...definition.voicemail }) : (definition.voicemail ?? Object.freeze({ instructions: DEFAULT_VOICEMAIL_INSTRUCTIONS })),
    cues: Object.freeze(cues),
    onCallEvent: definition.onCallEvent,
    onCallEnded: definition.onCallEnded,
  });
}

/** The model features a definition sets, and only those (an absent one is the model's default). */
function modelFeatures(definition: AgentDefinition): ModelFeatures {
  const { affectiveDialog, proactiveAudio, thinking, temperature } = definition;
  return {
    ...(affectiveDialog === undefined ? {} : { affectiveDialog }),
    ...(proactiveAudio === undefined ? {} : { proactiveAudio }),
    ...(thinking === undefined ? {} : { thinking: Object.freeze({ ...thinking }) }),
    ...(temperature === undefined ? {} : { temperature }),
  };
}

export function isAgent(value: unknown): value is Agent {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'gemini-phone-agent/agent';
}

/** Every problem with an agent definition, each naming the agent and the field. */
export function agentDefinitionProblems(definition: unknown): string[] {
  if (typeof definition !== 'object' || definition === null) return ['an agent must be an object (defineAgent({ name, instructions, ... }))'];
  const raw = definition as Record<string, unknown>;
  const name = typeof raw.name === 'string' ? raw.name : undefined;
  const label = `agent ${name === undefined ? '(unnamed)' : `"${name}"`}`;
  const problems: string[] = [];
  const add = (field: string, problem: string): void => void problems.push(`${label}: ${field} ${problem}`);

  for (const key of Object.keys(raw)) if (!KNOWN_FIELDS.has(key)) add(key, `is not an agent field (known: ${[...KNOWN_FIELDS].join(', ')})`);
  if (name === undefined || !AGENT_NAME_PATTERN.test(name)) add('name', 'must be 1-64 letters, digits, - or _, starting with a letter or digit');
  if (typeof raw.instructions === 'string') {
    if (raw.instructions.trim() === '') add('instructions', 'must not be empty');
  } else if (typeof raw.instructions !== 'function') {
    add('instructions', 'must be a string or a function of the call');
  }
  // Which voices exist is the model's to say: it checks them at start-up (AgentDirectory).
  if (raw.voice !== undefined && !(typeof raw.voice === 'string' && raw.voice.trim() !== '')) add('voice', 'must be the name of one of the model\'s voices');
  if (raw.language !== undefined && !(typeof raw.language === 'string' && LANGUAGE_TAG_PATTERN.test(raw.language))) add('language', 'must be a BCP-47 tag such as en-US or de-DE');
  if (raw.model !== undefined && !(typeof raw.model === 'string' && raw.model.trim() !== '')) add('model', 'must be a model name');
  // What the model honours is checked against it at start-up (AgentDirectory); here, only types and ranges.
  turnTakingDefinitionProblems(raw, add);
  modelFeatureProblems(raw, add);
  const greeting = raw.greeting;
  if (greeting !== undefined && typeof greeting !== 'string') {
    if (typeof greeting !== 'object' || greeting === null) add('greeting', 'must be a string or { inbound?, outbound? }');
    else {
      for (const [key, value] of Object.entries(greeting)) {
        if (key !== 'inbound' && key !== 'outbound') add(`greeting.${key}`, 'is not a greeting field (inbound, outbound)');
        else if (typeof value !== 'string' || value.trim() === '') add(`greeting.${key}`, 'must be a non-empty string');
      }
    }
  }
  if (raw.tools !== undefined) {
    if (!Array.isArray(raw.tools)) add('tools', 'must be an array of defineTool(...) results');
    else {
      const seen = new Set<string>();
      raw.tools.forEach((tool: unknown, index) => {
        const toolName = (tool as { name?: unknown } | null)?.name;
        if (typeof tool !== 'object' || tool === null || typeof toolName !== 'string' || typeof (tool as { run?: unknown }).run !== 'function') {
          add(`tools[${index}]`, 'is not a tool: wrap it in defineTool({...})');
          return;
        }
        if (toolName === 'end_call' || toolName === 'transfer_call') add(`tools[${index}]`, `"${toolName}" is built in: leave it out`);
        if (seen.has(toolName)) add(`tools[${index}]`, `"${toolName}" is declared twice`);
        seen.add(toolName);
      });
    }
  }
  if (raw.phoneNumbers !== undefined) {
    if (!Array.isArray(raw.phoneNumbers)) add('phoneNumbers', 'must be an array of E.164 numbers');
    else raw.phoneNumbers.forEach((number: unknown, index) => {
      if (!isE164(number)) add(`phoneNumbers[${index}]`, `must be ${E164_HINT} (got "${String(number)}")`);
    });
  }
  if (raw.transferNumber !== undefined && !isE164(raw.transferNumber)) add('transferNumber', `must be ${E164_HINT}`);
  if (raw.transferMode !== undefined && raw.transferMode !== 'cold' && raw.transferMode !== 'warm') add('transferMode', 'must be "cold" or "warm"');
  const voicemailProblem = voicemailSettingProblem(raw.voicemail);
  if (voicemailProblem !== undefined) add('voicemail', voicemailProblem);
  if (raw.cues !== undefined) {
    if (typeof raw.cues !== 'object' || raw.cues === null) add('cues', 'must be an object');
    else {
      for (const [key, value] of Object.entries(raw.cues)) {
        if (!(key in DEFAULT_CUES)) add(`cues.${key}`, `is not a cue (known: ${Object.keys(DEFAULT_CUES).join(', ')})`);
        else if (typeof value !== 'string' || value.trim() === '') add(`cues.${key}`, 'must be a non-empty string');
        else {
          const placeholder = CUE_PLACEHOLDERS[key as keyof AgentCues];
          if (placeholder !== undefined && !value.includes(placeholder)) add(`cues.${key}`, `must contain ${placeholder}`);
        }
      }
    }
  }
  for (const hook of ['onCallEvent', 'onCallEnded'] as const) {
    if (raw[hook] !== undefined && typeof raw[hook] !== 'function') add(hook, 'must be a function');
  }
  return problems;
}

/** The model features' types; whether the model offers them is the model's to say, at start-up (AgentDirectory). */
function modelFeatureProblems(raw: Record<string, unknown>, add: (field: string, problem: string) => void): void {
  for (const flag of ['affectiveDialog', 'proactiveAudio'] as const) {
    if (raw[flag] !== undefined && typeof raw[flag] !== 'boolean') add(flag, 'must be true or false');
  }
  if (raw.temperature !== undefined && !(typeof raw.temperature === 'number' && raw.temperature >= 0 && raw.temperature <= MAX_TEMPERATURE)) {
    add('temperature', `must be a number from 0 to ${MAX_TEMPERATURE}`);
  }
  const thinking = raw.thinking;
  if (thinking === undefined) return;
  const keys = typeof thinking === 'object' && thinking !== null ? Object.keys(thinking) : [];
  const { level, budget } = (thinking ?? {}) as { level?: unknown; budget?: unknown };
  const validLevel = keys.length === 1 && (THINKING_LEVELS as readonly unknown[]).includes(level);
  const validBudget = keys.length === 1 && typeof budget === 'number' && Number.isInteger(budget) && budget >= 0;
  if (!validLevel && !validBudget) add('thinking', `must be { level: ${THINKING_LEVELS.map((l) => `'${l}'`).join(' | ')} } or { budget: <tokens, 0 for none> }`);
}

function voicemailSettingProblem(value: unknown): string | undefined {
  if (value === undefined || value === 'hang-up') return undefined;
  const hint = "must be { message: '…' }, { instructions: '…' } or 'hang-up'";
  if (typeof value !== 'object' || value === null) return hint;
  const keys = Object.keys(value);
  if (keys.length !== 1 || (keys[0] !== 'message' && keys[0] !== 'instructions')) return hint;
  const text = (value as Record<string, unknown>)[keys[0]];
  return typeof text === 'string' && text.trim() !== '' ? undefined : `${keys[0]} must be a non-empty string`;
}

/** The system instruction for one call: the agent's own, the language it speaks, and its tools' guidance. */
export async function instructionsFor(agent: Agent, call: CallDetails): Promise<string> {
  const own = typeof agent.instructions === 'string' ? agent.instructions : await agent.instructions(call);
  if (typeof own !== 'string' || own.trim() === '') throw new Error(`agent "${agent.name}": instructions(call) must return a non-empty string`);
  const language = agent.language === undefined ? [] : [`Always speak ${languageName(agent.language)} unless the caller asks for another language.`];
  return [own.trim(), ...language].join('\n\n');
}

function languageName(tag: string): string {
  try {
    return new Intl.DisplayNames(['en'], { type: 'language' }).of(tag) ?? tag;
  } catch {
    return tag;
  }
}

/** The default keypad cue's fixed start, before the digits (the replay tool and local mode recognise it). */
export const KEYPAD_TEXT_PREFIX = DEFAULT_CUES.keypadDigits.split('{digits}')[0]!.trim();

import { DEFAULT_CUES, KEYPAD_TEXT_PREFIX } from '../agents/agent.js';
import { geminiSettingsProblems } from '../model/gemini/gemini-model.js';
import { DEFAULT_LIVE_MODEL } from '../model/gemini/live-models.js';
import type { ConversationSettings, ToolAnswer, ToolDeclaration } from '../model/realtime-model.js';
import { SCRIPTED_INPUT_RATE_HZ } from '../model/scripted/caller-turns.js';
import type { ConversationScript, ScriptedReply } from '../model/scripted/script.js';
import { createScriptedModel, type ScriptedModel } from '../model/scripted/scripted-model.js';
import { syntheticSpeech, VOICE_SAMPLE_RATE_HZ } from '../model/scripted/synthetic-voice.js';
import { resample16kTo24k } from './resample-16k-to-24k.js';

/**
 * Local mode's model: without a Gemini key, calls talk to this stand-in, a scripted model (src/model/scripted)
 * that exercises everything a real call does:
 *
 * - it greets when the call cues it, naming the agent it stands in for and showing the greeting instruction it
 *   cannot follow (it is no language model);
 * - after each caller turn it plays the caller's own audio back (16 kHz as received, resampled to the 24 kHz of
 *   model audio), so you hear the whole path: both resamplers and the mu-law codec, twice; then a canned line;
 * - on keypad input it calls the agent's tool that takes a `code` argument (if it has one) with the digits, and
 *   speaks what the tool answered;
 * - talking over it interrupts it, as the real model does;
 * - it answers the call's silence and stall cues.
 *
 * Its voice is synthetic (a buzzing, voice-like signal); the transcript carries the words. It refuses the voices
 * Gemini would refuse, so a mistake shows before a key is added.
 */

/** A long monologue is echoed only this far, so one turn cannot become a minute of playback. */
export const MAX_ECHO_MS = 8_000;
/** Pause between the echoed caller audio and the canned reply. */
const ECHO_GAP_MS = 250;
/** Ended calls whose journals the model keeps (for inspection); older ones are dropped. */
const KEEP_ENDED_CONVERSATIONS = 10;
export const LOCAL_AGENT_LINES = {
  afterEcho: 'That was your own voice, back through the whole audio path. I am the local stand-in; with a Gemini key, the real model answers here.',
  checkIn: 'Are you still there? Say something, or type a code.',
  goodbye: 'Goodbye from the local stand-in.',
  other: 'I am the local stand-in. Say something, or type a code on the keypad.',
  noCodeTool: 'You typed some keys, but this agent has no tool that takes a code.',
} as const;

/** The greeting: whom the stand-in stands in for, and what to try. */
export function localGreeting(agentName: string): string {
  return `Hello! This is the local stand-in for agent ${agentName}: no Gemini key is set, so nothing here follows the agent's instructions. Say something and I will play it back to you, then answer. Type a code on the keypad and I will look it up.`;
}

/** How the transcript shows an instruction the call sent, which the stand-in can show but not follow. */
export function shownInstruction(text: string, greeting: boolean): string {
  return `[${greeting ? 'greeting instruction' : 'instruction'}] ${text}`;
}

/** How long each canned line sounds: short, since the synthetic voice is not words. */
const SPOKEN_MS = { greeting: 3_000, afterEcho: 1_800, short: 1_400, toolAnswer: 2_400 } as const;

/** The local stand-in model. Its `journals` show what each call's conversation heard and did. */
const LOCAL_PROVIDER = 'local';
const refusedByGemini = geminiSettingsProblems('gemini-api', undefined);

export function createLocalModel(): ScriptedModel {
  return createScriptedModel({
    provider: LOCAL_PROVIDER,
    script: localScript,
    // It stands in for Gemini: what Gemini would refuse of an agent (a voice, a feature of its model) is refused here
    // too, so local mode finds it before the first call with a key. The features themselves are not acted out.
    settingsProblems: (settings) => refusedByGemini({ ...settings, model: settings.model === LOCAL_PROVIDER ? DEFAULT_LIVE_MODEL : settings.model }),
    keepEndedJournals: KEEP_ENDED_CONVERSATIONS,
  });
}

/** One call's script: the agent's name and code tool, and whether it has greeted yet. */
function localScript(settings: ConversationSettings): ConversationScript {
  const context = { agentName: settings.agentName, codeTool: codeToolOf(settings.tools), greeted: false };
  return {
    reply(turn) {
      if (turn.kind === 'speech') return { heard: `(you spoke for ${(turn.durationMs / 1000).toFixed(1)} s)`, ...echoReply(turn.audio) };
      const reply = replyToText(turn.text, context);
      context.greeted = true;
      return reply;
    },
  };
}

/**
 * Text from the call: keypad input, the watchdog's cues, and any other instruction: the first is the greeting
 * instruction (whatever its words), shown in the transcript with the stand-in's greeting.
 */
export function replyToText(text: string, context: { agentName: string; codeTool: string | undefined; greeted: boolean }): ScriptedReply {
  if (text === DEFAULT_CUES.silenceGoodbye || text === DEFAULT_CUES.maxDurationGoodbye) return spoken(LOCAL_AGENT_LINES.goodbye, SPOKEN_MS.short);
  if (text === DEFAULT_CUES.silenceCheckIn) return spoken(LOCAL_AGENT_LINES.checkIn, SPOKEN_MS.short);
  if (text.startsWith(KEYPAD_TEXT_PREFIX) || text === DEFAULT_CUES.keypadHash) {
    const digits = text.slice(KEYPAD_TEXT_PREFIX.length).replace(/[^0-9*]/g, '');
    if (context.codeTool === undefined) return spoken(LOCAL_AGENT_LINES.noCodeTool, SPOKEN_MS.short);
    return {
      text: '',
      toolCalls: [{ name: context.codeTool, args: digits === '' ? {} : { code: digits } }],
      afterToolAnswers: (answers) => spoken(describeToolAnswer(answers[0]), SPOKEN_MS.toolAnswer),
    };
  }
  if (text === DEFAULT_CUES.stall || text === DEFAULT_CUES.emptyTurn) return spoken(LOCAL_AGENT_LINES.other, SPOKEN_MS.short);
  if (context.greeted) return spoken(`${shownInstruction(text, false)} ${LOCAL_AGENT_LINES.other}`, SPOKEN_MS.short);
  return spoken(`${shownInstruction(text, true)} ${localGreeting(context.agentName)}`, SPOKEN_MS.greeting);
}

/** The first of the agent's tools that takes a `code` argument: what keypad digits go to. */
function codeToolOf(tools: readonly ToolDeclaration[]): string | undefined {
  return tools.find((tool) => 'code' in tool.parameters.properties)?.name;
}

/** The caller's turn played back, then the canned line. */
export function echoReply(callerAudio16k: Int16Array): { text: string; audio: Int16Array } {
  const echo = resample16kTo24k(callerAudio16k.subarray(0, (MAX_ECHO_MS * SCRIPTED_INPUT_RATE_HZ) / 1000));
  const line = syntheticSpeech(LOCAL_AGENT_LINES.afterEcho, SPOKEN_MS.afterEcho);
  const gap = (ECHO_GAP_MS * VOICE_SAMPLE_RATE_HZ) / 1000;
  const audio = new Int16Array(echo.length + gap + line.length);
  audio.set(echo, 0);
  audio.set(line, echo.length + gap);
  return { text: `(your words, played back) ${LOCAL_AGENT_LINES.afterEcho}`, audio };
}

/**
 * What the tool answered, read out: its `summary` or `message` if it has one, else the first text fields of
 * its answer (or its error).
 */
export function describeToolAnswer(answer: ToolAnswer | undefined): string {
  if (answer !== undefined && 'error' in answer.response) return `The tool said: ${answer.response.error.message}`;
  const response = record(answer?.response);
  const output = record(response?.['output']);
  // The answer itself, then the objects (or the first item of lists) it holds: where a tool puts its record.
  const layers = output === undefined ? [] : [output, ...Object.values(output).map((value) => record(Array.isArray(value) ? value[0] : value)).filter((v) => v !== undefined)];
  for (const layer of layers) for (const key of ['summary', 'message']) if (typeof layer[key] === 'string') return layer[key] as string;
  const words = layers.flatMap((layer) => Object.values(layer).filter((value): value is string | number => typeof value === 'string' || typeof value === 'number'));
  return words.length === 0 ? 'The tool answered, with nothing I can read out.' : `The tool answered: ${words.slice(0, 5).join(', ')}.`;
}

function spoken(text: string, durationMs: number): { text: string; audio: Int16Array } {
  return { text, audio: syntheticSpeech(text, durationMs) };
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}


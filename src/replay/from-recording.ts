import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { TWILIO_SAMPLE_RATE_HZ } from '../audio/format.js';
import { mulawEncode } from '../audio/mulaw.js';
import { KEYPAD_TEXT_PREFIX } from '../agents/agent.js';
import { parseRecordingLog, RecordingFormatError, type RecordingEvent, type RecordingLog } from '../recording/recording-format.js';
import { readPcm16Wav, wavChannel, WavFormatError } from '../recording/wav.js';
import { ReplayInputError, type CallerTurnKind, type ReplayScenario, type ScriptedReply } from './scenario.js';

/**
 * A recording made with RECORD_CALLS=1 as a replay: the caller channel of its WAV and the key presses
 * of its log are the caller's side, at their times. The model's side is rebuilt from the log, since a
 * recording has no script: each agent turn becomes a reply with the words the agent said and the tool
 * calls made before it, answering the caller's speech (with what Gemini transcribed), keypad input,
 * or a cue, whichever came since the turn before.
 *
 * What the recorded call did (tool calls, interruptions, how it ended) becomes the expectations, so
 * the report says where the replay went differently. Phone numbers in the log are masked, so a tool
 * call that was given one will not get the same answer.
 */
export function loadRecording(path: string): ReplayScenario {
  const jsonPath = path.endsWith('.wav') ? `${path.slice(0, -4)}.json` : path;
  let log: RecordingLog;
  try {
    log = parseRecordingLog(JSON.parse(readFileSync(jsonPath, 'utf8')));
  } catch (error) {
    if (error instanceof RecordingFormatError) throw new ReplayInputError(`${jsonPath}: ${error.message}`);
    throw new ReplayInputError(`cannot read ${jsonPath}: ${(error as Error).message}`);
  }
  // A recording is a pair of files with one name; a copy may have been renamed, so the sibling wins over the log's own name.
  const sibling = `${jsonPath.slice(0, -'.json'.length)}.wav`;
  const wavPath = jsonPath.endsWith('.json') && existsSync(sibling) ? sibling : join(dirname(jsonPath), basename(log.audio.file));
  let callerAudio: Uint8Array;
  try {
    const wav = readPcm16Wav(readFileSync(wavPath));
    if (wav.sampleRateHz !== TWILIO_SAMPLE_RATE_HZ || wav.channels !== 2) throw new WavFormatError(`expected 8 kHz stereo, got ${wav.sampleRateHz} Hz with ${wav.channels} channels`);
    const caller = wavChannel(wav, 0);
    callerAudio = new Uint8Array(caller.length);
    mulawEncode(caller, callerAudio);
  } catch (error) {
    throw new ReplayInputError(`cannot read the recording's audio ${wavPath}: ${(error as Error).message}`);
  }
  return { ...scenarioFromRecording(log, callerAudio, basename(jsonPath, '.json')), sourceFiles: [jsonPath, wavPath] };
}

export function scenarioFromRecording(log: RecordingLog, callerAudio: Uint8Array, name: string): ReplayScenario {
  const events = log.events;
  const keys = events.flatMap((event) => (event.type === 'keypad' ? [{ atMs: event.atMs, digit: event.digit }] : []));
  const speech = events.flatMap((event) => (event.type === 'callerSpeech' ? [{ atMs: event.atMs, endMs: event.endMs }] : []));
  const replies: ScriptedReply[] = [];
  let windowStart = -1;
  for (const turn of log.agentTurns) {
    replies.push(replyFor(events, windowStart, turn.startedAtMs, turn.text));
    windowStart = turn.startedAtMs;
  }
  // Tool calls after the last turn began (an end_call with nothing said after it) still get made.
  const trailing = toolCallsBetween(events, windowStart, Number.POSITIVE_INFINITY);
  if (trailing.length > 0) replies.push({ ...replyFor(events, windowStart, Number.POSITIVE_INFINITY, ''), toolCalls: trailing });

  const interruptions = events.filter((event) => event.type === 'interrupted').length;
  return {
    name,
    description: `replay of recorded call ${log.callSid} (${Math.round(log.durationMs / 100) / 10} s, ${log.endReason})`,
    // The caller's own number is masked in the log; a made-up one keeps lookups by number from matching anyone.
    callerNumber: log.from === undefined ? undefined : '+15005550006',
    callerAudio,
    speech,
    keys,
    hangUpAtMs: log.endReason === 'caller-hung-up' ? Math.min(log.durationMs, Math.round(callerAudio.length / 8)) : undefined,
    replies,
    expect: {
      toolCalls: events.flatMap((event) => (event.type === 'toolCall' ? [{ name: event.name, args: event.args }] : [])),
      interruptions,
      endReason: log.endReason,
    },
    expectationsFrom: 'recording',
  };
}

function replyFor(events: RecordingEvent[], fromMs: number, toMs: number, text: string): ScriptedReply {
  const inWindow = events.filter((event) => event.atMs > fromMs && event.atMs <= toMs);
  const heard = inWindow.flatMap((event) => (event.type === 'transcript' && event.speaker === 'caller' ? [event.text] : [])).join(' ');
  const keyed = inWindow.some((event) => event.type === 'textToModel' && event.text.startsWith(KEYPAD_TEXT_PREFIX));
  const spoke = heard !== '' || inWindow.some((event) => event.type === 'callerSpeech');
  const to: CallerTurnKind = keyed ? 'keypad' : spoke ? 'speech' : 'cue';
  const toolCalls = toolCallsBetween(events, fromMs, toMs);
  return { to, text, ...(heard === '' ? {} : { heard }), ...(toolCalls.length === 0 ? {} : { toolCalls }) };
}

function toolCallsBetween(events: RecordingEvent[], fromMs: number, toMs: number): Array<{ name: string; args: Record<string, unknown> }> {
  return events.flatMap((event) =>
    event.type === 'toolCall' && event.atMs > fromMs && event.atMs <= toMs
      ? [{ name: event.name, args: typeof event.args === 'object' && event.args !== null ? (event.args as Record<string, unknown>) : {} }]
      : [],
  );
}

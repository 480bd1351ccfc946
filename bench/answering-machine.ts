/**
 * Who answered, measured: the corpus of outbound-call openings (fixtures/answering-machine/) through the service's
 * combined detector (src/outbound/callee-listener.ts), through our own signals alone, and through Twilio's verdict
 * alone as its documented parameters describe it. Offline, on the audio's own clock: no timing noise.
 *
 * What a scene counts as right:
 * - a person: the agent introduces itself (never a voicemail, never a hang-up); measured: from the end of their
 *   hello to the introduction;
 * - a machine: the voicemail starts, and its first words (MESSAGE_LATENCY_MS after the decision) come after the
 *   machine started recording; measured: from the start of recording to the decision;
 * - a screener: the agent identifies itself; a fax: hang up.
 *
 * Assumptions (said in the report too):
 * - The model's transcript of an utterance arrives TRANSCRIPT_DELAY_MS after its end (Gemini's input transcription
 *   follows its own end-of-turn detection; the fake Live server sends it at the end of the caller's turn). How
 *   much the verdicts lean on it shows in a second run with the transcript LATE_TRANSCRIPT_DELAY_MS after.
 * - Twilio's verdict: Twilio publishes no accuracy figure and its classifier cannot run here, so "Twilio alone" is
 *   its documented rule with its default thresholds (twilio-node's Calls API types;
 *   https://www.twilio.com/docs/voice/answering-machine-detection) applied to the corpus with our energy detector:
 *   no speech for 5000 ms is `unknown`; speech ending (1200 ms of quiet) within 2400 ms is `human`, at that end;
 *   longer speech is a machine, reported (DetectMessageEnd) at the end of its beep when the beep comes within the
 *   1200 ms, else as `machine_end_silence` 1200 ms after its last words; a fax when its answer tone ends. Every
 *   verdict then takes TWILIO_CALLBACK_MS to reach us. The same voice test (against the line's noise floor) serves
 *   both sides, so the comparison is of the rules, not of two voice detectors.
 * - The agent's introduction lasts INTRODUCTION_MS; a machine signal after that is too late (the conversation has
 *   started) and the scene counts as wrong.
 */
import { FRAME_MS, MULAW_BYTES_PER_MS } from '../src/audio/format.js';
import { CalleeListener, LineVoice } from '../src/outbound/callee-listener.js';
import type { CalleeVerdict, OpeningAction, TwilioAnsweredBy } from '../src/outbound/callee-verdict.js';
import { loadAnsweringMachineAudio, loadAnsweringMachineCorpus, type AnsweringMachineScene } from '../test/support/answering-machine-corpus.js';
import { percentile, round } from './stats.js';

export const TRANSCRIPT_DELAY_MS = 600;
export const LATE_TRANSCRIPT_DELAY_MS = 1_500;
export const TWILIO_CALLBACK_MS = 300;
export const MESSAGE_LATENCY_MS = 500;
export const INTRODUCTION_MS = 5_000;

/** Twilio's documented defaults. */
const TWILIO_SPEECH_THRESHOLD_MS = 2_400;
const TWILIO_SPEECH_END_MS = 1_200;
const TWILIO_SILENCE_TIMEOUT_MS = 5_000;
const TWILIO_TIMEOUT_MS = 30_000;

/** `combined`: every signal; `ours`: without Twilio's; `twilio`: Twilio's alone; `late-transcript`: combined, transcripts late. */
export type DetectorName = 'combined' | 'ours' | 'twilio' | 'late-transcript';
const DETECTORS: readonly DetectorName[] = ['combined', 'ours', 'twilio', 'late-transcript'];

export interface SceneOutcome {
  scene: string;
  answeredBy: AnsweringMachineScene['answeredBy'];
  detector: DetectorName;
  correct: boolean;
  /** What the agent did, in order, with when (ms from the callee's first audio). */
  actions: Array<{ action: OpeningAction; atMs: number }>;
  verdict: CalleeVerdict | undefined;
  /** Person: hello end → introduction; machine: recording start → voicemail decision. */
  delayMs: number | undefined;
  note?: string;
}

export interface DetectorSummary {
  detector: DetectorName;
  correct: number;
  scenes: number;
  accuracyPercent: number;
  byAnswer: Record<AnsweringMachineScene['answeredBy'], { correct: number; scenes: number }>;
  /** Decision time from the callee's first audio, over all scenes. */
  verdictMs: { p50: number; p90: number };
  /** People: from the end of their hello to the introduction. */
  humanIntroductionDelayMs: { p50: number; p90: number };
  /** Machines: from the start of recording to the voicemail decision (negative: before, the message's own latency covers it). */
  voicemailDelayMs: { p50: number; p90: number };
  /** Machines whose voicemail would have started before the machine recorded (its start lost). */
  voicemailsCut: number;
  /** Machines the agent first introduced itself to. */
  introducedToMachines: number;
}

export interface AnsweringMachineResult {
  scenes: number;
  assumptions: { transcriptDelayMs: number; lateTranscriptDelayMs: number; twilioCallbackMs: number; messageLatencyMs: number; introductionMs: number };
  detectors: DetectorSummary[];
  outcomes: SceneOutcome[];
}

/** Runs every scene through each detector; `smoke`: one scene of each kind of answer. */
export function measureAnsweringMachine(options: { smoke?: boolean } = {}): AnsweringMachineResult {
  const corpus = loadAnsweringMachineCorpus();
  const scenes = options.smoke === true ? corpus.scenes.filter((scene, i, all) => all.findIndex((s) => s.answeredBy === scene.answeredBy) === i) : corpus.scenes;
  const outcomes = scenes.flatMap((scene) => {
    const audio = loadAnsweringMachineAudio(scene);
    return DETECTORS.map((detector) => runScene(scene, audio, detector));
  });
  return {
    scenes: scenes.length,
    assumptions: {
      transcriptDelayMs: TRANSCRIPT_DELAY_MS,
      lateTranscriptDelayMs: LATE_TRANSCRIPT_DELAY_MS,
      twilioCallbackMs: TWILIO_CALLBACK_MS,
      messageLatencyMs: MESSAGE_LATENCY_MS,
      introductionMs: INTRODUCTION_MS,
    },
    detectors: DETECTORS.map((detector) => summarizeDetector(detector, outcomes.filter((o) => o.detector === detector))),
    outcomes,
  };
}

interface TimedInput {
  atMs: number;
  apply: (listener: CalleeListener) => readonly OpeningAction[];
}

function runScene(scene: AnsweringMachineScene, audio: Uint8Array, detector: DetectorName): SceneOutcome {
  const actions: SceneOutcome['actions'] = [];
  if (detector === 'twilio') return judge(scene, detector, twilioOnlyActions(scene, audio), undefined);
  const listener = new CalleeListener('voicemail');
  const transcriptDelayMs = detector === 'late-transcript' ? LATE_TRANSCRIPT_DELAY_MS : TRANSCRIPT_DELAY_MS;
  const inputs = [...transcriptInputs(scene, transcriptDelayMs), ...(detector === 'ours' ? [] : [twilioInput(scene, audio)])].sort((a, b) => a.atMs - b.atMs);
  const frameBytes = FRAME_MS * MULAW_BYTES_PER_MS;
  let introducedAtMs: number | undefined;
  for (let offset = 0, nowMs = FRAME_MS; offset + frameBytes <= audio.length; offset += frameBytes, nowMs += FRAME_MS) {
    while (inputs.length > 0 && inputs[0]!.atMs <= nowMs) record(actions, nowMs, inputs.shift()!.apply(listener));
    if (introducedAtMs !== undefined && nowMs - introducedAtMs >= INTRODUCTION_MS) {
      listener.verdicts.agentTurnEnded();
      introducedAtMs = undefined;
    }
    const before = actions.length;
    record(actions, nowMs, listener.frame(nowMs, audio.subarray(offset, offset + frameBytes)));
    if (actions.slice(before).some((a) => a.action === 'introduce' || a.action === 'identify')) introducedAtMs = nowMs;
  }
  return judge(scene, detector, actions, listener.verdicts.verdict);
}

function record(actions: SceneOutcome['actions'], atMs: number, taken: readonly OpeningAction[]): void {
  for (const action of taken) actions.push({ action, atMs });
}

/** The model's transcript of each utterance, as the callee's words so far, after it ends. */
function transcriptInputs(scene: AnsweringMachineScene, delayMs: number): TimedInput[] {
  return scene.speech.map((utterance, index) => ({
    atMs: utterance.endMs + delayMs,
    apply: (listener: CalleeListener) => listener.transcript(utterance.endMs + delayMs, `${index === 0 ? '' : ' '}${utterance.text}`),
  }));
}

function twilioInput(scene: AnsweringMachineScene, audio: Uint8Array): TimedInput {
  const verdict = twilioVerdict(scene, audio);
  return { atMs: verdict.atMs, apply: (listener) => listener.twilio(verdict.atMs, verdict.answeredBy) };
}

/** Twilio's verdict by its documented rule and defaults, with our energy detector (see the header). */
export function twilioVerdict(scene: AnsweringMachineScene, audio: Uint8Array): { answeredBy: TwilioAnsweredBy; atMs: number } {
  const at = (ms: number, answeredBy: TwilioAnsweredBy) => ({ answeredBy, atMs: ms + TWILIO_CALLBACK_MS });
  if (scene.faxTone !== undefined) return at(scene.faxTone.endMs, 'fax');
  const voice = new LineVoice();
  const frameBytes = FRAME_MS * MULAW_BYTES_PER_MS;
  let startMs: number | undefined;
  let lastVoiceMs = 0;
  for (let offset = 0, nowMs = FRAME_MS; offset + frameBytes <= audio.length; offset += frameBytes, nowMs += FRAME_MS) {
    if (voice.isVoice(audio.subarray(offset, offset + frameBytes))) {
      startMs ??= nowMs;
      lastVoiceMs = nowMs;
      continue;
    }
    if (startMs === undefined) {
      if (nowMs >= TWILIO_SILENCE_TIMEOUT_MS) return at(nowMs, 'unknown');
      continue;
    }
    if (nowMs - lastVoiceMs < TWILIO_SPEECH_END_MS) continue;
    if (lastVoiceMs - startMs < TWILIO_SPEECH_THRESHOLD_MS) return at(nowMs, 'human');
    const beep = scene.beep;
    if (beep !== undefined && beep.startMs - lastVoiceMs <= TWILIO_SPEECH_END_MS) return at(beep.endMs, 'machine_end_beep');
    return at(nowMs, 'machine_end_silence');
  }
  return at(TWILIO_TIMEOUT_MS, 'unknown');
}

/** What an agent relying on Twilio alone does: introduce on human or unknown, leave the voicemail at a machine's end. */
function twilioOnlyActions(scene: AnsweringMachineScene, audio: Uint8Array): SceneOutcome['actions'] {
  const { answeredBy, atMs } = twilioVerdict(scene, audio);
  if (answeredBy === 'fax') return [{ action: 'hang-up', atMs }];
  if (answeredBy === 'human' || answeredBy === 'unknown') return [{ action: 'introduce', atMs }];
  return [{ action: 'leave-voicemail', atMs }];
}

function judge(scene: AnsweringMachineScene, detector: DetectorName, actions: SceneOutcome['actions'], verdict: CalleeVerdict | undefined): SceneOutcome {
  const first = actions[0];
  const voicemail = actions.find((a) => a.action === 'leave-voicemail');
  const base = { scene: scene.name, answeredBy: scene.answeredBy, detector, actions, verdict };
  switch (scene.answeredBy) {
    case 'human': {
      const helloEndMs = scene.speech[0]?.endMs ?? 0;
      const correct = first?.action === 'introduce' && actions.length === 1;
      return { ...base, correct, delayMs: first === undefined ? undefined : first.atMs - helloEndMs };
    }
    case 'machine': {
      const recordingMs = scene.recordingStartsAtMs ?? 0;
      if (voicemail === undefined) return { ...base, correct: false, delayMs: undefined, note: 'no voicemail' };
      const introducedFirst = actions.some((a) => a.action === 'introduce' && a.atMs < voicemail.atMs);
      const stillIntroducing = introducedFirst && voicemail.atMs - (actions.find((a) => a.action === 'introduce')?.atMs ?? 0) > INTRODUCTION_MS;
      const cut = voicemail.atMs + MESSAGE_LATENCY_MS < recordingMs;
      const note = cut ? 'voicemail cut' : stillIntroducing ? 'pitched to the machine' : introducedFirst ? 'introduced first' : undefined;
      return { ...base, correct: !cut && !stillIntroducing, delayMs: voicemail.atMs - recordingMs, ...(note === undefined ? {} : { note }) };
    }
    case 'screener':
      return { ...base, correct: first?.action === 'identify' && actions.length === 1, delayMs: undefined };
    case 'fax':
      return { ...base, correct: first?.action === 'hang-up', delayMs: undefined };
  }
}

function summarizeDetector(detector: DetectorName, outcomes: SceneOutcome[]): DetectorSummary {
  const byAnswer = { human: { correct: 0, scenes: 0 }, machine: { correct: 0, scenes: 0 }, screener: { correct: 0, scenes: 0 }, fax: { correct: 0, scenes: 0 } };
  for (const outcome of outcomes) {
    byAnswer[outcome.answeredBy].scenes++;
    if (outcome.correct) byAnswer[outcome.answeredBy].correct++;
  }
  const correct = outcomes.filter((o) => o.correct).length;
  const decided = outcomes.map((o) => o.actions[0]?.atMs).filter((ms): ms is number => ms !== undefined);
  const delays = (answeredBy: 'human' | 'machine'): number[] => outcomes.filter((o) => o.answeredBy === answeredBy && o.delayMs !== undefined).map((o) => o.delayMs as number);
  const p = (values: number[]) => ({ p50: round(percentile(values, 50), 0), p90: round(percentile(values, 90), 0) });
  return {
    detector,
    correct,
    scenes: outcomes.length,
    accuracyPercent: round((100 * correct) / Math.max(1, outcomes.length), 1),
    byAnswer,
    verdictMs: p(decided),
    humanIntroductionDelayMs: p(delays('human')),
    voicemailDelayMs: p(delays('machine')),
    voicemailsCut: outcomes.filter((o) => o.note === 'voicemail cut').length,
    introducedToMachines: outcomes.filter((o) => o.answeredBy === 'machine' && o.actions.some((a) => a.action === 'introduce')).length,
  };
}

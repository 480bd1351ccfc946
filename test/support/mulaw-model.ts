import { mulawDecodeSample, mulawEncodeSample } from '../../src/audio/mulaw.js';
import {
  BASIC_CAPABILITIES,
  type ConversationEvent,
  type ConversationHooks,
  type ConversationSettings,
  type RealtimeConversation,
  type RealtimeModel,
  type ToolAnswer,
} from '../../src/index.js';

/**
 * A second provider, written the way a user of the package would write one: from the public API alone
 * (docs/realtime-model.md). It speaks the phone's own 8 kHz mu-law both ways, so the call passes audio through
 * untouched, and it offers none of the optional capabilities. Its script:
 * - the first text (the greeting instruction) gets a short spoken greeting;
 * - keypad text becomes a call of the agent's tool that takes a `code`, whose answer it then reads out at length;
 * - caller speech while it talks interrupts it; other text (the watchdog's cues) gets no answer.
 * `record` shows what it was given.
 */
export const GREETING = 'Hello from the mu-law model.';
export const GREETING_MS = 1_000;
export const ANSWER_MS = 4_000;
const FRAME_BYTES = 160;
/** A caller frame louder than this (mean absolute sample) is speech. */
const SPEECH_LEVEL = 1_000;

export interface MulawModelRecord {
  settings: ConversationSettings[];
  /** Caller audio as it arrived, in order. */
  received: number[];
  texts: string[];
  answers: ToolAnswer[];
  reconnects: number;
  closed: number;
}

export function createMulawModel(): { model: RealtimeModel; record: MulawModelRecord } {
  const record: MulawModelRecord = { settings: [], received: [], texts: [], answers: [], reconnects: 0, closed: 0 };
  const model: RealtimeModel = {
    provider: 'mulaw-test',
    defaultModel: 'mulaw-1',
    audio: { input: { encoding: 'mulaw', sampleRateHz: 8_000 }, output: { encoding: 'mulaw', sampleRateHz: 8_000 } },
    capabilities: () => BASIC_CAPABILITIES,
    settingsProblems: ({ voice, features }) => [
      ...(voice === undefined || voice === 'plain' ? [] : [`voice "${voice}" is not a mu-law model voice; use plain`]),
      ...Object.keys(features).map((feature) => `model mulaw-1 offers no ${feature}: remove it`),
    ],
    conversation: (settings, hooks) => new MulawConversation(settings, hooks, record),
  };
  return { model, record };
}

class MulawConversation implements RealtimeConversation {
  private settings: ConversationSettings | undefined;
  private talking: NodeJS.Timeout | undefined;
  private greeted = false;
  private calls = 0;
  private connections = 0;

  constructor(
    private readonly source: () => Promise<ConversationSettings>,
    private readonly hooks: ConversationHooks,
    private readonly record: MulawModelRecord,
  ) {}

  get stats() {
    return { connections: this.connections, switches: { handover: 0, connectionLost: 0, stall: 0, inaudibleAnswer: 0, rejectedTurns: 0 } };
  }

  async start(): Promise<void> {
    this.settings = await this.source();
    this.record.settings.push(this.settings);
    this.connections = 1;
  }

  sendAudio(audio: Uint8Array): void {
    this.record.received.push(...audio);
    let level = 0;
    for (const code of audio) level += Math.abs(mulawDecodeSample(code));
    if (this.talking !== undefined && level / audio.length > SPEECH_LEVEL) {
      clearTimeout(this.talking);
      this.talking = undefined;
      this.emit({ type: 'interrupted' }, { type: 'turnComplete' });
    }
  }

  sendText(text: string): void {
    this.record.texts.push(text);
    const digits = /^The caller typed on the keypad: ([\d ]+)$/.exec(text)?.[1];
    const codeTool = this.settings?.tools.find((tool) => 'code' in tool.parameters.properties);
    if (digits !== undefined && codeTool !== undefined) {
      this.emit({ type: 'toolCall', calls: [{ id: `mulaw-call-${++this.calls}`, name: codeTool.name, args: { code: digits.replace(/ /g, '') } }] });
    } else if (!this.greeted) {
      this.greeted = true;
      this.say(GREETING, GREETING_MS);
    }
  }

  sendToolAnswers(answers: readonly ToolAnswer[]): void {
    this.record.answers.push(...answers);
    this.say(`The tool answered ${JSON.stringify(answers[0]?.response)}.`, ANSWER_MS);
  }

  reconnect(): void {
    this.record.reconnects++;
  }

  close(): void {
    clearTimeout(this.talking);
    this.record.closed++;
  }

  /** All of the reply's audio at once (a model sends ahead of playback), its turn complete when it has played. */
  private say(text: string, ms: number): void {
    const tone = new Uint8Array(ms * 8);
    for (let i = 0; i < tone.length; i++) tone[i] = mulawEncodeSample(Math.round(8_000 * Math.sin((2 * Math.PI * 440 * i) / 8_000)));
    this.emit({ type: 'outputTranscript', text });
    for (let at = 0; at < tone.length; at += FRAME_BYTES) this.emit({ type: 'audio', audio: tone.subarray(at, at + FRAME_BYTES) });
    this.emit({ type: 'generationComplete' });
    this.talking = setTimeout(() => {
      this.talking = undefined;
      this.emit({ type: 'turnComplete' });
    }, ms);
  }

  private emit(...events: ConversationEvent[]): void {
    for (const event of events) this.hooks.onEvent(event);
  }
}

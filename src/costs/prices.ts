/**
 * What a call costs, per unit: the model's tokens and the phone leg's minutes. The defaults below are dated and
 * cited; prices change, so a deployment checks them against the providers' current pages and overrides them with
 * PRICE_TABLE_FILE (docs/observability.md). Every amount is in US dollars.
 */

/** One Live model's prices, in US dollars per million tokens, as the provider lists them. */
export interface ModelPrices {
  readonly inputText: number;
  readonly inputAudio: number;
  /** Thinking tokens are billed as output text ("output price, including thinking tokens"). */
  readonly outputText: number;
  readonly outputAudio: number;
  /** When the source showed these prices (YYYY-MM-DD), and where they come from. */
  readonly asOf: string;
  readonly source: string;
}

/** The phone leg's prices in US dollars per minute; Twilio bills every started minute. */
export interface TelephonyPrices {
  readonly inboundPerMinute: number;
  readonly outboundPerMinute: number;
  /** Media Streams, on top of the voice minutes of the call it streams. */
  readonly mediaStreamPerMinute: number;
  readonly asOf: string;
  readonly source: string;
}

export interface PriceTable {
  readonly currency: 'USD';
  /** Audio tokens per second of audio each way: what a call's cost is estimated from when the model reports no usage. */
  readonly audioTokensPerSecond: number;
  /** By model name as agents give it (`gemini-3.8-live`); a `models/` prefix is ignored. */
  readonly models: Readonly<Record<string, ModelPrices>>;
  readonly telephony: TelephonyPrices;
}

/** Where the Gemini Live audio rates and the token rate come from. */
const GOOGLE_PRICING = 'https://ai.google.dev/gemini-api/docs/pricing';
const LIVE_AUDIO = { inputAudio: 3.0, outputAudio: 12.0 } as const;
const NATIVE_AUDIO_25: ModelPrices = {
  inputText: 0.5,
  ...LIVE_AUDIO,
  outputText: 2.0,
  asOf: '2026-05-16',
  source: `${GOOGLE_PRICING} (Gemini 2.5 Flash Native Audio, paid tier)`,
};

/**
 * The default table. Gemini Live bills every token of the context again for each response, audio included
 * (https://ai.google.dev/gemini-api/docs/live-api/best-practices#pricing-billing), which the reported usage
 * already counts; about 25 audio tokens a second (same page).
 */
export const DEFAULT_PRICES: PriceTable = Object.freeze({
  currency: 'USD',
  audioTokensPerSecond: 25,
  models: Object.freeze({
    'gemini-3.8-live': { inputText: 0.75, ...LIVE_AUDIO, outputText: 4.5, asOf: '2026-09-30', source: `${GOOGLE_PRICING} (Gemini 3.8 Live, paid tier)` },
    'gemini-3.1-flash-live-preview': { inputText: 0.75, ...LIVE_AUDIO, outputText: 4.5, asOf: '2026-05-12', source: `${GOOGLE_PRICING} (Gemini 3.1 Flash Live Preview, paid tier)` },
    'gemini-2.5-flash-native-audio-preview-12-2025': NATIVE_AUDIO_25,
    'gemini-2.5-flash-native-audio-preview-09-2025': NATIVE_AUDIO_25,
  }),
  telephony: Object.freeze({
    inboundPerMinute: 0.0085,
    outboundPerMinute: 0.014,
    mediaStreamPerMinute: 0.0044,
    asOf: '2026-09-18',
    source: 'https://www.twilio.com/en-us/voice/pricing/us (local number, United States)',
  }),
});

/** What one call is priced with: its model's prices (undefined: the table has none) and its phone leg's rate. */
export interface CallRates {
  readonly model: string;
  readonly modelPrices: ModelPrices | undefined;
  /** Voice plus Media Streams per started minute; 0 for a browser phone call (no Twilio leg). */
  readonly telephonyPerMinute: number;
  readonly audioTokensPerSecond: number;
}

/** How the call reached the service: a Twilio leg either way, or the browser phone (no Twilio leg). */
export type CallLeg = 'inbound' | 'outbound' | 'browser';

export function callRates(table: PriceTable, model: string, leg: CallLeg): CallRates {
  const { telephony } = table;
  const voice = leg === 'inbound' ? telephony.inboundPerMinute : leg === 'outbound' ? telephony.outboundPerMinute : undefined;
  return {
    model,
    modelPrices: table.models[model.replace(/^models\//, '')],
    telephonyPerMinute: voice === undefined ? 0 : voice + telephony.mediaStreamPerMinute,
    audioTokensPerSecond: table.audioTokensPerSecond,
  };
}

import type { CallRates, ModelPrices } from './prices.js';
import type { TokenUsage } from './usage-meter.js';

/** What a call cost, in US dollars, rounded to a millionth. */
export interface CallCost {
  currency: 'USD';
  /** The model's share; undefined when the price table has no prices for the call's model. */
  model: number | undefined;
  /** Twilio's voice and Media Streams minutes (0 for a browser phone call). */
  telephony: number;
  /** Both, or the telephony alone when the model is not priced (see `model`). */
  total: number;
  /** The model's share rests on estimated tokens (the model reported no usage). */
  estimated: boolean;
  /** The model whose prices were used, and the date those prices were shown. */
  priceModel: string;
  pricesAsOf: string | undefined;
}

const PER_MILLION = 1_000_000;
const MS_PER_MINUTE = 60_000;

export function callCost(tokens: TokenUsage, durationMs: number, rates: CallRates): CallCost {
  const model = rates.modelPrices === undefined ? undefined : modelCost(tokens, rates.modelPrices);
  // Twilio bills every started minute of the call and of its stream.
  const telephony = Math.ceil(Math.max(0, durationMs) / MS_PER_MINUTE) * rates.telephonyPerMinute;
  return {
    currency: 'USD',
    model: model === undefined ? undefined : micro(model),
    telephony: micro(telephony),
    total: micro((model ?? 0) + telephony),
    estimated: tokens.source === 'estimated',
    priceModel: rates.model,
    pricesAsOf: rates.modelPrices?.asOf,
  };
}

function modelCost(tokens: TokenUsage, prices: ModelPrices): number {
  const textIn = tokens.input.text + tokens.input.other + tokens.toolUsePrompt;
  const textOut = tokens.output.text + tokens.thinking;
  return (
    (textIn * prices.inputText + tokens.input.audio * prices.inputAudio + textOut * prices.outputText + tokens.output.audio * prices.outputAudio) /
    PER_MILLION
  );
}

function micro(dollars: number): number {
  return Math.round(dollars * PER_MILLION) / PER_MILLION;
}

import { readFileSync } from 'node:fs';
import { DEFAULT_PRICES, type ModelPrices, type PriceTable, type TelephonyPrices } from './prices.js';

const MODEL_FIELDS = ['inputText', 'inputAudio', 'outputText', 'outputAudio'] as const;
const TELEPHONY_FIELDS = ['inboundPerMinute', 'outboundPerMinute', 'mediaStreamPerMinute'] as const;

/**
 * PRICE_TABLE_FILE: a JSON file of the prices that differ from the defaults, read once at start-up, e.g.
 * `{ "models": { "gemini-3.8-live": { "inputAudio": 3, … } }, "telephony": { "inboundPerMinute": 0.0085 } }`.
 * A model given in full is added; a known model's or the telephony's fields replace the defaults one by one.
 * Returns the table, or every problem found in the file.
 */
export function readPriceTableFile(file: string, base: PriceTable = DEFAULT_PRICES): { table: PriceTable } | { problems: string[] } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    return { problems: [`PRICE_TABLE_FILE cannot be read as JSON (${(error as Error).message.split('\n')[0]})`] };
  }
  return mergePriceTable(base, parsed);
}

export function mergePriceTable(base: PriceTable, overrides: unknown): { table: PriceTable } | { problems: string[] } {
  const problems: string[] = [];
  if (!isObject(overrides)) return { problems: ['PRICE_TABLE_FILE must hold a JSON object with "models" and/or "telephony"'] };
  for (const key of Object.keys(overrides)) {
    if (!['models', 'telephony', 'audioTokensPerSecond'].includes(key)) problems.push(`PRICE_TABLE_FILE: "${key}" is not a part of the price table (models, telephony, audioTokensPerSecond)`);
  }
  const models: Record<string, ModelPrices> = { ...base.models };
  if (overrides.models !== undefined) {
    if (!isObject(overrides.models)) problems.push('PRICE_TABLE_FILE: "models" must be an object of model names');
    else for (const [name, entry] of Object.entries(overrides.models)) models[name] = mergeEntry(`models.${name}`, base.models[name], entry, MODEL_FIELDS, problems) as ModelPrices;
  }
  const telephony = overrides.telephony === undefined ? base.telephony : (mergeEntry('telephony', base.telephony, overrides.telephony, TELEPHONY_FIELDS, problems) as TelephonyPrices);
  const audioTokensPerSecond = overrides.audioTokensPerSecond ?? base.audioTokensPerSecond;
  if (!isPrice(audioTokensPerSecond) || audioTokensPerSecond === 0) problems.push('PRICE_TABLE_FILE: "audioTokensPerSecond" must be a positive number');
  if (problems.length > 0) return { problems };
  return { table: { currency: 'USD', audioTokensPerSecond: audioTokensPerSecond as number, models, telephony } };
}

function mergeEntry(path: string, base: object | undefined, entry: unknown, fields: readonly string[], problems: string[]): object {
  if (!isObject(entry)) {
    problems.push(`PRICE_TABLE_FILE: "${path}" must be an object`);
    return {};
  }
  const merged: Record<string, unknown> = { ...base, asOf: entry.asOf ?? 'configured', source: entry.source ?? 'PRICE_TABLE_FILE' };
  for (const [key, value] of Object.entries(entry)) {
    if (key === 'asOf' || key === 'source') {
      if (typeof value !== 'string') problems.push(`PRICE_TABLE_FILE: "${path}.${key}" must be text`);
    } else if (!fields.includes(key)) {
      problems.push(`PRICE_TABLE_FILE: "${path}.${key}" is not a price (${fields.join(', ')})`);
    } else if (!isPrice(value)) {
      problems.push(`PRICE_TABLE_FILE: "${path}.${key}" must be a number of US dollars, 0 or more`);
    } else {
      merged[key] = value;
    }
  }
  const missing = fields.filter((field) => merged[field] === undefined);
  if (missing.length > 0) problems.push(`PRICE_TABLE_FILE: "${path}" is a new entry and needs ${missing.join(', ')}`);
  return merged;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPrice(value: unknown): boolean {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

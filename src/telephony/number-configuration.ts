import { createTwilioClient, toTwilioRestError, type TwilioRestError, type TwilioRestOptions } from './twilio-rest.js';

export interface NumberVoiceSettings {
  voiceUrl: string | null;
  voiceMethod: string | null;
  /** A TwiML App the number uses instead of its own voice URL; empty or null when none. */
  voiceApplicationSid: string | null;
}

export interface VoiceWebhookConfiguration {
  outcome: 'updated' | 'already-configured';
  /** The number's `PN…` SID. */
  phoneNumberSid: string;
  /** What the number was set to before (equal to the target when already configured). */
  previous: NumberVoiceSettings;
  /** What still keeps Twilio from using the webhook, for the operator to fix (e.g. a SIP trunk). */
  warnings: string[];
}

export type NumberConfigurationFailure = 'not-in-account' | 'credentials' | 'test-credentials' | 'unreachable' | 'twilio-error';

/** Why the number could not be configured, worded for the operator; nothing of the credentials in it. */
export class NumberConfigurationError extends Error {
  constructor(
    message: string,
    readonly reason: NumberConfigurationFailure,
    readonly twilio?: TwilioRestError,
  ) {
    super(message);
    this.name = 'NumberConfigurationError';
  }
}

export interface ConfigureNumberOptions {
  rest: TwilioRestOptions;
  /** E.164, e.g. +14155550100. */
  phoneNumber: string;
  /** The full webhook URL, e.g. https://abc123.ngrok.app/voice. */
  voiceUrl: string;
}

/** How many of the account's numbers an error lists, to spot a typo without flooding the terminal. */
const NUMBERS_LISTED_ON_ERROR = 10;
/** Twilio authenticated the request, but test credentials cannot read or change numbers. */
const TEST_CREDENTIALS_CODE = 20008;
const AUTHENTICATION_FAILED_CODE = 20003;

/**
 * Points a number's voice webhook ("A call comes in") at `voiceUrl` with HTTP POST, through the REST API:
 * find the number's `PN…` SID (`IncomingPhoneNumbers.json?PhoneNumber=…`), then update `VoiceUrl` and
 * `VoiceMethod`. Idempotent: a number already set that way is not touched. A TwiML App on the number would take
 * precedence over its voice URL, so it is detached.
 */
export async function configureNumberVoiceWebhook({ rest, phoneNumber, voiceUrl }: ConfigureNumberOptions): Promise<VoiceWebhookConfiguration> {
  const client = createTwilioClient(rest);
  try {
    const number = await findNumber(client, phoneNumber, rest.accountSid);
    const previous = voiceSettingsOf(number);
    const warnings = number.trunkSid ? [trunkWarning(phoneNumber, number.trunkSid)] : [];
    const hasApp = Boolean(previous.voiceApplicationSid);
    if (previous.voiceUrl === voiceUrl && previous.voiceMethod === 'POST' && !hasApp) {
      return { outcome: 'already-configured', phoneNumberSid: number.sid, previous, warnings };
    }
    const updated = await client.incomingPhoneNumbers(number.sid).update({ voiceUrl, voiceMethod: 'POST', ...(hasApp ? { voiceApplicationSid: '' } : {}) });
    if (updated.voiceUrl !== voiceUrl || updated.voiceMethod !== 'POST') {
      throw new NumberConfigurationError(`Twilio accepted the update of ${phoneNumber} but reports voice URL ${String(updated.voiceUrl)} (${String(updated.voiceMethod)})`, 'twilio-error');
    }
    return { outcome: 'updated', phoneNumberSid: number.sid, previous, warnings };
  } catch (error) {
    if (error instanceof NumberConfigurationError) throw error;
    throw describeFailure(toTwilioRestError(error), rest.accountSid);
  }
}

/**
 * What keeps Twilio from sending the number's calls to `voiceUrl` with POST, read only (nothing is changed): a
 * sentence each, empty when the number is set up right. Throws a NumberConfigurationError when it cannot be read.
 */
export async function voiceWebhookProblems({ rest, phoneNumber, voiceUrl }: ConfigureNumberOptions): Promise<string[]> {
  try {
    const number = await findNumber(createTwilioClient(rest), phoneNumber, rest.accountSid);
    const current = voiceSettingsOf(number);
    return [
      ...(current.voiceApplicationSid ? [`a TwiML App (${current.voiceApplicationSid}) takes its calls instead of its voice URL`] : []),
      ...(number.trunkSid ? [trunkWarning(phoneNumber, number.trunkSid)] : []),
      ...(current.voiceUrl === voiceUrl ? [] : [`its voice URL is ${current.voiceUrl ?? 'not set'}, not ${voiceUrl}`]),
      ...(current.voiceMethod === 'POST' ? [] : [`its voice method is ${current.voiceMethod ?? 'not set'}, not POST`]),
    ];
  } catch (error) {
    if (error instanceof NumberConfigurationError) throw error;
    throw describeFailure(toTwilioRestError(error), rest.accountSid);
  }
}

type TwilioClient = ReturnType<typeof createTwilioClient>;
type IncomingNumber = Awaited<ReturnType<TwilioClient['incomingPhoneNumbers']['list']>>[number];

/** The account's number, by its exact E.164 (the `PhoneNumber` filter also matches partial numbers). */
async function findNumber(client: TwilioClient, phoneNumber: string, accountSid: string): Promise<IncomingNumber> {
  const numbers = client.incomingPhoneNumbers;
  const candidates = await numbers.list({ phoneNumber, limit: 20 });
  const number = candidates.find((candidate) => candidate.phoneNumber === phoneNumber);
  if (number === undefined) throw await notInAccount(phoneNumber, accountSid, () => numbers.list({ limit: NUMBERS_LISTED_ON_ERROR }));
  return number;
}

function voiceSettingsOf(number: IncomingNumber): NumberVoiceSettings {
  return { voiceUrl: number.voiceUrl ?? null, voiceMethod: number.voiceMethod ?? null, voiceApplicationSid: number.voiceApplicationSid ?? null };
}

function trunkWarning(phoneNumber: string, trunkSid: string): string {
  return `${phoneNumber} is routed to the Elastic SIP trunk ${trunkSid}: Twilio sends its calls to the trunk, not to the webhook. Remove the number from the trunk (Console → Elastic SIP Trunking → Numbers).`;
}

async function notInAccount(phoneNumber: string, accountSid: string, listSome: () => Promise<Array<{ phoneNumber: string }>>): Promise<NumberConfigurationError> {
  const owned = (await listSome()).map((number) => number.phoneNumber);
  const inventory =
    owned.length === 0
      ? 'The account has no phone numbers: buy one in the Twilio console (Phone Numbers → Buy a number).'
      : `Its numbers${owned.length === NUMBERS_LISTED_ON_ERROR ? ' include' : ' are'}: ${owned.join(', ')}.`;
  return new NumberConfigurationError(
    `${phoneNumber} is not a phone number of Twilio account ${accountSid}. ${inventory} ` +
      'Check TWILIO_PHONE_NUMBER (E.164, e.g. +14155550100) and TWILIO_ACCOUNT_SID (a number of a subaccount needs that subaccount\'s SID and token).',
    'not-in-account',
  );
}

function describeFailure(error: TwilioRestError, accountSid: string): NumberConfigurationError {
  if (error.status === 401 || error.code === AUTHENTICATION_FAILED_CODE) {
    return new NumberConfigurationError(
      `Twilio refused the credentials (HTTP 401, error ${AUTHENTICATION_FAILED_CODE}): TWILIO_ACCOUNT_SID (${accountSid}) and TWILIO_AUTH_TOKEN ` +
        'do not match. Copy both from the Twilio console (Account → API keys & tokens); a token that was rotated stops working.',
      'credentials',
      error,
    );
  }
  if (error.code === TEST_CREDENTIALS_CODE) {
    return new NumberConfigurationError(
      `These are Twilio test credentials (error ${TEST_CREDENTIALS_CODE}), which cannot manage phone numbers: use the live Account SID and Auth Token.`,
      'test-credentials',
      error,
    );
  }
  if (error.status === undefined) return new NumberConfigurationError(`${error.message}: check the network, or TWILIO_API_BASE_URL if it is set.`, 'unreachable', error);
  return new NumberConfigurationError(error.message, 'twilio-error', error);
}

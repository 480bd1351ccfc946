import { NumberConfigurationError, voiceWebhookProblems } from '../telephony/number-configuration.js';
import { fetchTwilioAccount, recentTwilioErrors } from '../telephony/twilio-account.js';
import { twilioErrorAdvice } from '../telephony/twilio-errors.js';
import type { TwilioRestError, TwilioRestOptions } from '../telephony/twilio-rest.js';
import { fail, pass, skip, type CheckResult } from './check.js';

/** How far back the doctor reads Twilio's error log. */
const ERROR_LOG_HOURS = 24;

/**
 * Twilio as the calls need it: the credentials belong together, each number's voice webhook is `voiceUrl` with POST,
 * and what Twilio's error log says about the last day (a past error does not stop calls; it says what failed).
 */
export async function checkTwilio(rest: TwilioRestOptions, numbers: readonly string[], voiceUrl: string, now = new Date()): Promise<CheckResult[]> {
  const credentials = await checkCredentials(rest);
  if (credentials.status === 'fail') return [credentials, skip('Twilio numbers and error log', 'the credentials were refused')];
  const webhooks =
    numbers.length === 0
      ? [skip("number's voice webhook", "no TWILIO_PHONE_NUMBER and no agent phoneNumbers: name your number to have its webhook checked")]
      : await Promise.all(numbers.map((number) => checkWebhook(rest, number, voiceUrl)));
  return [credentials, ...webhooks, await checkErrorLog(rest, new Date(now.getTime() - ERROR_LOG_HOURS * 3_600_000))];
}

async function checkCredentials(rest: TwilioRestOptions): Promise<CheckResult> {
  const name = 'Twilio credentials';
  try {
    const account = await fetchTwilioAccount(rest);
    if (account.status !== 'active') return fail(name, `account "${account.friendlyName}" is ${account.status}: reactivate it in the Twilio console`);
    const trial = account.type === 'Trial' ? '; a trial account calls only verified numbers and plays a trial message first' : '';
    return pass(name, `account "${account.friendlyName}" (${account.type}, ${account.status})${trial}`);
  } catch (error) {
    const restError = error as TwilioRestError;
    return fail(name, twilioErrorAdvice(restError.code) ?? `${restError.message}: check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN${restError.status === undefined ? ', and the network' : ''}`);
  }
}

async function checkWebhook(rest: TwilioRestOptions, number: string, voiceUrl: string): Promise<CheckResult> {
  const name = `voice webhook of ${number}`;
  try {
    const problems = await voiceWebhookProblems({ rest, phoneNumber: number, voiceUrl });
    if (problems.length === 0) return pass(name, `calls go to ${voiceUrl} with POST`);
    return fail(name, `${problems.join('; ')}: run npm run configure-number (it points the number at ${voiceUrl} with POST)`);
  } catch (error) {
    return fail(name, error instanceof NumberConfigurationError ? error.message : (error as Error).message);
  }
}

async function checkErrorLog(rest: TwilioRestOptions, since: Date): Promise<CheckResult> {
  const name = `Twilio error log (last ${ERROR_LOG_HOURS} h)`;
  try {
    const errors = await recentTwilioErrors(rest, since);
    if (errors.length === 0) return pass(name, 'no errors');
    const lines = errors.map((error) => `${error.code} x${error.count} (last ${error.lastAt.toISOString()})${error.advice === undefined ? '' : `: ${error.advice}`}`);
    return fail(name, lines.join('; '), false);
  } catch (error) {
    return fail(name, `could not be read (${(error as Error).message})`, false);
  }
}

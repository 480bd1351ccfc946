import { createTwilioClient, toTwilioRestError, type TwilioRestOptions } from './twilio-rest.js';
import { twilioErrorAdvice } from './twilio-errors.js';

export interface TwilioAccountInfo {
  friendlyName: string;
  /** `active`, `suspended` or `closed`. */
  status: string;
  /** `Full` or `Trial` (a trial account only calls verified numbers). */
  type: string;
}

/** Fetches the account the credentials belong to: proves they are valid together (https://www.twilio.com/docs/iam/api/account). */
export async function fetchTwilioAccount(rest: TwilioRestOptions): Promise<TwilioAccountInfo> {
  try {
    const account = await createTwilioClient(rest).api.v2010.accounts(rest.accountSid).fetch();
    return { friendlyName: account.friendlyName, status: account.status, type: account.type };
  } catch (error) {
    throw toTwilioRestError(error);
  }
}

/** One error code in the account's error log, how often it appeared, and what to change. */
export interface RecentTwilioError {
  code: number;
  count: number;
  lastAt: Date;
  advice: string | undefined;
}

/**
 * The account's errors since `since`, grouped by code, most frequent first (the Monitor API's Alerts:
 * https://www.twilio.com/docs/usage/monitor-alert). Warnings are left out; only what failed counts.
 */
export async function recentTwilioErrors(rest: TwilioRestOptions, since: Date, limit = 200): Promise<RecentTwilioError[]> {
  let alerts;
  try {
    alerts = await createTwilioClient(rest).monitor.v1.alerts.list({ startDate: since, logLevel: 'error', limit });
  } catch (error) {
    throw toTwilioRestError(error);
  }
  const byCode = new Map<number, RecentTwilioError>();
  for (const alert of alerts) {
    const code = Number(alert.errorCode);
    const seen = byCode.get(code);
    const at = new Date(alert.dateCreated);
    if (seen === undefined) byCode.set(code, { code, count: 1, lastAt: at, advice: twilioErrorAdvice(code) });
    else {
      seen.count++;
      if (at > seen.lastAt) seen.lastAt = at;
    }
  }
  return [...byCode.values()].sort((a, b) => b.count - a.count);
}

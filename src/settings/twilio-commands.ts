import type { Env } from './environment.js';
import { ConfigError } from './resolve-config.js';
import { problemLine } from './rules.js';
import { SETTINGS, type SettingSpec } from './setting-table.js';

/**
 * What the Twilio commands need (`npm run configure-number`, `npm run call`, `npm run dev -- --configure`): the
 * account, the number and PUBLIC_URL. Gemini settings are not required to set up telephony.
 */
export interface TwilioCommandConfig {
  publicUrl: URL;
  twilio: { accountSid: string; authToken: string; apiBaseUrl: string | undefined; phoneNumber: string };
  /** OUTBOUND_MACHINE_DETECTION, as the service reads it: `npm run call` places calls as `POST /calls` does. */
  machineDetection: boolean;
}

/** The commands' settings from the environment (they have no options in code); like resolveConfig, every problem at once. */
export function loadTwilioCommandConfig(env: Env = process.env): TwilioCommandConfig {
  const problems: string[] = [];
  /** A variable checked by the service's own rule for it, so a command and the service word a problem alike. */
  const read = (path: 'publicUrl' | 'twilio.accountSid' | 'twilio.authToken' | 'twilio.phoneNumber' | 'twilio.apiBaseUrl' | 'outbound.machineDetection', requiredHint?: string): unknown => {
    const { env: name, rule }: SettingSpec<unknown> = SETTINGS[path];
    const text = env[name]?.trim() || undefined;
    if (text === undefined) {
      if (requiredHint !== undefined) problems.push(`${name} is required: ${requiredHint}`);
      return undefined;
    }
    const result = rule.check(rule.fromText(text));
    if (!result.ok) problems.push(problemLine(name, rule, result.problem, text));
    return result.ok ? result.value : undefined;
  };
  const publicUrl = read('publicUrl', 'the public https URL Twilio reaches, e.g. https://abc123.ngrok.app');
  const accountSid = read('twilio.accountSid', 'your Twilio Account SID (AC followed by 32 hex digits)');
  const authToken = read('twilio.authToken', 'your Twilio Auth Token (Console → Account info)');
  const phoneNumber = read('twilio.phoneNumber', 'your Twilio number in E.164 format, e.g. +14155550100');
  const apiBaseUrl = read('twilio.apiBaseUrl');
  const machineDetection = read('outbound.machineDetection') ?? SETTINGS['outbound.machineDetection'].default;
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    publicUrl: publicUrl as URL,
    twilio: { accountSid: accountSid as string, authToken: authToken as string, apiBaseUrl: apiBaseUrl as string | undefined, phoneNumber: phoneNumber as string },
    machineDetection: machineDetection === true,
  };
}

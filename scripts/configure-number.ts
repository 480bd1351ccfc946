/**
 * `npm run configure-number`: points TWILIO_PHONE_NUMBER's voice webhook ("A call comes in") at PUBLIC_URL/voice
 * with HTTP POST, through Twilio's REST API. Safe to run again: a number already set that way is left alone.
 */
import { publicHttpsUrl } from '../src/settings/config.js';
import type { TwilioCommandConfig } from '../src/settings/twilio-commands.js';
import { configureNumberVoiceWebhook, NumberConfigurationError } from '../src/telephony/number-configuration.js';
import { VOICE_WEBHOOK_PATH } from '../src/telephony/voice-webhook.js';
import { isMainModule, loadDotEnv, loadTwilioSettingsOrReport, runCommand, terminal, type CommandOutput, type Env } from './lib/cli.js';

/** Configures the number and reports what happened; true when the number now sends its calls to PUBLIC_URL/voice. */
export async function configureNumber(config: TwilioCommandConfig, output: CommandOutput): Promise<boolean> {
  const { phoneNumber } = config.twilio;
  const voiceUrl = publicHttpsUrl(config, VOICE_WEBHOOK_PATH);
  try {
    const result = await configureNumberVoiceWebhook({ rest: config.twilio, phoneNumber, voiceUrl });
    if (result.outcome === 'already-configured') {
      output.out(`✔ ${phoneNumber} already sends its calls to ${voiceUrl} (HTTP POST): nothing to change.`);
    } else {
      const { previous } = result;
      const was = previous.voiceApplicationSid
        ? `the TwiML App ${previous.voiceApplicationSid} (now detached from the number)`
        : previous.voiceUrl
          ? `${previous.voiceUrl} (${previous.voiceMethod ?? 'POST'})`
          : 'no voice URL';
      output.out(`✔ ${phoneNumber} now sends its calls to ${voiceUrl} (HTTP POST). Before, it used ${was}.`);
    }
    for (const warning of result.warnings) output.err(`! ${warning}`);
    return true;
  } catch (error) {
    if (!(error instanceof NumberConfigurationError)) throw error;
    output.err(`✖ Could not configure ${phoneNumber}: ${error.message}`);
    return false;
  }
}

export async function configureNumberCommand(env: Env, output: CommandOutput): Promise<number> {
  const config = loadTwilioSettingsOrReport(env, output);
  if (config === undefined) return 1;
  return (await configureNumber(config, output)) ? 0 : 1;
}

if (isMainModule(import.meta.url)) {
  loadDotEnv();
  runCommand(() => configureNumberCommand(process.env, terminal));
}

import { FLEET_ACCESS_KEY_NAME, type AccessKeySource } from '../browser-phone/access-key.js';

/**
 * What a person starting the service needs to see first, in plain text on the terminal (not in the JSON log,
 * since the browser phone's URL carries its access key): which model answers, and where to talk to it.
 */
export function printStartBanner(
  out: { write(text: string): unknown },
  { localModel, browserPhoneUrl, keySource, agents }: { localModel: boolean; browserPhoneUrl: string | undefined; keySource: AccessKeySource | undefined; agents: readonly string[] },
): void {
  const lines: string[] = [];
  if (localModel) {
    lines.push(
      '  LOCAL MODE: GEMINI_API_KEY is not set.',
      '  Calls talk to the built-in local test model: it plays back what you say, answers with a',
      '  canned reply, and calls your agent\'s tool that takes a `code` when you type digits on the keypad.',
      '  Set GEMINI_API_KEY in .env to talk to Gemini.',
    );
  } else {
    lines.push('  Calls talk to Gemini Live.');
  }
  lines.push(`  Agent${agents.length === 1 ? '' : 's'}: ${agents.join(', ')}`);
  if (browserPhoneUrl !== undefined) {
    // Only a key made for this start is shown. BROWSER_PHONE_KEY is the operator's own; a fleet's instances write
    // their output to log collectors, and the key lives on in Redis (scripts/local-fleet.sh prints the URL).
    const shownKey = keySource === 'BROWSER_PHONE_KEY' ? '<BROWSER_PHONE_KEY>' : keySource === 'fleet' ? `<the fleet's key: redis-cli GET phone-agent:agreed:${FLEET_ACCESS_KEY_NAME}>` : undefined;
    const url = shownKey === undefined ? browserPhoneUrl : browserPhoneUrl.replace(/#key=.*$/, `#key=${shownKey}`);
    lines.push('', '  Talk to the agent in your browser:', `    ${url}`);
  }
  const rule = '='.repeat(92);
  out.write(`\n${rule}\n${lines.join('\n')}\n${rule}\n\n`);
}

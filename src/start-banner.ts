/**
 * What a person starting the service needs to see first, in plain text on the terminal (not in the JSON log,
 * since the browser phone's URL carries its access key): which model answers, and where to talk to it.
 */
export function printStartBanner(
  out: { write(text: string): unknown },
  { localModel, browserPhoneUrl, keyFromEnvironment }: { localModel: boolean; browserPhoneUrl: string | undefined; keyFromEnvironment: boolean },
): void {
  const lines: string[] = [];
  if (localModel) {
    lines.push(
      '  LOCAL MODE: GEMINI_API_KEY is not set.',
      '  Calls talk to the built-in local agent: it plays back what you say, answers with a',
      '  canned reply, and looks up a booking when you type a code on the keypad (K7Q2M9 = 577269).',
      '  Set GEMINI_API_KEY in .env to talk to Gemini.',
    );
  } else {
    lines.push('  Calls talk to Gemini Live.');
  }
  if (browserPhoneUrl !== undefined) {
    // A key from BROWSER_PHONE_KEY is the operator's own: not repeated on screen.
    const url = keyFromEnvironment ? browserPhoneUrl.replace(/#key=.*$/, '#key=<BROWSER_PHONE_KEY>') : browserPhoneUrl;
    lines.push('', '  Talk to the agent in your browser:', `    ${url}`);
  }
  const rule = '='.repeat(92);
  out.write(`\n${rule}\n${lines.join('\n')}\n${rule}\n\n`);
}

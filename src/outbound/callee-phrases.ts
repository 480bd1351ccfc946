/**
 * What the first words on an outbound call say about who answered, from the model's transcript of them.
 *
 * - A **screener** asks for the caller's name and reason: Google's Call Screen ("the person you're calling is using a
 *   screening service … say your name and why you're calling", quoted in
 *   https://www.idropnews.com/news/fast-tech/googles-insane-call-screen-feature-uses-ai-to-handle-spam-for-you/85530/;
 *   its newer "Call Assist" wording asks "what you're calling about":
 *   https://support.aircall.io/en-gb/articles/30727075383837) and iOS 26's "Ask Reason for Calling"
 *   (https://allthings.how/how-to-turn-on-call-screening-on-iphone-ios-26). Checked first: a screener also says
 *   "the person you're calling".
 * - A **machine** greeting asks for a message or says the person cannot answer ("leave a message after the tone",
 *   "you've reached", "the person you are calling", "is not available"). The last kind is only a hint: a person can
 *   say it too ("she's not available, can I help?"), so it counts only in a greeting longer than a person's hello.
 * - A **person** asks who is calling or how they can help, or says who is speaking ("Mark speaking"): checked last,
 *   so a greeting's own words win. "Hello" says nothing: greetings start with it too.
 *
 * Transcripts of phone audio are rough; the patterns look for a few words in order, not whole sentences.
 */

export type PhraseVerdict = 'screener' | 'machine' | 'machine-hint' | 'human';

const SCREENER: readonly RegExp[] = [
  /\bscreening (service|call)/,
  /\bcall assist\b/,
  /\b(say|state|record|tell (me|us)) your name\b/,
  /\b(reason|purpose) (for|of) (your |the |this )?call/,
  /\bwhy (you're|you are) calling\b/,
  /\bwhat (you're|you are) calling about\b/,
  /\bsee if (this person|they|he|she)('s| is| are)? (is |are )?available\b/,
];

const MACHINE: readonly RegExp[] = [
  /\bleave (a|your|me a|us a) (short |brief |detailed )?message\b/,
  /\b(after|at) the (tone|beep)\b/,
  /\brecord your message\b/,
  /\b(you've|you have) reached\b/,
  /\bvoice ?mail\b/,
  /\bmailbox\b/,
  /\bthe (person|party|subscriber) you (are|were|have) (calling|trying|called)\b/,
  /\bthe number you (have )?(dialed|called)\b/,
  /\b(can't|cannot|can not|couldn't) (come to|get to|answer|take) (the phone|your call)\b/,
  /\bleave your name and (phone )?number\b/,
];

const MACHINE_HINT: readonly RegExp[] = [/\b(is|are|am) (not|currently not|unable to be) available\b/, /\bunavailable\b/, /\bnot (here|in) right now\b/];

const HUMAN: readonly RegExp[] = [
  /\bwho('s| is) (this|calling|speaking)\b/,
  /\bhow (can|may) (i|we) help\b/,
  /\bwhat can i do for you\b/,
  /\b\w+ speaking\b/,
  /\bgo ahead\b/,
];

/** What `transcript` (everything the callee has said so far) suggests, or undefined when it suggests nothing. */
export function classifyCalleeWords(transcript: string): PhraseVerdict | undefined {
  const text = normalize(transcript);
  if (SCREENER.some((pattern) => pattern.test(text))) return 'screener';
  if (MACHINE.some((pattern) => pattern.test(text))) return 'machine';
  if (MACHINE_HINT.some((pattern) => pattern.test(text))) return 'machine-hint';
  if (HUMAN.some((pattern) => pattern.test(text))) return 'human';
  return undefined;
}

/** Lower case, one kind of apostrophe, punctuation as spaces, single spaces. */
function normalize(text: string): string {
  return text
    .toLowerCase()
    .replace(/[\u2018\u2019\u02bc`]/g, "'")
    .replace(/[^a-z0-9' ]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

import type { BrowserSession } from '../../src/browser-phone/browser-phone.js';
import { FakeTwilioMediaStream, type FakeTwilioMediaStreamOptions } from '../fakes/twilio/index.js';

/**
 * What the browser phone's page does to place a call: a session for its access key, then that session's media
 * stream (the upgrade carries the session's credential instead of a Twilio signature).
 */
export async function openBrowserPhoneCall(
  baseUrl: string,
  accessKey: string,
  options: Partial<FakeTwilioMediaStreamOptions> = {},
): Promise<{ session: BrowserSession; stream: FakeTwilioMediaStream }> {
  const response = await fetch(`${baseUrl}/phone/sessions`, { method: 'POST', headers: { Authorization: `Bearer ${accessKey}` } });
  if (response.status !== 201) throw new Error(`the browser phone refused a session: HTTP ${response.status}`);
  const session = (await response.json()) as BrowserSession;
  return { session, stream: await connectAsPage(baseUrl, session, options) };
}

/**
 * The page's stream for a session it holds (public/browser-phone/phone.js): the upgrade to the session's media path
 * with its credential, then Twilio's `start` for its call. `options` may claim another call or account (tests).
 */
export function connectAsPage(
  baseUrl: string,
  session: Pick<BrowserSession, 'mediaPath' | 'accountSid' | 'callSid' | 'streamSid' | 'customParameters'>,
  options: Partial<FakeTwilioMediaStreamOptions> = {},
): Promise<FakeTwilioMediaStream> {
  return FakeTwilioMediaStream.connect({
    serverUrl: `${baseUrl.replace('http://', 'ws://')}${session.mediaPath}`,
    streamUrl: 'unused: no signature',
    signature: null,
    authToken: '',
    accountSid: session.accountSid,
    callSid: session.callSid,
    streamSid: session.streamSid,
    customParameters: session.customParameters,
    ...options,
  });
}

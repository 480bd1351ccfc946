import type { BrowserSession } from '../../src/browser-phone/browser-phone.js';
import { FakeTwilioMediaStream } from '../fakes/twilio/index.js';

/**
 * What the browser phone's page does for a session (public/browser-phone/phone.js): the upgrade to the session's
 * media path with its credential (no signature), then Twilio's `start` for its call. `baseUrl`: http://host:port.
 */
export function connectAsPage(
  baseUrl: string,
  session: Pick<BrowserSession, 'mediaPath' | 'accountSid' | 'callSid' | 'streamSid' | 'customParameters'>,
  overrides: { callSid?: string; accountSid?: string } = {},
): Promise<FakeTwilioMediaStream> {
  return FakeTwilioMediaStream.connect({
    serverUrl: `${baseUrl.replace(/^http/, 'ws')}${session.mediaPath}`,
    streamUrl: 'unused: no signature',
    signature: null,
    authToken: '',
    accountSid: overrides.accountSid ?? session.accountSid,
    callSid: overrides.callSid ?? session.callSid,
    streamSid: session.streamSid,
    customParameters: session.customParameters,
  });
}

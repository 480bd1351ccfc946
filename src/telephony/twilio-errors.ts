/**
 * Twilio's error codes a phone agent meets in practice, each as a sentence that says what to change. Twilio lists them
 * in its console's error log and its Alerts API; the pages are https://www.twilio.com/docs/api/errors/<code>.
 */
const ADVICE: Readonly<Record<number, string>> = {
  11200:
    "Twilio could not fetch the voice webhook (HTTP retrieval failure): the number's voice URL must be PUBLIC_URL/voice with POST, and PUBLIC_URL must reach this service (npm run doctor checks both)",
  20003: "Twilio refused the credentials: TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN must be the live account's that owns the number",
  31901: "Twilio's WebSocket connection to PUBLIC_URL timed out: the tunnel or proxy is not forwarding to this service",
  31902: 'Twilio could not connect to PUBLIC_URL (connection refused): the service or its tunnel is not running',
  31910: 'TLS failed on the media stream: PUBLIC_URL must be https on port 443 with a valid certificate',
  31920:
    "Twilio's WebSocket upgrade was answered with something other than 101: the proxy or tunnel in front of PUBLIC_URL must pass WebSocket upgrades to this service (npm run doctor checks it)",
  31921: 'this service closed a media stream: expected when a call ends on purpose; otherwise the "media stream ended" log line says why',
  31924: 'Twilio found a message on the media stream it does not accept: check that nothing between Twilio and this service rewrites WebSocket frames',
};

export function twilioErrorAdvice(code: number | string | undefined): string | undefined {
  return code === undefined ? undefined : ADVICE[Number(code)];
}

/** Said when a call was answered with a stream and no stream came: what Twilio's error log will show, and what to check. */
export const STREAM_NEVER_CONNECTED_ADVICE =
  "if no other instance took it, Twilio could not open the media stream: PUBLIC_URL must pass WebSocket upgrades to this service (npm run doctor checks it); Twilio's error log shows 31920 (upgrade refused), 31901 (timeout) or 31910 (TLS)";

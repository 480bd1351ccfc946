/** Every path the service answers, defined once. */

/** Twilio's "a call comes in" webhook (and the one Twilio fetches when a call we placed is answered). */
export const VOICE_WEBHOOK_PATH = '/voice';
/** Twilio Media Streams connect here (wss), as `/media/<instance id>` so a load balancer can keep affinity. */
export const MEDIA_STREAM_PATH = '/media';
/** `/media` or `/media/<instance id>`. */
export const MEDIA_STREAM_PATH_PATTERN = /^\/media(?:\/[A-Za-z0-9][A-Za-z0-9._-]{0,62})?$/;
/**
 * `<Connect action>`: Twilio requests it when the media stream ends and the call is still up
 * (https://www.twilio.com/docs/voice/twiml/connect#action). A call ended on purpose hangs up there; a call
 * whose stream was lost (its instance died) gets a new stream on whichever instance answers.
 */
export const STREAM_ENDED_PATH = '/voice/stream-ended';
/** `POST /calls`: places an outbound call for an API client holding OUTBOUND_API_KEY. */
export const OUTBOUND_CALLS_PATH = '/calls';
/** Twilio's progress callbacks for the calls we place. */
export const CALL_STATUS_PATH = '/call-status';
/** The browser phone's page and its API. */
export const BROWSER_PHONE_PATH = '/phone';
export const HEALTH_PATH = '/healthz';
export const READY_PATH = '/readyz';

/** The query parameter of the voice webhook URL that names the agent of a call we placed. */
export const AGENT_QUERY_PARAMETER = 'agent';

/** Every path the service answers, defined once. */

/** Twilio's "a call comes in" webhook (and the one Twilio fetches when a call we placed is answered). */
export const VOICE_WEBHOOK_PATH = '/voice';
/** Twilio Media Streams connect here (wss). */
export const MEDIA_STREAM_PATH = '/media';
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

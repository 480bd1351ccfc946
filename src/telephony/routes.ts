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
/** Twilio's asynchronous answering-machine verdict for a call we placed (`AsyncAmdStatusCallback`). */
export const AMD_STATUS_PATH = '/amd-status';
/**
 * `<Stream statusCallback>`: Twilio POSTs a media stream's start, stop and errors (as Twilio sees them) to the stream's
 * own path, `/media/<instance id>` over https. A load balancer already sends that path to the instance holding the
 * stream, so the reports reach that instance and take no turn in the balancing of calls: as their own path, a
 * round-robin balancer would give each report a turn, and calls coming in step would all be answered by one instance.
 */
export const STREAM_STATUS_ROUTE = `${MEDIA_STREAM_PATH}/:instanceId`;
/** The status of Twilio's own recording of a call (TWILIO_RECORDING). */
export const RECORDING_STATUS_PATH = '/recording-status';
/** A warm transfer: what the person called hears first (`<Number url>`), their key press, and the `<Dial action>`. */
export const TRANSFER_WHISPER_PATH = '/transfer/whisper';
export const TRANSFER_ACCEPTED_PATH = '/transfer/accepted';
export const TRANSFER_ENDED_PATH = '/transfer/ended';
/** The query parameter of the whisper and accept URLs that names the transferred call (Twilio signs it). */
export const TRANSFERRED_CALL_QUERY_PARAMETER = 'call';
/** The browser phone's page and its API. */
export const BROWSER_PHONE_PATH = '/phone';
export const HEALTH_PATH = '/healthz';
export const READY_PATH = '/readyz';

/** The query parameter of the voice webhook URL that names the agent of a call we placed. */
export const AGENT_QUERY_PARAMETER = 'agent';

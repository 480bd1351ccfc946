/** The fake Twilio side for tests: webhook caller, TwiML reader, media-stream peer, signatures, fixtures. */
export * from './ids.js';
export * from './signature.js';
export * from './twiml.js';
export { defaultVoiceWebhookParams, postTwilioRequest, postVoiceWebhook, type PostVoiceWebhookOptions, type TwilioRequestResult, type VoiceWebhookParams, type VoiceWebhookResponse } from './webhook.js';
export type { DialRecord, DialTarget } from './dial.js';
export * from './protocol.js';
export * from './media-stream.js';
export { PlayoutBuffer, MAX_BUFFERED_BYTES, type CompletedMark, type ClearResult } from './playout.js';
export * from './fixtures.js';
export * from './rest-api.js';
export * from './call.js';

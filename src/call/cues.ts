/** Realtime text that makes the agent speak first: a phone agent answers with a greeting. */
export const GREETING_CUE = 'The phone call has just been connected. Greet the caller now.';

/** The cue instead of GREETING_CUE when we placed the call: the person did not call us and needs to know why we call. */
export const OUTBOUND_CALL_CUE =
  'You placed this phone call, and the person you called has just answered. Introduce yourself, say why you are calling, and ask whether now is a good time to talk.';

/**
 * Twilio's outbound playout buffer (media played at 8 bytes per ms, marks echoed when their audio has played,
 * `clear` drops the rest). It lives in src/replay/ because the replay tool's Twilio side needs the same model;
 * the fake and the replay share it, and neither shares code with the bridge under test.
 */
export * from '../../../src/replay/twilio-playout.js';

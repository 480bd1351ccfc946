import { describe, expect, it } from 'vitest';
import { transferOutcome, warmDialTwiml, whisperTwiml } from '../../../src/telephony/warm-transfer.js';

const CALL_SID = `CA${'1'.repeat(32)}`;

describe('warm transfer: how it ended, from the <Dial action> request', () => {
  it('is taken only when the key was pressed and the legs were bridged', () => {
    expect(transferOutcome({ DialCallStatus: 'completed', DialBridged: 'true', CallStatus: 'in-progress' }, true)).toBe('taken');
    expect(transferOutcome({ DialCallStatus: 'answered' }, true)).toBe('taken');
    // A key pressed, then the dialled leg hung up before the bridge: not taken.
    expect(transferOutcome({ DialCallStatus: 'completed', DialBridged: 'false', CallStatus: 'in-progress' }, true)).toBe('declined');
  });

  it('brings the caller back, naming why, when nobody answered, the line was busy, the person declined or the dial failed', () => {
    const status = (DialCallStatus: string, keyPressed = false) => transferOutcome({ DialCallStatus, CallStatus: 'in-progress' }, keyPressed);
    expect(status('no-answer')).toBe('no-answer');
    expect(status('busy')).toBe('busy');
    expect(status('completed')).toBe('declined');
    expect(status('failed')).toBe('failed');
    expect(status('canceled')).toBe('failed');
    expect(transferOutcome({}, false)).toBe('failed');
  });

  it('is over when the caller hung up meanwhile, whatever the dialled leg did', () => {
    expect(transferOutcome({ DialCallStatus: 'no-answer', CallStatus: 'completed' }, false)).toBe('caller-left');
    expect(transferOutcome({ DialCallStatus: 'completed', DialBridged: 'false', CallStatus: 'completed' }, true)).toBe('caller-left');
  });
});

describe('warm transfer TwiML', () => {
  it('dials the number with the whisper as its <Number url> and the action for its end', () => {
    const twiml = warmDialTwiml('+14155550177', CALL_SID, { publicOrigin: 'https://agent.example.com' });
    expect(twiml).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Dial action="https://agent.example.com/transfer/ended" method="POST" timeout="20">' +
        `<Number url="https://agent.example.com/transfer/whisper?call=${CALL_SID}" method="POST">+14155550177</Number></Dial></Response>`,
    );
    expect(() => warmDialTwiml('555-0177', CALL_SID, { publicOrigin: 'https://agent.example.com' })).toThrow(/E\.164/);
  });

  it('says the whisper inside a one-key <Gather>, and hangs up the dialled leg when no key comes', () => {
    const twiml = whisperTwiml('Sam wants Saturday. Press any key to take the call.', 'en-GB', 'https://agent.example.com/transfer/accepted?call=CA1');
    expect(twiml).toContain('<Gather numDigits="1" timeout="6" action="https://agent.example.com/transfer/accepted?call=CA1" method="POST" actionOnEmptyResult="false">');
    expect(twiml).toContain('<Say language="en-GB">Sam wants Saturday. Press any key to take the call.</Say></Gather><Hangup/>');
  });
});

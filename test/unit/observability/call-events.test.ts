import { describe, expect, it } from 'vitest';
import { CallEventStream, listenerExcept, listenerFor, type CallEvent } from '../../../src/observability/call-events.js';

const frame: CallEvent = { type: 'callerAudio', mulaw: new Uint8Array(160), timestampMs: 20 };

describe('CallEventStream', () => {
  it('gives each listener the events it reads, in order; one that throws disturbs no other', () => {
    const errors: string[] = [];
    const stream = new CallEventStream((_error, event) => errors.push(event.type));
    const all: string[] = [];
    const some: string[] = [];
    stream.subscribe(() => {
      throw new Error('broken listener');
    });
    stream.subscribe((event) => all.push(event.type));
    stream.subscribe(listenerFor(['callerSpeechStarted', 'cleared'], (event) => some.push(event.type)));
    for (const event of [frame, { type: 'callerSpeechStarted' }, { type: 'cleared' }] as CallEvent[]) stream.publish(event);
    expect(all).toEqual(['callerAudio', 'callerSpeechStarted', 'cleared']);
    expect(some).toEqual(['callerSpeechStarted', 'cleared']);
    expect(errors).toEqual(['callerAudio', 'callerSpeechStarted', 'cleared']);
  });

  it('says whether anyone reads an event type, so per-frame events are built only for a listener that reads them', () => {
    const stream = new CallEventStream(() => {});
    expect(stream.wants('callerAudio')).toBe(false);
    stream.subscribe(listenerFor(['ended'], () => {}));
    expect(stream.wants('callerAudio')).toBe(false);
    expect(stream.wants('ended')).toBe(true);
    const unsubscribe = stream.subscribe(listenerFor(['callerAudio'], () => {}));
    expect(stream.wants('callerAudio')).toBe(true);
    unsubscribe();
    expect(stream.wants('callerAudio')).toBe(false);
    stream.subscribe(listenerExcept(['callerAudio'], () => {}));
    expect(stream.wants('callerAudio')).toBe(false);
    expect(stream.wants('agentAudioSent')).toBe(true);
    stream.subscribe(() => {}); // no list: every event
    expect(stream.wants('callerAudio')).toBe(true);
  });

  it('gives a listener that skips some events all the others', () => {
    const stream = new CallEventStream(() => {});
    const seen: string[] = [];
    stream.subscribe(listenerExcept(['callerAudio'], (event) => seen.push(event.type)));
    for (const event of [frame, { type: 'callerSpeechStarted' }, { type: 'markSent', name: 't1:m1' }] as CallEvent[]) stream.publish(event);
    expect(seen).toEqual(['callerSpeechStarted', 'markSent']);
  });
});

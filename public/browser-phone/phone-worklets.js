// The browser phone's two audio worklets (they run on the audio thread, `sampleRate` is the context's rate).
import { FRAME_SAMPLES, PHONE_SAMPLE_RATE_HZ, PlayoutQueue, SincResampler, floatToInt16, mulawDecodeSample, mulawEncodeSample } from './phone-dsp.js';

/** Microphone → 8 kHz mu-law, posted to the page one 20 ms frame (160 bytes) at a time. */
class PhoneCaptureProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.resampler = new SincResampler(sampleRate, PHONE_SAMPLE_RATE_HZ);
    this.frame = new Uint8Array(FRAME_SAMPLES);
    this.filled = 0;
    this.sumSquares = 0;
  }

  process(inputs) {
    const channel = inputs[0]?.[0];
    if (channel === undefined) return true; // no input connected yet: keep the node alive
    const phone = this.resampler.process(channel);
    for (let i = 0; i < phone.length; i++) {
      const sample = floatToInt16(phone[i]);
      this.sumSquares += sample * sample;
      this.frame[this.filled++] = mulawEncodeSample(sample);
      if (this.filled === FRAME_SAMPLES) {
        const levelDbfs = 10 * Math.log10(this.sumSquares / FRAME_SAMPLES / 32768 ** 2 + 1e-12);
        this.port.postMessage({ type: 'frame', bytes: this.frame, levelDbfs }, [this.frame.buffer]);
        this.frame = new Uint8Array(FRAME_SAMPLES);
        this.filled = 0;
        this.sumSquares = 0;
      }
    }
    return true;
  }
}

/** 8 kHz phone samples pulled from the queue per step: small, so marks are echoed within about 1 ms of playing. */
const PULL_SAMPLES = 8;
/** Playout counters go to the page about ten times a second. */
const STATS_EVERY_BLOCKS = 32;

/**
 * Agent audio: mu-law frames from the page → queue (jitter buffer, marks, clear) → upsampled to the context's
 * rate. Marks whose audio has played and marks a `clear` released are posted back for the page to echo.
 */
class PhonePlaybackProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.queue = new PlayoutQueue();
    this.resampler = new SincResampler(PHONE_SAMPLE_RATE_HZ, sampleRate);
    this.ready = new Float32Array(4096);
    this.readyLength = 0;
    this.blocks = 0;
    this.port.onmessage = (event) => this.onMessage(event.data);
  }

  onMessage(message) {
    if (message.type === 'media') {
      const bytes = message.bytes;
      const samples = new Float32Array(bytes.length);
      for (let i = 0; i < bytes.length; i++) samples[i] = mulawDecodeSample(bytes[i]) / 32768;
      this.queue.pushAudio(samples);
    } else if (message.type === 'mark') {
      for (const name of this.queue.pushMark(message.name)) this.port.postMessage({ type: 'markPlayed', name });
    } else if (message.type === 'clear') {
      const cleared = this.queue.clear();
      this.port.postMessage({ type: 'cleared', discardedSamples: cleared.discardedSamples, marks: cleared.marks });
    }
  }

  process(_inputs, outputs) {
    const output = outputs[0];
    const frames = output[0].length;
    while (this.readyLength < frames) {
      const { samples, marks } = this.queue.read(PULL_SAMPLES);
      for (const name of marks) this.port.postMessage({ type: 'markPlayed', name });
      const upsampled = this.resampler.process(samples);
      if (this.readyLength + upsampled.length > this.ready.length) {
        const grown = new Float32Array(this.ready.length * 2);
        grown.set(this.ready.subarray(0, this.readyLength));
        this.ready = grown;
      }
      this.ready.set(upsampled, this.readyLength);
      this.readyLength += upsampled.length;
    }
    for (const channel of output) channel.set(this.ready.subarray(0, frames));
    this.ready.copyWithin(0, frames, this.readyLength);
    this.readyLength -= frames;
    if (++this.blocks % STATS_EVERY_BLOCKS === 0) {
      this.port.postMessage({ type: 'stats', queuedSamples: this.queue.queuedSamples, ...this.queue.stats });
    }
    return true;
  }
}

registerProcessor('phone-capture', PhoneCaptureProcessor);
registerProcessor('phone-playback', PhonePlaybackProcessor);

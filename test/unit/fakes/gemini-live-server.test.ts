/**
 * Drives the fake Gemini Live server with the REAL `@google/genai` SDK (and a raw `ws` client where the
 * SDK cannot express the case), so the fake is checked against the wire protocol the SDK speaks.
 */
import { ActivityHandling, EndSensitivity, GoogleGenAI, Modality, StartSensitivity, TurnCoverage, type AutomaticActivityDetection, type LiveConnectConfig, type LiveServerMessage, type Session } from '@google/genai';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  DEADLINE_EXPIRED,
  INVALID_API_KEY,
  MEDIA_CHUNKS_DEPRECATED,
  NON_AUDIO_REQUEST,
  encodePcm16Base64,
  startFakeGeminiLive,
  type FakeGeminiLive,
  type FakeGeminiLiveOptions,
} from '../../fakes/gemini-live/server.js';

const MODEL = 'gemini-3.8-live';
const BASE_CONFIG: LiveConnectConfig = {
  responseModalities: [Modality.AUDIO],
  inputAudioTranscription: {},
  outputAudioTranscription: {},
};

// ------------------------------------------------------------------------------------------------
// Audio helpers (16 kHz caller audio).

function tone(ms: number, freq = 220, amplitude = 0.25): Int16Array {
  const n = Math.round(ms * 16);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(Math.sin((2 * Math.PI * freq * i) / 16000) * amplitude * 32767);
  return out;
}

const silence = (ms: number): Int16Array => new Int16Array(Math.round(ms * 16));

function concat(...parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** 20 ms `realtimeInput.audio` chunks, as fast as possible (the fake's VAD runs on the audio timeline). */
function sendAudio(session: Session, samples: Int16Array): void {
  for (let i = 0; i < samples.length; i += 320) {
    session.sendRealtimeInput({
      audio: { data: encodePcm16Base64(samples.subarray(i, i + 320)), mimeType: 'audio/pcm;rate=16000' },
    });
  }
}

// ------------------------------------------------------------------------------------------------
// SDK client harness.

interface Client {
  session: Session;
  messages: LiveServerMessage[];
  closeEvent: Promise<{ code: number; reason: string }>;
  /** Resolves with the first message (from `from` on) matching `pred`. */
  next(pred: (m: LiveServerMessage) => boolean, from?: number, timeoutMs?: number): Promise<LiveServerMessage>;
}

let fake: FakeGeminiLive | undefined;
const openSessions: Session[] = [];

afterEach(async () => {
  for (const s of openSessions.splice(0)) s.close();
  await fake?.close();
  fake = undefined;
});

async function startFake(options: FakeGeminiLiveOptions = {}): Promise<FakeGeminiLive> {
  fake = await startFakeGeminiLive(options);
  return fake;
}

function sdk(f: FakeGeminiLive, apiKey = 'test-key'): GoogleGenAI {
  return new GoogleGenAI({ apiKey, httpOptions: { baseUrl: f.baseUrl } });
}

function connectClient(ai: GoogleGenAI, config: LiveConnectConfig = BASE_CONFIG): { connecting: Promise<Client> } {
  const messages: LiveServerMessage[] = [];
  const listeners = new Set<() => void>();
  let resolveClose: (e: { code: number; reason: string }) => void = () => {};
  const closeEvent = new Promise<{ code: number; reason: string }>((r) => (resolveClose = r));
  const connecting = ai.live
    .connect({
      model: MODEL,
      config,
      callbacks: {
        onmessage: (m) => {
          messages.push(m);
          for (const l of [...listeners]) l();
        },
        onclose: (e) => resolveClose({ code: e.code, reason: e.reason }),
      },
    })
    .then((session): Client => {
      openSessions.push(session);
      const next: Client['next'] = (pred, from = 0, timeoutMs = 5000) =>
        new Promise((resolve, reject) => {
          const check = (): void => {
            const found = messages.slice(from).find(pred);
            if (!found) return;
            listeners.delete(check);
            clearTimeout(timer);
            resolve(found);
          };
          const timer = setTimeout(() => {
            listeners.delete(check);
            reject(new Error(`no matching message within ${timeoutMs} ms; got ${JSON.stringify(messages.map(summarize))}`));
          }, timeoutMs);
          listeners.add(check);
          check();
        });
      return { session, messages, closeEvent, next };
    });
  return { connecting };
}

async function connect(f: FakeGeminiLive, config: LiveConnectConfig = BASE_CONFIG): Promise<Client> {
  return connectClient(sdk(f), config).connecting;
}

/** Compact description of a server message, for failure output and order assertions. */
function summarize(m: LiveServerMessage): string {
  const sc = m.serverContent;
  if (sc?.modelTurn) return 'audio';
  if (sc?.outputTranscription) return 'out';
  if (sc?.inputTranscription) return 'in';
  if (sc?.interrupted) return 'interrupted';
  if (sc?.generationComplete) return 'generationComplete';
  if (sc?.turnComplete) return 'turnComplete';
  if (m.toolCall) return 'toolCall';
  if (m.toolCallCancellation) return 'toolCallCancellation';
  if (m.sessionResumptionUpdate) return m.sessionResumptionUpdate.resumable ? 'resumable' : 'notResumable';
  if (m.goAway) return 'goAway';
  if (m.setupComplete) return 'setupComplete';
  return 'other';
}

const isTurnComplete = (m: LiveServerMessage): boolean => m.serverContent?.turnComplete === true;

function audioBytes(messages: LiveServerMessage[]): number {
  return messages
    .flatMap((m) => m.serverContent?.modelTurn?.parts ?? [])
    .reduce((n, p) => n + Buffer.from(p.inlineData?.data ?? '', 'base64').length, 0);
}

// ------------------------------------------------------------------------------------------------

describe('fake Gemini Live server with the real SDK', () => {
  it('completes setup and records the setup message, path and key', async () => {
    const f = await startFake();
    const client = await connect(f, {
      ...BASE_CONFIG,
      speechConfig: { voiceConfig: { prebuiltVoiceConfig: { voiceName: 'Kore' } } },
      systemInstruction: 'You are a phone agent.',
      sessionResumption: {},
      contextWindowCompression: { triggerTokens: '25600', slidingWindow: { targetTokens: '12800' } },
    });
    expect(client.messages[0]?.setupComplete).toEqual({});

    const s = await f.waitForSession(0);
    expect(s.path).toBe('//ws/google.ai.generativelanguage.v1.GenerativeService.BidiGenerateContent');
    expect(s.apiVersion).toBe('v1');
    expect(s.apiKey).toBe('test-key');
    expect(s.setup?.model).toBe(`models/${MODEL}`);
    expect(s.setup?.generationConfig?.responseModalities).toEqual(['AUDIO']);
    expect(s.setup?.generationConfig?.speechConfig?.voiceConfig?.prebuiltVoiceConfig?.voiceName).toBe('Kore');
    expect(s.setup?.systemInstruction).toEqual({ parts: [{ text: 'You are a phone agent.' }], role: 'user' });
    expect(s.setup?.inputAudioTranscription).toEqual({});
    expect(s.setup?.outputAudioTranscription).toEqual({});
    expect(s.setup?.sessionResumption).toEqual({});
    expect(s.setup?.contextWindowCompression).toEqual({ triggerTokens: '25600', slidingWindow: { targetTokens: '12800' } });
    expect(s.receivedMessages[0]?.kind).toBe('setup');
  });

  it('works through GOOGLE_GEMINI_BASE_URL as well', async () => {
    const f = await startFake();
    const saved = process.env['GOOGLE_GEMINI_BASE_URL'];
    process.env['GOOGLE_GEMINI_BASE_URL'] = f.baseUrl;
    try {
      const client = await connectClient(new GoogleGenAI({ apiKey: 'test-key' })).connecting;
      expect(client.messages[0]?.setupComplete).toBeDefined();
    } finally {
      if (saved === undefined) delete process.env['GOOGLE_GEMINI_BASE_URL'];
      else process.env['GOOGLE_GEMINI_BASE_URL'] = saved;
    }
  });

  it('answers a spoken turn with audio, transcripts, generationComplete, then turnComplete after playback time', async () => {
    const reply = 'Hello there, how can I help?';
    const f = await startFake({ replies: [{ text: reply }] });
    const client = await connect(f);

    sendAudio(client.session, concat(silence(200), tone(600), silence(700)));
    const done = await client.next(isTurnComplete);

    const order = client.messages.map(summarize);
    expect(order).toContain('in');
    const gen = order.indexOf('generationComplete');
    const lastAudio = order.lastIndexOf('audio');
    expect(gen).toBeGreaterThan(lastAudio);
    expect(order.indexOf('turnComplete')).toBeGreaterThan(gen);
    expect(order).not.toContain('interrupted');

    const heard = client.messages.find((m) => m.serverContent?.inputTranscription)?.serverContent?.inputTranscription?.text;
    expect(heard).toBe('(caller speech 0.6 s)');
    const spoken = client.messages.map((m) => m.serverContent?.outputTranscription?.text ?? '').join('');
    expect(spoken).toBe(reply);
    const mime = client.messages.find((m) => m.serverContent?.modelTurn)?.serverContent?.modelTurn?.parts?.[0]?.inlineData?.mimeType;
    expect(mime).toBe('audio/pcm;rate=24000');
    // 60 ms per character at 24 kHz PCM16.
    expect(audioBytes(client.messages)).toBe(reply.length * 1440 * 2);
    expect(done.usageMetadata?.totalTokenCount).toBeGreaterThan(0);
    expect(done.usageMetadata?.responseTokensDetails?.[0]).toEqual({ modality: 'AUDIO', tokenCount: 42 });

    const s = f.sessions[0];
    expect(s?.turns).toHaveLength(1);
    expect(s?.turns[0]?.audioStartMs).toBe(200);
    expect(s?.turns[0]?.audioEndMs).toBe(800);
    const mt = s?.modelTurns[0];
    expect(mt?.outcome).toBe('completed');
    // turnComplete waits for real-time playback (1.68 s) although audio was sent ~4x faster.
    expect((mt?.turnCompleteAtMs ?? 0) - (mt?.firstOutputAtMs ?? 0)).toBeGreaterThanOrEqual(reply.length * 60 - 20);
    expect((mt?.generationCompleteAtMs ?? 0) - (mt?.firstOutputAtMs ?? 0)).toBeLessThan(reply.length * 60 * 0.5);
    expect(s?.receivedAudio16k.seconds).toBeCloseTo(1.5, 5);
  });

  it('barge-in: interrupted, then turnComplete, no generationComplete; the next turn is answered', async () => {
    const f = await startFake({
      replies: [{ text: 'This is a rather long answer that the caller will cut off early.' }, { text: 'Sure.' }],
    });
    const client = await connect(f);
    sendAudio(client.session, concat(tone(400), silence(600)));
    await client.next((m) => m.serverContent?.modelTurn !== undefined);

    const from = client.messages.length;
    sendAudio(client.session, tone(300, 330));
    await client.next((m) => m.serverContent?.interrupted === true, from);
    await client.next(isTurnComplete, from);
    const firstTurn = client.messages.slice(0, client.messages.findIndex((m, i) => i >= from && isTurnComplete(m)) + 1);
    expect(firstTurn.map(summarize)).not.toContain('generationComplete');
    const afterInterrupt = client.messages.slice(client.messages.findIndex((m) => m.serverContent?.interrupted));
    expect(afterInterrupt.map(summarize).slice(0, 2)).toEqual(['interrupted', 'turnComplete']);

    const s = f.sessions[0];
    expect(s?.interruptions).toBe(1);
    expect(s?.modelTurns[0]?.outcome).toBe('interrupted');
    expect(s?.modelTurns[0]?.audioSamplesSent).toBeLessThan(s?.modelTurns[0]?.audioSamples ?? 0);

    // The barge-in speech is a caller turn of its own once it ends.
    const second = client.messages.length;
    sendAudio(client.session, silence(600));
    await client.next((m) => m.serverContent?.generationComplete === true, second);
    await client.next(isTurnComplete, second);
    expect(s?.turns).toHaveLength(2);
    expect(s?.modelTurns[1]?.outcome).toBe('completed');
  });

  it('audioStreamEnd ends a turn without waiting for trailing silence', async () => {
    const f = await startFake({ replies: [{ text: 'Yes?' }] });
    const client = await connect(f);
    sendAudio(client.session, tone(400));
    client.session.sendRealtimeInput({ audioStreamEnd: true });
    await client.next(isTurnComplete);
    expect(f.sessions[0]?.turns[0]).toMatchObject({ source: 'audio', audioStartMs: 0, audioEndMs: 400 });
  });

  it('resamples audio declared at another rate onto the 16 kHz timeline', async () => {
    const f = await startFake();
    const client = await connect(f);
    const pcm8k = new Int16Array(8000); // 1 s at 8 kHz
    for (let i = 0; i < pcm8k.length; i += 160) {
      client.session.sendRealtimeInput({
        audio: { data: encodePcm16Base64(pcm8k.subarray(i, i + 160)), mimeType: 'audio/pcm;rate=8000' },
      });
    }
    const s = await f.waitForSession(0);
    await s.waitUntil((x) => x.receivedMessages.length === 51);
    expect(s.receivedAudio16k.seconds).toBeCloseTo(1, 2);
  });

  it('manual activity mode: activityStart/End delimit the turn; the VAD is off', async () => {
    const f = await startFake({ replies: [{ text: 'Ok.' }] });
    const client = await connect(f, { ...BASE_CONFIG, realtimeInputConfig: { automaticActivityDetection: { disabled: true } } });
    client.session.sendRealtimeInput({ activityStart: {} });
    sendAudio(client.session, concat(tone(300), silence(1000))); // silence alone must not end the turn
    await new Promise((r) => setTimeout(r, 100));
    expect(f.sessions[0]?.turns).toHaveLength(0);
    client.session.sendRealtimeInput({ activityEnd: {} });
    await client.next(isTurnComplete);
    expect(f.sessions[0]?.turns[0]).toMatchObject({ source: 'activity', audioStartMs: 0, audioEndMs: 1300 });
  });

  it('honours silenceDurationMs from the setup and lets a script see transcribed text', async () => {
    const f = await startFake({
      transcribe: ({ audio16k }) => (audio16k.length > 16 * 500 ? 'long' : 'short'),
      replies: ({ heardText }) => ({ text: `You said ${heardText ?? '?'}.` }),
    });
    const client = await connect(f, {
      ...BASE_CONFIG,
      realtimeInputConfig: { automaticActivityDetection: { silenceDurationMs: 200 } },
    });
    sendAudio(client.session, concat(tone(700), silence(250)));
    await client.next(isTurnComplete);
    expect(client.messages.map((m) => m.serverContent?.outputTranscription?.text ?? '').join('')).toBe('You said long.');
    expect(client.messages.find((m) => m.serverContent?.inputTranscription)?.serverContent?.inputTranscription?.text).toBe('long');
  });

  it('manual activity mode: activityStart with automatic detection on closes 1007, as any misused field', async () => {
    const f = await startFake();
    const client = await connect(f);
    client.session.sendRealtimeInput({ activityStart: {} });
    expect(await client.closeEvent).toEqual({ code: 1007, reason: 'Request contains an invalid argument.' });
  });

  it('turnCoverage TURN_INCLUDES_ALL_INPUT: a turn holds the silence since the last turn, not only the activity', async () => {
    const f = await startFake({ replies: [{ text: 'One.' }, { text: 'Two.' }] });
    const config = { ...BASE_CONFIG, realtimeInputConfig: { automaticActivityDetection: { disabled: true }, turnCoverage: TurnCoverage.TURN_INCLUDES_ALL_INPUT } };
    const client = await connect(f, config);
    sendAudio(client.session, silence(400));
    client.session.sendRealtimeInput({ activityStart: {} });
    sendAudio(client.session, tone(300));
    client.session.sendRealtimeInput({ activityEnd: {} });
    sendAudio(client.session, silence(200));
    client.session.sendRealtimeInput({ activityStart: {} });
    sendAudio(client.session, tone(300));
    client.session.sendRealtimeInput({ activityEnd: {} });
    await f.sessions[0]!.waitUntil((s) => s.turns.length === 2);
    expect(f.sessions[0]!.turns.map(({ audioStartMs, audioEndMs }) => [audioStartMs, audioEndMs])).toEqual([[0, 700], [700, 1200]]);
  });

  /** How many turns the fake's detector hears in `audio` (sent whole, then audioStreamEnd), set up with `detection`. */
  async function turnsHeard(audio: Int16Array, detection: AutomaticActivityDetection, options: FakeGeminiLiveOptions = {}): Promise<number> {
    const f = await startFake(options);
    const client = await connect(f, { ...BASE_CONFIG, realtimeInputConfig: { automaticActivityDetection: detection } });
    sendAudio(client.session, audio);
    client.session.sendRealtimeInput({ audioStreamEnd: true });
    await f.sessions[0]!.waitUntil((s) => s.receivedMessages.some((m) => m.kind === 'realtimeInput' && m.input.type === 'audioStreamEnd'));
    const turns = f.sessions[0]!.turns.length;
    client.session.close();
    await f.close();
    return turns;
  }

  it('a 600 ms pause: split at the default 500 ms end silence, kept whole at silenceDurationMs 1000, split again when the model ignores it', async () => {
    const paused = concat(tone(400), silence(600), tone(400), silence(1200));
    expect(await turnsHeard(paused, {})).toBe(2);
    expect(await turnsHeard(paused, { silenceDurationMs: 1000 })).toBe(1);
    expect(await turnsHeard(paused, { silenceDurationMs: 1000 }, { quirks: { ignoresSilenceDuration: true } })).toBe(2);
  });

  it('start sensitivity LOW needs louder speech to start a turn; end sensitivity LOW needs quieter audio to end one', async () => {
    // A sine's RMS is its amplitude over √2: these are the levels the detector measures.
    const atDbfs = (ms: number, dbfs: number): Int16Array => tone(ms, 220, Math.SQRT2 * 10 ** (dbfs / 20));
    const quietSpeech = concat(atDbfs(400, -32), silence(700)); // 3 dB over the default threshold (−35 dBFS)
    expect(await turnsHeard(quietSpeech, {})).toBe(1);
    expect(await turnsHeard(quietSpeech, { startOfSpeechSensitivity: StartSensitivity.START_SENSITIVITY_LOW })).toBe(0);
    // A murmur 3 dB under the threshold between two loud stretches: it ends a turn only at the default sensitivity.
    const murmured = concat(tone(400), atDbfs(800, -38), tone(400), silence(700));
    expect(await turnsHeard(murmured, {})).toBe(2);
    expect(await turnsHeard(murmured, { endOfSpeechSensitivity: EndSensitivity.END_SENSITIVITY_LOW })).toBe(1);
  });

  it('tool call round trip: toolCall → toolResponse → audio → generationComplete → turnComplete', async () => {
    const f = await startFake({
      replies: [{ text: 'It is sunny in Paris.', toolCalls: [{ name: 'get_weather', args: { city: 'Paris' } }] }],
    });
    const client = await connect(f, {
      ...BASE_CONFIG,
      tools: [{ functionDeclarations: [{ name: 'get_weather', description: 'Weather for a city' }] }],
    });
    client.session.sendRealtimeInput({ text: 'What is the weather in Paris?' });

    const callMsg = await client.next((m) => m.toolCall !== undefined);
    const call = callMsg.toolCall?.functionCalls?.[0];
    expect(call?.name).toBe('get_weather');
    expect(call?.args).toEqual({ city: 'Paris' });
    expect(call?.id).toMatch(/^function-call-\d+$/);
    // Nothing is spoken before the tool answers.
    await new Promise((r) => setTimeout(r, 300));
    expect(audioBytes(client.messages)).toBe(0);

    client.session.sendToolResponse({
      functionResponses: [{ id: call?.id ?? '', name: 'get_weather', response: { output: { sky: 'sunny' } } }],
    });
    await client.next(isTurnComplete);
    const order = client.messages.map(summarize).filter((k) => k !== 'out' && k !== 'notResumable');
    const chunks = Math.ceil(('It is sunny in Paris.'.length * 60) / 200); // 60 ms/char, 200 ms chunks
    expect(order.slice(order.indexOf('toolCall'))).toEqual(['toolCall', ...Array(chunks).fill('audio'), 'generationComplete', 'turnComplete']);
    const s = f.sessions[0];
    expect(s?.toolResponses[0]?.response.response).toEqual({ output: { sky: 'sunny' } });
    expect(s?.toolCalls[0]?.status).toBe('answered');
    expect(s?.turns[0]?.heardText).toBe('What is the weather in Paris?');
  });

  it('barge-in while a tool call is pending sends toolCallCancellation', async () => {
    const f = await startFake({ replies: [{ text: 'Booked.', toolCalls: [{ name: 'book', args: {} }] }] });
    const client = await connect(f);
    client.session.sendRealtimeInput({ text: 'Book it' });
    const call = await client.next((m) => m.toolCall !== undefined);
    const from = client.messages.length;
    sendAudio(client.session, tone(200));
    await client.next(isTurnComplete, from);
    expect(client.messages.slice(from).map(summarize)).toEqual(['interrupted', 'toolCallCancellation', 'turnComplete']);
    const cancel = client.messages.find((m) => m.toolCallCancellation)?.toolCallCancellation;
    expect(cancel?.ids).toEqual([call.toolCall?.functionCalls?.[0]?.id]);
    expect(f.sessions[0]?.toolCalls[0]?.status).toBe('cancelled');
  });

  it('a toolResponse with an unknown id closes 1007', async () => {
    const f = await startFake();
    const client = await connect(f);
    client.session.sendToolResponse({ functionResponses: [{ id: 'function-call-1', name: 'x', response: {} }] });
    expect(await client.closeEvent).toEqual({ code: 1007, reason: 'Request contains an invalid argument.' });
  });

  it('realtimeInput.mediaChunks (deprecated) closes 1007, seen by the SDK onclose', async () => {
    const f = await startFake();
    const client = await connect(f);
    client.session.sendRealtimeInput({ media: { data: encodePcm16Base64(tone(20)), mimeType: 'audio/pcm;rate=16000' } });
    expect(await client.closeEvent).toEqual({ code: 1007, reason: MEDIA_CHUNKS_DEPRECATED });
    const closed = await f.sessions[0]?.closed;
    expect(closed).toEqual({ code: 1007, reason: MEDIA_CHUNKS_DEPRECATED, initiatedBy: 'server' });
  });

  it("setupDelayMs 'never' leaves connect() pending", async () => {
    const f = await startFake({ setupDelayMs: 'never' });
    const { connecting } = connectClient(sdk(f));
    const outcome = await Promise.race([
      connecting.then(() => 'resolved', () => 'rejected'),
      new Promise((r) => setTimeout(() => r('pending'), 400)),
    ]);
    expect(outcome).toBe('pending');
    expect((await f.waitForSession(0)).setup).toBeDefined();
    await f.close();
    await expect(connecting).rejects.toThrow(/closed before setup completed \(code 1006\)/);
  });

  it('goAway{timeLeft} then close 1011 "Deadline expired..."', async () => {
    const f = await startFake();
    const client = await connect(f);
    const s = await f.waitForSession(0);
    const t0 = Date.now();
    s.sendGoAway(0.3);
    const goAway = await client.next((m) => m.goAway !== undefined);
    expect(goAway.goAway).toEqual({ timeLeft: '0.3s' });
    expect(await client.closeEvent).toEqual({ code: 1011, reason: DEADLINE_EXPIRED });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(280);
  });

  it('periodic resumption updates and an automatic goAway from connectionLifetime', async () => {
    const f = await startFake({ resumptionUpdateEveryMs: 100, connectionLifetime: { goAwayAfterMs: 350, timeLeftSeconds: 0.1 } });
    const client = await connect(f, { ...BASE_CONFIG, sessionResumption: {} });
    expect(await client.closeEvent).toEqual({ code: 1011, reason: DEADLINE_EXPIRED });
    const handles = client.messages.flatMap((m) => (m.sessionResumptionUpdate?.resumable ? [m.sessionResumptionUpdate.newHandle] : []));
    expect(handles.length).toBeGreaterThanOrEqual(2);
    expect(new Set(handles).size).toBe(handles.length);
    expect(client.messages.map(summarize)).toContain('goAway');
  });

  it('say(): a server-initiated model turn; clientContent turns; greeting', async () => {
    const f = await startFake({ greeting: { text: 'Hi!' }, replies: [{ text: 'Noted.' }], msPerChar: 20 });
    const client = await connect(f);
    await client.next(isTurnComplete); // greeting
    const s = await f.waitForSession(0);
    expect(s.modelTurns[0]).toMatchObject({ origin: 'greeting', outcome: 'completed' });

    let from = client.messages.length;
    client.session.sendClientContent({ turns: 'My name is Ada', turnComplete: true });
    await client.next(isTurnComplete, from);
    expect(s.turns[0]).toMatchObject({ source: 'clientContent', heardText: 'My name is Ada' });

    from = client.messages.length;
    s.say({ text: 'Are you still there?' });
    await client.next(isTurnComplete, from);
    expect(s.modelTurns[2]).toMatchObject({ origin: 'say', outcome: 'completed' });
  });

  it('activityHandling NO_INTERRUPTION: speech during a reply does not interrupt it', async () => {
    const f = await startFake({ replies: [{ text: 'Please listen to all of this.' }, { text: 'Next.' }], msPerChar: 30 });
    const client = await connect(f, { ...BASE_CONFIG, realtimeInputConfig: { activityHandling: ActivityHandling.NO_INTERRUPTION } });
    client.session.sendRealtimeInput({ text: 'go' });
    await client.next((m) => m.serverContent?.modelTurn !== undefined);
    sendAudio(client.session, concat(tone(300), silence(600)));
    await client.next(isTurnComplete);
    expect(client.messages.map(summarize)).not.toContain('interrupted');
    // The caller turn that arrived meanwhile is answered after the first reply completes.
    await f.sessions[0]?.waitUntil((s) => s.modelTurns[1]?.outcome === 'completed', 5000);
  });

  it('session resumption: updates around a turn, resume with the handle, reject an unknown handle', async () => {
    const f = await startFake({ replies: [{ text: 'One.' }, { text: 'Two.' }] });
    const config: LiveConnectConfig = { ...BASE_CONFIG, sessionResumption: {} };
    const first = await connect(f, config);
    first.session.sendRealtimeInput({ text: 'hello' });
    await first.next(isTurnComplete);
    const update = await first.next((m) => m.sessionResumptionUpdate?.resumable === true);
    const kinds = first.messages.map(summarize);
    // Not resumable while generating (proto3 JSON omits resumable=false: the update is empty).
    expect(kinds.indexOf('notResumable')).toBeLessThan(kinds.indexOf('audio'));
    expect(first.messages.find((m) => m.sessionResumptionUpdate && !m.sessionResumptionUpdate.resumable)?.sessionResumptionUpdate).toEqual({});
    const handle = update.sessionResumptionUpdate?.newHandle ?? '';
    expect(handle).not.toBe('');
    first.session.close();
    await first.closeEvent;

    const second = await connect(f, { ...BASE_CONFIG, sessionResumption: { handle } });
    const resumed = await f.waitForSession(1);
    expect(resumed.resumedFrom).toEqual({ handle, sessionIndex: 0 });
    expect(resumed.conversationId).toBe(f.sessions[0]?.conversationId);
    second.session.sendRealtimeInput({ text: 'again' });
    await second.next(isTurnComplete);
    // The script continues where the resumed conversation left off.
    expect(second.messages.map((m) => m.serverContent?.outputTranscription?.text ?? '').join('')).toBe('Two.');
    expect(resumed.turns[0]?.index).toBe(1);

    const { connecting } = connectClient(sdk(f), { ...BASE_CONFIG, sessionResumption: { handle: 'bogus' } });
    await expect(connecting).rejects.toThrow(/code 1007/);
  });

  it('rejects a wrong API key (1007) and a TEXT-only setup (1007) before setupComplete', async () => {
    const f = await startFake({ apiKey: 'right' });
    await expect(connectClient(sdk(f, 'wrong')).connecting).rejects.toThrow(`(code 1007): ${INVALID_API_KEY}`);
    await expect(
      connectClient(sdk(f, 'right'), { responseModalities: [Modality.TEXT] }).connecting,
    ).rejects.toThrow(`(code 1007): ${NON_AUDIO_REQUEST}`);
  });
});

// ------------------------------------------------------------------------------------------------
// Raw WebSocket client: wire details the SDK hides.

function rawClient(url: string): Promise<{ ws: WebSocket; frames: Array<{ binary: boolean; json: unknown }>; closed: Promise<{ code: number; reason: string }> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const frames: Array<{ binary: boolean; json: unknown }> = [];
    const closed = new Promise<{ code: number; reason: string }>((r) =>
      ws.on('close', (code, reason) => r({ code, reason: reason.toString() })),
    );
    ws.on('message', (data, isBinary) => frames.push({ binary: isBinary, json: JSON.parse(String(data)) }));
    ws.on('open', () => resolve({ ws, frames, closed }));
    ws.on('error', reject);
  });
}

describe('fake Gemini Live server wire details (raw ws)', () => {
  const wsPath = (f: FakeGeminiLive): string =>
    `${f.baseUrl.replace('http:', 'ws:')}/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent?key=k`;

  it('sends JSON in binary frames', async () => {
    const f = await startFake();
    const c = await rawClient(wsPath(f));
    c.ws.send(JSON.stringify({ setup: { model: 'models/x' } }));
    const s = await f.waitForSession(0);
    await s.waitUntil((x) => x.setupCompleteSent);
    await new Promise((r) => setTimeout(r, 50));
    expect(c.frames[0]).toEqual({ binary: true, json: { setupComplete: {} } });
    expect(s.apiVersion).toBe('v1beta');
    c.ws.close();
  });

  it.each([
    ['a message before setup', JSON.stringify({ realtimeInput: { text: 'hi' } }), 'Request contains an invalid argument.'],
    ['non-JSON', 'not json', 'Request contains an invalid argument.'],
    ['an unknown top-level field', JSON.stringify({ bogus: {} }), 'Invalid JSON payload received. Unknown name "bogus": Cannot find field.'],
  ])('closes 1007 on %s', async (_name, frame, reason) => {
    const f = await startFake();
    const c = await rawClient(wsPath(f));
    c.ws.send(frame);
    expect(await c.closed).toEqual({ code: 1007, reason });
  });

  it.each([
    ['two realtimeInput fields', { realtimeInput: { text: 'a', audioStreamEnd: true } }],
    ['a non-PCM audio mime type', { realtimeInput: { audio: { data: '', mimeType: 'audio/x-mulaw' } } }],
    ['a second setup', { setup: { model: 'models/x' } }],
  ])('closes 1007 after setup on %s', async (_name, message) => {
    const f = await startFake();
    const c = await rawClient(wsPath(f));
    c.ws.send(JSON.stringify({ setup: { model: 'models/x' } }));
    await (await f.waitForSession(0)).waitUntil((x) => x.setupCompleteSent);
    c.ws.send(JSON.stringify(message));
    expect((await c.closed).code).toBe(1007);
  });

  it('survives hostile input: every bad frame closes 1007 and the server keeps serving', async () => {
    const f = await startFake({ replies: [{ text: 'Fine.' }] });
    const frames: Array<string | Buffer> = [
      Buffer.from([0xff, 0x00, 0x13]),
      'null',
      '[]',
      '{"setup":null}',
      '{"setup":"x"}',
      '{}',
      '{"setup":{"model":""}}',
      '{"setup":{"model":"m","generationConfig":{"responseModalities":"AUDIO"}}}',
      '{"setup":{"model":"m","sessionResumption":{"handle":"nope"}}}',
    ];
    for (const frame of frames) {
      const c = await rawClient(wsPath(f));
      c.ws.send(frame);
      expect((await c.closed).code).toBe(1007);
    }
    const afterSetup = [
      '{"realtimeInput":{"audio":{"data":123,"mimeType":"audio/pcm"}}}',
      '{"realtimeInput":{"audio":{"data":"A","mimeType":"audio/pcm"}}}',
      '{"realtimeInput":{"activityStart":{}}}',
      '{"toolResponse":{"functionResponses":[null]}}',
      '{"toolResponse":{"functionResponses":[]}}',
      '{"clientContent":{"turns":5}}',
      '{"realtimeInput":{"text":42}}',
    ];
    for (const frame of afterSetup) {
      const c = await rawClient(wsPath(f));
      c.ws.send(JSON.stringify({ setup: { model: 'models/x' } }));
      c.ws.send(frame);
      expect((await c.closed).code).toBe(1007);
    }
    expect(f.sessions.every((s) => s.errors.length === 0)).toBe(true);
    // Still healthy.
    const client = await connect(f);
    client.session.sendRealtimeInput({ text: 'hi' });
    await client.next(isTurnComplete);
  });

  it('404s other paths on upgrade', async () => {
    const f = await startFake();
    await expect(rawClient(`${f.baseUrl.replace('http:', 'ws:')}/ws/other`)).rejects.toThrow(/404/);
  });
});

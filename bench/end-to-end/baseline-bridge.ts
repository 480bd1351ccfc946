/**
 * The side-by-side baseline: a minimal Twilio <-> Gemini Live bridge written the way the popular samples are (a
 * Twilio Media Streams WebSocket server that opens a Live session per call with the @google/genai SDK, parses each
 * message with JSON.parse, resamples by linear interpolation (×2 up; ÷3 down lands on input samples, so it picks every
 * third), uses alawmulaw's mu-law codec, sends every caller frame with `session.sendRealtimeInput`, forwards each
 * model chunk as one `media` message, sends `clear` on `interrupted`, and sends no marks). It answers the webhook with
 * `<Connect><Stream>` and checks no signature. Benchmark only, never shipped: it runs under the same load generator
 * as the service (run-end-to-end.ts), so the tables give our CPU per call and latency as ratios to it.
 * Caller frames that arrive before the session is up are queued, not dropped, so every frame is measured.
 */
import { GoogleGenAI, Modality, type LiveServerMessage, type Session } from '@google/genai';
import alawmulaw from 'alawmulaw';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { LinearUpsampler2x, PickingDownsampler3x } from '../baselines.js';
import { serveBenchCommands } from './child-commands.js';
import { BENCH_GEMINI_KEY } from './common.js';

const MODEL = 'gemini-2.5-flash-native-audio-preview-09-2025';
const GREETING_CUE = 'Greet the caller.';
const { mulaw } = alawmulaw;

const ai = new GoogleGenAI({ apiKey: BENCH_GEMINI_KEY, httpOptions: { baseUrl: process.env.GOOGLE_GEMINI_BASE_URL } });
const calls = new Set<WebSocket>();

const http = createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/voice') {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/xml' });
    res.end(`<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream url="wss://${req.headers.host}/media" /></Connect></Response>`);
    return;
  }
  res.writeHead(404).end();
});
const wss = new WebSocketServer({ server: http, path: '/media' });
wss.on('connection', (ws) => bridgeCall(ws));

function bridgeCall(ws: WebSocket): void {
  calls.add(ws);
  const up = new LinearUpsampler2x();
  const down = new PickingDownsampler3x();
  let streamSid = '';
  let session: Session | undefined;
  const queued: string[] = [];

  const sendCallerAudio = (payload: string): void => {
    const pcm8k = mulaw.decode(Buffer.from(payload, 'base64'));
    const pcm16k = new Int16Array(pcm8k.length * 2);
    up.process(pcm8k, pcm16k);
    session!.sendRealtimeInput({ audio: { data: Buffer.from(pcm16k.buffer).toString('base64'), mimeType: 'audio/pcm;rate=16000' } });
  };

  const onModelMessage = (message: LiveServerMessage): void => {
    const content = message.serverContent;
    if (content?.interrupted) ws.send(JSON.stringify({ event: 'clear', streamSid }));
    for (const part of content?.modelTurn?.parts ?? []) {
      if (part.inlineData?.data === undefined) continue;
      const bytes = Buffer.from(part.inlineData.data, 'base64');
      const pcm24k = new Int16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2);
      const pcm8k = new Int16Array(Math.ceil(pcm24k.length / 3));
      const samples = down.process(pcm24k, pcm8k);
      const payload = Buffer.from(mulaw.encode(pcm8k.subarray(0, samples))).toString('base64');
      ws.send(JSON.stringify({ event: 'media', streamSid, media: { payload } }));
    }
  };

  ws.on('message', (data) => {
    const message = JSON.parse(data.toString()) as { event: string; start?: { streamSid: string }; media?: { payload: string } };
    switch (message.event) {
      case 'start':
        streamSid = message.start!.streamSid;
        void ai.live
          .connect({ model: MODEL, config: { responseModalities: [Modality.AUDIO] }, callbacks: { onmessage: onModelMessage, onclose: () => ws.close() } })
          .then((connected) => {
            session = connected;
            connected.sendRealtimeInput({ text: GREETING_CUE });
            for (const payload of queued.splice(0)) sendCallerAudio(payload);
          });
        return;
      case 'media':
        if (session === undefined) queued.push(message.media!.payload);
        else sendCallerAudio(message.media!.payload);
        return;
      case 'stop':
        session?.close();
        return;
    }
  });
  ws.on('close', () => {
    calls.delete(ws);
    session?.close();
  });
}

await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
serveBenchCommands(
  {
    activeCalls: () => calls.size,
    stop: async () => {
      for (const ws of calls) ws.terminate();
      await new Promise((resolve) => http.close(resolve));
    },
  },
  `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
);

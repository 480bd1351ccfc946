/**
 * The fake Twilio side must agree with Twilio's public behaviour, not with our app. These tests pin it:
 * signatures against the twilio package, TwiML against the SDK's own generator, webhook shape against
 * twilio.validateRequest, playout semantics on a simulated clock, and the speech fixtures.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import twilio from 'twilio';
import { afterEach, describe, expect, it } from 'vitest';
import {
  computeTwilioSignature,
  isValidTwilioSignature,
  parseConnectStreamTwiml,
  postVoiceWebhook,
  newCallSid,
  newStreamSid,
  isSid,
  PlayoutBuffer,
  loadSpeechFixture,
  speechFixtureManifest,
  TEST_AUTH_TOKEN,
  TEST_ACCOUNT_SID,
  type SpeechFixtureName,
} from '../../fakes/twilio/index.js';

describe('computeTwilioSignature', () => {
  it("matches the example in Twilio's webhook-security docs", () => {
    const params = { CallSid: 'CA1234567890ABCDE', Caller: '+14158675309', Digits: '1234', From: '+14158675309', To: '+18005551212' };
    expect(computeTwilioSignature('12345', 'https://mycompany.com/myapp.php?foo=1&bar=2', params)).toBe('RSOYDt4T1cUTdK1PDd93/VVr8B8=');
  });

  const cases: { url: string; params: Record<string, string | string[]> }[] = [
    { url: 'https://agent.example.com/voice', params: {} },
    { url: 'wss://agent.example.com/media', params: {} },
    { url: 'https://agent.example.com:8443/voice?x=1&y=%27q%27', params: { B: '2', a: '1', A: '0', b: '3' } },
    { url: 'https://agent.example.com/voice', params: { From: '+14155550123', CallerName: 'Zoë & “Ñandú”', Body: 'a=b&c d' } },
    { url: 'https://agent.example.com/voice', params: { Multi: ['zeta', 'alpha', 'Mid'], Single: 'x' } },
    { url: 'https://agent.example.com/voice', params: { Empty: '', Emoji: '📞' } },
  ];

  it.each(cases)('agrees with twilio.getExpectedTwilioSignature and validateRequest ($url)', ({ url, params }) => {
    const token = TEST_AUTH_TOKEN;
    const ours = computeTwilioSignature(token, url, params);
    expect(ours).toBe(twilio.getExpectedTwilioSignature(token, url, params));
    expect(twilio.validateRequest(token, ours, url, params)).toBe(true);
    expect(isValidTwilioSignature(token, ours, url, params)).toBe(true);
  });

  it('changes with the token, the URL scheme and every parameter', () => {
    const base = computeTwilioSignature(TEST_AUTH_TOKEN, 'wss://h.example.com/media');
    expect(computeTwilioSignature('other-token', 'wss://h.example.com/media')).not.toBe(base);
    // A server that rebuilds the URL as https:// for a WS upgrade fails validation (docs §2.1).
    expect(computeTwilioSignature(TEST_AUTH_TOKEN, 'https://h.example.com/media')).not.toBe(base);
    expect(twilio.validateRequest(TEST_AUTH_TOKEN, base, 'https://h.example.com/media', {})).toBe(false);
    expect(isValidTwilioSignature(TEST_AUTH_TOKEN, undefined, 'wss://h.example.com/media')).toBe(false);
    expect(isValidTwilioSignature(TEST_AUTH_TOKEN, base.slice(1), 'wss://h.example.com/media')).toBe(false);
  });
});

describe('ids', () => {
  it('makes well-formed, distinct SIDs', () => {
    const call = newCallSid();
    const stream = newStreamSid();
    expect(call).toMatch(/^CA[0-9a-f]{32}$/);
    expect(stream).toMatch(/^MZ[0-9a-f]{32}$/);
    expect(newCallSid()).not.toBe(call);
    expect(isSid(call, 'CA')).toBe(true);
    expect(isSid(call, 'MZ')).toBe(false);
    expect(isSid(TEST_ACCOUNT_SID, 'AC')).toBe(true);
  });
});

describe('parseConnectStreamTwiml', () => {
  it('reads TwiML produced by the twilio SDK, unescaping entities', () => {
    const response = new twilio.twiml.VoiceResponse();
    const stream = response.connect({ action: 'https://agent.example.com/after' }).stream({
      url: 'wss://agent.example.com/media',
      statusCallback: 'https://agent.example.com/stream-status',
      statusCallbackMethod: 'POST',
      name: 'agent',
    });
    stream.parameter({ name: 'token', value: `a&b<c>"d'e é` });
    stream.parameter({ name: 'from', value: '+14155550123' });
    response.say('Sorry, something went wrong.');

    expect(parseConnectStreamTwiml(response.toString())).toEqual({
      streamUrl: 'wss://agent.example.com/media',
      parameters: { token: `a&b<c>"d'e é`, from: '+14155550123' },
      statusCallback: 'https://agent.example.com/stream-status',
      statusCallbackMethod: 'POST',
      streamName: 'agent',
      connectAction: 'https://agent.example.com/after',
      verbs: ['Connect', 'Say'],
    });
  });

  it('accepts hand-written TwiML with whitespace, comments, single quotes and character references', () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
      <!-- greeting -->
      <Response>
        <Connect>
          <Stream url='wss://agent.example.com/media' track="inbound_track">
            <Parameter name="n" value="&#65;&#x42;&apos;&gt;" />
          </Stream>
        </Connect>
      </Response>`;
    expect(parseConnectStreamTwiml(xml)).toEqual({
      streamUrl: 'wss://agent.example.com/media',
      parameters: { n: "AB'>" },
      verbs: ['Connect'],
    });
  });

  const stream = (attrs: string, inner = ''): string =>
    `<Response><Connect><Stream ${attrs}>${inner}</Stream></Connect></Response>`;
  const rejected: [string, string, RegExp][] = [
    ['ws:// URL', stream('url="ws://agent.example.com/media"'), /wss/],
    ['https URL', stream('url="https://agent.example.com/media"'), /wss/],
    ['relative URL', stream('url="/media"'), /absolute/],
    ['query string', stream('url="wss://agent.example.com/media?token=1"'), /query string/],
    ['missing url', stream('name="x"'), /no url/],
    ['outbound track', stream('url="wss://a.example.com/m" track="both_tracks"'), /inbound_track/],
    ['unknown attribute', stream('url="wss://a.example.com/m" statusCallBack="https://a.example.com/s"'), /unexpected attribute/],
    ['bad statusCallbackMethod', stream('url="wss://a.example.com/m" statusCallbackMethod="PUT"'), /statusCallbackMethod/],
    ['unidirectional <Start>', '<Response><Start><Stream url="wss://a.example.com/m"/></Start></Response>', /unidirectional/],
    ['two Connects', `${stream('url="wss://a.example.com/m"').replace('</Response>', '')}<Connect><Stream url="wss://a.example.com/m"/></Connect></Response>`, /exactly one <Connect>/],
    ['wrong root', '<Reply><Connect><Stream url="wss://a.example.com/m"/></Connect></Reply>', /root element/],
    ['Connect without Stream', '<Response><Connect><Room>r</Room></Connect></Response>', /exactly one <Stream>/],
    ['text in Stream', stream('url="wss://a.example.com/m"', 'hello'), /unexpected text/],
    ['foreign child', stream('url="wss://a.example.com/m"', '<Say>x</Say>'), /only contain <Parameter>/],
    ['parameter without value', stream('url="wss://a.example.com/m"', '<Parameter name="a"/>'), /value/],
    ['duplicate parameter', stream('url="wss://a.example.com/m"', '<Parameter name="a" value="1"/><Parameter name="a" value="2"/>'), /duplicate/],
    ['parameter too long', stream('url="wss://a.example.com/m"', `<Parameter name="a" value="${'x'.repeat(499)}"/>`), /500/],
    ['bare ampersand', stream('url="wss://a.example.com/m"', '<Parameter name="a" value="x & y"/>'), /bare "&"/],
    ['unknown entity', stream('url="wss://a.example.com/m"', '<Parameter name="a" value="&nbsp;"/>'), /unknown entity/],
    ['unclosed tag', '<Response><Connect><Stream url="wss://a.example.com/m"></Connect></Response>', /does not close/],
    ['trailing content', `${stream('url="wss://a.example.com/m"')}<Response/>`, /after the root/],
  ];
  it.each(rejected)('rejects %s', (_label, xml, message) => {
    expect(() => parseConnectStreamTwiml(xml)).toThrow(message);
  });
});

describe('postVoiceWebhook', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
    server = undefined;
  });

  const PUBLIC_URL = 'https://agent.example.com';

  /** Stands in for our app: validates like twilio.webhook() against the configured public URL. */
  async function startApp(): Promise<{ url: string; requests: { headers: IncomingMessage['headers']; params: Record<string, string> }[] }> {
    const requests: { headers: IncomingMessage['headers']; params: Record<string, string> }[] = [];
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        const params = Object.fromEntries(new URLSearchParams(body));
        requests.push({ headers: req.headers, params });
        const signature = req.headers['x-twilio-signature'];
        if (typeof signature !== 'string') return void res.writeHead(400).end('missing signature');
        if (!twilio.validateRequest(TEST_AUTH_TOKEN, signature, `${PUBLIC_URL}${req.url ?? ''}`, params)) {
          return void res.writeHead(403).end('Twilio Request Validation Failed.');
        }
        const twiml = new twilio.twiml.VoiceResponse();
        twiml.connect().stream({ url: 'wss://agent.example.com/media' }).parameter({ name: 'callSid', value: params['CallSid'] ?? '' });
        res.writeHead(200, { 'content-type': 'text/xml' }).end(twiml.toString());
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, requests };
  }

  it('posts realistic, correctly signed form params to /voice', async () => {
    const app = await startApp();
    const res = await postVoiceWebhook({ serverUrl: app.url, publicUrl: PUBLIC_URL, authToken: TEST_AUTH_TOKEN, params: { From: '+442071838750', FromCity: undefined } });
    expect(res.status).toBe(200);
    expect(res.signedUrl).toBe('https://agent.example.com/voice');
    const req = app.requests[0]!;
    expect(req.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(req.params).toEqual(res.params);
    expect(req.params).toMatchObject({ AccountSid: TEST_ACCOUNT_SID, ApiVersion: '2010-04-01', CallStatus: 'ringing', Direction: 'inbound', From: '+442071838750', Caller: '+442071838750' });
    expect(req.params['CallSid']).toMatch(/^CA[0-9a-f]{32}$/);
    expect(req.params).not.toHaveProperty('FromCity');

    const twiml = parseConnectStreamTwiml(res.body);
    expect(twiml.streamUrl).toBe('wss://agent.example.com/media');
    expect(twiml.parameters).toEqual({ callSid: res.params['CallSid'] });
  });

  it('can send a wrong or no signature', async () => {
    const app = await startApp();
    const base = { serverUrl: app.url, publicUrl: PUBLIC_URL, authToken: TEST_AUTH_TOKEN };
    expect((await postVoiceWebhook({ ...base, signature: 'bm90IGEgc2lnbmF0dXJl' })).status).toBe(403);
    expect((await postVoiceWebhook({ ...base, signature: null })).status).toBe(400);
    // Signed with another token: what a forged request looks like.
    expect((await postVoiceWebhook({ ...base, authToken: 'f'.repeat(32) })).status).toBe(403);
    expect(app.requests[1]!.headers).not.toHaveProperty('x-twilio-signature');
  });
});

describe('PlayoutBuffer (simulated clock)', () => {
  const audio = (ms: number, fill = 0x10): Uint8Array => new Uint8Array(ms * 8).fill(fill);

  it('returns a mark when the audio before it has played, not before', () => {
    const p = new PlayoutBuffer();
    p.pushAudio(audio(100), 0);
    expect(p.pushMark('m1', 10)).toEqual([]);
    p.pushAudio(audio(50), 20);
    expect(p.pushMark('m2', 30)).toEqual([]);
    expect(p.advance(99.9)).toEqual([]);
    expect(p.advance(100)).toEqual([{ name: 'm1', receivedAtMs: 10, outcome: 'played' }]);
    expect(p.nextWakeMs(100)).toBe(120);
    expect(p.advance(149)).toEqual([]);
    expect(p.advance(150)).toEqual([{ name: 'm2', receivedAtMs: 30, outcome: 'played' }]);
    expect(p.isPlaying).toBe(false);
    expect(p.heard.reduce((n, c) => n + c.bytes.length, 0)).toBe(150 * 8);
  });

  it('returns a mark at once when nothing is buffered', () => {
    const p = new PlayoutBuffer();
    expect(p.pushMark('early', 5)).toEqual([{ name: 'early', receivedAtMs: 5, outcome: 'played' }]);
    p.pushAudio(audio(20), 10);
    expect(p.pushMark('after-underrun', 40)).toEqual([{ name: 'after-underrun', receivedAtMs: 40, outcome: 'played' }]);
  });

  it('clear discards unplayed audio and returns every pending mark', () => {
    const p = new PlayoutBuffer();
    p.pushAudio(audio(100, 1), 0);
    p.pushMark('a', 0);
    p.pushAudio(audio(100, 2), 0);
    p.pushMark('b', 0);
    const result = p.clear(30);
    expect(result.marks.map((m) => [m.name, m.outcome])).toEqual([['a', 'cleared'], ['b', 'cleared']]);
    expect(result.discardedBytes).toBe(170 * 8);
    expect(p.heard).toEqual([{ atMs: 0, bytes: audio(30, 1) }]);
    expect(p.bufferedBytes).toBe(0);
    // A new run starts at its own arrival time.
    p.pushAudio(audio(20, 3), 500);
    p.advance(520);
    expect(p.heard[1]).toEqual({ atMs: 500, bytes: audio(20, 3) });
  });

  it('derives the playhead from the run start, so late ticks do not drift', () => {
    const p = new PlayoutBuffer();
    p.pushAudio(audio(1000), 0);
    for (let t = 7; t < 1000; t += 23) p.advance(t);
    p.advance(1000);
    const heard = p.heard.reduce((n, c) => n + c.bytes.length, 0);
    expect(heard).toBe(8000);
    const last = p.heard[p.heard.length - 1]!;
    expect(last.atMs + last.bytes.length / 8).toBe(1000);
  });
});

describe('speech fixtures', () => {
  it('are raw 8 kHz mu-law with ~200 ms of leading silence, matching the manifest', () => {
    const manifest = speechFixtureManifest();
    const names = Object.keys(manifest) as SpeechFixtureName[];
    expect(names).toEqual(expect.arrayContaining(['booking-question', 'barge-in', 'short-hello']));
    for (const name of names) {
      const bytes = loadSpeechFixture(name);
      const info = manifest[name];
      expect(bytes.length).toBe(info.bytes);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(info.sha256);
      expect(info.durationMs).toBe(Math.floor(bytes.length / 8));
      expect(bytes.subarray(0, 1600).every((b) => b === 0xff)).toBe(true); // 200 ms of 0xFF
      expect(bytes.subarray(1600, 1600 + 8000).some((b) => b !== 0xff)).toBe(true); // speech follows
      expect(Buffer.from(bytes.subarray(0, 4)).toString('latin1')).not.toBe('RIFF'); // no header
    }
  });
});

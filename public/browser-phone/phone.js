// The browser phone: a phone that speaks the Twilio Media Streams protocol to this service's /media endpoint.
// Microphone → capture worklet (8 kHz mu-law, 20 ms frames) → `media` messages; `media`/`mark`/`clear` from
// the service → playback worklet, which echoes marks once their audio has played, as Twilio does.

import { readEventStream } from '/phone/shared/event-stream.js';

const $ = (id) => document.getElementById(id);
const KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'];
const FRAME_MS = 20;

/** Counters the browser test reads; also handy in the console. Each call starts them afresh. */
const freshCallStats = () => ({
  framesSent: 0,
  mediaFramesReceived: 0,
  marksReceived: 0,
  marksEchoedPlayed: 0,
  marksEchoedByClear: 0,
  clearsReceived: 0,
  clearsHonoured: 0,
  samplesDiscardedByClear: 0,
  agentSamplesPlayed: 0,
  agentPeak: 0,
  underruns: 0,
  queuedSamples: 0,
  micLevelDbfs: -Infinity,
  events: [],
  closeCode: undefined,
  closeReason: undefined,
});
const stats = { state: 'idle', error: undefined, agent: undefined, toolRuns: [], ...freshCallStats() };
window.phoneStats = stats;

// The access key comes in the URL fragment (never sent to a server); kept for reloads of this tab only and
// removed from the address bar so it does not show on a shared screen.
const fragmentKey = new URLSearchParams(location.hash.slice(1)).get('key');
if (fragmentKey) {
  sessionStorage.setItem('browserPhoneKey', fragmentKey);
  history.replaceState(null, '', location.pathname);
}
const accessKey = fragmentKey || sessionStorage.getItem('browserPhoneKey');

let call;

setUp();

function setUp() {
  const keys = $('keys');
  for (const key of KEYS) {
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = key;
    button.disabled = true;
    button.dataset.digit = key;
    button.addEventListener('click', () => call?.sendDigit(key));
    keys.append(button);
  }
  document.addEventListener('keydown', (event) => {
    if (call && KEYS.includes(event.key) && !event.repeat && !(event.target instanceof HTMLInputElement)) call.sendDigit(event.key);
  });
  $('call').addEventListener('click', () => void placeCall());
  $('hangup').addEventListener('click', () => call?.hangUp());

  if (!accessKey) return showError('This page needs its access key: open the URL the server printed at start-up (it ends in #key=…).');
  if (!window.isSecureContext) {
    return showError(`Microphones only work on a secure page: open it at http://localhost:${location.port || 80}${location.pathname} on this machine, or over https.`);
  }
  void checkAccessKey();
}

/** A wrong or stale key (the server made a new one at its last start) is reported now, before any microphone prompt. */
async function checkAccessKey() {
  $('mode').textContent = 'Checking the access key…';
  let response;
  try {
    response = await fetch('/phone/key', { headers: { Authorization: `Bearer ${accessKey}` } });
  } catch (error) {
    $('mode').textContent = '';
    return showError(`The service is not reachable (${error instanceof Error ? error.message : String(error)}): is npm start still running?`);
  }
  if (response.status === 401) {
    sessionStorage.removeItem('browserPhoneKey');
    $('mode').textContent = '';
    return showError('This access key is not the server\'s: a single service makes a new one at every start (unless BROWSER_PHONE_KEY is set). Open the URL the server printed most recently.');
  }
  if (!response.ok) {
    $('mode').textContent = '';
    return showError(`The service answered HTTP ${response.status} for the access key check.`);
  }
  await showAgent();
  $('call').disabled = false;
}

// ── The running agent: its name, how it greets, what keys do, and its tools (the tool panel) ───────────────

async function showAgent() {
  let card;
  try {
    const response = await fetch('/phone/agent', { headers: { Authorization: `Bearer ${accessKey}` } });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    card = await response.json();
  } catch (error) {
    $('mode').textContent = 'Ready. Press “Call the agent” and allow the microphone.';
    return showError(`The agent's description could not be loaded (${error instanceof Error ? error.message : String(error)}).`);
  }
  stats.agent = card.name;
  document.title = `${card.name} · Browser phone`;
  $('agent-name').textContent = ` · ${card.name}`;
  showMode(card.model, card.name);
  $('greeting').hidden = false;
  $('greeting').textContent = `When the call connects, the model is told: “${card.greeting}”`;
  const [before, after = ''] = card.keypadCue.split('{digits}');
  $('keypad-hint').textContent = `Keys reach ${card.name} as on a phone call (Twilio dtmf): after a pause, or #, the model is told “${before}1 2 3${after}”.`;
  renderTools(card.tools);
}

function renderTools(tools) {
  const container = $('tool-forms');
  if (tools.length === 0) {
    container.replaceChildren(Object.assign(document.createElement('p'), { className: 'hint', textContent: 'This agent has no tools of its own (end_call is built in).' }));
    return;
  }
  container.replaceChildren(...tools.map(toolForm));
}

function toolForm(tool) {
  const form = document.createElement('form');
  form.className = 'tool';
  form.dataset.tool = tool.name;
  const title = document.createElement('h3');
  title.append(Object.assign(document.createElement('code'), { textContent: tool.name }), ` ${tool.kind === 'http' ? 'HTTP tool' : 'handler'}, ${tool.behavior.toLowerCase().replace('_', '-')}, times out after ${tool.timeoutMs / 1000} s`);
  form.append(title, Object.assign(document.createElement('p'), { className: 'hint', textContent: tool.description }));
  const required = new Set(tool.parameters.required ?? []);
  const fields = Object.entries(tool.parameters.properties).map(([name, schema]) => parameterField(name, schema, required.has(name)));
  form.append(...fields.map((field) => field.label));
  const run = Object.assign(document.createElement('button'), { type: 'submit', textContent: `Run ${tool.name}` });
  const result = Object.assign(document.createElement('output'), { className: 'tool-result' });
  form.append(run, result);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void runTool(tool, fields, run, result);
  });
  return form;
}

/** One input per parameter, from its schema; `read()` gives the argument's value, or undefined when left empty. */
function parameterField(name, schema, isRequired) {
  const label = document.createElement('label');
  label.append(Object.assign(document.createElement('span'), { textContent: `${name}${isRequired ? ' *' : ''} (${schema.type})${schema.description ? `: ${schema.description}` : ''}` }));
  let input;
  if (schema.type === 'string' && Array.isArray(schema.enum)) {
    input = document.createElement('select');
    input.append(new Option('', ''), ...schema.enum.map((value) => new Option(value, value)));
  } else if (schema.type === 'boolean') {
    input = document.createElement('select');
    input.append(new Option('', ''), new Option('true', 'true'), new Option('false', 'false'));
  } else if (schema.type === 'array' || schema.type === 'object') {
    input = Object.assign(document.createElement('textarea'), { rows: 2, placeholder: schema.type === 'array' ? '[ … ] as JSON' : '{ … } as JSON' });
  } else {
    input = Object.assign(document.createElement('input'), { type: 'text', inputMode: schema.type === 'string' ? 'text' : 'decimal' });
  }
  input.name = name;
  label.append(input);
  const read = () => {
    const text = input.value.trim();
    if (text === '') return undefined;
    if (schema.type === 'integer' || schema.type === 'number') return Number.isNaN(Number(text)) ? text : Number(text);
    if (schema.type === 'boolean') return text === 'true';
    if (schema.type === 'array' || schema.type === 'object') {
      try {
        return JSON.parse(text);
      } catch {
        return text; // the tool's schema check says what is wrong with it
      }
    }
    return input.value;
  };
  return { name, label, read };
}

async function runTool(tool, fields, button, result) {
  const args = {};
  for (const field of fields) {
    const value = field.read();
    if (value !== undefined) args[field.name] = value;
  }
  button.disabled = true;
  result.className = 'tool-result running';
  result.textContent = `Running ${tool.name}…`;
  try {
    const response = await fetch(`/phone/tools/${encodeURIComponent(tool.name)}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${accessKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ args }),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      result.className = 'tool-result refused';
      result.textContent = body.error ?? `The service answered HTTP ${response.status}.`;
      return;
    }
    stats.toolRuns.push(body);
    showToolRun(body, result);
  } catch (error) {
    result.className = 'tool-result refused';
    result.textContent = `The service is not reachable (${error instanceof Error ? error.message : String(error)}).`;
  } finally {
    button.disabled = false;
  }
}

/** What the model would have got, in words: the answer, or the error and why. */
function showToolRun(run, result) {
  const took = `${run.durationMs} ms`;
  const headline = {
    ok: `Answered in ${took}:`,
    'tool-error': `ToolError after ${took}; the model hears:`,
    'invalid-arguments': `Refused before running: the arguments do not match the schema:`,
    timeout: `Timed out after ${took}; the model hears:`,
    failed: `Failed after ${took} with ${run.failure ?? 'an error'}; the model hears:`,
  }[run.outcome] ?? `${run.outcome} after ${took}:`;
  result.className = `tool-result ${run.outcome}`;
  result.replaceChildren(
    Object.assign(document.createElement('strong'), { textContent: headline }),
    Object.assign(document.createElement('pre'), { textContent: JSON.stringify(run.outcome === 'ok' ? run.output : run.error, null, 2) }),
  );
}

async function placeCall() {
  $('call').disabled = true;
  $('error').hidden = true;
  for (const list of ['transcript', 'tools', 'latency']) $(list).replaceChildren();
  // Counters are per call: nothing of the previous call carries over.
  Object.assign(stats, freshCallStats(), { error: undefined });
  renderPlayout();
  setState('connecting', 'Connecting…');
  try {
    call = await Call.start();
  } catch (error) {
    setState('idle', 'Idle');
    $('call').disabled = false;
    showError(error instanceof Error ? error.message : String(error));
  }
}

class Call {
  static async start() {
    const context = new AudioContext({ latencyHint: 'interactive' });
    await context.audioWorklet.addModule('/phone/phone-worklets.js');
    let microphone;
    try {
      // Echo cancellation keeps the agent's own voice, from the speakers, from interrupting it.
      microphone = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true } });
    } catch (error) {
      await context.close();
      throw new Error(`The microphone is not available (${error.name ?? 'error'}): allow it for this page and try again.`);
    }
    const response = await fetch('/phone/sessions', { method: 'POST', headers: { Authorization: `Bearer ${accessKey}` } });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      microphone.getTracks().forEach((track) => track.stop());
      await context.close();
      throw new Error(body.error ?? `The service refused the call (HTTP ${response.status}).`);
    }
    return new Call(context, microphone, body);
  }

  constructor(context, microphone, session) {
    this.context = context;
    this.microphone = microphone;
    this.session = session;
    this.sequence = 0;
    this.chunk = 0;
    this.ended = false;
    this.events = new AbortController();

    this.capture = new AudioWorkletNode(context, 'phone-capture', { numberOfInputs: 1, numberOfOutputs: 1, channelCount: 1, channelCountMode: 'explicit' });
    this.playback = new AudioWorkletNode(context, 'phone-playback', { numberOfInputs: 0, numberOfOutputs: 1, outputChannelCount: [1] });
    this.source = context.createMediaStreamSource(microphone);
    // The capture node's output is silent; connecting it keeps the graph pulling it on every browser.
    this.mute = context.createGain();
    this.mute.gain.value = 0;
    this.source.connect(this.capture).connect(this.mute).connect(context.destination);
    this.playback.connect(context.destination);
    this.capture.port.onmessage = (event) => this.onCapturedFrame(event.data);
    this.playback.port.onmessage = (event) => this.onPlayback(event.data);

    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    this.socket = new WebSocket(`${scheme}://${location.host}${session.mediaPath}`);
    this.socket.onopen = () => this.onOpen();
    this.socket.onmessage = (event) => this.onServerMessage(event.data);
    this.socket.onclose = (event) => this.onClose(event.code, event.reason);
    void this.followEvents();
  }

  // ── Twilio Media Streams, the caller's side ─────────────────────────────────────────────────────────────

  onOpen() {
    const { streamSid, callSid, accountSid, customParameters } = this.session;
    this.send({ event: 'connected', protocol: 'Call', version: '1.0.0' });
    this.send({
      event: 'start',
      sequenceNumber: this.nextSequence(),
      start: { accountSid, streamSid, callSid, tracks: ['inbound', 'outbound'], customParameters, mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 } },
      streamSid,
    });
    this.startedAt = performance.now();
    setState('in-call', 'In call');
    $('hangup').disabled = false;
    for (const key of document.querySelectorAll('#keys button')) key.disabled = false;
    void this.context.resume();
  }

  onCapturedFrame(message) {
    if (message.type !== 'frame') return;
    stats.micLevelDbfs = message.levelDbfs;
    $('mic-level').value = Math.max(-70, message.levelDbfs);
    if (this.ended || this.socket.readyState !== WebSocket.OPEN || this.startedAt === undefined) return;
    const chunk = ++this.chunk;
    // Same shape and field order as Twilio's own media messages.
    this.send({
      event: 'media',
      sequenceNumber: this.nextSequence(),
      media: { track: 'inbound', chunk: String(chunk), timestamp: String((chunk - 1) * FRAME_MS), payload: toBase64(message.bytes) },
      streamSid: this.session.streamSid,
    });
    stats.framesSent++;
  }

  onServerMessage(data) {
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    if (message.streamSid !== this.session.streamSid) return;
    if (message.event === 'media' && typeof message.media?.payload === 'string') {
      const bytes = fromBase64(message.media.payload);
      if (bytes === undefined) return;
      stats.mediaFramesReceived++;
      this.playback.port.postMessage({ type: 'media', bytes }, [bytes.buffer]);
    } else if (message.event === 'mark' && typeof message.mark?.name === 'string') {
      stats.marksReceived++;
      this.playback.port.postMessage({ type: 'mark', name: message.mark.name });
    } else if (message.event === 'clear') {
      stats.clearsReceived++;
      this.playback.port.postMessage({ type: 'clear' });
    }
  }

  onPlayback(message) {
    // The worklet may still post a message it sent before the call ended: the page has already zeroed the buffer.
    if (this.ended) return;
    if (message.type === 'markPlayed') {
      stats.marksEchoedPlayed++;
      this.echoMark(message.name);
    } else if (message.type === 'cleared') {
      stats.clearsHonoured++;
      stats.samplesDiscardedByClear += message.discardedSamples;
      for (const name of message.marks) {
        stats.marksEchoedByClear++;
        this.echoMark(name);
      }
    } else if (message.type === 'stats') {
      stats.agentSamplesPlayed = message.agentSamplesPlayed;
      stats.agentPeak = message.peak;
      stats.underruns = message.underruns;
      stats.queuedSamples = message.queuedSamples;
      renderPlayout();
    }
  }

  echoMark(name) {
    this.send({ event: 'mark', sequenceNumber: this.nextSequence(), streamSid: this.session.streamSid, mark: { name } });
  }

  sendDigit(digit) {
    if (this.ended || this.startedAt === undefined) return;
    this.send({ event: 'dtmf', streamSid: this.session.streamSid, sequenceNumber: this.nextSequence(), dtmf: { track: 'inbound_track', digit } });
    addLine('transcript', 'note', `You pressed ${digit}`);
  }

  hangUp() {
    if (this.ended) return;
    const { streamSid, accountSid, callSid } = this.session;
    this.send({ event: 'stop', sequenceNumber: this.nextSequence(), streamSid, stop: { accountSid, callSid } });
    this.socket.close(1000, 'caller hung up');
  }

  onClose(code, reason) {
    stats.closeCode = code;
    stats.closeReason = reason;
    // Policy (1008), internal error (1011), try again later (1013): the service refused the call, and says why.
    if ([1008, 1011, 1013].includes(code) && reason) {
      showError(`The service refused the call: ${reason}`);
      this.finish('Call refused');
      return;
    }
    if (this.startedAt === undefined) showError(`The call's audio connection could not be opened (WebSocket close ${code}): is the service still running?`);
    this.finish(reason ? `Call ended: ${reason}` : `Call ended (${code})`);
  }

  finish(text) {
    if (this.ended) return;
    this.ended = true;
    setState('ended', text);
    this.microphone.getTracks().forEach((track) => track.stop());
    this.source.disconnect();
    // Let the last events arrive (the call's summary), then stop listening.
    setTimeout(() => this.events.abort(), 3_000);
    void this.context.close();
    // Nothing is buffered once the call is over; the playback worklet, closed with the context, says no more.
    stats.queuedSamples = 0;
    renderPlayout();
    $('hangup').disabled = true;
    for (const key of document.querySelectorAll('#keys button')) key.disabled = true;
    $('call').disabled = false;
    call = undefined;
  }

  send(message) {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  nextSequence() {
    return String(++this.sequence);
  }

  // ── The side channel: transcript, tool calls, latencies (server-sent events) ─────────────────────────────

  async followEvents() {
    try {
      const response = await fetch(this.session.eventsPath, { headers: { Authorization: `Bearer ${accessKey}` }, signal: this.events.signal });
      if (!response.ok || response.body === null) return;
      await readEventStream(response, (event) => {
        // A finished call's last events (its summary) still show, until the next call begins.
        if (call === this || call === undefined) onCallEvent(event);
      });
    } catch (error) {
      if (error?.name !== 'AbortError') console.warn('call events stopped', error);
    }
  }
}

// ── Rendering ─────────────────────────────────────────────────────────────────────────────────────────────

let openLine; // the transcript line fragments are appended to: { speaker, element }

function onCallEvent(event) {
  stats.events.push(event);
  switch (event.type) {
    case 'transcript': {
      if (openLine?.speaker !== event.speaker) openLine = { speaker: event.speaker, element: addLine('transcript', event.speaker, '') };
      openLine.element.textContent += event.text;
      break;
    }
    case 'turnComplete':
      if (openLine?.speaker === 'agent') openLine = undefined;
      break;
    case 'interrupted':
      openLine = undefined;
      addLine('transcript', 'note', `You interrupted the agent (you heard ${(event.heardMs / 1000).toFixed(1)} s of ${(event.sentMs / 1000).toFixed(1)} s).`);
      break;
    case 'latency':
      addLine('latency', '', `Response: ${event.responseMs} ms after you stopped talking`);
      break;
    case 'toolCall':
      addLine('tools', 'tool', `→ ${event.name}(${JSON.stringify(event.args)})`).dataset.id = event.id;
      break;
    case 'toolResult':
      addLine('tools', 'tool', `← ${event.name} ${event.ok ? 'answered' : 'failed'} in ${event.durationMs} ms: ${event.result}`);
      break;
    case 'ended':
      addLine('transcript', 'note', endedText(event));
      if (event.detail) showError(`The call failed: ${event.detail}`);
      break;
  }
}

/** Why the call ended, in words, and what the caller got of it. */
function endedText(event) {
  const reasons = {
    'caller-hung-up': 'you hung up',
    'agent-hung-up': 'the agent hung up',
    'model-setup-failed': 'the model could not be reached',
    'model-lost': 'the connection to the model was lost',
    'server-stopping': 'the service is shutting down',
  };
  const why = reasons[event.reason] ?? event.reason;
  const { agentAudioHeardSeconds: heard, streamStartToFirstAgentAudioMs: firstAudioMs } = event.summary ?? {};
  const audio = typeof firstAudioMs === 'number'
    ? `Agent audio heard: ${heard} s; first agent audio after ${firstAudioMs} ms.`
    : 'No agent audio reached you.';
  return `Call ended: ${why}${event.detail ? ` (${event.detail})` : ''}. ${audio}`;
}

function addLine(listId, className, text) {
  const item = document.createElement('li');
  if (className) item.className = className;
  item.textContent = text;
  const list = $(listId);
  list.append(item);
  item.scrollIntoView({ block: 'nearest' });
  return item;
}

function renderPlayout() {
  const rows = [
    ['Frames sent', stats.framesSent],
    ['Agent frames received', stats.mediaFramesReceived],
    ['Agent audio played', `${(stats.agentSamplesPlayed / 8000).toFixed(1)} s`],
    ['Buffered', `${Math.round(stats.queuedSamples / 8)} ms`],
    ['Marks echoed (played / cleared)', `${stats.marksEchoedPlayed} / ${stats.marksEchoedByClear}`],
    ['Clears', stats.clearsHonoured],
    ['Underruns', stats.underruns],
  ];
  $('playout').replaceChildren(...rows.flatMap(([name, value]) => [Object.assign(document.createElement('dt'), { textContent: name }), Object.assign(document.createElement('dd'), { textContent: String(value) })]));
}

function showMode(model, agent) {
  const mode = $('mode');
  mode.className = `mode ${model}`;
  mode.textContent = model === 'local'
    ? `Local mode (no GEMINI_API_KEY): a built-in local model stands in for Gemini as ${agent}. The audio path and the tools are real; the words are not a model's.`
    : `${agent} talks through Gemini Live. Press “Call the agent” and allow the microphone.`;
}

function setState(state, text) {
  stats.state = state;
  $('status').textContent = text;
}

function showError(text) {
  stats.error = text;
  const element = $('error');
  element.textContent = text;
  element.hidden = false;
}

function toBase64(bytes) {
  let binary = '';
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
  return btoa(binary);
}

function fromBase64(text) {
  try {
    const binary = atob(text);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  } catch {
    return undefined;
  }
}

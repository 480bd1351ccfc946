// The call inspector: the call history's list (with the calls in progress at the top) and a page per call with
// one timeline. Plain modules, no framework; every request carries the key from the URL fragment as a bearer key.

import { readEventStream } from '/calls/assets/shared/event-stream.js';

const $ = (id) => document.getElementById(id);
const state = { view: undefined, record: undefined, waveformDrawn: false, audioLoaded: false, liveUpdates: 0 };
window.inspectorState = state;

// The key comes in the URL fragment (never sent to a server); kept for this tab only and removed from the address
// bar so it does not show on a shared screen.
const fragmentKey = new URLSearchParams(location.hash.slice(1)).get('key');
if (fragmentKey) {
  sessionStorage.setItem('callsKey', fragmentKey);
  history.replaceState(null, '', location.pathname + location.search);
}
const key = fragmentKey || sessionStorage.getItem('callsKey');
const auth = { Authorization: `Bearer ${key}` };

const callMatch = /^\/calls\/(CA[0-9a-f]{32})$/.exec(location.pathname);
if (!key) showError('This page needs its key: open /calls#key=<ADMIN_API_KEY>.');
else if (callMatch) void showCall(callMatch[1]);
else void showList();

function showError(text) {
  $('error').textContent = text;
  $('error').hidden = false;
}

async function getJson(path) {
  const response = await fetch(path, { headers: auth });
  if (response.status === 401) throw new Error('The key is not the service\'s ADMIN_API_KEY.');
  if (!response.ok) throw new Error((await response.json().catch(() => ({}))).error ?? `HTTP ${response.status}`);
  return response.json();
}

// ── Formatting ──────────────────────────────────────────────────────────────────────────────────────────────

const clock = (ms) => {
  const seconds = Math.max(0, ms) / 1000;
  return `${Math.floor(seconds / 60)}:${(seconds % 60).toFixed(1).padStart(4, '0')}`;
};
const duration = (ms) => (ms === undefined || ms === null ? '–' : ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`);
const dollars = (usd) => (usd === undefined || usd === null ? '–' : usd < 0.01 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(3)}`);
const when = (iso) => new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const way = (call) => (call.channel === 'browser' ? 'browser' : call.direction);

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

// ── The list ────────────────────────────────────────────────────────────────────────────────────────────────

async function showList() {
  state.view = 'list';
  $('list-view').hidden = false;
  const form = $('filters');
  const params = new URLSearchParams(location.search);
  for (const [name, value] of params) if (form.elements[name]) form.elements[name].value = name === 'from' || name === 'to' ? toLocalInput(value) : value;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const query = new URLSearchParams();
    for (const element of form.elements) {
      if (!element.name || element.value === '') continue;
      query.set(element.name, element.type === 'datetime-local' ? new Date(element.value).toISOString() : element.value);
    }
    location.search = query.toString();
  });
  void followLiveCalls();
  await loadCalls(params, undefined);
}

function toLocalInput(iso) {
  const date = new Date(iso);
  return new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

async function loadCalls(params, cursor) {
  const query = new URLSearchParams(params);
  if (cursor) query.set('cursor', cursor);
  try {
    const page = await getJson(`/api/calls?${query}`);
    const body = $('calls').tBodies[0];
    for (const call of page.calls) {
      const row = body.insertRow();
      row.dataset.callSid = call.callSid;
      const started = row.insertCell();
      const link = document.createElement('a');
      link.href = `/calls/${call.callSid}`;
      link.textContent = when(call.startedAt);
      started.append(link);
      cell(row, call.agent);
      cell(row, way(call));
      cell(row, call.from ?? '–');
      cell(row, clock(call.durationMs), 'num');
      cell(row, call.endReason);
      cell(row, dollars(call.costUsd), `num${call.costEstimated ? ' estimated' : ''}`);
      cell(row, `${duration(call.heardP50Ms)} / ${duration(call.heardP95Ms)}`, 'num');
      cell(row, String(call.interruptions), 'num');
      cell(row, String(call.toolCalls), 'num');
      cell(row, call.recorded ? 'recorded' : '', 'note');
    }
    $('no-calls').hidden = body.rows.length > 0;
    const more = $('more');
    more.hidden = page.nextCursor === undefined;
    more.onclick = () => {
      more.hidden = true;
      void loadCalls(params, page.nextCursor);
    };
    state.listLoaded = true;
  } catch (error) {
    showError(`The call history could not be read: ${error.message}`);
  }
}

async function followLiveCalls() {
  try {
    const response = await fetch('/api/calls/live', { headers: auth });
    if (!response.ok || response.body === null) return;
    await readEventStream(response, (event) => renderLive(event.calls));
  } catch (error) {
    console.warn('live calls stopped', error);
  }
}

function renderLive(calls) {
  state.liveUpdates++;
  const body = $('live-calls').tBodies[0];
  body.replaceChildren();
  for (const call of calls) {
    const row = body.insertRow();
    row.className = 'live';
    row.dataset.callSid = call.callSid;
    cell(row, clock(Date.now() - Date.parse(call.startedAt)));
    cell(row, call.agent);
    cell(row, way(call));
    cell(row, call.from ?? '–');
    cell(row, String(call.agentTurns), 'num');
    cell(row, String(call.interruptions), 'num');
    cell(row, String(call.toolCalls), 'num');
    cell(row, call.lastLine ? `${call.lastLine.speaker}: ${call.lastLine.text}` : '', 'saying');
  }
  $('live-calls').hidden = calls.length === 0;
  $('no-live').hidden = calls.length > 0;
  $('live-count').textContent = calls.length > 0 ? `(${calls.length})` : '';
}

// ── One call ────────────────────────────────────────────────────────────────────────────────────────────────

async function showCall(callSid) {
  state.view = 'call';
  $('call-view').hidden = false;
  let record;
  try {
    record = await getJson(`/api/calls/${callSid}`);
  } catch (error) {
    showError(`This call could not be read: ${error.message}`);
    return;
  }
  state.record = record;
  document.title = `Call ${callSid} · Calls`;
  $('call-title').textContent = `${record.agent} · ${way(record)} call`;
  $('call-meta').textContent = `${when(record.startedAt)} · ${record.from ?? 'unknown'} → ${record.to ?? 'unknown'} · ${clock(record.durationMs)} · ended: ${record.endReason}${record.endDetail ? ` (${record.endDetail})` : ''} · ${callSid}`;
  renderFigures(record);
  renderTools(record);
  renderTurns(record);
  renderCost(record);
  renderTranscript(record);
  const axisMs = Math.max(record.durationMs, 1);
  state.axisMs = axisMs;
  renderLanes(record, axisMs);
  await setUpPlayer(record);
  state.callLoaded = true;
}

function figure(list, label, value, className) {
  const box = document.createElement('div');
  const dt = document.createElement('dt');
  dt.textContent = label;
  const dd = document.createElement('dd');
  dd.textContent = value;
  if (className) dd.className = className;
  box.append(dt, dd);
  list.append(box);
}

function renderFigures(record) {
  const list = $('figures');
  const { cost, tokens } = record.summary;
  figure(list, 'Cost', dollars(cost.total), cost.estimated ? 'estimated' : '');
  figure(list, 'Caller waited (p50 / p95)', `${duration(record.latency.heardP50Ms)} / ${duration(record.latency.heardP95Ms)}`);
  figure(list, 'Model answered (p50 / p95)', `${duration(record.latency.modelP50Ms)} / ${duration(record.latency.modelP95Ms)}`);
  figure(list, 'Barge-ins', String(record.bargeIns.length));
  figure(list, 'Tool calls', String(record.tools.length));
  figure(list, 'Tokens', tokens.total.toLocaleString(), tokens.source === 'estimated' ? 'estimated' : '');
  figure(list, 'Session switches', String(record.sessionSwitches.length));
}

function renderTools(record) {
  const body = $('tools').tBodies[0];
  const slowest = Math.max(0, ...record.tools.map((tool) => tool.durationMs ?? 0));
  for (const tool of record.tools) {
    const row = body.insertRow();
    cell(row, clock(tool.atMs));
    cell(row, tool.name);
    cell(row, duration(tool.durationMs), `num${tool.durationMs === slowest && slowest >= 1000 ? ' slow' : ''}`);
    cell(row, tool.outcome);
  }
}

function renderTurns(record) {
  const body = $('turns').tBodies[0];
  for (const turn of record.turns) {
    const row = body.insertRow();
    cell(row, clock(turn.atMs));
    cell(row, String(turn.turn), 'num');
    cell(row, duration(turn.heardMs), `num${turn.heardMs >= 2000 ? ' slow' : ''}`);
    cell(row, duration(turn.modelMs), 'num');
  }
}

function renderCost(record) {
  const list = $('cost');
  const { cost, tokens } = record.summary;
  figure(list, 'Model', dollars(cost.model), cost.estimated ? 'estimated' : '');
  figure(list, 'Phone leg', dollars(cost.telephony));
  figure(list, 'Audio tokens in / out', `${tokens.input.audio.toLocaleString()} / ${tokens.output.audio.toLocaleString()}`);
  figure(list, 'Text tokens in / out', `${(tokens.input.text + tokens.input.other).toLocaleString()} / ${tokens.output.text.toLocaleString()}`);
  figure(list, 'Prices', `${cost.priceModel}${cost.pricesAsOf ? `, ${cost.pricesAsOf}` : ' (not priced)'}`);
}

/** Every line and event of the call, in time order. */
function conversationItems(record) {
  const items = record.transcript.map((line) => ({ atMs: line.atMs, kind: line.speaker, speaker: line.speaker, text: line.text }));
  for (const b of record.bargeIns) {
    items.push({ atMs: b.atMs, kind: 'barge', text: `Caller interrupted after hearing ${duration(b.heardMs)} of ${duration(b.sentMs)}${b.heardText ? `: “${b.heardText}”` : ''}; the agent stopped ${duration(b.clearMs)} after they started.` });
  }
  for (const t of record.tools) items.push({ atMs: t.atMs, kind: 'tool', text: `${t.name}(${JSON.stringify(t.args)}) → ${t.outcome} in ${duration(t.durationMs)}` });
  for (const w of record.turns) items.push({ atMs: w.atMs, kind: 'wait', text: `The caller waited ${duration(w.heardMs)} for the answer (the model's share ${duration(w.modelMs)}).` });
  for (const s of record.sessionSwitches) items.push({ atMs: s.atMs, kind: 'switch', text: `The model session switched (${s.reason}, ${duration(s.switchMs)}).` });
  return items.sort((a, b) => a.atMs - b.atMs);
}

function renderTranscript(record) {
  const list = $('transcript');
  for (const item of conversationItems(record)) {
    const li = document.createElement('li');
    li.className = item.kind;
    li.dataset.atMs = String(item.atMs);
    const time = document.createElement('time');
    time.textContent = clock(item.atMs);
    li.append(time);
    if (item.speaker) {
      const who = document.createElement('b');
      who.textContent = item.speaker === 'caller' ? 'Caller: ' : 'Agent: ';
      li.append(who);
    }
    li.append(document.createTextNode(item.text));
    li.addEventListener('click', () => void seek(item.atMs));
    list.append(li);
  }
}

function renderLanes(record, axisMs) {
  const lanes = $('lanes');
  const at = (ms) => `${(100 * ms) / axisMs}%`;
  const mark = (kind, startMs, lengthMs, title) => {
    const element = document.createElement('div');
    element.className = `mark ${kind}`;
    element.style.left = at(startMs);
    if (lengthMs !== undefined) element.style.width = at(lengthMs);
    element.title = title;
    lanes.append(element);
  };
  for (const b of record.bargeIns) mark('barge', b.atMs, undefined, `barge-in at ${clock(b.atMs)}`);
  for (const t of record.tools) mark('tool', t.atMs, t.durationMs ?? 0, `${t.name}: ${duration(t.durationMs)}`);
  for (const w of record.turns) mark('wait', w.atMs, w.heardMs ?? w.modelMs, `waited ${duration(w.heardMs)}`);
  for (const s of record.sessionSwitches) mark('switch', s.atMs, undefined, `session switch (${s.reason})`);
}

async function setUpPlayer(record) {
  const play = $('play');
  const audio = $('audio');
  if (record.recording === undefined) {
    $('recording-note').textContent = 'Not recorded (RECORD_CALLS=1 records calls): no waveform.';
    drawWaveform(undefined);
    return;
  }
  try {
    const canvas = $('waveform');
    const waveform = await getJson(`/api/calls/${record.callSid}/waveform?points=${canvas.width}`);
    state.axisMs = Math.max(state.axisMs, waveform.durationMs);
    drawWaveform(waveform);
  } catch (error) {
    $('recording-note').textContent = `The recording could not be read: ${error.message}`;
    return;
  }
  play.disabled = false;
  play.addEventListener('click', async () => {
    if (!(await loadAudio())) return;
    if (audio.paused) await audio.play();
    else audio.pause();
  });
  audio.addEventListener('play', () => {
    play.textContent = 'Pause';
    requestAnimationFrame(moveCursor);
  });
  audio.addEventListener('pause', () => (play.textContent = 'Play'));
  audio.addEventListener('seeked', moveCursor);
  $('timeline').addEventListener('click', (event) => {
    const box = event.currentTarget.getBoundingClientRect();
    void seek(((event.clientX - box.left) / box.width) * state.axisMs);
  });
}

/** The recording is fetched (with the key) only when someone plays it: a 30-minute call is 58 MB. */
async function loadAudio() {
  if (state.audioLoaded) return true;
  $('recording-note').textContent = 'Loading the recording…';
  try {
    const response = await fetch(`/api/calls/${state.record.callSid}/audio`, { headers: auth });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    $('audio').src = URL.createObjectURL(await response.blob());
    state.audioLoaded = true;
    $('recording-note').textContent = '';
    return true;
  } catch (error) {
    $('recording-note').textContent = `The recording could not be played: ${error.message}`;
    return false;
  }
}

async function seek(atMs) {
  if (state.record?.recording === undefined || !(await loadAudio())) return;
  const audio = $('audio');
  audio.currentTime = Math.max(0, atMs) / 1000;
  moveCursor();
}

function moveCursor() {
  const audio = $('audio');
  const ms = audio.currentTime * 1000;
  $('cursor').style.left = `${(100 * ms) / state.axisMs}%`;
  $('clock').textContent = clock(ms);
  state.cursorMs = ms;
  let current;
  for (const li of $('transcript').children) {
    li.classList.remove('playing');
    if (Number(li.dataset.atMs) <= ms) current = li;
  }
  current?.classList.add('playing');
  if (!audio.paused) requestAnimationFrame(moveCursor);
}

function drawWaveform(waveform) {
  const canvas = $('waveform');
  const context = canvas.getContext('2d');
  const { width, height } = canvas;
  const middle = height / 2;
  context.clearRect(0, 0, width, height);
  context.fillStyle = '#dde1e6';
  context.fillRect(0, middle, width, 1);
  if (waveform === undefined) return;
  const style = getComputedStyle(document.documentElement);
  const lane = (peaks, color, direction) => {
    context.fillStyle = color;
    const step = width / Math.max(1, peaks.length);
    const scale = (state.axisMs > 0 ? waveform.durationMs / state.axisMs : 1) * step;
    peaks.forEach((peak, i) => {
      const h = Math.max(0.5, peak * (middle - 4));
      context.fillRect(i * scale, direction < 0 ? middle - h : middle + 1, Math.max(1, scale), h);
    });
  };
  lane(waveform.caller, style.getPropertyValue('--caller').trim(), -1);
  lane(waveform.agent, style.getPropertyValue('--agent').trim(), 1);
  state.waveformDrawn = true;
}

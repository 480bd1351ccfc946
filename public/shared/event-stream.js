// Server-sent events read from a fetch response (EventSource cannot send the bearer key): the browser phone's call
// events and the call inspector's live calls. Each event's `data:` lines are one JSON value.

/** Calls `onData` with each event's parsed data until the stream ends; rejects when reading fails or is aborted. */
export async function readEventStream(response, onData) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let pending = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    pending += value;
    let boundary;
    while ((boundary = pending.indexOf('\n\n')) !== -1) {
      const block = pending.slice(0, boundary);
      pending = pending.slice(boundary + 2);
      const data = block.split('\n').filter((line) => line.startsWith('data: ')).map((line) => line.slice(6)).join('\n');
      if (data !== '') onData(JSON.parse(data));
    }
  }
}

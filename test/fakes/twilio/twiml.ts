/**
 * A small, strict reader for the TwiML our app returns to Twilio's voice webhook. It accepts only what Twilio
 * would accept for a bidirectional Media Stream and throws (with a reason) on anything else, so a test fails
 * where a real call would fail or silently misbehave.
 *
 * Rules come from https://www.twilio.com/docs/voice/twiml/stream and /twiml/connect:
 * - `<Response>` root containing exactly one `<Connect>` whose only child is one `<Stream>`;
 * - `url` is required, absolute, `wss://` (error 31922 otherwise), with no query string (not supported);
 * - a bidirectional stream only carries `inbound_track`;
 * - `<Parameter name value/>` children become `start.customParameters`; name+value must stay < 500 characters;
 * - `statusCallback` is an absolute URL, `statusCallbackMethod` is GET or POST.
 * Other verbs (e.g. a fallback `<Say>` after `</Connect>`) are allowed and listed in `verbs`.
 */

export interface ConnectStreamTwiml {
  /** The `wss://` URL Twilio's media server will open (and sign). */
  streamUrl: string;
  /** `<Parameter>` name/value pairs, delivered by Twilio as `start.customParameters`. */
  parameters: Record<string, string>;
  statusCallback?: string;
  statusCallbackMethod?: 'GET' | 'POST';
  /** `<Stream name>`, if given. */
  streamName?: string;
  /** `<Connect action>`, if given: requested when the stream ends. */
  connectAction?: string;
  /** Top-level verbs in document order, e.g. `['Connect', 'Say']`. */
  verbs: string[];
}

export class TwimlError extends Error {
  override name = 'TwimlError';
}

export function parseConnectStreamTwiml(xml: string): ConnectStreamTwiml {
  const root = new XmlReader(xml).readDocument();
  if (root.name !== 'Response') throw new TwimlError(`root element is <${root.name}>, expected <Response>`);
  checkAttributes(root, []);
  requireNoText(root);

  const verbs = elementChildren(root);
  const connects = verbs.filter((v) => v.name === 'Connect');
  if (connects.length !== 1) {
    const hint = verbs.some((v) => v.name === 'Start') ? ' (<Start><Stream> is unidirectional: no audio back)' : '';
    throw new TwimlError(`expected exactly one <Connect>, found ${connects.length}${hint}`);
  }
  const connect = connects[0]!;
  checkAttributes(connect, ['action', 'method']);
  requireNoText(connect);

  const nouns = elementChildren(connect);
  const stream = nouns[0];
  if (nouns.length !== 1 || stream === undefined || stream.name !== 'Stream') {
    throw new TwimlError(`<Connect> must contain exactly one <Stream>, found [${nouns.map((n) => n.name).join(', ')}]`);
  }
  checkAttributes(stream, ['url', 'name', 'track', 'statusCallback', 'statusCallbackMethod']);
  requireNoText(stream);

  const streamUrl = stream.attributes.get('url');
  if (streamUrl === undefined) throw new TwimlError('<Stream> has no url attribute');
  checkStreamUrl(streamUrl);

  const track = stream.attributes.get('track');
  if (track !== undefined && track !== 'inbound_track') {
    throw new TwimlError(`track="${track}": a bidirectional <Connect><Stream> only supports inbound_track`);
  }

  const result: ConnectStreamTwiml = { streamUrl, parameters: {}, verbs: verbs.map((v) => v.name) };

  const statusCallback = stream.attributes.get('statusCallback');
  if (statusCallback !== undefined) {
    checkHttpUrl(statusCallback, 'statusCallback');
    result.statusCallback = statusCallback;
  }
  const method = stream.attributes.get('statusCallbackMethod');
  if (method !== undefined) {
    if (method !== 'GET' && method !== 'POST') throw new TwimlError(`statusCallbackMethod="${method}"`);
    result.statusCallbackMethod = method;
  }
  const streamName = stream.attributes.get('name');
  if (streamName !== undefined) result.streamName = streamName;
  const action = connect.attributes.get('action');
  if (action !== undefined) result.connectAction = action;

  for (const param of elementChildren(stream)) {
    if (param.name !== 'Parameter') throw new TwimlError(`<Stream> may only contain <Parameter>, found <${param.name}>`);
    checkAttributes(param, ['name', 'value']);
    if (param.children.length > 0) throw new TwimlError('<Parameter> must be empty');
    const name = param.attributes.get('name');
    const value = param.attributes.get('value');
    if (name === undefined || name === '' || value === undefined) {
      throw new TwimlError('<Parameter> needs non-empty name and a value attribute');
    }
    if (name.length + value.length >= 500) {
      throw new TwimlError(`<Parameter name="${name}">: name+value is ${name.length + value.length} chars (limit < 500)`);
    }
    if (Object.hasOwn(result.parameters, name)) throw new TwimlError(`duplicate <Parameter name="${name}">`);
    result.parameters[name] = value;
  }
  return result;
}

/** One TwiML verb: its name, attributes and text (e.g. what a `<Say>` says), and the nouns or verbs nested in it. */
export interface TwimlVerb {
  name: string;
  attributes: Record<string, string>;
  /** The verb's text content, nested elements' included, trimmed (empty for verbs with none). */
  text: string;
  /** Nested elements, e.g. `<Number>` in `<Dial>`, `<Say>` in `<Gather>`. */
  children: TwimlVerb[];
}

/**
 * The verbs of any `<Response>`, in document order, for following a call's TwiML the way Twilio executes it
 * (https://www.twilio.com/docs/voice/twiml): verb by verb, the call ending after `<Hangup>` or the last verb.
 * Only the document structure is checked here; `parseConnectStreamTwiml` checks a `<Connect><Stream>` strictly.
 */
export function readTwimlVerbs(xml: string): TwimlVerb[] {
  const root = new XmlReader(xml).readDocument();
  if (root.name !== 'Response') throw new TwimlError(`root element is <${root.name}>, expected <Response>`);
  requireNoText(root);
  return elementChildren(root).map(toVerb);
}

function toVerb(element: XmlElement): TwimlVerb {
  return { name: element.name, attributes: Object.fromEntries(element.attributes), text: textOf(element).trim(), children: elementChildren(element).map(toVerb) };
}

function textOf(el: XmlElement): string {
  return el.children.map((child) => ('text' in child ? child.text : textOf(child))).join('');
}

function checkStreamUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TwimlError(`<Stream url="${url}"> is not an absolute URL (Twilio error 31923)`);
  }
  if (parsed.protocol !== 'wss:') throw new TwimlError(`<Stream url="${url}"> must use wss:// (Twilio error 31922)`);
  if (parsed.search !== '' || url.includes('?')) {
    throw new TwimlError(`<Stream url="${url}"> has a query string; Twilio does not support it (use <Parameter>)`);
  }
}

function checkHttpUrl(url: string, what: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TwimlError(`${what}="${url}" is not an absolute URL`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new TwimlError(`${what}="${url}" is not http(s)`);
}

// --- a minimal XML reader (elements, attributes, text, comments, CDATA, the five entities + char refs) ---

interface XmlElement {
  name: string;
  attributes: Map<string, string>;
  children: XmlNode[];
}
type XmlNode = XmlElement | { text: string };

function elementChildren(el: XmlElement): XmlElement[] {
  return el.children.filter((c): c is XmlElement => 'name' in c);
}

function requireNoText(el: XmlElement): void {
  for (const child of el.children) {
    if ('text' in child && child.text.trim() !== '') {
      throw new TwimlError(`unexpected text ${JSON.stringify(child.text.trim())} inside <${el.name}>`);
    }
  }
}

function checkAttributes(el: XmlElement, allowed: readonly string[]): void {
  for (const name of el.attributes.keys()) {
    // Attribute names are case-sensitive in TwiML; an unknown one is most likely a typo (statusCallBack).
    if (!allowed.includes(name)) throw new TwimlError(`unexpected attribute ${name} on <${el.name}>`);
  }
}

const NAMED_ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

class XmlReader {
  private pos = 0;
  constructor(private readonly src: string) {}

  readDocument(): XmlElement {
    this.skipProlog();
    if (!this.src.startsWith('<', this.pos)) this.fail('expected root element');
    const root = this.readElement();
    this.skipMisc();
    if (this.pos !== this.src.length) this.fail('content after the root element');
    return root;
  }

  private skipProlog(): void {
    if (this.src.charCodeAt(0) === 0xfeff) this.pos = 1; // BOM
    if (this.src.startsWith('<?xml', this.pos)) this.pos = this.indexOrFail('?>', 'unterminated XML declaration') + 2;
    this.skipMisc();
  }

  /** Whitespace and comments, allowed around the root element. */
  private skipMisc(): void {
    for (;;) {
      while (this.pos < this.src.length && /\s/.test(this.src[this.pos]!)) this.pos++;
      if (this.src.startsWith('<!--', this.pos)) this.pos = this.indexOrFail('-->', 'unterminated comment') + 3;
      else return;
    }
  }

  private readElement(): XmlElement {
    this.pos++; // '<'
    const name = this.readName();
    const attributes = new Map<string, string>();
    for (;;) {
      const hadSpace = this.skipSpace();
      if (this.src.startsWith('/>', this.pos)) {
        this.pos += 2;
        return { name, attributes, children: [] };
      }
      if (this.src[this.pos] === '>') {
        this.pos++;
        break;
      }
      if (!hadSpace) this.fail(`malformed tag <${name}>`);
      const attr = this.readName();
      this.skipSpace();
      if (this.src[this.pos] !== '=') this.fail(`attribute ${attr} has no value`);
      this.pos++;
      this.skipSpace();
      if (attributes.has(attr)) this.fail(`duplicate attribute ${attr} on <${name}>`);
      attributes.set(attr, this.readQuoted());
    }
    const children: XmlNode[] = [];
    for (;;) {
      if (this.pos >= this.src.length) this.fail(`<${name}> is not closed`);
      if (this.src.startsWith('</', this.pos)) {
        this.pos += 2;
        const closing = this.readName();
        this.skipSpace();
        if (closing !== name || this.src[this.pos] !== '>') this.fail(`</${closing}> does not close <${name}>`);
        this.pos++;
        return { name, attributes, children };
      }
      if (this.src.startsWith('<!--', this.pos)) {
        this.pos = this.indexOrFail('-->', 'unterminated comment') + 3;
      } else if (this.src.startsWith('<![CDATA[', this.pos)) {
        const end = this.indexOrFail(']]>', 'unterminated CDATA');
        children.push({ text: this.src.slice(this.pos + 9, end) });
        this.pos = end + 3;
      } else if (this.src[this.pos] === '<') {
        children.push(this.readElement());
      } else {
        const end = this.src.indexOf('<', this.pos);
        const raw = this.src.slice(this.pos, end === -1 ? this.src.length : end);
        children.push({ text: this.unescape(raw) });
        this.pos += raw.length;
      }
    }
  }

  private readName(): string {
    const match = /^[A-Za-z_][\w.:-]*/.exec(this.src.slice(this.pos, this.pos + 256));
    if (!match) this.fail('expected a name');
    this.pos += match[0].length;
    return match[0];
  }

  private readQuoted(): string {
    const quote = this.src[this.pos];
    if (quote !== '"' && quote !== "'") this.fail('attribute value must be quoted');
    const end = this.src.indexOf(quote, this.pos + 1);
    if (end === -1) this.fail('unterminated attribute value');
    const raw = this.src.slice(this.pos + 1, end);
    if (raw.includes('<')) this.fail('"<" inside an attribute value');
    this.pos = end + 1;
    return this.unescape(raw);
  }

  private unescape(raw: string): string {
    return raw.replace(/&([^;&\s]*);?/g, (whole, ref: string) => {
      if (!whole.endsWith(';')) this.fail(`bare "&" (write &amp;) near ${JSON.stringify(whole)}`);
      const named = NAMED_ENTITIES[ref];
      if (named !== undefined) return named;
      const num = /^#(?:x([0-9a-fA-F]+)|([0-9]+))$/.exec(ref);
      if (num) {
        const code = num[1] !== undefined ? parseInt(num[1], 16) : parseInt(num[2]!, 10);
        if (code > 0x10ffff || code === 0) this.fail(`invalid character reference ${whole}`);
        return String.fromCodePoint(code);
      }
      return this.fail(`unknown entity ${whole}`);
    });
  }

  private skipSpace(): boolean {
    const start = this.pos;
    while (this.pos < this.src.length && /\s/.test(this.src[this.pos]!)) this.pos++;
    return this.pos > start;
  }

  private indexOrFail(token: string, message: string): number {
    const i = this.src.indexOf(token, this.pos);
    if (i === -1) this.fail(message);
    return i;
  }

  private fail(message: string): never {
    throw new TwimlError(`invalid XML at offset ${this.pos}: ${message}`);
  }
}

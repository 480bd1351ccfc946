import { randomBytes } from 'node:crypto';
import express, { type ErrorRequestHandler, type Request, type RequestHandler, type Response } from 'express';
import type { CallAgent } from '../agents/agent-directory.js';
import { callDetails } from '../domain/call-details.js';
import type { ToolFailure } from '../model/realtime-model.js';
import type { Logger } from '../observability/logger.js';
import { redactPhoneNumbersInText } from '../observability/redact.js';
import { RollingWindowLimit } from '../telephony/outbound-calls.js';
import { ToolDispatcher, type AnsweredToolCall } from '../tools/dispatcher.js';
import type { ObjectParameter } from '../tools/schema.js';

/**
 * The browser phone's tool panel: the running agent as the page shows it (its name, greeting, keypad cue and
 * tools with their parameter schemas), and `POST /phone/tools/<name>`, which runs one of its tools for real
 * (the handler, or the signed request of an HTTP tool) exactly as a call's model would: through the tool
 * dispatcher, with the schema check, the timeout, ToolError and the log line. The call context is a browser
 * call's (`CA…`, inbound, no numbers), made up for the run; `finishAfterReply` has no call to end.
 */

/** Tool runs per rolling minute on one instance: a runaway page cannot hammer a backend through its tools. */
export const TOOL_RUNS_PER_MINUTE = 60;
/** A form's arguments: a few fields, never a document. */
const MAX_ARGUMENTS_BYTES = 16 * 1024;
/** What a failed handler's own error shows on the page: its first line, cut. */
const SHOWN_FAILURE_CHARS = 300;

/** What the page shows of the running agent (`GET /phone/agent`). */
export interface AgentCard {
  name: string;
  model: 'local' | 'gemini';
  /** The instruction the model greets an inbound caller with (an instruction, not the words it will say). */
  greeting: string;
  /** How keypad digits reach the model: the agent's cue, `{digits}` standing for the digits. */
  keypadCue: string;
  /** The agent's own tools (not the built-in end_call and transfer_call, which act on a call). */
  tools: ToolCard[];
}

export interface ToolCard {
  name: string;
  description: string;
  behavior: 'BLOCKING' | 'NON_BLOCKING';
  /** Served by the agent's backend over HTTP (signed with TOOL_WEBHOOK_SECRET), or a handler in this process. */
  kind: 'http' | 'handler';
  parameters: ObjectParameter;
  timeoutMs: number;
}

/** The answer to a run: what the model would have received, how the run ended, and how long it took. */
export interface ToolRun {
  tool: string;
  outcome: AnsweredToolCall['outcome'];
  durationMs: number;
  /** The tool's answer (`ok`). */
  output?: unknown;
  /** What the model hears instead (every other outcome): the failure, whether a retry could help, a hint. */
  error?: ToolFailure;
  /** A failed handler's own error (the model hears only that the tool failed; the service log has the stack). */
  failure?: string;
}

export interface ToolPanelDeps {
  agent: CallAgent;
  model: 'local' | 'gemini';
  /** TOOL_TIMEOUT_MS, for tools without their own timeoutMs. */
  toolTimeoutMs: number;
  log: Logger;
  now?: () => number;
}

export class ToolPanel {
  private readonly limit: RollingWindowLimit;

  constructor(private readonly deps: ToolPanelDeps) {
    this.limit = new RollingWindowLimit(TOOL_RUNS_PER_MINUTE, 60_000, deps.now);
  }

  card(): AgentCard {
    const { agent } = this.deps.agent;
    return {
      name: agent.name,
      model: this.deps.model,
      greeting: agent.greeting.inbound,
      keypadCue: agent.cues.keypadDigits,
      tools: agent.tools.map((tool) => ({
        name: tool.name,
        description: tool.description,
        behavior: tool.behavior,
        kind: tool.url === undefined ? 'handler' : 'http',
        parameters: tool.parameters,
        timeoutMs: tool.timeoutMs ?? this.deps.toolTimeoutMs,
      })),
    };
  }

  /** `GET /agent` and `POST /tools/:name`, behind the page's authentication. */
  routes(authenticate: (what: string) => RequestHandler): express.Router {
    const router = express.Router();
    router.get('/agent', authenticate('agent'), (_req, res) => {
      res.set('Cache-Control', 'no-store').json(this.card());
    });
    router.post('/tools/:name', authenticate('tool'), express.json({ limit: MAX_ARGUMENTS_BYTES, strict: true }), (req: Request, res: Response) => void this.runRoute(req, res), bodyErrors);
    return router;
  }

  /** Runs the agent's tool `name` with `args`; undefined when the agent has no such tool of its own. */
  async run(name: string, args: Record<string, unknown>): Promise<ToolRun | undefined> {
    const { agent, tools } = this.deps.agent;
    if (!agent.tools.some((tool) => tool.name === name)) return undefined;
    const callSid = `CA${randomBytes(16).toString('hex')}`;
    const call = { ...callDetails({ callSid, from: undefined, to: undefined, direction: undefined }, agent.name), finishAfterReply: () => false };
    const log = this.deps.log.child({ callSid, agent: agent.name, toolPanel: true });
    return new Promise<ToolRun>((resolve) => {
      const dispatcher = new ToolDispatcher({
        tools,
        call,
        log,
        defaultTimeoutMs: this.deps.toolTimeoutMs,
        send: ({ response }, { outcome, durationMs, failure }) => {
          dispatcher.close();
          resolve({ tool: name, outcome, durationMs, ...response, ...(failure === undefined ? {} : { failure: describeFailure(failure) }) });
        },
      });
      dispatcher.dispatch([{ id: `panel-${callSid.slice(2, 10)}`, name, args }]);
    });
  }

  private async runRoute(req: Request, res: Response): Promise<void> {
    const name = String(req.params.name ?? '');
    const body: unknown = req.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body) || !isPlainObject((body as { args?: unknown }).args ?? {})) {
      res.status(400).json({ error: 'Send JSON {"args": {…}}: the tool\'s arguments as an object.' });
      return;
    }
    if (!this.deps.agent.agent.tools.some((tool) => tool.name === name)) {
      res.status(404).json({ error: `The agent "${this.deps.agent.agent.name}" has no tool named "${name}".` });
      return;
    }
    const slot = this.limit.take();
    if (!slot.allowed) {
      const retryAfterSeconds = Math.ceil(slot.retryAfterMs / 1000);
      res.status(429).set('Retry-After', String(retryAfterSeconds)).json({ error: `At most ${TOOL_RUNS_PER_MINUTE} tool runs a minute; retry in ${retryAfterSeconds} s.` });
      return;
    }
    const run = await this.run(name, ((body as { args?: Record<string, unknown> }).args ?? {}) as Record<string, unknown>);
    res.status(200).set('Cache-Control', 'no-store').json(run);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeFailure(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return redactPhoneNumbersInText(text.split('\n')[0]!.slice(0, SHOWN_FAILURE_CHARS));
}

/** A body that is not JSON, or too large: the page's mistake, said in JSON, never express's HTML error page. */
const bodyErrors: ErrorRequestHandler = (error: unknown, _req, res, next) => {
  if (res.headersSent) return next(error);
  const status = (error as { status?: unknown }).status;
  if (status === 413) return void res.status(413).json({ error: 'The arguments are too large.' });
  if (typeof status === 'number' && status < 500) return void res.status(400).json({ error: 'The body is not valid JSON.' });
  next(error);
};

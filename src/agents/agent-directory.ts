import type { ConversationSettings, RealtimeModel, TurnDetection } from '../model/realtime-model.js';
import type { CallDetails } from '../domain/call-details.js';
import { endCallTool } from '../tools/end-call.js';
import { HttpToolClient } from '../tools/http-tool.js';
import { DefinitionError, ToolRegistry, type Tool } from '../tools/tool.js';
import { transferCallTool } from '../tools/transfer-call.js';
import { instructionsFor, type Agent } from './agent.js';
import { resolveTurnTaking, type AgentTurnTaking } from './turn-taking.js';

/** An agent ready to take calls: its tools (with the built-in ones) and how its model sessions are set up. */
export interface CallAgent {
  readonly agent: Agent;
  readonly tools: ToolRegistry;
  /** The model the agent talks through: its own, or the model's default. */
  readonly modelName: string;
  /** How its calls take turns: the model's settings, and the local detector's when the service detects turns. */
  readonly turnTaking: AgentTurnTaking;
  /** The model session settings for one call (instructions may be written per call). */
  conversationSettings(call: CallDetails): Promise<ConversationSettings>;
}

export interface AgentDirectoryOptions {
  /** TRANSFER_NUMBER: transfer_call for agents without a number of their own. */
  transferNumber: string | undefined;
  /** TRANSFER_MODE: how agents that name none transfer (default cold). */
  transferMode?: 'cold' | 'warm';
  /** TOOL_WEBHOOK_SECRET: signs HTTP tool requests; required when any agent has an HTTP tool. */
  toolWebhookSecret: string | undefined;
  /**
   * The realtime model the calls talk to: its default model name, what each model can do (the built-in tools run
   * the way the model runs tools), and what it refuses in an agent's settings.
   */
  model: Pick<RealtimeModel, 'defaultModel' | 'capabilities' | 'settingsProblems'>;
  /** TURN_DETECTION: who detects turns for agents that do not say (default: the model). */
  turnDetection?: TurnDetection;
  /** Replaces fetch for HTTP tools (tests). */
  fetch?: typeof fetch;
}

/**
 * The agents one service runs, and which one answers a call: the agent listing the called number, else the
 * default agent (the one without numbers). Built once at start-up; every problem is reported at once.
 */
export class AgentDirectory {
  private readonly byName = new Map<string, CallAgent>();
  private readonly byNumber = new Map<string, CallAgent>();
  readonly defaultAgent: CallAgent | undefined;

  constructor(agents: readonly Agent[], options: AgentDirectoryOptions) {
    const problems: string[] = [];
    if (agents.length === 0) problems.push('no agent to run: give at least one');
    const http = options.toolWebhookSecret === undefined ? undefined : new HttpToolClient({ secret: options.toolWebhookSecret, ...(options.fetch === undefined ? {} : { fetch: options.fetch }) });
    const defaults: CallAgent[] = [];
    for (const agent of agents) {
      if (this.byName.has(agent.name)) {
        problems.push(`agent "${agent.name}": name is used by two agents`);
        continue;
      }
      const httpTools = agent.tools.filter((tool) => tool.url !== undefined);
      if (httpTools.length > 0 && http === undefined) {
        problems.push(`agent "${agent.name}": tools ${httpTools.map((tool) => tool.name).join(', ')} are HTTP tools: set TOOL_WEBHOOK_SECRET (the key their requests are signed with)`);
        continue;
      }
      const transferNumber = agent.transferNumber ?? options.transferNumber;
      const modelName = agent.model ?? options.model.defaultModel;
      const capabilities = options.model.capabilities(modelName);
      const builtIns = builtInTools(transferNumber, agent.transferMode ?? options.transferMode ?? 'cold', capabilities.blockingTools);
      let tools: ToolRegistry;
      try {
        tools = new ToolRegistry([...builtIns, ...agent.tools], [], http);
      } catch (error) {
        problems.push(`agent "${agent.name}": ${(error as Error).message}`);
        continue;
      }
      const resolved = resolveTurnTaking(agent, options.turnDetection ?? 'model', { name: modelName, capabilities });
      const callAgent = prepared(agent, tools, modelName, resolved.turnTaking);
      const fixed = { model: modelName, voice: agent.voice, turns: resolved.turnTaking.turns, inputTranscription: agent.inputTranscription, features: agent.features, tools: tools.declarations() };
      for (const problem of [...resolved.problems, ...options.model.settingsProblems(fixed)]) problems.push(`agent "${agent.name}": ${problem}`);
      this.byName.set(agent.name, callAgent);
      if (agent.phoneNumbers.length === 0) defaults.push(callAgent);
      for (const number of agent.phoneNumbers) {
        const other = this.byNumber.get(number);
        if (other !== undefined) problems.push(`agent "${agent.name}": phone number ${number} is also agent "${other.agent.name}"'s`);
        else this.byNumber.set(number, callAgent);
      }
    }
    if (defaults.length > 1) problems.push(`agents ${defaults.map((a) => `"${a.agent.name}"`).join(' and ')} both have no phoneNumbers: only one agent can be the default`);
    if (problems.length > 0) throw new DefinitionError(problems);
    this.defaultAgent = defaults[0];
  }

  /** The agent for a call to `calledNumber` (Twilio's `To`), or undefined when none answers it. */
  forNumber(calledNumber: string | undefined): CallAgent | undefined {
    return (calledNumber === undefined ? undefined : this.byNumber.get(calledNumber)) ?? this.defaultAgent;
  }

  byAgentName(name: string): CallAgent | undefined {
    return this.byName.get(name);
  }

  get names(): string[] {
    return [...this.byName.keys()];
  }

  get all(): CallAgent[] {
    return [...this.byName.values()];
  }
}

/**
 * end_call, and transfer_call with a number to transfer to. They wait for their answer (BLOCKING) where the model
 * runs tools that way; a model that runs tools only asynchronously gets them NON_BLOCKING, their answers taken
 * in when the model is idle (its default scheduling).
 */
function builtInTools(transferNumber: string | undefined, transferMode: 'cold' | 'warm', blocking: boolean): Tool[] {
  const tools = [endCallTool, ...(transferNumber === undefined ? [] : [transferCallTool(transferNumber, transferMode)])];
  return blocking ? tools : tools.map((tool) => Object.freeze({ ...tool, behavior: 'NON_BLOCKING' as const }));
}

function prepared(agent: Agent, tools: ToolRegistry, modelName: string, turnTaking: AgentTurnTaking): CallAgent {
  return {
    agent,
    tools,
    modelName,
    turnTaking,
    async conversationSettings(call) {
      const instructions = tools.instructions(await instructionsFor(agent, call));
      return {
        agentName: agent.name,
        model: modelName,
        voice: agent.voice,
        instructions,
        tools: tools.declarations(),
        turns: turnTaking.turns,
        inputTranscription: agent.inputTranscription,
        features: agent.features,
      };
    },
  };
}

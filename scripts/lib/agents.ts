import { EXAMPLE_AGENT_FILE } from '../../src/agents/example-agent.js';
import { AgentLoadError, loadAgents } from '../../src/index.js';
import type { Env } from './cli.js';

const AGENT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** Whether `name` can be an agent's name (defineAgent's rule). */
export function isAgentName(name: string): boolean {
  return AGENT_NAME_PATTERN.test(name);
}

/**
 * The agent a call is placed for when none is named: the default agent of the agents AGENT names (the example
 * agent when unset), i.e. the one without phone numbers, else the first; what the server picks for `POST /calls`
 * without an agent.
 */
export async function resolveDefaultAgentName(env: Env): Promise<{ name: string } | { error: string }> {
  const file = env.AGENT?.trim() || EXAMPLE_AGENT_FILE;
  try {
    const agents = await loadAgents(file);
    const agent = agents.find((candidate) => candidate.phoneNumbers.length === 0) ?? agents[0];
    return agent === undefined ? { error: `AGENT (${file}) defines no agent` } : { name: agent.name };
  } catch (error) {
    if (error instanceof AgentLoadError) return { error: error.message };
    throw error;
  }
}

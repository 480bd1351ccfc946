import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The example agent of this repository (examples/), run by `npm start` and the replay tool when AGENT is not
 * set outside production. It is an example like any user's agent: the service knows only its file name.
 */
export const EXAMPLE_AGENT_FILE = fileURLToPath(new URL('../../examples/restaurant/agent.ts', import.meta.url));

/**
 * The agent file a command runs: the one given, else AGENT, else (outside production, in this repository) the
 * example. Undefined when there is none.
 */
export function agentFileFor(given: string | undefined, env: Record<string, string | undefined>): string | undefined {
  const named = given?.trim() || env.AGENT?.trim();
  if (named) return named;
  return env.NODE_ENV !== 'production' && existsSync(EXAMPLE_AGENT_FILE) ? EXAMPLE_AGENT_FILE : undefined;
}

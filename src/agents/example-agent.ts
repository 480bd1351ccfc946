import { fileURLToPath } from 'node:url';

/**
 * The example agent of this repository (examples/), run by `npm start` and the replay tool when AGENT is not
 * set outside production. It is an example like any user's agent: the service knows only its file name.
 */
export const EXAMPLE_AGENT_FILE = fileURLToPath(new URL('../../examples/restaurant/agent.ts', import.meta.url));

import { DefinitionError } from '../../src/tools/tool.js';

/** The problems a definition (agent, tool, directory) was refused with; none when `action` succeeds. */
export function problemsOf(action: () => unknown): readonly string[] {
  try {
    action();
  } catch (error) {
    if (error instanceof DefinitionError) return error.problems;
    throw error;
  }
  return [];
}

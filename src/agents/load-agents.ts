import { readFile, stat } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { DefinitionError } from '../tools/tool.js';
import { defineAgent, isAgent, type Agent, type AgentDefinition } from './agent.js';
import { AgentImportError, importAgentModule, type PackageApi } from './agent-module.js';
import { jsonAgentDefinitions } from './json-agent-file.js';

/** An agent file that cannot be used; the message names the file and every problem found. */
export class AgentLoadError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(`${file}: ${problems.join('; ')}`);
    this.name = 'AgentLoadError';
  }
}

const MODULE_EXTENSIONS = ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs'];

export interface LoadAgentFileOptions {
  /** What a relative path is resolved from (default: the working directory). */
  cwd?: string | undefined;
  /** What `gemini-phone-agent` is inside agent files: the running package's public API. */
  packageApi: PackageApi;
}

/**
 * Loads the agents of an agent file: a module (.ts, .mts, .cts, .js, .mjs, .cjs; ES module or CommonJS, in any
 * project) whose default export (or `module.exports`) is an agent or an array of agents (from `defineAgent`, or
 * plain definitions), or a .json file holding one data-only agent or an array of them (instructions, voice,
 * greeting, HTTP tools). The module's own imports resolve from its folder, except `gemini-phone-agent`.
 */
export async function loadAgentFile(path: string, { cwd = process.cwd(), packageApi }: LoadAgentFileOptions): Promise<Agent[]> {
  const file = resolve(cwd, path);
  const extension = extname(file).toLowerCase();
  if (extension !== '.json' && !MODULE_EXTENSIONS.includes(extension)) {
    throw new AgentLoadError(file, [`an agent file must end in ${MODULE_EXTENSIONS.join(', ')} or .json (got "${extension || 'no extension'}")`]);
  }
  const kind = await stat(file).then((found) => (found.isFile() ? 'file' : 'not a file'), () => 'missing');
  if (kind === 'missing') throw new AgentLoadError(file, [`no such file (AGENT or the first argument names it, relative to ${cwd})`]);
  if (kind !== 'file') throw new AgentLoadError(file, ['is a directory, not an agent file: name the file, e.g. ./agents/dental.ts']);
  if (extension === '.json') {
    const read = jsonAgentDefinitions(await readFile(file, 'utf8'));
    if ('problems' in read) throw new AgentLoadError(file, read.problems);
    return toAgents(file, read.definitions);
  }
  let loaded;
  try {
    loaded = await importAgentModule(file, packageApi);
  } catch (error) {
    if (error instanceof AgentImportError) throw new AgentLoadError(file, error.problems);
    throw error;
  }
  if ('namedExports' in loaded || loaded.exported === undefined) {
    const named = 'namedExports' in loaded && loaded.namedExports.length > 0 ? ` (it exports ${loaded.namedExports.join(', ')})` : '';
    throw new AgentLoadError(file, [`it has no default export${named}: end it with \`export default defineAgent({...})\` or \`module.exports = defineAgent({...})\` (or an array of agents)`]);
  }
  return toAgents(file, loaded.exported);
}

function toAgents(file: string, exported: unknown): Agent[] {
  const items = Array.isArray(exported) ? exported : [exported];
  if (items.length === 0) throw new AgentLoadError(file, ['its default export is an empty array: export at least one agent']);
  const problems: string[] = [];
  const agents: Agent[] = [];
  for (const item of items) {
    if (isAgent(item)) {
      agents.push(item);
      continue;
    }
    try {
      agents.push(defineAgent(item as AgentDefinition));
    } catch (error) {
      problems.push(...(error instanceof DefinitionError ? error.problems : [(error as Error).message]));
    }
  }
  if (problems.length > 0) throw new AgentLoadError(file, problems);
  return agents;
}

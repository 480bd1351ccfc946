import { readFile } from 'node:fs/promises';
import { register } from 'node:module';
import { extname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { defineTool, DefinitionError, type Tool } from '../tools/tool.js';
import { defineAgent, isAgent, type Agent, type AgentDefinition } from './agent.js';

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

const MODULE_EXTENSIONS = new Set(['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts']);
const TYPESCRIPT_EXTENSIONS = new Set(['.ts', '.mts', '.cts']);

/**
 * Loads the agents named by AGENT: a module (.js, .mjs, .ts) whose default export is an agent or an array of
 * agents (from `defineAgent`, or plain definitions), or a .json file holding one data-only agent or an array of
 * them (instructions, voice, greeting, HTTP tools). A TypeScript file is compiled on the fly (tsx); the module's
 * own imports, `gemini-phone-agent` included, resolve from its own folder's node_modules.
 */
export async function loadAgents(path: string, cwd: string = process.cwd()): Promise<Agent[]> {
  const file = resolve(cwd, path);
  const extension = extname(file).toLowerCase();
  if (extension === '.json') return agentsFromJson(file);
  if (!MODULE_EXTENSIONS.has(extension)) throw new AgentLoadError(file, [`an agent file must end in .ts, .js, .mjs or .json (got "${extension || 'no extension'}")`]);
  let loaded: unknown;
  try {
    resolvePackageToThisCopy();
    loaded = TYPESCRIPT_EXTENSIONS.has(extension) ? await importTypeScript(file) : await import(pathToFileURL(file).href);
  } catch (error) {
    throw new AgentLoadError(file, [describeImportError(error)]);
  }
  const exported = (loaded as { default?: unknown }).default;
  if (exported === undefined) throw new AgentLoadError(file, ['it has no default export: end it with `export default defineAgent({...})` (or an array of agents)']);
  return toAgents(file, exported);
}

let packageHookRegistered = false;

/**
 * An agent file's `import … from 'gemini-phone-agent'` gets the copy of the package that is running: one set of
 * classes and brands for the service and its agents, whether the agent lives in this repository (where the
 * package's own name would otherwise point at a dist/ that may not be built), in a project that installed the
 * package, or next to a global install. A module resolve hook (node:module register, Node 20.6+).
 */
function resolvePackageToThisCopy(): void {
  if (packageHookRegistered) return;
  packageHookRegistered = true;
  const here = fileURLToPath(import.meta.url);
  const entry = new URL(`../index${extname(here)}`, import.meta.url).href; // src/index.ts, or dist/index.js
  const hook = `export async function resolve(specifier, context, next) {
    if (specifier === 'gemini-phone-agent') return { url: ${JSON.stringify(entry)}, shortCircuit: true };
    return next(specifier, context);
  }`;
  register(`data:text/javascript,${encodeURIComponent(hook)}`);
}

async function importTypeScript(file: string): Promise<unknown> {
  const { tsImport } = await import('tsx/esm/api');
  return tsImport(pathToFileURL(file).href, import.meta.url);
}

function describeImportError(error: unknown): string {
  if (error instanceof DefinitionError) return error.problems.join('; ');
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'ERR_MODULE_NOT_FOUND' && /gemini-phone-agent/.test(message)) {
    return `it imports gemini-phone-agent, which is not installed where the file is: run \`npm install gemini-phone-agent\` in its project (${message})`;
  }
  if (code === 'ERR_MODULE_NOT_FOUND' || code === 'ENOENT') return `cannot be loaded: ${message}`;
  return `failed while loading: ${message}`;
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

const JSON_TOOL_FIELDS = new Set(['name', 'description', 'behavior', 'parameters', 'url', 'timeoutMs', 'guidance']);

async function agentsFromJson(file: string): Promise<Agent[]> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new AgentLoadError(file, [(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `is not valid JSON: ${(error as Error).message}`]);
  }
  const items = Array.isArray(data) ? data : [data];
  const problems: string[] = [];
  const definitions: unknown[] = [];
  for (const item of items) {
    if (typeof item !== 'object' || item === null) {
      problems.push('each agent must be a JSON object');
      continue;
    }
    const raw = item as Record<string, unknown>;
    const label = `agent ${typeof raw.name === 'string' ? `"${raw.name}"` : '(unnamed)'}`;
    if (typeof raw.instructions !== 'string') problems.push(`${label}: instructions must be a string in a JSON agent`);
    const tools: Tool[] = [];
    if (raw.tools !== undefined && !Array.isArray(raw.tools)) problems.push(`${label}: tools must be an array`);
    for (const [index, tool] of (Array.isArray(raw.tools) ? raw.tools : []).entries()) {
      const fields = typeof tool === 'object' && tool !== null ? Object.keys(tool) : [];
      const unknown = fields.filter((field) => !JSON_TOOL_FIELDS.has(field));
      if (unknown.length > 0) problems.push(`${label}: tools[${index}] has fields a JSON tool cannot have: ${unknown.join(', ')}`);
      if (typeof tool !== 'object' || tool === null || typeof (tool as { url?: unknown }).url !== 'string') {
        problems.push(`${label}: tools[${index}] must be an HTTP tool with a url (a JSON agent has no code to run a handler)`);
        continue;
      }
      try {
        tools.push(defineTool(tool as Parameters<typeof defineTool>[0]));
      } catch (error) {
        problems.push(...(error instanceof DefinitionError ? error.problems.map((p) => `${label}: ${p}`) : [(error as Error).message]));
      }
    }
    definitions.push({ ...raw, tools });
  }
  if (problems.length > 0) throw new AgentLoadError(file, problems);
  return toAgents(file, definitions);
}

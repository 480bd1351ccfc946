import { dirname } from 'node:path';
import { createJiti, type Jiti } from 'jiti';
import { DefinitionError } from '../tools/tool.js';

/** The package's public API, as agent files import it (`import … from 'gemini-phone-agent'` or `require(…)`). */
export type PackageApi = Readonly<Record<string, unknown>>;

/** Why an agent module could not be imported, worded for the person who wrote it: the cause, then the fix. */
export class AgentImportError extends Error {
  override readonly name = 'AgentImportError';
  constructor(
    readonly problems: readonly string[],
    options: { cause: unknown },
  ) {
    super(problems.join('; '), options);
  }
}

/**
 * Imports an agent module and returns what it exports as the agent: its default export (`export default`), or
 * `module.exports`. Undefined when it has neither, with the names it does export.
 *
 * One loader for every kind of file and project: jiti compiles TypeScript and converts between ES modules and
 * CommonJS as needed, so `export default defineAgent(…)` in a `.ts` file loads the same in an `npm init -y`
 * project (`"type": "commonjs"`) as in `"type": "module"` (Node itself would load the compiled file as CommonJS
 * and hand back `{ default: { default: agent } }`), and `.cts`/`.cjs` may use either syntax. Its imports of
 * `gemini-phone-agent` get the running copy of the package: one set of classes for the service and its agents,
 * whether the file lives in this repository (where `dist/` may not be built), in a project that installed the
 * package, or next to a global install. jiti has no install script (tsx's esbuild has one, which npm asks every
 * project installing this package to review).
 */
export async function importAgentModule(file: string, packageApi: PackageApi): Promise<{ exported: unknown } | { namedExports: string[] }> {
  let loaded: unknown;
  try {
    loaded = await loaderFor(packageApi).import(file);
  } catch (error) {
    // A mistake in a defineAgent/defineTool call at the top of the file: every problem, as at start-up.
    throw new AgentImportError(error instanceof DefinitionError ? error.problems : [describeImportError(error, file)], { cause: error });
  }
  return agentExport(loaded);
}

let loader: { jiti: Jiti; packageApi: PackageApi } | undefined;

function loaderFor(packageApi: PackageApi): Jiti {
  if (loader?.packageApi !== packageApi) {
    // fsCache off: nothing is written into the user's node_modules; compiling one agent file takes milliseconds.
    loader = { packageApi, jiti: createJiti(import.meta.url, { virtualModules: { 'gemini-phone-agent': packageApi }, fsCache: false }) };
  }
  return loader.jiti;
}

/**
 * jiti hands back a namespace-like view: an ES module's exports with `default` when it has one; a CommonJS
 * module's `module.exports` (`default` included when it sets `exports.default`). A default that is itself
 * `{ default: … }` (CommonJS compiled from `export default` and read as ES module) is unwrapped.
 */
function agentExport(loaded: unknown): { exported: unknown } | { namedExports: string[] } {
  if (typeof loaded !== 'object' || loaded === null) return { exported: loaded };
  const own = (value: object, key: string): boolean => Object.prototype.hasOwnProperty.call(value, key);
  if (own(loaded, 'default')) {
    let exported = (loaded as { default: unknown }).default;
    while (isDefaultWrapper(exported)) exported = exported.default;
    return { exported };
  }
  // An ES module without a default export; anything else is CommonJS's module.exports itself.
  if (own(loaded, '__esModule')) return { namedExports: Object.keys(loaded).filter((key) => key !== '__esModule') };
  return { exported: loaded };
}

function isDefaultWrapper(value: unknown): value is { default: unknown } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value).filter((key) => key !== '__esModule');
  return keys.length === 1 && keys[0] === 'default';
}

/** The cause of a failed import, without the loader's internals (its own files, the require stack). */
function describeImportError(error: unknown, file: string): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown }).code;
  const parse = /^(?:ParseError: )?([\s\S]*?)\s*\n\s*(\/\S+|[A-Za-z]:\\\S+):(\d+):(\d+)\s*$/.exec(message);
  if (parse !== null) {
    const [, problem, where, line, column] = parse as unknown as [string, string, string, string, string];
    const inFile = where === file ? '' : ` in ${where}`;
    return `has a syntax error${inFile} at line ${line}, column ${Number(column) + 1}: ${problem.trim()}`;
  }
  if (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') {
    const missing = /Cannot find (?:module|package) '([^']+)'/.exec(message)?.[1] ?? message.split('\n')[0];
    const importer = /Require stack:\n- (\S+)/.exec(message)?.[1] ?? file;
    const by = importer === file ? 'it imports' : `${importer} imports`;
    if (missing?.startsWith('.') || missing?.startsWith('/')) return `${by} ${missing}, which does not exist: create that file, or fix the import's path (relative to ${dirname(importer)})`;
    return `${by} the package ${missing}, which is not installed: run \`npm install ${packageName(missing ?? '')}\` in the agent's project`;
  }
  return `failed while loading: ${message.split('\n')[0]}`;
}

/** `@scope/name/sub/path` → `@scope/name`; `name/sub` → `name`. */
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

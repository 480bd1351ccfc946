import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The folder layout under src/ is the architecture: each folder imports only from the folders docs/architecture.md
 * says it depends on, and no two folders import each other, directly or round a longer loop. This test reads the
 * imports of every source file and holds the code and that page to each other.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SRC = join(ROOT, 'src');
const IMPORT_PATTERN = /(?:import|export)\s[^'"]*?from\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;

/** The folder a file belongs to (`call`), or the file itself for files at the top of src/ (`index.ts`). */
function unitOf(file: string): string {
  return relative(SRC, file).split(sep)[0]!;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|mts|js|mjs)$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Folder → the folders it imports from, each with one import that shows it. */
function folderImports(): Map<string, Map<string, string>> {
  const edges = new Map<string, Map<string, string>>();
  for (const file of sourceFiles(SRC)) {
    for (const match of readFileSync(file, 'utf8').matchAll(IMPORT_PATTERN)) {
      const specifier = (match[1] ?? match[2])!;
      const target = resolve(dirname(file), specifier).replace(/\.js$/, '.ts');
      if (!target.startsWith(SRC + sep)) continue;
      const from = unitOf(file);
      const to = unitOf(target);
      if (from === to) continue;
      if (!edges.has(from)) edges.set(from, new Map());
      const example = edges.get(from)!;
      if (!example.has(to)) example.set(to, `${relative(SRC, file)} imports ${specifier}`);
    }
  }
  return edges;
}

/** The "Depends on" column of docs/architecture.md's folder table: `src/<folder>/` → its folders. */
function documentedDependencies(): Map<string, Set<string>> {
  const page = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8');
  const table = new Map<string, Set<string>>();
  for (const line of page.split('\n')) {
    const row = /^\| `src\/([a-z-]+)\/` \|.*\| ([^|]*) \|$/.exec(line);
    if (row === null) continue;
    const cell = row[2]!.trim();
    const folders = cell === 'nothing' ? [] : cell.split(',').map((name) => name.trim());
    table.set(row[1]!, new Set(folders));
  }
  return table;
}

/** Every loop of folders importing each other (Tarjan's strongly connected components of more than one folder). */
function folderCycles(edges: Map<string, Map<string, string>>): string[][] {
  const nodes = new Set([...edges.keys(), ...[...edges.values()].flatMap((targets) => [...targets.keys()])]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let next = 0;
  const visit = (node: string): void => {
    index.set(node, next);
    low.set(node, next++);
    stack.push(node);
    onStack.add(node);
    for (const target of edges.get(node)?.keys() ?? []) {
      if (!index.has(target)) {
        visit(target);
        low.set(node, Math.min(low.get(node)!, low.get(target)!));
      } else if (onStack.has(target)) {
        low.set(node, Math.min(low.get(node)!, index.get(target)!));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1) cycles.push(component);
  };
  for (const node of nodes) if (!index.has(node)) visit(node);
  return cycles;
}

describe('the folder layout under src/', () => {
  const edges = folderImports();

  it('has no folders importing each other, directly or round a loop', () => {
    const described = folderCycles(edges).map((cycle) =>
      [cycle.join(' <-> '), ...cycle.flatMap((from) => [...(edges.get(from) ?? [])].filter(([to]) => cycle.includes(to)).map(([, why]) => `  ${why}`))].join('\n'),
    );
    expect(described).toEqual([]);
  });

  it('imports only what docs/architecture.md says each folder depends on, and the page names every folder', () => {
    const documented = documentedDependencies();
    const folders = readdirSync(SRC, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
    const undocumented = folders.filter((folder) => !documented.has(folder)).map((folder) => `src/${folder}/ has no row in docs/architecture.md's folder table`);
    // src/service/ and src/replay/ put everything together; the page says so in words ("all of the above").
    const composers = new Set([...documented].filter(([, deps]) => [...deps].some((dep) => dep.includes('all') || dep.includes('the rest'))).map(([folder]) => folder));
    const unexpected = [...edges]
      .filter(([from]) => documented.has(from) && !composers.has(from))
      .flatMap(([from, targets]) =>
        [...targets]
          .filter(([to]) => to.endsWith('.ts') === false && !documented.get(from)!.has(to))
          .map(([to, why]) => `src/${from}/ depends on ${to}, which docs/architecture.md does not list (${why})`),
      );
    expect([...undocumented, ...unexpected]).toEqual([]);
  });
});

#!/usr/bin/env node
// Writes a package.json and package-lock.json for the example agent's own dependencies (its database drivers) into
// the directory given, at exactly the versions this repository's package-lock.json pins, with their whole
// dependency tree. They are devDependencies of the package (a user installing gemini-phone-agent never gets them);
// the container image installs them apart from the service's production dependencies (Dockerfile):
//
//   node scripts/example-dependencies.mjs /deps && npm ci --prefix /deps
//
// The list is read from the example's own imports, so it cannot drift from what the example uses. Plain JavaScript:
// it runs in the image's build stage with nothing but Node.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const EXAMPLES = join(ROOT, 'examples');
const SELF = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const LOCK = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));

/** The packages the example's files import at run time (type-only imports and Node's own modules aside). */
export function exampleImports(dir = EXAMPLES) {
  const names = new Set();
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !/\.(ts|mts|js|mjs)$/.test(entry.name) || entry.parentPath.includes('node_modules')) continue;
    const text = readFileSync(join(entry.parentPath, entry.name), 'utf8');
    for (const [, typeOnly, spec] of text.matchAll(/^import\s+(type\s+)?[^'"]*?from\s+['"]([^'"]+)['"]/gm)) {
      if (typeOnly !== undefined || spec.startsWith('.') || spec.startsWith('node:') || builtinModules.includes(spec)) continue;
      const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
      if (name !== SELF.name) names.add(name);
    }
  }
  return [...names].sort();
}

/** Where npm installed `name` for the package at `from` (a lock path): its own node_modules first, then upwards. */
function installPath(from, name) {
  for (let base = from; ; base = base.slice(0, Math.max(0, base.lastIndexOf('/node_modules/')))) {
    const candidate = base === '' ? `node_modules/${name}` : `${base}/node_modules/${name}`;
    if (LOCK.packages[candidate] !== undefined) return candidate;
    if (base === '') throw new Error(`package-lock.json has no ${name} (needed by ${from || 'the example'}): run npm install`);
  }
}

/** The lock entries of `names` and everything they depend on, as installed for this repository. */
export function lockedTree(names) {
  const tree = new Map();
  const visit = (path) => {
    if (tree.has(path)) return;
    const entry = LOCK.packages[path];
    tree.set(path, entry);
    const needs = { ...entry.dependencies, ...entry.optionalDependencies, ...entry.peerDependencies };
    for (const dependency of Object.keys(needs)) {
      if (entry.peerDependenciesMeta?.[dependency]?.optional === true) continue;
      try {
        visit(installPath(path, dependency));
      } catch (error) {
        if (entry.optionalDependencies?.[dependency] === undefined) throw error; // an optional one may be absent
      }
    }
  };
  for (const name of names) visit(installPath('', name));
  return tree;
}

export function writeExampleProject(dir) {
  const names = exampleImports();
  const tree = lockedTree(names);
  const dependencies = Object.fromEntries(names.map((name) => [name, LOCK.packages[`node_modules/${name}`].version]));
  const withScripts = [...tree].filter(([, entry]) => entry.hasInstallScript === true).map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 13));
  const allowScripts = Object.fromEntries(withScripts.filter((name) => SELF.allowScripts?.[name] === true).map((name) => [name, true]));
  const manifest = { name: 'gemini-phone-agent-example-dependencies', private: true, dependencies, allowScripts };
  const packages = { '': { name: manifest.name, dependencies } };
  for (const [path, entry] of [...tree].sort(([a], [b]) => a.localeCompare(b))) {
    // Dev dependencies of the package, but the example's own here: no flag may leave them out of its install.
    const { dev: _dev, devOptional: _devOptional, peer: _peer, ...kept } = entry;
    packages[path] = kept;
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  writeFileSync(join(dir, 'package-lock.json'), `${JSON.stringify({ name: manifest.name, lockfileVersion: 3, requires: true, packages }, null, 2)}\n`);
  return { dependencies, packages: tree.size };
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const dir = process.argv[2];
  if (dir === undefined) {
    process.stderr.write('usage: node scripts/example-dependencies.mjs <directory>\n');
    process.exit(2);
  }
  const { dependencies, packages } = writeExampleProject(resolve(dir));
  process.stdout.write(`${Object.entries(dependencies).map(([name, version]) => `${name}@${version}`).join(' ')} (${packages} packages) -> ${dir}\n`);
}

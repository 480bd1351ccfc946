import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { allowScripts?: Record<string, boolean> };
const lock = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8')) as {
  packages: Record<string, { hasInstallScript?: boolean; optional?: boolean }>;
};

/**
 * npm 11 runs a dependency's install scripts only when package.json's allowScripts covers it (and warns, or with
 * strict-allow-scripts fails, otherwise); a `false` entry skips the script. better-sqlite3 needs its script to
 * build its binary. onnxruntime-node's downloads CUDA libraries from outside the npm registry (it fails without
 * that network); its CPU runtime is already in the package, so its script is denied.
 */
describe('allowScripts', () => {
  it('decides every locked dependency that has an install script, by name (so version bumps keep building)', () => {
    const withScripts = Object.entries(lock.packages)
      .filter(([path, entry]) => path !== '' && entry.hasInstallScript === true)
      .map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length));
    expect(withScripts).toContain('better-sqlite3');
    for (const name of new Set(withScripts)) expect(typeof pkg.allowScripts?.[name], `${name} has an install script`).toBe('boolean');
    expect(pkg.allowScripts?.['better-sqlite3']).toBe(true);
    expect(pkg.allowScripts?.['onnxruntime-node']).toBe(false);
  });

  it('names only packages that are in the lockfile with a script', () => {
    const locked = new Set(Object.entries(lock.packages).filter(([, entry]) => entry.hasInstallScript === true).map(([path]) => path.replace(/^.*node_modules\//, '')));
    for (const name of Object.keys(pkg.allowScripts ?? {})) expect(locked.has(name), `${name} in allowScripts`).toBe(true);
  });
});

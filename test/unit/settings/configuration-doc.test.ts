import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SETTING_PATHS, SETTINGS, type SettingPath, type SettingSpec } from '../../../src/settings/setting-table.js';

const DOC = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');

/** The rows of the tables under "## Settings": variable, option, default, meaning. */
function settingRows(): string[][] {
  const section = DOC.slice(DOC.indexOf('\n## Settings\n'), DOC.indexOf('\n## ', DOC.indexOf('\n## Settings\n') + 1));
  return section
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => line.split('|').slice(1, -1).map((cell) => cell.trim()));
}

describe('docs/configuration.md', () => {
  it('lists every setting once, with its variable, its option path and its default', () => {
    const rows = settingRows();
    for (const path of SETTING_PATHS) {
      const spec: SettingSpec<unknown> = SETTINGS[path];
      const matching = rows.filter((row) => row[1] === `\`${path}\``);
      expect(matching, `one row for ${path}`).toHaveLength(1);
      const [variable, , defaultText] = matching[0]!;
      expect(variable, `${path}'s variable`).toContain(`\`${spec.env}\``);
      if (spec.default !== undefined && typeof spec.default !== 'function') expect(defaultText, `${path}'s default`).toContain(`\`${String(spec.default)}\``);
    }
  });

  it('lists nothing that is not a setting in the settings tables', () => {
    const paths = new Set<string>(SETTING_PATHS);
    for (const row of settingRows()) expect(paths.has((row[1] ?? '').replaceAll('`', '') as SettingPath), `row ${row.join(' | ')}`).toBe(true);
  });
});

import type { SettingValues } from './environment.js';
import type { PhoneAgentSettings } from './phone-agent-settings.js';
import { SETTING_PATHS, type SettingPath } from './setting-table.js';

const PATHS: ReadonlySet<string> = new Set(SETTING_PATHS);
/** `limits`, `gemini`, `gemini.vertexAI`, …: every prefix of a setting's path. */
const GROUPS: ReadonlySet<string> = new Set(
  SETTING_PATHS.flatMap((path) => {
    const parts = path.split('.');
    return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('.'));
  }),
);

/**
 * Settings from code, flattened to their option paths, as they are: checking them is the next step, shared with
 * the environment. A key that is no setting (a typo the compiler did not see, from JavaScript or a spread object)
 * is a problem rather than silently nothing.
 */
export function valuesFromSettings(settings: PhoneAgentSettings, problems: string[]): SettingValues {
  const values: SettingValues = {};
  const walk = (group: object, prefix: string): void => {
    for (const [key, value] of Object.entries(group)) {
      const path = `${prefix}${key}`;
      if (value === undefined) continue;
      if (PATHS.has(path)) {
        values[path as SettingPath] = value;
      } else if (!GROUPS.has(path)) {
        problems.push(`${path} is not a setting (docs/configuration.md lists them all)`);
      } else if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        problems.push(`${path} must be an object of settings (got ${Array.isArray(value) ? 'an array' : JSON.stringify(value)})`);
      } else {
        if (path === 'gemini.vertexAI') values['gemini.vertexAI'] = true;
        walk(value, `${path}.`);
      }
    }
  };
  walk(settings, '');
  return values;
}

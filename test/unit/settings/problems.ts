import { ConfigError, resolveConfig, type SettingSources } from '../../../src/settings/resolve-config.js';

/** The problems the one validation step names for these sources (none: they are valid). */
export function problemsOf(sources: SettingSources): string[] {
  try {
    resolveConfig(sources);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

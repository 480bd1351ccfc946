import { existsSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../../src/settings/resolve-config.js';
import { loadTwilioCommandConfig, type TwilioCommandConfig } from '../../src/settings/twilio-commands.js';

export type Env = Record<string, string | undefined>;

/** Where a command writes: the terminal, or a test's buffer. */
export interface CommandOutput {
  out(line: string): void;
  err(line: string): void;
}

export const terminal: CommandOutput = {
  out: (line) => void process.stdout.write(`${line}\n`),
  err: (line) => void process.stderr.write(`${line}\n`),
};

/** The project's .env, as the server reads it: variables already in the environment win. */
export function loadDotEnv(path = '.env'): void {
  if (existsSync(path)) process.loadEnvFile(path);
}

/** True when the module was started as the program (`tsx scripts/x.ts`), not imported (by a test). */
export function isMainModule(importMetaUrl: string): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return pathToFileURL(realpathSync(entry)).href === importMetaUrl;
  } catch {
    return false;
  }
}

/** Runs a command's main function and exits with its code; an unexpected error is printed, not thrown. */
export function runCommand(main: () => Promise<number>): void {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      terminal.err(`Unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      process.exitCode = 1;
    },
  );
}

/**
 * The Twilio settings a command needs, or undefined after telling the user every one that is
 * missing or wrong and where to set them.
 */
export function loadTwilioSettingsOrReport(env: Env, output: CommandOutput): TwilioCommandConfig | undefined {
  try {
    return loadTwilioCommandConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    output.err(`${error.message}\n\nSet them in .env (see .env.example and docs/twilio.md).`);
    return undefined;
  }
}

#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { agentFileFor } from './agents/example-agent.js';
import { AgentLoadError, loadAgents } from './index.js';
import { StartupError, startPhoneAgent } from './service/phone-agent.js';
import { ConfigError, loadConfig } from './settings/resolve-config.js';

/**
 * The `gemini-phone-agent` command (and `npm start`): loads the agent named by AGENT (or the first argument),
 * then runs the service, configured by the environment (docs/configuration.md). Outside production, without AGENT,
 * it runs the example agent of this repository. `gemini-phone-agent doctor` checks the setup instead
 * (docs/troubleshooting.md).
 */

// A local .env is the usual way to configure a dev machine; the real environment wins over it.
if (existsSync('.env')) process.loadEnvFile('.env');

// `gemini-phone-agent doctor [agent file]`: checks the setup instead of running it (src/doctor).
if (process.argv[2] === 'doctor') {
  const { runDoctorCommand } = await import('./doctor/cli.js');
  process.exit(await runDoctorCommand(process.argv.slice(3), process.env));
}

function settingsProblems(): readonly string[] {
  try {
    loadConfig(process.env);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

function fail(lines: string): never {
  process.stderr.write(`${lines}\n\nSee docs/configuration.md for every setting and docs/agents.md for agents.\n`);
  process.exit(1);
}

const agentPath = agentFileFor(process.argv[2], process.env);
if (agentPath === undefined) {
  // Every problem at once: the settings are checked too, before the agent they would run.
  fail(new StartupError(['AGENT is not set: name your agent file, e.g. AGENT=./agents/dental.ts (or give it as the first argument)', ...settingsProblems()]).message);
}

let agents;
try {
  agents = await loadAgents(agentPath);
} catch (error) {
  if (error instanceof AgentLoadError) fail(`The phone agent cannot start: the agent file cannot be used.\n  - ${error.problems.map((p) => `${error.file}: ${p}`).join('\n  - ')}`);
  throw error;
}

// A closed stdout or stderr (whoever read them went away) must cost the output, never the process: unhandled,
// each failed write is an uncaught exception whose report fails the same way, and the process spins for ever.
for (const output of [process.stdout, process.stderr]) output.on('error', () => undefined);

// Last line of defence: one call's bug must never take the other calls down with the process.
let reporting = false;
const report = (what: string, detail: unknown): void => {
  if (reporting || !process.stderr.writable) return; // a report that fails must not report itself
  reporting = true;
  try {
    process.stderr.write(`${what}: ${String((detail as Error)?.stack ?? detail)}\n`);
  } finally {
    reporting = false;
  }
};
process.on('unhandledRejection', (reason) => report('unhandled promise rejection', reason));
process.on('uncaughtException', (error) => report('uncaught exception', error));

try {
  await startPhoneAgent({ agents, env: process.env });
} catch (error) {
  if (error instanceof StartupError) fail(error.message);
  fail(`The phone agent cannot start:\n  - ${(error as Error).stack ?? String(error)}`);
}

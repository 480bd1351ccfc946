/**
 * `npm run test:live [-- --out report.json] [--call +15551234567]`: checks that the real Gemini Live service still
 * behaves the way this project's code relies on, with your keys: every agent's setup, then a scripted conversation with
 * recorded caller audio (scripts/lib/live-conformance.ts). Prints the table and writes it as JSON to attach to a bug
 * report. Opt-in and never in CI: it costs a few cents. With --call, the running service then calls that number too
 * (as npm run call does), so you can hear a real call end to end.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { AgentDirectory } from '../src/agents/agent-directory.js';
import { agentFileFor } from '../src/agents/example-agent.js';
import { AgentLoadError, loadAgents } from '../src/index.js';
import { ConfigError, loadConfig } from '../src/settings/resolve-config.js';
import { createModel } from '../src/service/model.js';
import type { CreateGenAIOptions } from '../src/model/gemini/gemini-auth.js';
import { DefinitionError } from '../src/tools/tool.js';
import { callCommand } from './call.js';
import { formatConformanceTable, runLiveConformance } from './lib/live-conformance.js';
import { isMainModule, loadDotEnv, runCommand, terminal, type CommandOutput, type Env } from './lib/cli.js';

const USAGE = 'Usage: npm run test:live -- [--agent-file <file>] [--out <report.json>] [--call +15551234567]';
const FIXTURES = fileURLToPath(new URL('../fixtures/calls', import.meta.url));
const QUIET = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

export interface TestLiveSeams {
  /** Vertex AI: google-auth-library options (tests: a local token endpoint). */
  googleAuthOptions?: CreateGenAIOptions['googleAuthOptions'];
}

export async function testLiveCommand(args: string[], env: Env, output: CommandOutput, seams: TestLiveSeams = {}): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { 'agent-file': { type: 'string' }, out: { type: 'string' }, call: { type: 'string' }, 'audio-speed': { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  } catch (error) {
    output.err(`${(error as Error).message}\n${USAGE}`);
    return 1;
  }
  if (parsed.values.help === true) {
    output.out(`${USAGE}\n  Talks to the real Gemini Live service with your keys (a few cents). --audio-speed N sends the recorded audio N times faster (local servers only).`);
    return 0;
  }
  let config;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    output.err(error.message);
    return 1;
  }
  if (config.gemini.auth === undefined) {
    output.err('✖ npm run test:live talks to the real Gemini Live service: set GEMINI_API_KEY (or Vertex AI, docs/vertex-ai.md).');
    return 1;
  }
  const agentPath = agentFileFor(parsed.values['agent-file'], env);
  if (agentPath === undefined) {
    output.err('✖ AGENT is not set: name your agent file (AGENT=… or --agent-file).');
    return 1;
  }
  const { auth, apiVersion, setupTimeoutMs, baseUrl } = config.gemini;
  let agents;
  try {
    const { model } = createModel(config, undefined);
    agents = new AgentDirectory(await loadAgents(agentPath), { transferNumber: config.tools.transferNumber, toolWebhookSecret: config.tools.webhookSecret, model }).all;
  } catch (error) {
    if (error instanceof AgentLoadError || error instanceof DefinitionError) {
      output.err(`✖ The agents cannot be used: ${error.message} (npm run doctor says more)`);
      return 1;
    }
    throw error;
  }

  output.out('Talking to Gemini Live with the recorded calls (about a minute; a few cents) …');
  const report = await runLiveConformance({
    auth,
    apiVersion,
    setupTimeoutMs,
    ...(baseUrl === undefined ? {} : { baseUrl }),
    agents,
    fixturesDir: FIXTURES,
    audioSpeed: Number(parsed.values['audio-speed'] ?? '1'),
    log: QUIET,
    ...(seams.googleAuthOptions === undefined ? {} : { googleAuthOptions: seams.googleAuthOptions }),
  });
  for (const line of formatConformanceTable(report)) output.out(line);
  const file = parsed.values.out ?? `live-conformance-${report.date.replace(/[:.]/g, '-')}.json`;
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  output.out(`Written to ${file}: attach it to a bug report (it holds no key, only the test conversation).`);
  const different = report.behaviours.filter((behaviour) => behaviour.result === 'different').length;
  if (different > 0) output.err(`✖ ${different} behaviour(s) differ from what the code relies on: see docs/real-service-behaviour.md and docs/troubleshooting.md.`);

  const call = parsed.values.call === undefined ? 0 : await callCommand([parsed.values.call], env, output);
  return different > 0 || call !== 0 ? 1 : 0;
}

if (isMainModule(import.meta.url)) {
  loadDotEnv();
  runCommand(() => testLiveCommand(process.argv.slice(2), process.env, terminal));
}

import type { CallAgent } from '../agents/agent-directory.js';
import { callDetails } from '../domain/call-details.js';
import type { ModelFeatures } from '../model/realtime-model.js';
import { describeGeminiAuth } from '../model/gemini/gemini-auth.js';
import { probeLiveSetup, type SetupProbeOptions } from '../model/gemini/setup-probe.js';
import { fail, pass, skip, type CheckResult } from './check.js';

/** How the sessions are opened: the same options as the probe (GEMINI_API_VERSION as `apiVersion`, if set). */
export type GeminiCheckOptions = SetupProbeOptions;

/** The call an agent's settings are written for in the doctor: inbound, to the agent's number, from nobody real. */
const DOCTOR_CALL_SID = `CA${'0'.repeat(32)}`;
const DOCTOR_CALLER = '+15005550006'; // Twilio's documented test "from" number

/**
 * Gemini as the calls will use it: the credentials, then per agent one session with the agent's exact settings
 * (model, voice, instructions, tools, features, API version), set up and closed at once. Each session costs a setup's
 * worth of tokens at most: a fraction of a cent.
 */
export async function checkGemini(options: GeminiCheckOptions, agents: readonly CallAgent[]): Promise<CheckResult[]> {
  const credentials = options.auth.kind === 'vertex' ? 'Vertex AI credentials' : 'Gemini API key';
  const refused = options.auth.kind === 'vertex' ? 'Vertex AI refused the credentials' : 'Gemini refused the API key';
  const results: CheckResult[] = [];
  let credentialsChecked = false;
  for (const agent of agents) {
    const name = `Gemini Live for agent "${agent.agent.name}"`;
    if (results.some((result) => result.name === credentials && result.status === 'fail')) {
      results.push(skip(name, refused));
      continue;
    }
    let settings;
    try {
      const call = callDetails({ callSid: DOCTOR_CALL_SID, from: DOCTOR_CALLER, to: agent.agent.phoneNumbers[0] ?? DOCTOR_CALLER, direction: 'inbound' }, agent.agent.name);
      settings = await agent.conversationSettings(call);
    } catch (error) {
      results.push(fail(name, `its instructions could not be written for a call (${(error as Error).message})`));
      continue;
    }
    const probe = await probeLiveSetup(options, settings);
    if (!credentialsChecked) {
      credentialsChecked = true;
      if (!probe.ok && probe.credentials) {
        results.push(fail(credentials, probe.message));
        results.push(skip(name, refused));
        continue;
      }
      results.push(pass(credentials, `${describeGeminiAuth(options.auth)}: accepted`));
    }
    const where = `model ${settings.model} (API version ${probe.apiVersion ?? 'the SDK default'})`;
    results.push(
      probe.ok
        ? pass(name, `${where} set up in ${probe.setupMs} ms with ${describeSetup(settings.features, settings.tools.length)}; one short session, closed at once (may cost a fraction of a cent)`)
        : fail(name, `${where} refused the setup: ${probe.message}`),
    );
  }
  return results;
}

function describeSetup(features: ModelFeatures, tools: number): string {
  const parts = [
    ...(features.affectiveDialog === undefined ? [] : [`affective dialog ${features.affectiveDialog ? 'on' : 'off'}`]),
    ...(features.proactiveAudio === undefined ? [] : [`proactive audio ${features.proactiveAudio ? 'on' : 'off'}`]),
    ...(features.thinking === undefined ? [] : ['level' in features.thinking ? `thinking ${features.thinking.level}` : `thinking budget ${features.thinking.budget}`]),
    ...(features.temperature === undefined ? [] : [`temperature ${features.temperature}`]),
  ];
  return `${parts.length === 0 ? "the model's defaults" : parts.join(', ')} and ${tools} tool${tools === 1 ? '' : 's'}`;
}

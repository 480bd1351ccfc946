import { agentFileFor } from '../agents/example-agent.js';
import { formatCheck } from './check.js';
import { runDoctor, type DoctorOptions } from './doctor.js';

export interface DoctorCommandOptions extends Pick<DoctorOptions, 'publicUrlFromHere' | 'googleAuthOptions'> {
  out?: (line: string) => void;
}

/**
 * `npm run doctor` and `gemini-phone-agent doctor [agent file]`: one line per check, ✓ or ✗ with what to change,
 * and exit status 1 when something would make calls fail.
 */
export async function runDoctorCommand(args: readonly string[], env: Record<string, string | undefined>, options: DoctorCommandOptions = {}): Promise<number> {
  const { out = (line: string) => void process.stdout.write(`${line}\n`), ...seams } = options;
  out('gemini-phone-agent doctor (Gemini: one short session per agent, closed at once; may cost a fraction of a cent)');
  const report = await runDoctor({ env, agentPath: agentFileFor(args[0], env), onCheck: (check) => out(formatCheck(check)), ...seams });
  out(report.ok ? 'Nothing found that would make calls fail.' : 'Something above would make calls fail: change what the ✗ lines say, then run the doctor again.');
  return report.ok ? 0 : 1;
}

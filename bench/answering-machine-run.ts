/**
 * Who answered an outbound call (bench/answering-machine.ts; `npm run bench` runs it too), without redoing the
 * others: offline, on the corpus's own clock, in a second or two.
 *
 *   npx tsx bench/answering-machine-run.ts            sets `answeringMachine` in bench/results.json
 *   npx tsx bench/answering-machine-run.ts --smoke    one scene of each kind; prints the table, writes nothing
 *   npx tsx bench/answering-machine-run.ts --scenes   also prints every scene's outcome
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { measureAnsweringMachine } from './answering-machine.js';
import { answeringMachineSection } from './answering-machine-report.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({ options: { smoke: { type: 'boolean', default: process.env.BENCH_SMOKE === '1' }, scenes: { type: 'boolean', default: false } } });
const smoke = values.smoke === true;
const result = measureAnsweringMachine({ smoke });
process.stdout.write(`${answeringMachineSection(result).join('\n')}\n`);
if (values.scenes === true) {
  for (const o of result.outcomes) {
    const actions = o.actions.map((a) => `${a.action}@${a.atMs}`).join(' ');
    const verdict = o.verdict === undefined ? '' : `${o.verdict.answeredBy} by ${o.verdict.decidedBy}`;
    process.stdout.write(`${o.detector.padEnd(16)} ${o.scene.padEnd(18)} ${o.correct ? 'right' : 'WRONG'} ${actions} ${verdict} ${o.note ?? ''}\n`);
  }
}
const out = join(HERE, 'results.json');
if (!smoke && existsSync(out)) {
  const results = JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>;
  results.answeringMachine = result;
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`\nResults: ${out}\n`);
}

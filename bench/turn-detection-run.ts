/**
 * The turn-detection benchmarks alone (bench/turn-detection.ts over the corpus, then bench/turn-taking-e2e.ts: the
 * corpus as calls through the real server; `npm run bench` runs both too), without redoing the others:
 *
 *   npx tsx bench/turn-detection-run.ts                  full run (about 5 minutes); sets `turnDetection` and
 *                                                        `turnTakingEndToEnd` in bench/results.json
 *   npx tsx bench/turn-detection-run.ts --offline        the corpus offline only (under a minute)
 *   npx tsx bench/turn-detection-run.ts --smoke          a few scenes, seconds; prints the tables, writes nothing
 *   npx tsx bench/turn-detection-run.ts --model FILE     another Silero v5/v6 ONNX file, offline (prints, writes nothing)
 *   npx tsx bench/turn-detection-run.ts --out FILE
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Patience, waitForQuietMachine } from './machine.js';
import { checkTargets, type BenchResults } from './report.js';
import { FULL_TURN_DETECTION_OPTIONS, SMOKE_TURN_DETECTION_OPTIONS, measureTurnDetection } from './turn-detection.js';
import { turnDetectionSection, turnDetectionTargets, turnTakingEndToEndSection, turnTakingEndToEndTargets } from './turn-detection-report.js';
import { FULL_TURN_TAKING_E2E_OPTIONS, SMOKE_TURN_TAKING_E2E_OPTIONS, measureTurnTakingEndToEnd, type TurnTakingE2eResult } from './turn-taking-e2e.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: { smoke: { type: 'boolean', default: process.env.BENCH_SMOKE === '1' }, out: { type: 'string' }, model: { type: 'string' }, offline: { type: 'boolean', default: false } },
});
const smoke = values.smoke === true;
const out = values.out ?? (smoke || values.model !== undefined ? undefined : join(HERE, 'results.json'));
const options = { ...(smoke ? SMOKE_TURN_DETECTION_OPTIONS : FULL_TURN_DETECTION_OPTIONS), ...(values.model === undefined ? {} : { modelPath: values.model }) };

// CPU figures taken while other processes compete for the cores mean little: wait (2 minutes at most) for quiet.
const patience = new Patience(120_000);
const waitForQuiet = async (): Promise<void> => {
  if (!smoke) await waitForQuietMachine(patience, 0.3, (busy) => process.stderr.write(`waiting for a quiet machine (other processes use ${busy.toFixed(2)} cores)\n`));
};
const progress = (line: string): void => void process.stderr.write(`${line}\n`);
await waitForQuiet();
const turnDetection = await measureTurnDetection(options, smoke ? 'smoke' : 'full', progress);
let endToEnd: TurnTakingE2eResult | undefined;
if (values.offline !== true && values.model === undefined) {
  await waitForQuiet();
  endToEnd = await measureTurnTakingEndToEnd(smoke ? SMOKE_TURN_TAKING_E2E_OPTIONS : FULL_TURN_TAKING_E2E_OPTIONS, smoke ? 'smoke' : 'full', progress);
}
process.stdout.write(`${turnDetectionSection(turnDetection).join('\n')}\n`);
if (endToEnd !== undefined) process.stdout.write(`\n${turnTakingEndToEndSection(endToEnd).join('\n')}\n`);
process.stdout.write('\nTargets:\n');
for (const t of [...turnDetectionTargets(turnDetection), ...turnTakingEndToEndTargets(endToEnd)]) {
  if (t.met !== null) process.stdout.write(`  ${t.name}: ${t.value} (target ${t.target}) ${t.met ? 'met' : 'NOT met'}\n`);
}
if (out === undefined) process.stdout.write('\n(nothing written)\n');
else {
  const results = (existsSync(out) ? JSON.parse(readFileSync(out, 'utf8')) : {}) as BenchResults;
  results.turnDetection = turnDetection;
  if (endToEnd !== undefined) results.turnTakingEndToEnd = endToEnd;
  if (results.audioCost !== undefined) results.targets = checkTargets(results.audioCost, results.audioQuality, results.endToEnd, turnDetection, results.turnTakingEndToEnd);
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`\nResults: ${out}\n`);
}

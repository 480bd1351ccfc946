/**
 * The turn-detection benchmark alone (bench/turn-detection.ts; `npm run bench` runs it too), without redoing the
 * others:
 *
 *   npx tsx bench/turn-detection-run.ts                  full run (under a minute); sets `turnDetection` in bench/results.json
 *   npx tsx bench/turn-detection-run.ts --smoke          a few scenes, seconds; prints the tables, writes nothing
 *   npx tsx bench/turn-detection-run.ts --model FILE     another Silero v5/v6 ONNX file (prints, writes nothing)
 *   npx tsx bench/turn-detection-run.ts --out FILE
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Patience, waitForQuietMachine } from './machine.js';
import { checkTargets, type BenchResults } from './report.js';
import { FULL_TURN_DETECTION_OPTIONS, SMOKE_TURN_DETECTION_OPTIONS, measureTurnDetection } from './turn-detection.js';
import { turnDetectionSection, turnDetectionTargets } from './turn-detection-report.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: { smoke: { type: 'boolean', default: process.env.BENCH_SMOKE === '1' }, out: { type: 'string' }, model: { type: 'string' } },
});
const smoke = values.smoke === true;
const out = values.out ?? (smoke || values.model !== undefined ? undefined : join(HERE, 'results.json'));
const options = { ...(smoke ? SMOKE_TURN_DETECTION_OPTIONS : FULL_TURN_DETECTION_OPTIONS), ...(values.model === undefined ? {} : { modelPath: values.model }) };

// CPU figures taken while other processes compete for the cores mean little: wait (2 minutes at most) for quiet.
if (!smoke) await waitForQuietMachine(new Patience(120_000), 0.3, (busy) => process.stderr.write(`waiting for a quiet machine (other processes use ${busy.toFixed(2)} cores)\n`));
const turnDetection = await measureTurnDetection(options, smoke ? 'smoke' : 'full', (line) => process.stderr.write(`${line}\n`));
process.stdout.write(`${turnDetectionSection(turnDetection).join('\n')}\n\nTargets:\n`);
for (const t of turnDetectionTargets(turnDetection)) process.stdout.write(`  ${t.name}: ${t.value} (target ${t.target}) ${t.met === true ? 'met' : 'NOT met'}\n`);
if (out === undefined) process.stdout.write('\n(nothing written)\n');
else if (existsSync(out)) {
  const results = JSON.parse(readFileSync(out, 'utf8')) as BenchResults;
  results.turnDetection = turnDetection;
  results.targets = checkTargets(results.audioCost, results.audioQuality, results.endToEnd, turnDetection);
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`\nResults: ${out}\n`);
} else {
  writeFileSync(out, `${JSON.stringify({ turnDetection }, null, 2)}\n`);
  process.stdout.write(`\nResults: ${out}\n`);
}

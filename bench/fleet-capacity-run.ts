/**
 * The fleet capacity benchmark alone (bench/fleet-capacity.ts; `npm run bench` runs it too), without redoing the
 * others:
 *
 *   npx tsx bench/fleet-capacity-run.ts            full run (under 4 minutes); sets `fleetCapacity` in bench/results.json
 *   npx tsx bench/fleet-capacity-run.ts --smoke    about 20 s; prints the table, writes nothing
 *   npx tsx bench/fleet-capacity-run.ts --out FILE
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { FULL_FLEET_CAPACITY_OPTIONS, SMOKE_FLEET_CAPACITY_OPTIONS, measureFleetCapacity } from './fleet-capacity.js';
import { fleetCapacitySection, type BenchResults } from './report.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({ options: { smoke: { type: 'boolean', default: process.env.BENCH_SMOKE === '1' }, out: { type: 'string' } } });
const smoke = values.smoke === true;
const out = values.out ?? (smoke ? undefined : join(HERE, 'results.json'));
const progress = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

const fleetCapacity = await measureFleetCapacity({ ...(smoke ? SMOKE_FLEET_CAPACITY_OPTIONS : FULL_FLEET_CAPACITY_OPTIONS), onProgress: progress });
process.stdout.write(`${fleetCapacitySection(fleetCapacity).join('\n')}\n`);
if (out !== undefined && existsSync(out)) {
  const results = JSON.parse(readFileSync(out, 'utf8')) as BenchResults;
  results.fleetCapacity = fleetCapacity;
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`\nResults: ${out} (${fleetCapacity.durationSeconds} s)\n`);
} else if (out !== undefined) {
  writeFileSync(out, `${JSON.stringify({ fleetCapacity }, null, 2)}\n`);
  process.stdout.write(`\nResults: ${out} (${fleetCapacity.durationSeconds} s)\n`);
} else {
  process.stdout.write(`\n(${fleetCapacity.durationSeconds} s; smoke run: nothing written)\n`);
}

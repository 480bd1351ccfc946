/**
 * The failover benchmark alone (bench/failover.ts; `npm run bench` runs it too), without redoing the others:
 *
 *   npx tsx bench/failover-run.ts              5 runs; sets `failover` in bench/results.json, the rest kept
 *   npx tsx bench/failover-run.ts --runs 10 --out FILE
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { measureFailover } from './failover.js';
import { renderReport, type BenchResults } from './report.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, out: { type: 'string' } } });
const out = values.out ?? join(HERE, 'results.json');

const failover = await measureFailover({ runs: Number(values.runs), onProgress: (line) => process.stderr.write(`${line}\n`) });
const results = existsSync(out) ? (JSON.parse(readFileSync(out, 'utf8')) as BenchResults) : undefined;
if (results === undefined) {
  process.stdout.write(`${JSON.stringify(failover, null, 2)}\n`);
} else {
  results.failover = failover;
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  const report = renderReport(results);
  process.stdout.write(`${report.slice(report.indexOf('Failover'), report.indexOf('Targets:')).trim()}\n\nResults: ${out}\n`);
}

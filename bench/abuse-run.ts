/**
 * The abuse measurement alone (bench/abuse.ts; `npm run bench` runs it too), without redoing the others:
 *
 *   npx tsx bench/abuse-run.ts            sets `abuse` in bench/results.json, the rest kept
 *   npx tsx bench/abuse-run.ts --smoke    tiny sizes; prints the figures only
 *   npx tsx bench/abuse-run.ts --only burst,slowHeaders
 *   npx tsx bench/abuse-run.ts --out FILE
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { FULL_ABUSE_OPTIONS, measureAbuse, SMOKE_ABUSE_OPTIONS, type AbuseKind } from './abuse.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({ options: { smoke: { type: 'boolean', default: false }, out: { type: 'string' }, only: { type: 'string' } } });
const out = values.out ?? join(HERE, 'results.json');

const abuse = await measureAbuse({
  ...(values.smoke ? SMOKE_ABUSE_OPTIONS : FULL_ABUSE_OPTIONS),
  ...(values.only === undefined ? {} : { only: values.only.split(',') as AbuseKind[] }),
  onProgress: (line) => process.stderr.write(`${line}\n`) });
process.stdout.write(`${JSON.stringify(abuse, null, 2)}\n`);
if (!values.smoke && existsSync(out)) {
  const results = JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>;
  results.abuse = abuse;
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
}

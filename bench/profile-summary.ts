/**
 * Reads a V8 .cpuprofile and prints where the time went: self time by function and by module
 * (node_modules package, src/ file, or Node internals). Used for item 4; also `npm run bench -- --profile`.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples?: number[];
  timeDeltas?: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileLine {
  name: string;
  selfPercent: number;
}

function moduleOf(url: string): string {
  if (url === '') return '(native / V8)';
  const nodeModules = url.lastIndexOf('node_modules/');
  if (nodeModules !== -1) {
    const rest = url.slice(nodeModules + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith('node:')) return url;
  const src = url.indexOf('/src/');
  if (src !== -1) return url.slice(src + 1);
  return url.replace(/^file:\/\//, '');
}

/** Self time per function and per module, as percentages of all samples (idle included). */
export function summarizeProfile(file: string, top = 25): { functions: ProfileLine[]; modules: ProfileLine[]; idlePercent: number } {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const self = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) self.set(samples[i]!, (self.get(samples[i]!) ?? 0) + (deltas[i] ?? 0));
  const total = [...self.values()].reduce((a, b) => a + b, 0) || 1;
  const byFunction = new Map<string, number>();
  const byModule = new Map<string, number>();
  let idle = 0;
  for (const node of profile.nodes) {
    const time = self.get(node.id) ?? 0;
    if (time === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') idle += time;
    const name = `${functionName || '(anonymous)'} ${moduleOf(url)}${url ? `:${lineNumber + 1}` : ''}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + time);
    const module = functionName === '(idle)' ? '(idle)' : functionName === '(garbage collector)' ? '(garbage collector)' : moduleOf(url);
    byModule.set(module, (byModule.get(module) ?? 0) + time);
  }
  const lines = (map: Map<string, number>): ProfileLine[] =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, time]) => ({ name, selfPercent: Math.round((time / total) * 1000) / 10 }));
  return { functions: lines(byFunction), modules: lines(byModule), idlePercent: Math.round((idle / total) * 1000) / 10 };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const summary = summarizeProfile(process.argv[2]!, Number(process.argv[3] ?? 40));
  console.log(`idle ${summary.idlePercent}%\n\nby module:`);
  for (const line of summary.modules) console.log(`${String(line.selfPercent).padStart(6)}%  ${line.name}`);
  console.log('\nby function:');
  for (const line of summary.functions) console.log(`${String(line.selfPercent).padStart(6)}%  ${line.name}`);
}

/**
 * Summarizes a V8 CPU profile (from `npm run bench -- --cpu-prof`): self
 * time by package and the busiest functions.
 *
 *   npx tsx bench/profile.ts bench/results/profiles/<file>.cpuprofile
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Functions listed in the second table. */
const TOP_FUNCTIONS = 25;

/** Where a sampled function lives: an npm package, the service, node itself, or V8. */
function area(url: string, name: string): string {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg?.[1]) return pkg[1];
  if (url.includes('/dist/')) return 'service (dist/)';
  if (url.startsWith('node:')) return 'node internals';
  if (url === '') return `(${name || 'native'})`;
  return url;
}

function summarize(path: string): string {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, index) => {
    const node = byId.get(id);
    const micros = profile.timeDeltas[index] ?? 0;
    if (!node) return;
    const { functionName, url, lineNumber } = node.callFrame;
    total += micros;
    const where = area(url, functionName);
    areas.set(where, (areas.get(where) ?? 0) + micros);
    const file = url.replace(/^.*\/(node_modules|dist)\//, '');
    const key = `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`;
    functions.set(key, (functions.get(key) ?? 0) + micros);
  });
  return [
    table('area', areas, total, Infinity),
    '',
    table('function', functions, total, TOP_FUNCTIONS),
  ].join('\n');
}

function table(title: string, times: Map<string, number>, total: number, limit: number): string {
  const rows = [...times]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .filter(([, micros]) => micros / total >= 0.005)
    .map(([name, micros]) => `| ${name} | ${((micros / total) * 100).toFixed(1)}% |`);
  return [`| ${title} | self time |`, '| --- | --- |', ...rows].join('\n');
}

for (const path of process.argv.slice(2)) process.stdout.write(`${path}\n\n${summarize(path)}\n\n`);

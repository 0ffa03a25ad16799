/**
 * `npm run bench:headroom [-- --trace <csv> --cluster <json>]`: how far below the best heuristic any
 * agent with TrainQ's actions (a host that can take the job now, or wait) could bring the average JCT,
 * judged by hand-written stand-ins for everything such an agent can do (src/sim/headroom.ts).
 * Without arguments it runs the four development pairs of bench/README.md. Prints one table per pair
 * and a summary; writes test-output/bench/headroom.json.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { loadCluster } from '../src/sim/clusterLoader';
import { runHeadroom, type Family, type HeadroomReport } from '../src/sim/headroom';
import { buildWorkload } from '../src/sim/simJobs';
import { loadTrace } from '../src/sim/traceLoader';

const ROOT = path.join(__dirname, '..');
const DEV_PAIRS: ReadonlyArray<[string, string]> = [
  ['philly-103959', 'hetero-24'],
  ['philly-0e4a51', 'hetero-48'],
  ['philly-ed69ec', 'homo-8'],
  ['philly-7f04ca', 'hetero-64'],
];
const FAMILIES: ReadonlyArray<[Family, string]> = [
  ['placement', 'best placement, product queue'],
  ['reorder', 'best reordering by estimate'],
  ['hold', 'best deliberate hold'],
  ['oracle', 'oracle: true durations'],
];

const hours = (s: number): string => (s / 3600).toFixed(2);

function pairTable(label: string, r: HeadroomReport): string {
  const y = r.yardstick.avgJct;
  const rows = [...r.variants].sort((a, b) => a.avgJct - b.avgJct).map((v) => `| ${v.family} | ${v.name} | ${hours(v.avgJct)} | ${(v.avgJct / y).toFixed(3)} |`);
  return [`### ${label} (yardstick ${r.yardstick.name}, ${hours(y)} h)`, '', '| family | policy | avg JCT h | ÷ yardstick |', '|---|---|---|---|', ...rows].join('\n');
}

function chanceSpread(r: HeadroomReport): string {
  const jcts = r.variants.filter((v) => v.family === 'chance').map((v) => v.avgJct / r.yardstick.avgJct);
  return `${Math.min(...jcts).toFixed(3)}–${Math.max(...jcts).toFixed(3)}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { trace: { type: 'string' }, cluster: { type: 'string' } }, strict: true });
  if ((values.trace === undefined) !== (values.cluster === undefined)) {
    throw new Error('give both --trace and --cluster, or neither (the development pairs)');
  }
  const pairs = values.trace
    ? [{ label: `${path.basename(values.trace)} → ${path.basename(values.cluster as string)}`, trace: values.trace, cluster: values.cluster as string }]
    : DEV_PAIRS.map(([t, c]) => ({ label: `${t} → ${c}`, trace: path.join(ROOT, 'bench', 'traces', `${t}.csv`), cluster: path.join(ROOT, 'bench', 'clusters', `${c}.json`) }));

  const results: Array<{ label: string; jobs: number; report: HeadroomReport }> = [];
  const started = performance.now();
  for (const pair of pairs) {
    const cluster = loadCluster(pair.cluster);
    const { jobs } = buildWorkload(loadTrace(pair.trace).jobs, cluster, 1);
    const report = runHeadroom(jobs, cluster);
    results.push({ label: pair.label, jobs: jobs.length, report });
    console.log(`${pairTable(pair.label, report)}\n`);
  }
  const head = ['trace → cluster', 'yardstick (h)', ...FAMILIES.map(([, title]) => title), 'priority-random, 5 seeds'];
  console.log('### Summary: each family\'s best, ÷ the yardstick (target: 0.95)\n');
  console.log(`| ${head.join(' | ')} |\n|${head.map(() => '---').join('|')}|`);
  for (const { label, report } of results) {
    const y = report.yardstick.avgJct;
    const cells = FAMILIES.map(([f]) => {
      const v = report.best[f];
      return v ? `${(v.avgJct / y).toFixed(3)} (${v.name})` : '-';
    });
    console.log(`| ${label} | ${hours(y)} (${report.yardstick.name}) | ${cells.join(' | ')} | ${chanceSpread(report)} |`);
  }
  console.log(`\n${results.reduce((s, r) => s + r.report.variants.length, 0)} simulations in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const out = path.join(ROOT, 'test-output', 'bench', 'headroom.json');
  await fs.mkdir(path.dirname(out), { recursive: true });
  await fs.writeFile(out, `${JSON.stringify(results, null, 1)}\n`);
  console.log(`wrote ${path.relative(ROOT, out)}`);
}

main().catch((err: unknown) => {
  console.error(`bench:headroom: ${(err as Error).message}`);
  process.exitCode = 1;
});

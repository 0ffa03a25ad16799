/**
 * `npm run bench:model`: the run-time model's cost at its size limits: 200 scripts with 24 runs each
 * (arguments with a run-time-relevant --epochs and an irrelevant --seed) on 20 hosts. Prints one table:
 * a prediction for one job on all 20 hosts (the placement's and the ETA planner's call), a base
 * prediction (the queue order's), and learning one finished job.
 */
import { RuntimeModel } from '../src/core/runtimeModel';

const HOSTS = Array.from({ length: 20 }, (_, i) => ({ name: `host-${i}`, declaredSpeed: 0.5 + (i % 4) * 0.25 }));
let seed = 12345;
const rand = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
const model = new RuntimeModel();
const learnUs: number[] = [];
for (let i = 0; i < 200 * 24; i++) {
  const script = `proj-${i % 200}/train.py`;
  const epochs = 10 * 2 ** Math.floor(rand() * 4);
  const host = HOSTS[Math.floor(rand() * HOSTS.length)];
  const t0 = performance.now();
  model.observe({
    script, args: ['--epochs', String(epochs), '--seed', String(i)], gpus: 1 + Math.floor(rand() * 2), estimateSec: 3600,
    host: host.name, declaredSpeed: host.declaredSpeed, runSec: epochs * 60 * (0.8 + rand() * 0.4) / host.declaredSpeed, censored: rand() < 0.1, atMs: i * 1000,
  });
  learnUs.push((performance.now() - t0) * 1000);
}
const timeUs = (n: number, f: (i: number) => void): number[] => {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    f(i);
    out.push((performance.now() - t0) * 1000);
  }
  return out;
};
const query = (i: number) => ({ script: `proj-${i % 200}/train.py`, args: ['--epochs', '20', '--seed', String(i)], gpus: 1, estimateSec: 3600 });
timeUs(2000, (i) => model.predictOn(query(i), HOSTS)); // warm-up
const on20 = timeUs(20_000, (i) => model.predictOn(query(i), HOSTS));
const base = timeUs(20_000, (i) => model.predictBase(query(i)));
const pct = (xs: number[], q: number) => xs.slice().sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))].toFixed(1);
const stateKiB = (JSON.stringify(model.toState()).length / 1024).toFixed(0);
console.log(`run-time model at its limits: ${model.scripts.size} scripts × ≤24 runs, 20 hosts, saved state ${stateKiB} KiB`);
console.log('| operation | p50 µs | p95 µs | target |');
console.log('|---|---|---|---|');
console.log(`| predict one job on 20 hosts | ${pct(on20, 0.5)} | ${pct(on20, 0.95)} | ≤ 50 µs p50 |`);
console.log(`| predict one job's base time (queue order) | ${pct(base, 0.5)} | ${pct(base, 0.95)} | |`);
console.log(`| learn one finished job (last 2,000 of 4,800) | ${pct(learnUs.slice(-2000), 0.5)} | ${pct(learnUs.slice(-2000), 0.95)} | well under 1,000 µs |`);

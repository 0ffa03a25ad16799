/**
 * `npm run bench:agent`: the placement agent as the extension runs it (AgentService, the bundled
 * training worker, the shipped weights). Needs `npm run build` first. Prints one table:
 *  - worker start: from start() until the worker's backend answers;
 *  - decision on the extension host: beginRound + choose for one job, 8 hosts (p50/p95 µs);
 *  - training in the worker with a backlog, at the default 25 % CPU share and at 100 %:
 *    steps per second, and the process's CPU time over wall time while the host thread idles.
 * Writes test-output/bench/agent.json.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { AgentService } from '../src/agent/agentService';
import { MostFreeGpusPlacement, type HostCandidate } from '../src/core/placement';
import { silentLogger } from '../src/core/logger';
import { makeJob } from '../test/support/builders';

const ROOT = path.join(__dirname, '..');
const OUT_DIR = path.join(ROOT, 'test-output', 'bench');

const hosts: HostCandidate[] = Array.from({ length: 8 }, (_, i) => ({
  host: `h${i}`,
  totalGpus: 8,
  freeGpus: Array.from({ length: 1 + (i % 8) }, (_, g) => g),
  speed: 0.5 + (i % 4) * 0.5,
  runningJobs: i % 3,
  maxJobs: 8,
}));

async function agentWith(cpuShare: number, dir: string): Promise<{ agent: AgentService; startMs: number }> {
  const agent = new AgentService({
    savedWeights: path.join(dir, `weights-${cpuShare}.json`),
    shippedWeights: path.join(ROOT, 'media', 'agent', 'dqn-weights.json'),
    workerScript: path.join(ROOT, 'dist', 'trainingWorker.js'),
    wasmDir: path.join(ROOT, 'dist'),
    logger: silentLogger,
    settings: () => ({ backend: 'wasm', learning: true }),
    fallback: new MostFreeGpusPlacement(),
    cpuShare,
  });
  const t0 = performance.now();
  await agent.start();
  return { agent, startMs: performance.now() - t0 };
}

/** Makes `n` decisions as the dispatcher would; returns each one's time in µs. */
function decide(agent: AgentService, n: number, clock: { now: number }): number[] {
  const times: number[] = [];
  const running = [makeJob({ state: 'running', host: 'h1', startedAt: clock.now, runtimeSec: 7200 })];
  for (let i = 0; i < n; i++) {
    const job = makeJob({ runtimeSec: 600 + (i % 11) * 500, gpus: 1 + (i % 4), createdAt: clock.now });
    agent.noteSubmitted(job);
    const t0 = performance.now();
    agent.beginRound({ nowMs: clock.now, queued: [job], running });
    agent.choose(job, hosts, hosts);
    times.push((performance.now() - t0) * 1000);
    clock.now += 30_000;
    agent.observe(clock.now, 0);
    agent.noteFinished(job, job.runtimeSec * 1.1);
  }
  return times;
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];

async function trainingRow(share: number, dir: string, windowMs: number) {
  const { agent, startMs } = await agentWith(share, dir);
  const clock = { now: Date.now() };
  // Past the fine-tuning minimum of replay, then 1,500 owed steps: more than the window can clear.
  const times = decide(agent, 1_500, clock);
  const steps0 = agent.stats.figures.trainSteps;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, windowMs));
  const cpu = process.cpuUsage(cpu0);
  const wallMs = performance.now() - t0;
  const steps = agent.stats.figures.trainSteps - steps0;
  await agent.dispose();
  return { share, startMs, decisionP50Us: pct(times, 0.5), decisionP95Us: pct(times, 0.95), stepsPerSec: (steps / wallMs) * 1000, cpuPct: ((cpu.user + cpu.system) / 1000 / wallMs) * 100 };
}

async function main(): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'trainq-bench-agent-'));
  const rows = [];
  for (const share of [0.25, 1]) {
    rows.push(await trainingRow(share, dir, 4_000));
  }
  await fs.rm(dir, { recursive: true, force: true });
  const header = '| CPU share | worker start (ms) | decision p50 / p95 (µs) | train steps/s | process CPU while training |';
  console.log(`${header}\n|---|---|---|---|---|`);
  for (const r of rows) {
    console.log(`| ${r.share * 100} % | ${r.startMs.toFixed(0)} | ${r.decisionP50Us.toFixed(0)} / ${r.decisionP95Us.toFixed(0)} | ${r.stepsPerSec.toFixed(0)} | ${r.cpuPct.toFixed(0)} % of a core |`);
  }
  console.log(`\n(${os.cpus().length} cores, ${os.loadavg()[0].toFixed(1)} load average; decisions include posting the transition to the worker.)`);
  await fs.mkdir(OUT_DIR, { recursive: true });
  await fs.writeFile(path.join(OUT_DIR, 'agent.json'), `${JSON.stringify({ rows, cores: os.cpus().length, loadavg: os.loadavg() }, null, 1)}\n`);
}

void main();

/**
 * One benchmark: every requested policy over the same workload, and the report other tools read.
 * Kept apart from the command line so tests and scripts can run it on in-memory inputs.
 */
import type { Cluster } from './clusterLoader';
import type { IdentityStats } from './identities';
import { totalGpus } from './clusterLoader';
import { lowerBoundAvgJct, policyMetrics, type PolicyMetrics } from './metrics';
import { resolvePolicies, type PolicyEntry } from './policies';
import type { PolicyInstance, PredictionReport } from './policyTypes';
import { buildWorkload, type Workload } from './simJobs';
import { simulate, type SimRun } from './simulator';
import type { Trace } from './traceLoader';

export interface BenchInput {
  trace: Trace;
  /** What the report calls the trace (the path it was given as). */
  traceLabel: string;
  cluster: Cluster;
  policies: readonly PolicyEntry[];
  seed: number;
  maxJobs?: number;
  agingMinutes: number;
  /** Called as each policy's run finishes (the dashboard's progress). */
  onPolicyDone?: (name: string, done: number, total: number) => void;
}

/** The JSON contract. Policy keys are exactly the policy names; times in seconds. */
export interface BenchReport {
  trace: string;
  cluster: string;
  jobs: number;
  unplaceable: number;
  lowerBound: { avgJct: number };
  /** How the jobs' identities recur (identities.ts): what a run-time model has to learn from. */
  workload: IdentityStats;
  policies: Record<string, PolicyMetrics>;
  seed: number;
  agingMinutes: number;
  skippedRows: number;
}

/** Per-policy facts for the console that are not part of the contract (they vary run to run). */
export interface PolicyTiming {
  events: number;
  wallMs: number;
  cpuMs: number;
  /** False for a policy that trains while it runs: its throughput measures learning, not the simulator. */
  heuristic: boolean;
}

export class BenchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BenchError';
  }
}

export async function runBench(input: BenchInput): Promise<{ report: BenchReport; timings: Map<string, PolicyTiming>; workload: Workload }> {
  const workload = buildWorkload(input.trace.jobs, input.cluster, input.seed, input.maxJobs);
  if (workload.jobs.length === 0) {
    throw new BenchError(`Every job of ${input.traceLabel} needs more GPUs than the largest host of ${input.cluster.name} has; nothing to simulate.`);
  }
  const report: BenchReport = {
    trace: input.traceLabel,
    cluster: input.cluster.name,
    jobs: workload.jobs.length,
    unplaceable: workload.unplaceable,
    lowerBound: finite('the lower bound', { avgJct: lowerBoundAvgJct(workload.jobs) }),
    workload: finite('the workload', workload.identities),
    policies: {},
    seed: input.seed,
    agingMinutes: input.agingMinutes,
    skippedRows: input.trace.skipped.length,
  };
  const timings = new Map<string, PolicyTiming>();
  for (const entry of input.policies) {
    const policy = await entry.create({ seed: input.seed, agingMs: input.agingMinutes * 60_000, cluster: input.cluster });
    let run: SimRun;
    let prediction: PredictionReport | undefined;
    try {
      run = simulate(workload.jobs, input.cluster, policy, { seed: input.seed });
      prediction = policy.predictionReport?.();
    } finally {
      policy.dispose?.();
    }
    const metrics = finite(`policy ${entry.name}`, policyMetrics(workload.jobs, input.cluster, run));
    report.policies[entry.name] = prediction ? { ...metrics, prediction: finite(`policy ${entry.name}'s prediction`, { ...prediction }) } : metrics;
    timings.set(entry.name, { events: run.events, wallMs: run.wallMs, cpuMs: run.cpuMs, heuristic: policy.trainSteps === undefined });
    input.onPolicyDone?.(entry.name, timings.size, input.policies.length);
  }
  return { report, timings, workload };
}

/**
 * JSON writes NaN and ±Infinity as null, which readers of the contract would take for a number. The
 * loaders' bounds keep every metric finite; this is the check that they did, once per report.
 */
function finite<T extends object>(what: string, values: T): T {
  for (const [key, value] of Object.entries(values)) {
    if (!Number.isFinite(value)) {
      throw new BenchError(`${what}: ${key} came out as ${value}, not a finite number; the inputs are beyond what the simulator can measure.`);
    }
  }
  return values;
}

function pad(cells: readonly string[], widths: readonly number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
}

const hours = (s: number): string => (s / 3_600).toFixed(2);
const days = (s: number): string => (s / 86_400).toFixed(2);

export function formatTable(report: BenchReport, timings: ReadonlyMap<string, PolicyTiming>): string {
  const head = ['policy', 'avg JCT h', 'p95 JCT h', 'slowdown', 'makespan d', 'GPU util', 'decide p50 µs', 'train steps/s', 'events/s'];
  const rows = Object.entries(report.policies).map(([name, m]) => {
    const t = timings.get(name);
    const rate = t && t.wallMs > 0 ? Math.round(t.events / (t.wallMs / 1000)).toLocaleString('en-US') : '-';
    const steps = m.trainStepsPerSec > 0 ? Math.round(m.trainStepsPerSec).toLocaleString('en-US') : '-';
    const numbers = [hours(m.avgJct), hours(m.p95Jct), m.avgSlowdown.toFixed(2), days(m.makespan), m.gpuUtil.toFixed(3), m.decisionP50Us.toFixed(2), steps];
    return [name, ...numbers, rate];
  });
  rows.push(['lower bound', hours(report.lowerBound.avgJct), '', '1.00', '', '', '', '', '']);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const table = [pad(head, widths), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map((r) => pad(r, widths))].join('\n');
  const predictions = formatPredictions(report);
  return predictions ? `${table}\n\n${predictions}` : table;
}

/** The run-time predictions of the policies that make them, as a second table; '' when none does. */
function formatPredictions(report: BenchReport): string {
  const rows = Object.entries(report.policies).flatMap(([name, m]) => {
    const p = m.prediction;
    const warm = p?.afterFiveRunsMedianAbsLogError?.toFixed(3) ?? '-';
    return p ? [[name, p.medianAbsLogError.toFixed(3), p.p90AbsLogError.toFixed(3), warm, `${(100 * p.coldStartShare).toFixed(1)}%`, String(p.predictions)]] : [];
  });
  if (rows.length === 0) {
    return '';
  }
  const head = ['prediction', 'median |log err|', 'p90 |log err|', 'after 5 runs', 'cold start', 'predictions'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [pad(head, widths), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map((r) => pad(r, widths))].join('\n');
}

/** The workload's identity figures in one line: how often jobs recur and how alike their run times are. */
export function describeWorkload(w: IdentityStats): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  return `${w.identities} identities, ${pct(w.repeatShare)} of jobs ran before; median |log(duration ÷ identity median)| ${w.withinSpread.toFixed(3)}, by script+args ${w.withinIdentitySpread.toFixed(3)}`;
}

export interface Throughput {
  events: number;
  seconds: number;
  perSec: number;
  perCpuSec: number;
}

/** Job events per second of the simulator itself, over the heuristic policies' runs. */
export function heuristicThroughput(timings: ReadonlyMap<string, PolicyTiming>): Throughput {
  const heuristic = [...timings.values()].filter((t) => t.heuristic);
  const events = heuristic.reduce((s, t) => s + t.events, 0);
  const seconds = heuristic.reduce((s, t) => s + t.wallMs, 0) / 1000;
  const cpuSeconds = heuristic.reduce((s, t) => s + t.cpuMs, 0) / 1000;
  return { events, seconds, perSec: seconds > 0 ? events / seconds : 0, perCpuSec: cpuSeconds > 0 ? events / cpuSeconds : 0 };
}

/**
 * The simulator's steady rate: one heuristic policy (priority-firstfit) run `runs` times on the same
 * workload in this process, events per second of each run. The first run of a policy pays for
 * compiling the code it exercises, which on a trace of a few thousand events is most of its time;
 * the later runs show what the simulator sustains.
 */
export function repeatedRunRates(workload: Workload, cluster: Cluster, agingMinutes: number, runs: number): number[] {
  const entry = resolvePolicies(['priority-firstfit'])[0];
  return Array.from({ length: runs }, () => {
    const policy = entry.create({ seed: 1, agingMs: agingMinutes * 60_000, cluster }) as PolicyInstance;
    const run = simulate(workload.jobs, cluster, policy, { seed: 1 });
    return run.events / (run.wallMs / 1000);
  });
}

export function describeCluster(cluster: Cluster): string {
  // A typed host shows its GPU type beside the declared speed: the report says which truth was simulated.
  const hosts = cluster.hosts.map((h) => `${h.name} ${h.gpus}×${h.speed}${h.gpuType ? ` ${h.gpuType}` : ''}`).join(', ');
  return `${cluster.name}: ${cluster.hosts.length} hosts, ${totalGpus(cluster)} GPUs (${hosts})`;
}

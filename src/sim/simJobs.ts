/**
 * Turns trace rows into the jobs the simulator submits. Traces record only when a job came, how long
 * it ran and how many GPUs it held; TrainQ's classifier also wants what a user types when queueing
 * (importance, expected gain, a runtime estimate), so those are synthesised per job from a seeded
 * stream with the documented distributions below, giving the classifier realistic, repeatable inputs.
 *
 * Distributions (per job, independent):
 *   importance    high 20% · normal 60% · low 20%
 *   expected gain left out for 30% of jobs (the classifier then counts it as neutral); otherwise
 *                 exponential with mean 10%, rounded to a whole percent and capped at 100, so about
 *                 14% of stated gains reach the 20% at which the default policy raises a job
 *   runtime       the user's guess: true duration × e^(0.5·Z), Z standard normal. Log-normal error,
 *   estimate      unbiased in log space: half the guesses are too long, two thirds fall within
 *                 ×0.61–×1.65 of the truth and 95% within ×0.37–×2.7. Rounded to whole seconds and
 *                 clamped to what the queue input accepts (1 minute to 30 days).
 *
 * Each job also gets a recurring identity (identities.ts) and its true run time on every host: on an
 * untyped host, duration ÷ declared speed; on a typed host, duration ÷ the throughput table's speedup of
 * the job's model on that GPU type, the truth a scheduler that trusts declared speeds does not see.
 */
import type { HostConstraints, Importance, Job } from '../core/job';
import { MAX_RUNTIME_SEC, MIN_RUNTIME_SEC } from '../core/features';
import type { Cluster } from './clusterLoader';
import { hasTypedHost, largestHostGpus } from './clusterLoader';
import { assignIdentities, identityStats, type IdentityStats, type JobIdentity } from './identities';
import type { TraceJob } from './traceLoader';
import { createRng } from './rng';
import { shippedThroughputs, type ThroughputTable } from './throughputTable';

export const IMPORTANCE_SHARES: ReadonlyArray<[Importance, number]> = [
  ['high', 0.2],
  ['normal', 0.6],
  ['low', 0.2],
];
export const GAIN_GIVEN_SHARE = 0.7;
export const GAIN_MEAN_PCT = 10;
export const ESTIMATE_LOG_SIGMA = 0.5;

export interface SimJobSpec {
  /** Position in submission order among the simulated jobs. */
  index: number;
  /** Line of the trace it came from. */
  line: number;
  /** Seconds after the first simulated submission. */
  submitSec: number;
  /** The trace's duration: run time on a speed-1.0 untyped host, or on a p100 (the throughput table's reference). */
  durationSec: number;
  gpus: number;
  importance: Importance;
  expectedGain?: number;
  /** The user's (noisy) runtime estimate: what the queue orders by, never the truth. */
  estimateSec: number;
  /** Run time on the fastest host the job fits on (the least hostSec among them): the best any schedule can do for it. */
  fastestSec: number;
  /** Recurring identity at the trace's level (the trace's own `identity` column, or derived): like Helios's user:num_gpus. */
  identity: string;
  /** Workspace-relative script path the product's run-time model keys on, e.g. "proj-17/train.py". */
  script: string;
  /** The job's argv. Derived identities: ['--epochs', E, '--seed', S]; epochs changes run time, seed does not. A trace identity gives []. */
  args: string[];
  user: string;
  /** Throughput-table model of the identity, when the cluster has a typed host. */
  model?: string;
  /** True run time on cluster.hosts[i], in seconds: durationSec ÷ the model's speedup on a typed host, durationSec ÷ speed on an untyped one. */
  hostSec: Float64Array;
  /**
   * Indices of earlier jobs this one waits for (JobSpec.after, mode after-ok: simulated jobs always
   * succeed); it starts only once they all finished.
   */
  after?: number[];
  /** Where the job may run (JobSpec.constraints), matched against the cluster hosts' labels and GPU types. */
  constraints?: HostConstraints;
}

export interface Workload {
  jobs: SimJobSpec[];
  /** Jobs needing more GPUs than the largest host has: never submitted, left out of every metric. */
  unplaceable: number;
  /** How the kept jobs' identities recur (the bench report's `workload`). */
  identities: IdentityStats;
}

interface Synthetic {
  importance: Importance;
  expectedGain?: number;
  estimateSec: number;
}

function synthesise(durationSec: number, rng: ReturnType<typeof createRng>): Synthetic {
  // Every job takes the same five draws, whatever their values, so job k's features depend only on
  // the seed and k: --max-jobs takes a prefix without changing the jobs it keeps.
  const u = rng.next();
  const gainGiven = rng.next() < GAIN_GIVEN_SHARE;
  const gainDraw = rng.next();
  const z = rng.normal();
  let acc = 0;
  let importance: Importance = IMPORTANCE_SHARES[IMPORTANCE_SHARES.length - 1][0];
  for (const [name, share] of IMPORTANCE_SHARES) {
    acc += share;
    if (u < acc) {
      importance = name;
      break;
    }
  }
  const expectedGain = gainGiven ? Math.min(100, Math.round(-GAIN_MEAN_PCT * Math.log(1 - gainDraw))) : undefined;
  const guess = Math.round(durationSec * Math.exp(ESTIMATE_LOG_SIGMA * z));
  const estimateSec = Math.min(MAX_RUNTIME_SEC, Math.max(MIN_RUNTIME_SEC, guess));
  return { importance, expectedGain, estimateSec };
}

/** The job's true run time on each host of the cluster (the table only when some host is typed). */
function hostTimes(cluster: Cluster, row: TraceJob, model: string | undefined, table: ThroughputTable | undefined): Float64Array {
  return Float64Array.from(cluster.hosts, (h) =>
    h.gpuType === undefined || table === undefined || model === undefined ? row.durationSec / h.speed : row.durationSec / table.speedup(model, row.gpus, h.gpuType),
  );
}

/** The least run time over the hosts big enough for the job (Infinity when none is: the job is then unplaceable). */
function fastestFit(cluster: Cluster, gpus: number, hostSec: Float64Array): number {
  return cluster.hosts.reduce((m, h, i) => (h.gpus >= gpus ? Math.min(m, hostSec[i]) : m), Infinity);
}

/**
 * The first `maxJobs` trace jobs in submission order, with their synthetic features, identities and
 * per-host run times; those larger than every host are counted and dropped. Times are re-based on the
 * first kept submission.
 */
export function buildWorkload(trace: readonly TraceJob[], cluster: Cluster, seed: number, maxJobs = Infinity): Workload {
  const rng = createRng(seed, 'job-features');
  const largest = largestHostGpus(cluster);
  const kept: Array<TraceJob & Synthetic> = [];
  let unplaceable = 0;
  for (const row of trace.slice(0, maxJobs)) {
    const features = synthesise(row.durationSec, rng);
    if (row.gpus > largest) {
      unplaceable += 1;
    } else {
      kept.push({ ...row, ...features });
    }
  }
  const table = hasTypedHost(cluster) ? shippedThroughputs() : undefined;
  const identities: JobIdentity[] = assignIdentities(kept, seed, table?.modelsUsableFor);
  const t0 = kept.length > 0 ? kept[0].submitSec : 0;
  const jobs = kept.map((k, index): SimJobSpec => {
    const { identity, script, args, user, model } = identities[index];
    const hostSec = hostTimes(cluster, k, model, table);
    return {
      index,
      line: k.line,
      submitSec: k.submitSec - t0,
      durationSec: k.durationSec,
      gpus: k.gpus,
      importance: k.importance,
      expectedGain: k.expectedGain,
      estimateSec: k.estimateSec,
      fastestSec: fastestFit(cluster, k.gpus, hostSec),
      identity,
      script,
      args,
      user,
      ...(model === undefined ? {} : { model }),
      hostSec,
    };
  });
  const stats = identityStats(jobs.map((j, i) => ({ ...j, status: kept[i].status })));
  return { jobs, unplaceable, identities: stats };
}

/** Zero-padded so the queue's last tie-break (id order) is submission order. */
export function simJobId(index: number): string {
  return `job-${String(index).padStart(7, '0')}`;
}

/** A fresh queued Job for one simulation run (runs mutate their jobs, so each gets its own). */
export function newJob(spec: SimJobSpec): Job {
  return {
    id: simJobId(spec.index),
    // The script path's last two parts: "proj-17/train.py", so views tell the families apart.
    name: spec.script.split('/').slice(-2).join('/'),
    script: spec.script,
    args: [...spec.args],
    cwd: '',
    gpus: spec.gpus,
    importance: spec.importance,
    expectedGain: spec.expectedGain,
    runtimeSec: spec.estimateSec,
    priority: 'medium',
    priorityReason: 'not classified',
    priorityOverridden: false,
    state: 'queued',
    createdAt: spec.submitSec * 1000,
    ...(spec.after && spec.after.length > 0 && { after: { mode: 'after-ok', jobs: spec.after.map(simJobId) } }),
    ...(spec.constraints && { constraints: spec.constraints }),
  };
}

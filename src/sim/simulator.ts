/**
 * The discrete-event cluster simulator. Time jumps from one job event (a submission or a finish) to the
 * next; after each batch of events at one instant, one dispatch round runs core's own pipeline
 * (buildCandidates → the policy's dispatch order → planDispatch with the policy's Placement), so the
 * benchmark measures the code that ships. A job holds its GPUs on one host for its true run time there
 * (spec.hostSec: duration ÷ speed on an untyped host, the throughput table's on a typed one).
 *
 * Rounds that could not start anything are skipped: such a round can only end in "wait" without the
 * placement being asked, so no decision changes. The disciplines keep their orders between rounds
 * (see queueDisciplines.ts) and planDispatch writes no wait reasons here, which keeps a round's cost
 * to a pass over the queue.
 *
 * Inputs are checked once before the run and results once after it, not per event: the loaders' bounds
 * (inputLimits.ts) keep every time finite, and these checks turn a caller that bypasses them into a
 * SimulationError naming the job rather than a crash or a NaN in the report. The one check per start is
 * a finish time's: a NaN there would break the heap's order and loop forever, an Infinity pop an empty heap.
 */
import type { Job } from '../core/job';
import type { HostCandidate, Placement } from '../core/placement';
import { buildCandidates, planDispatch, type HostOffer, type PlannedLaunch } from '../core/scheduler';
import type { Cluster, ClusterHost } from './clusterLoader';
import type { HostTraits } from '../core/hostConstraints';
import { MAX_QUEUE_WAIT_SEC } from './inputLimits';
import { createRng } from './rng';
import { CompletionHeap } from './completionHeap';
import type { PolicyInstance, SimEvent } from './policyTypes';
import type { QueuedSimJob } from './queueDisciplines';
import { newJob, type SimJobSpec } from './simJobs';


export interface JobOutcome {
  startSec: number;
  endSec: number;
  host: string;
}

export interface SimRun {
  /** Indexed like the workload's jobs. */
  outcomes: JobOutcome[];
  /** Wall time of each Placement.choose call, in microseconds. */
  decisionUs: number[];
  /** Job events simulated: submissions plus finishes. */
  events: number;
  /** Dispatch rounds that reached planDispatch. */
  rounds: number;
  wallMs: number;
  /** CPU time of the process during the run: on a shared machine, steadier than wall time. */
  cpuMs: number;
  trainSteps: number;
  /** Wall time of those training steps. */
  trainMs: number;
}

export interface SimOptions {
  /** Sees every event as it happens: tests record them to check invariants. */
  onEvent?: (event: SimEvent) => void;
  /** Seeds the Slurm hosts' queue delays (default 1). */
  seed?: number;
}

export class SimulationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SimulationError';
  }
}

/** What the simulator keeps per host: its offer to the scheduler and the jobs running there. */
interface SimHost {
  /** Position in cluster.hosts: where the job specs' hostSec hold this host's run times. */
  index: number;
  offer: HostOffer;
  running: Job[];
  speed: number;
  /** Free GPUs, kept for cheap checks; what rounds see comes from buildCandidates. */
  free: number;
  /** buildCandidates' view of this host, rebuilt only after a job starts or ends here. */
  candidate?: HostCandidate;
  /** Slurm hosts: draws one job's queue wait; and the waits observed so far, as a running mean. */
  drawDelay?: () => number;
  observedWait?: { sum: number; n: number };
}

/** The slot limit equals the GPU count: every trace job holds a GPU, so it never binds. */
function hostsOf(cluster: Cluster, seed: number): SimHost[] {
  return cluster.hosts.map((h, index) => {
    const host: SimHost = {
      index,
      offer: { name: h.name, online: true, gpuIndices: Array.from({ length: h.gpus }, (_, i) => i), speed: h.speed, maxJobs: h.gpus, ...traitsOf(h) },
      running: [],
      speed: h.speed,
      free: h.gpus,
    };
    if (h.queueDelay) {
      host.drawDelay = logNormal(h.queueDelay.medianSec, h.queueDelay.sigma, createRng(seed, `slurm-queue-${h.name}`).next);
      host.observedWait = { sum: 0, n: 0 };
    }
    return host;
  });
}

/**
 * What jobs' host constraints see of a simulated host: its labels, and its GPU type as every GPU's
 * model (memory is not simulated, so a memory minimum matches no simulated GPU).
 */
function traitsOf(h: ClusterHost): HostTraits {
  return {
    ...(h.labels && { labels: h.labels }),
    ...(h.gpuType && { gpuSpecs: Array.from({ length: h.gpus }, (_, index) => ({ index, name: h.gpuType as string })) }),
  };
}

/** A log-normal sampler (Box–Muller on a seeded uniform stream): median × e^(σ·N(0,1)), its tail clamped to a year. */
function logNormal(medianSec: number, sigma: number, uniform: () => number): () => number {
  return () => {
    const u = Math.max(Number.MIN_VALUE, uniform());
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
    return Math.min(MAX_QUEUE_WAIT_SEC, medianSec * Math.exp(sigma * z));
  };
}

const jobName = (spec: SimJobSpec): string => `job ${spec.index} (trace line ${spec.line})`;

/**
 * The simulator's own preconditions: a NaN submission would never be reached, so the run would never end;
 * and a job's run times must be per host of this cluster (buildWorkload for another cluster gives others).
 */
function checkWorkload(specs: readonly SimJobSpec[], cluster: Cluster): void {
  let previous = -Infinity;
  for (const s of specs) {
    if (s.hostSec?.length !== cluster.hosts.length) {
      const got = s.hostSec === undefined ? 'none' : `${s.hostSec.length}`;
      throw new SimulationError(`${jobName(s)}: hostSec must hold one run time per host of ${cluster.name} (${cluster.hosts.length}); got ${got}. Build the jobs for this cluster.`);
    }
    if (!(s.submitSec >= previous && s.submitSec < Infinity)) {
      throw new SimulationError(`${jobName(s)}: submission time ${s.submitSec} s is not a finite time at or after the previous job's (${previous} s).`);
    }
    // An earlier job only: a later or missing one could close a cycle or never come, and the run would not end.
    if (s.after?.some((i) => !(Number.isInteger(i) && i >= 0 && i < s.index))) {
      throw new SimulationError(`${jobName(s)}: waits for job(s) ${s.after.join(', ')}; a job may only wait for jobs submitted before it.`);
    }
    if (!(s.durationSec > 0 && s.durationSec < Infinity)) {
      throw new SimulationError(`${jobName(s)}: duration ${s.durationSec} s is not a positive finite number.`);
    }
    previous = s.submitSec;
  }
}

/** After the run: every job started and ended at finite times, in order; otherwise the metrics would be NaN or Infinity. */
function checkOutcomes(specs: readonly SimJobSpec[], outcomes: readonly JobOutcome[]): void {
  for (const s of specs) {
    const o = outcomes[s.index];
    if (!(o.startSec >= s.submitSec && o.endSec >= o.startSec && o.endSec < Infinity)) {
      throw new SimulationError(`${jobName(s)}: submitted at ${s.submitSec} s, started at ${o.startSec} s, ended at ${o.endSec} s; not finite times in order.`);
    }
  }
}

/**
 * Core's candidates, built host by host: buildCandidates is a pure per-offer map, so handing each
 * offer only its own running jobs, and reusing a host's result until its jobs change, gives what one
 * call over the whole cluster would, without rescanning every running job for every host each round.
 */
function candidatesOf(hosts: readonly SimHost[]): HostCandidate[] {
  return hosts.map((h) => (h.candidate ??= buildCandidates([h.offer], h.running)[0]));
}

/** The most free GPUs on one host: no job wider than this can start (every host has a slot per GPU). */
function widestFree(hosts: readonly SimHost[]): number {
  return hosts.reduce((m, h) => Math.max(m, h.free), 0);
}

function timed(placement: Placement, samplesUs: number[]): Placement {
  return {
    name: placement.name,
    choose: (job, feasible, all) => {
      const t0 = performance.now();
      const decision = placement.choose(job, feasible, all);
      samplesUs.push((performance.now() - t0) * 1000);
      return decision;
    },
  };
}

export function simulate(specs: readonly SimJobSpec[], cluster: Cluster, policy: PolicyInstance, options: SimOptions = {}): SimRun {
  checkWorkload(specs, cluster);
  const started = performance.now();
  const cpuAtStart = process.cpuUsage();
  const hosts = hostsOf(cluster, options.seed ?? 1);
  const hostNamed = new Map(hosts.map((h) => [h.offer.name, h]));
  const decisionUs: number[] = [];
  const placement = timed(policy.placement, decisionUs);
  const listeners = [options.onEvent, policy.onEvent?.bind(policy)].filter((l) => l !== undefined);
  const emit = listeners.length > 0 ? (e: SimEvent) => listeners.forEach((l) => l(e)) : undefined;

  const outcomes: JobOutcome[] = specs.map(() => ({ startSec: NaN, endSec: NaN, host: '' }));
  const byJob = new Map<Job, QueuedSimJob>();
  const finishes = new CompletionHeap<QueuedSimJob>();
  let queued = 0;
  /** Queued jobs by GPU count, so a round that cannot start anything is skipped without scanning the queue. */
  const queuedByWidth = new Map<number, number>();
  let nextArrival = 0;
  let events = 0;
  let rounds = 0;

  const countQueued = (gpus: number, delta: number): void => {
    const n = (queuedByWidth.get(gpus) ?? 0) + delta;
    if (n === 0) {
      queuedByWidth.delete(gpus);
    } else {
      queuedByWidth.set(gpus, n);
    }
  };

  /** Only with dependencies in the workload: a queued job is held until the jobs it waits for finished. */
  const byId = specs.some((s) => s.after && s.after.length > 0) ? new Map<string, Job>() : undefined;
  const held = byId && ((job: Job) => (job.after?.jobs.some((id) => byId.get(id)?.state !== 'succeeded') ? 'waits for a dependency' : undefined));

  const submit = (spec: SimJobSpec): void => {
    const q: QueuedSimJob = { spec, job: newJob(spec) };
    byJob.set(q.job, q);
    byId?.set(q.job.id, q.job);
    policy.discipline.admit(q);
    queued += 1;
    countQueued(spec.gpus, 1);
    events += 1;
    emit?.({ kind: 'submit', atSec: spec.submitSec, job: spec.index });
  };

  const start = (launch: PlannedLaunch, nowSec: number): void => {
    const q = byJob.get(launch.job) as QueuedSimJob;
    const host = hostNamed.get(launch.host) as SimHost;
    Object.assign(q.job, { state: 'running', host: launch.host, gpuIndices: launch.gpuIndices, startedAt: nowSec * 1000 });
    host.running.push(q.job);
    host.free -= q.spec.gpus;
    host.candidate = undefined;
    countQueued(q.spec.gpus, -1);
    queued -= 1;
    // A Slurm host holds the job's GPUs for TrainQ from submission, but it runs only after its queue wait.
    const waitSec = host.drawDelay?.() ?? 0;
    q.waitSec = waitSec;
    const runSec = q.spec.hostSec[host.index];
    const endSec = nowSec + waitSec + runSec;
    if (!(endSec >= nowSec && endSec < Infinity)) {
      const gpuType = cluster.hosts[host.index].gpuType;
      const run = gpuType === undefined ? `${q.spec.durationSec} s ÷ speed ${host.speed}` : `run time ${runSec} s on its ${gpuType}s`;
      const sum = `now ${nowSec} s + queue wait ${waitSec} s + ${run}`;
      throw new SimulationError(`${jobName(q.spec)} would end at ${endSec} s on ${launch.host} (${sum}): not a finite time.`);
    }
    finishes.push(endSec, q);
    outcomes[q.spec.index].startSec = nowSec + waitSec;
    outcomes[q.spec.index].host = launch.host;
    emit?.({ kind: 'start', atSec: nowSec, job: q.spec.index, host: launch.host, gpuIndices: launch.gpuIndices });
  };

  const finish = (q: QueuedSimJob, nowSec: number): void => {
    const host = hostNamed.get(q.job.host as string) as SimHost;
    q.job.state = 'succeeded';
    q.job.endedAt = nowSec * 1000;
    host.running.splice(host.running.indexOf(q.job), 1);
    host.free += q.spec.gpus;
    host.candidate = undefined;
    outcomes[q.spec.index].endSec = nowSec;
    if (host.observedWait) {
      // What TrainQ learns of a Slurm host: the waits of the jobs it has seen through.
      host.observedWait.sum += q.waitSec ?? 0;
      host.observedWait.n += 1;
      host.offer.expectedWaitSec = host.observedWait.sum / host.observedWait.n;
    }
    events += 1;
    const runSec = q.spec.hostSec[host.index];
    emit?.({ kind: 'finish', atSec: nowSec, job: q.spec.index, host: host.offer.name, gpuIndices: q.job.gpuIndices ?? [], runSec });
  };

  /** One dispatch round; skipped when no queued job is narrow enough for any host's free GPUs. */
  const dispatch = (nowSec: number): void => {
    const widest = widestFree(hosts);
    let anyFits = false;
    queuedByWidth.forEach((_, gpus) => (anyFits ||= gpus <= widest));
    if (!anyFits) {
      return;
    }
    rounds += 1;
    const order = policy.discipline.order(nowSec * 1000);
    planDispatch(order, candidatesOf(hosts), placement, { explainWaits: false, held }).launches.forEach((launch) => start(launch, nowSec));
  };

  while (nextArrival < specs.length || finishes.size > 0) {
    const nowSec = Math.min(finishes.peekTime(), nextArrival < specs.length ? specs[nextArrival].submitSec : Infinity);
    // Finishes first, so GPUs freed at this instant are offered to the jobs arriving at it.
    while (finishes.peekTime() <= nowSec) {
      finish(finishes.pop() as QueuedSimJob, nowSec);
    }
    while (nextArrival < specs.length && specs[nextArrival].submitSec <= nowSec) {
      submit(specs[nextArrival++]);
    }
    dispatch(nowSec);
  }
  if (queued > 0) {
    // Only a placement that waits with the cluster idle gets here; without this the jobs would vanish from the metrics.
    throw new SimulationError(`Placement '${policy.placement.name}' left ${queued} job(s) waiting after every other job had finished.`);
  }
  checkOutcomes(specs, outcomes);
  const cpu = process.cpuUsage(cpuAtStart);
  const wallMs = performance.now() - started;
  return { outcomes, decisionUs, events, rounds, wallMs, cpuMs: (cpu.user + cpu.system) / 1000, trainSteps: policy.trainSteps?.() ?? 0, trainMs: policy.trainMs?.() ?? 0 };
}

/**
 * The discrete-event cluster simulator. Time jumps from one job event (a submission or a finish) to the
 * next; after each batch of events at one instant, one dispatch round runs core's own pipeline
 * (buildCandidates → the policy's dispatch order → planDispatch with the policy's Placement), so the
 * benchmark measures the code that ships. A job holds its GPUs on one host for duration / speed.
 *
 * Rounds that could not start anything are skipped, and jobs too wide for every host's free GPUs are
 * left out of the order handed to planDispatch. Neither changes a decision: such a round or job can
 * only end in "wait", and orders are total, so the remaining jobs keep their relative order.
 */
import type { Job } from '../core/job';
import type { Placement } from '../core/placement';
import { buildCandidates, planDispatch, type HostOffer } from '../core/scheduler';
import type { Cluster } from './clusterLoader';
import { CompletionHeap } from './completionHeap';
import type { PolicyInstance } from './policies';
import type { QueuedSimJob } from './queueDisciplines';
import { newJob, type SimJobSpec } from './simJobs';

export type SimEvent =
  | { kind: 'submit'; atSec: number; job: number }
  | { kind: 'start' | 'finish'; atSec: number; job: number; host: string; gpuIndices: number[] };

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
  trainSteps: number;
}

export interface SimOptions {
  /** Sees every event as it happens: tests record them to check invariants. */
  onEvent?: (event: SimEvent) => void;
}

export class SimulationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SimulationError';
  }
}

/** A host as the scheduler sees it. The slot limit equals the GPU count: every trace job holds a GPU, so it never binds. */
function offersOf(cluster: Cluster): HostOffer[] {
  return cluster.hosts.map((h) => ({ name: h.name, online: true, gpuIndices: Array.from({ length: h.gpus }, (_, i) => i), speed: h.speed, maxJobs: h.gpus }));
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
  const started = performance.now();
  const offers = offersOf(cluster);
  const speedOf = new Map(cluster.hosts.map((h) => [h.name, h.speed]));
  const decisionUs: number[] = [];
  const placement = timed(policy.placement, decisionUs);
  const listeners = [options.onEvent, policy.onEvent?.bind(policy)].filter((l) => l !== undefined);
  const emit = listeners.length > 0 ? (e: SimEvent) => listeners.forEach((l) => l(e)) : undefined;

  // Counters only for skipping rounds that cannot start anything; every real round still derives
  // free GPUs from the running jobs through buildCandidates, as the extension does.
  const freeCount = new Map(cluster.hosts.map((h) => [h.name, h.gpus]));
  const queuedBySize = new Map<number, number>();
  const countQueued = (gpus: number, delta: number): void => {
    const n = (queuedBySize.get(gpus) ?? 0) + delta;
    if (n === 0) {
      queuedBySize.delete(gpus);
    } else {
      queuedBySize.set(gpus, n);
    }
  };
  const mightStart = (): boolean => {
    let mostFree = 0;
    freeCount.forEach((n) => (mostFree = Math.max(mostFree, n)));
    for (const size of queuedBySize.keys()) {
      if (size <= mostFree) {
        return true;
      }
    }
    return false;
  };

  const outcomes: JobOutcome[] = specs.map(() => ({ startSec: NaN, endSec: NaN, host: '' }));
  const byJob = new Map<Job, QueuedSimJob>();
  const finishes = new CompletionHeap<QueuedSimJob>();
  const running: Job[] = [];
  let queue: QueuedSimJob[] = [];
  let nextArrival = 0;
  let events = 0;
  let rounds = 0;

  const submit = (spec: SimJobSpec): void => {
    const q: QueuedSimJob = { spec, job: newJob(spec) };
    byJob.set(q.job, q);
    policy.discipline.admit(q);
    queue.push(q);
    countQueued(spec.gpus, 1);
    events += 1;
    emit?.({ kind: 'submit', atSec: spec.submitSec, job: spec.index });
  };

  const finish = (q: QueuedSimJob, nowSec: number): void => {
    q.job.state = 'succeeded';
    q.job.endedAt = nowSec * 1000;
    running.splice(running.indexOf(q.job), 1);
    freeCount.set(q.job.host as string, (freeCount.get(q.job.host as string) as number) + q.spec.gpus);
    outcomes[q.spec.index].endSec = nowSec;
    events += 1;
    emit?.({ kind: 'finish', atSec: nowSec, job: q.spec.index, host: q.job.host ?? '', gpuIndices: q.job.gpuIndices ?? [] });
  };

  const dispatch = (nowSec: number): void => {
    if (!mightStart()) {
      return;
    }
    const candidates = buildCandidates(offers, running);
    const mostFree = candidates.reduce((m, c) => (c.runningJobs < c.maxJobs ? Math.max(m, c.freeGpus.length) : m), 0);
    const startable = queue.filter((q) => q.spec.gpus <= mostFree);
    if (startable.length === 0) {
      return;
    }
    rounds += 1;
    const plan = planDispatch(policy.discipline.order(startable, nowSec * 1000), candidates, placement);
    for (const launch of plan.launches) {
      const q = byJob.get(launch.job) as QueuedSimJob;
      const endSec = nowSec + q.spec.durationSec / (speedOf.get(launch.host) as number);
      Object.assign(q.job, { state: 'running', host: launch.host, gpuIndices: launch.gpuIndices, startedAt: nowSec * 1000 });
      running.push(q.job);
      freeCount.set(launch.host, (freeCount.get(launch.host) as number) - q.spec.gpus);
      countQueued(q.spec.gpus, -1);
      finishes.push(endSec, q);
      outcomes[q.spec.index].startSec = nowSec;
      outcomes[q.spec.index].host = launch.host;
      emit?.({ kind: 'start', atSec: nowSec, job: q.spec.index, host: launch.host, gpuIndices: launch.gpuIndices });
    }
    if (plan.launches.length > 0) {
      queue = queue.filter((q) => q.job.state === 'queued');
    }
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
  if (queue.length > 0) {
    // Only a placement that waits with the cluster idle gets here; without this the jobs would vanish from the metrics.
    throw new SimulationError(`Placement '${policy.placement.name}' left ${queue.length} job(s) waiting after every other job had finished.`);
  }
  return { outcomes, decisionUs, events, rounds, wallMs: performance.now() - started, trainSteps: policy.trainSteps?.() ?? 0 };
}

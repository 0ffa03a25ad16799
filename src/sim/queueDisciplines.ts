/**
 * The orderings the benchmark compares. Each hands core's planDispatch a dispatch order; the product's
 * own is core's dispatchOrder over classifier-assigned priorities, so the queue that is benchmarked
 * is the queue that ships. FCFS and oracle SJF are baselines: planDispatch backfills under all of them,
 * so they differ only in which waiting job is offered free GPUs first.
 */
import type { QueuedEntry } from '../core/jobQueues';
import { dispatchOrder } from '../core/jobQueues';
import { MAX_GPUS } from '../core/features';
import type { PriorityClassifier } from '../core/priorityClassifier';
import type { Job } from '../core/job';
import type { SimJobSpec } from './simJobs';

export interface QueuedSimJob {
  spec: SimJobSpec;
  job: Job;
  /** On a Slurm host: the queue wait drawn when it was sent there. */
  waitSec?: number;
}

export interface QueueDiscipline {
  readonly name: string;
  /** Called once per job, when it is submitted: where per-job work such as classification belongs. */
  admit(queued: QueuedSimJob): void;
  /** `queued` is in submission order; the result must be a total order (ties broken by index). */
  order(queued: readonly QueuedSimJob[], nowMs: number): QueuedEntry[];
}

function entry(job: Job): QueuedEntry {
  return { job, effective: job.priority, promotedLevels: 0 };
}

export function fcfsDiscipline(): QueueDiscipline {
  return {
    name: 'fcfs',
    admit: () => undefined,
    order: (queued) => queued.map((q) => entry(q.job)),
  };
}

/** Shortest true duration first: an oracle no real scheduler has, as a reference point. */
export function sjfDiscipline(): QueueDiscipline {
  return {
    name: 'sjf',
    admit: () => undefined,
    order: (queued) => [...queued].sort((a, b) => a.spec.durationSec - b.spec.durationSec || a.spec.index - b.spec.index).map((q) => entry(q.job)),
  };
}

/**
 * Orders by what a user typed rather than by priority: the shortest runtime estimate first, or the
 * smallest estimated GPU-area (estimate × GPUs). The headroom study's reorderings: what an agent that
 * holds jobs back so that others start first could at best turn the queue into.
 */
export function estimateOrderDiscipline(key: 'estimate' | 'area'): QueueDiscipline {
  const size = key === 'estimate' ? (q: QueuedSimJob) => q.spec.estimateSec : (q: QueuedSimJob) => q.spec.estimateSec * q.spec.gpus;
  return {
    name: `smallest-${key}`,
    admit: () => undefined,
    order: (queued) => [...queued].sort((a, b) => size(a) - size(b) || a.spec.index - b.spec.index).map((q) => entry(q.job)),
  };
}

/**
 * TrainQ's queue: the classifier puts each job in High, Medium or Low from its (synthetic) user
 * inputs once at submission, and dispatchOrder applies aging and the shortest-estimate tie-break.
 */
export function priorityDiscipline(classifier: PriorityClassifier, agingMs: number): QueueDiscipline {
  return {
    name: 'priority',
    admit: ({ job }) => {
      // Traces hold jobs wider than the classifier's input range; to it they are all simply "very wide".
      const { priority, path } = classifier.classify({
        gpus: Math.min(job.gpus, MAX_GPUS),
        importance: job.importance,
        expectedGain: job.expectedGain,
        runtimeSec: job.runtimeSec,
      });
      job.priority = priority;
      job.priorityReason = path;
    },
    order: (queued, nowMs) => dispatchOrder(queued.map((q) => q.job), nowMs, agingMs),
  };
}

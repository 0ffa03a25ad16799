/**
 * The orderings the benchmark compares. Each hands core's planDispatch a dispatch order; the product's
 * own is core's dispatchOrder over classifier-assigned priorities, so the queue that is benchmarked
 * is the queue that ships. FCFS and oracle SJF are baselines: planDispatch backfills under all of them,
 * so they differ only in which waiting job is offered free GPUs first.
 */
import type { QueuedEntry } from '../core/jobQueues';
import { reorder } from '../core/jobQueues';
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
  /**
   * The dispatch order of every admitted job still queued: a total order (ties broken by index). The
   * result is only valid until the next call: disciplines keep their entries between rounds and
   * re-sort them in place.
   */
  order(nowMs: number): QueuedEntry[];
}

function entry(job: Job): QueuedEntry {
  return { job, effective: job.priority, promotedLevels: 0 };
}

/**
 * A discipline's entries, kept across rounds: admitted jobs are appended, started ones dropped in
 * place, so a round costs one pass over the queue (plus a near-linear sort) rather than new arrays.
 */
class KeptEntries {
  private readonly entries: QueuedEntry[] = [];

  add(job: Job): void {
    this.entries.push(entry(job));
  }

  /** Those still queued, in the order they were left in. */
  queued(): QueuedEntry[] {
    let kept = 0;
    for (const e of this.entries) {
      if (e.job.state === 'queued') {
        this.entries[kept++] = e;
      }
    }
    this.entries.length = kept;
    return this.entries;
  }
}

export function fcfsDiscipline(): QueueDiscipline {
  const kept = new KeptEntries();
  return {
    name: 'fcfs',
    admit: (q) => kept.add(q.job),
    order: () => kept.queued(),
  };
}

/** Jobs ordered by a fixed size, smallest first, ties by submission. */
export function bySize(name: string, size: (spec: SimJobSpec) => number): QueueDiscipline {
  const kept = new KeptEntries();
  const sizes = new Map<Job, { size: number; index: number }>();
  return {
    name,
    admit: (q) => {
      kept.add(q.job);
      sizes.set(q.job, { size: size(q.spec), index: q.spec.index });
    },
    order: () => {
      const entries = kept.queued();
      const key = (e: QueuedEntry) => sizes.get(e.job) as { size: number; index: number };
      return entries.sort((a, b) => key(a).size - key(b).size || key(a).index - key(b).index);
    },
  };
}

/** Shortest true duration first: an oracle no real scheduler has, as a reference point. */
export function sjfDiscipline(): QueueDiscipline {
  return bySize('sjf', (spec) => spec.durationSec);
}

/**
 * Orders by what a user typed rather than by priority: the shortest runtime estimate first, or the
 * smallest estimated GPU-area (estimate × GPUs). The headroom study's reorderings: what an agent that
 * holds jobs back so that others start first could at best turn the queue into.
 */
export function estimateOrderDiscipline(key: 'estimate' | 'area'): QueueDiscipline {
  return bySize(`smallest-${key}`, key === 'estimate' ? (spec) => spec.estimateSec : (spec) => spec.estimateSec * spec.gpus);
}

/**
 * TrainQ's queue: the classifier puts each job in High, Medium or Low from its (synthetic) user
 * inputs once at submission, and dispatchOrder applies aging and the shortest-estimate tie-break.
 */
export function priorityDiscipline(classifier: PriorityClassifier, agingMs: number): QueueDiscipline {
  const kept = new KeptEntries();
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
      kept.add(job);
    },
    // core's dispatchOrder, on entries kept from the last round so that the sort is near-linear.
    order: (nowMs) => reorder(kept.queued(), nowMs, agingMs),
  };
}

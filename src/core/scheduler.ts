/**
 * One dispatch round: walk the queue in dispatch order and ask the placement where each job goes.
 * Pure (no I/O, no clock): the extension's dispatcher and the simulator both call it, so the
 * policy that is benchmarked is the one that ships.
 */
import type { QueuedEntry } from './jobQueues';
import type { Job } from './job';
import { canTake, type HostCandidate, type Placement } from './placement';
import { ConstrainedRound } from './constrainedHosts';
import { hasConstraints, type HostProfile, type HostTraits } from './hostConstraints';
import { plural } from './text';

export interface PlannedLaunch {
  job: Job;
  host: string;
  gpuIndices: number[];
}

export interface DispatchPlan {
  launches: PlannedLaunch[];
  /** Why each job that stays queued waits, by job id: shown in the Job Queue. Empty when not asked for. */
  waiting: Map<string, string>;
}

export interface PlanOptions {
  /**
   * Fill `waiting` (default true). The simulator, which shows no reasons, turns it off: the decisions
   * are the same, without a string per queued job per round.
   */
  explainWaits?: boolean;
  /**
   * Why a queued job may not start yet whatever the hosts offer (it waits for its dependencies:
   * dependencies.ts), or undefined. A held job is passed over like one too wide for the free GPUs,
   * so it never blocks the jobs behind it.
   */
  held?: (job: Job) => string | undefined;
  /**
   * Every configured host, online or not, for jobs with host constraints: a job that none of them
   * could ever run says so ("No host can run this job…"); one an offline host could run waits for it.
   * Without it only the online hosts are judged.
   */
  hosts?: readonly HostProfile[];
}

/**
 * Greedy with backfill: a job that cannot start now does not block smaller jobs behind it, which keeps
 * GPUs busy; aging (in the queue order) is what keeps large jobs from starving.
 */
export function planDispatch(order: readonly QueuedEntry[], hosts: readonly HostCandidate[], placement: Placement, options: PlanOptions = {}): DispatchPlan {
  const explain = options.explainWaits ?? true;
  const candidates = hosts.map((h) => ({ ...h, freeGpus: [...h.freeGpus] }));
  const largest = candidates.reduce((m, c) => Math.max(m, c.totalGpus), 0);
  const plan: DispatchPlan = { launches: [], waiting: new Map() };
  // Once the cluster is full most of the queue cannot start; these two figures let such jobs wait
  // without building a feasible list or asking the placement, which keeps long queues cheap.
  let widestFree = widestFreeGpus(candidates);
  let anySlot = candidates.some((c) => c.runningJobs < c.maxJobs);
  // A GPU held by what an ended job left running is the one wait the user can end by hand: say so.
  const notes = candidates.flatMap((c) => c.gpuNotes ?? []);
  const held = notes.length > 0 ? ` (${notes.join('; ')})` : '';
  // Made on the first constrained job only, so rounds without one pay nothing.
  let constrained: ConstrainedRound | undefined;

  for (const { job } of order) {
    if (!explain && !anySlot) {
      // Every job slot is taken, so nothing behind this job can start either, and nobody reads the reasons.
      break;
    }
    const hold = options.held?.(job);
    if (hold !== undefined) {
      if (explain) {
        plan.waiting.set(job.id, hold);
      }
      continue;
    }
    // A constrained job sees only the hosts it may use, with the GPUs that match (constrainedHosts.ts).
    const limits = hasConstraints(job.constraints) ? (constrained ??= new ConstrainedRound(candidates, options.hosts)).check(job, job.constraints) : undefined;
    if (limits?.kind === 'wait') {
      if (explain) {
        plan.waiting.set(job.id, limits.reason);
      }
      continue;
    }
    if (limits === undefined && candidates.length === 0) {
      plan.waiting.set(job.id, 'No host is online.');
      continue;
    }
    if (limits === undefined && job.gpus > largest) {
      if (explain) {
        plan.waiting.set(job.id, `Needs ${plural(job.gpus, 'GPU')} on one host; the largest host has ${largest}${held}.`);
      }
      continue;
    }
    if (limits === undefined && (!anySlot || job.gpus > widestFree)) {
      if (explain) {
        plan.waiting.set(job.id, anySlot ? `Waiting for ${plural(job.gpus, 'free GPU')} on one host${held}.` : SLOT_REASON);
      }
      continue;
    }
    const feasible = limits ? limits.feasible : candidates.filter((c) => canTake(c, job.gpus));
    const decision = placement.choose(job, feasible, limits ? limits.allowed : candidates);
    if (decision.kind === 'wait') {
      if (explain) {
        plan.waiting.set(job.id, decision.reason);
      }
      continue;
    }
    const target = feasible.find((c) => c.host === decision.host);
    if (!target) {
      // A placement bug must not wedge the queue or oversubscribe a host: the job waits and says why.
      plan.waiting.set(job.id, `Placement '${placement.name}' chose '${decision.host}', which cannot take the job now.`);
      continue;
    }
    const gpuIndices = limits ? takeGpus(target, (limits.gpusOf.get(target) ?? []).slice(0, job.gpus)) : target.freeGpus.splice(0, job.gpus);
    target.runningJobs += 1;
    constrained?.launched();
    plan.launches.push({ job, host: target.host, gpuIndices });
    widestFree = widestFreeGpus(candidates);
    anySlot = candidates.some((c) => c.runningJobs < c.maxJobs);
  }
  return plan;
}

/** Removes the chosen GPUs (those matching a constrained job, not merely the lowest) from the host's free list. */
function takeGpus(target: HostCandidate, gpus: number[]): number[] {
  target.freeGpus = target.freeGpus.filter((g) => !gpus.includes(g));
  return gpus;
}

const SLOT_REASON = 'Waiting for a free job slot (every host is at its job limit).';

/**
 * What holds a GPU no TrainQ job runs on any more: a process an ended job started (hosts/jobScripts.ts).
 * Said in the waiting reasons and in the Hosts view's GPU line.
 */
export function leftoverGpuText(job: string, gpuIndex?: number): string {
  return `${gpuIndex === undefined ? '' : `GPU ${gpuIndex} `}still used by a process of job ${job} after it ended`;
}

/** Most free GPUs on any host that still has a job slot; -1 when no host has one. */
function widestFreeGpus(candidates: readonly HostCandidate[]): number {
  let widest = -1;
  for (const c of candidates) {
    if (c.runningJobs < c.maxJobs && c.freeGpus.length > widest) {
      widest = c.freeGpus.length;
    }
  }
  return widest;
}


/**
 * What a host offers the scheduler, derived from its last probe and the jobs TrainQ runs there; its
 * labels and GPU facts (HostTraits) are what host constraints are checked against.
 */
export interface HostOffer extends HostTraits {
  name: string;
  online: boolean;
  gpuIndices: number[];
  speed: number;
  maxJobs: number;
  utilizationPct?: number;
  /** See HostCandidate.expectedWaitSec. */
  expectedWaitSec?: number;
  /** GPUs left out of gpuIndices because a process of an ended job still uses them. */
  leftovers?: readonly GpuLeftover[];
}

export interface GpuLeftover {
  gpu: number;
  jobId: string;
}

/** Free GPUs are derived from the running jobs every round, never tracked separately, so they cannot drift. */
export function buildCandidates(offers: readonly HostOffer[], jobs: readonly Job[]): HostCandidate[] {
  const runningOn = new Map<string, Job[]>();
  for (const job of jobs) {
    if (job.state === 'running' && job.host !== undefined) {
      const list = runningOn.get(job.host);
      if (list) {
        list.push(job);
      } else {
        runningOn.set(job.host, [job]);
      }
    }
  }
  // Plain loops and one object shape: the simulator rebuilds a host's candidate after every start and
  // finish there, which made this map (a Set per host, flatMap, an object spread) a hot spot.
  const candidates: HostCandidate[] = [];
  for (const o of offers) {
    if (!o.online) {
      continue;
    }
    const running = runningOn.get(o.name);
    let held: Set<number> | undefined;
    for (const j of running ?? []) {
      for (const g of j.gpuIndices ?? []) {
        (held ??= new Set()).add(g);
      }
    }
    const freeGpus = held ? o.gpuIndices.filter((i) => !held.has(i)) : o.gpuIndices.slice();
    const candidate: HostCandidate = {
      host: o.name,
      totalGpus: o.gpuIndices.length,
      freeGpus: freeGpus.sort(ascending),
      speed: o.speed,
      runningJobs: running?.length ?? 0,
      maxJobs: o.maxJobs,
      utilizationPct: o.utilizationPct,
    };
    if (o.expectedWaitSec !== undefined) {
      candidate.expectedWaitSec = o.expectedWaitSec;
    }
    copyTraits(o, candidate);
    if (o.leftovers !== undefined && o.leftovers.length > 0) {
      // The job's name where it is still in the list (the history), its id otherwise.
      const nameOf = (id: string) => jobs.find((j) => j.id === id)?.name ?? id;
      candidate.gpuNotes = o.leftovers.map((l) => `${o.name}: ${leftoverGpuText(nameOf(l.jobId), l.gpu)}`);
    }
    candidates.push(candidate);
  }
  return candidates;
}

const ascending = (a: number, b: number): number => a - b;

/** Shared, not copied: traits only change with a new probe or setting, which makes new offers. */
function copyTraits(from: HostTraits, to: HostTraits): void {
  if (from.labels !== undefined) {
    to.labels = from.labels;
  }
  if (from.gpuSpecs !== undefined) {
    to.gpuSpecs = from.gpuSpecs;
  }
  if (from.opaqueGpus) {
    to.opaqueGpus = true;
  }
}

/**
 * The placement seam: given a job and the hosts that could take it now, pick one or wait.
 * The extension ships heuristics here; the DQN agent implements the same interface,
 * and the simulator drives both, so what is benchmarked is what runs.
 */
import type { HostTraits } from './hostConstraints';
import type { Job } from './job';

/** Labels and GPU facts (HostTraits) ride along for jobs with host constraints (constrainedHosts.ts). */
export interface HostCandidate extends HostTraits {
  host: string;
  totalGpus: number;
  /** GPU indices free for TrainQ on this host right now, lowest first. */
  freeGpus: number[];
  speed: number;
  runningJobs: number;
  maxJobs: number;
  /** Mean GPU utilisation in percent when known. */
  utilizationPct?: number;
  /**
   * Seconds a job is expected to wait in the host's own queue before it runs (a Slurm cluster's
   * pending time, learned from what was observed); absent for hosts that start jobs at once.
   */
  expectedWaitSec?: number;
  /** Why GPUs of this host are not offered although no TrainQ job runs there (a leftover of an ended job). */
  gpuNotes?: string[];
}

export type PlacementDecision = { kind: 'place'; host: string } | { kind: 'wait'; reason: string };

/** What a placement is told at the start of each dispatch round. */
export interface RoundView {
  nowMs: number;
  /** Every queued job, including those too wide to start now. */
  queued: readonly Job[];
  /** Running jobs, with `host` and `startedAt` set. */
  running: readonly Job[];
}

/**
 * A placement decides from choose()'s arguments alone, but a learning one (the DQN agent) also needs
 * the clock, the queue and how jobs end: the dispatcher and the simulator call these optional hooks.
 */
export interface Placement {
  readonly name: string;
  /** Before each dispatch round's first choose(). */
  beginRound?(view: RoundView): void;
  /** Whenever the number of queued jobs may have changed. */
  observe?(nowMs: number, queuedJobs: number): void;
  /** A job entered the queue. */
  noteSubmitted?(job: Job): void;
  /** A job that ran ended (any way), after `runSec` seconds on its host. */
  noteFinished?(job: Job, runSec: number): void;
  /**
   * `feasible` holds only hosts with enough free GPUs and a free job slot (never empty);
   * `all` every online host, for policies that reason about the whole cluster.
   * Must return one of `feasible` or wait.
   */
  choose(job: Job, feasible: HostCandidate[], all: HostCandidate[]): PlacementDecision;
}

export function canTake(candidate: HostCandidate, gpus: number): boolean {
  return candidate.runningJobs < candidate.maxJobs && candidate.freeGpus.length >= gpus;
}

/** The shipped default: the host with the most free GPUs that fits, spreading load; ties go to the faster host. */
export class MostFreeGpusPlacement implements Placement {
  readonly name = 'most-free-gpus';

  choose(_job: Job, feasible: HostCandidate[]): PlacementDecision {
    let best = feasible[0];
    for (const c of feasible) {
      if (c.freeGpus.length > best.freeGpus.length || (c.freeGpus.length === best.freeGpus.length && c.speed > best.speed)) {
        best = c;
      }
    }
    return { kind: 'place', host: best.host };
  }
}

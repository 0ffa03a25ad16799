/**
 * Heuristic placements compared by the benchmark against the shipped default (MostFreeGpusPlacement,
 * the load-balancing rule) and, later, the DQN agent. Each is work-conserving: it always places a job
 * that has a feasible host, so differences in the benchmark come from where jobs go, never from idling.
 * `feasible` arrives in the hosts' configured order, which is what "first" means below.
 */
import type { Job } from './job';
import type { HostCandidate, Placement, PlacementDecision } from './placement';

/** The first host that can take the job: cheap and predictable, but blind to speed and fragmentation. */
export class FirstFitPlacement implements Placement {
  readonly name = 'first-fit';

  choose(_job: Job, feasible: HostCandidate[]): PlacementDecision {
    return { kind: 'place', host: feasible[0].host };
  }
}

/**
 * Tightest packing: the host left with the fewest free GPUs, so large holes stay open for large jobs.
 * Ties go to the faster host, then to the first.
 */
export class BestFitPlacement implements Placement {
  readonly name = 'best-fit';

  choose(job: Job, feasible: HostCandidate[]): PlacementDecision {
    let best = feasible[0];
    for (const c of feasible) {
      const left = c.freeGpus.length - job.gpus;
      const bestLeft = best.freeGpus.length - job.gpus;
      if (left < bestLeft || (left === bestLeft && c.speed > best.speed)) {
        best = c;
      }
    }
    return { kind: 'place', host: best.host };
  }
}

/**
 * The fastest host with room, greedily minimising this job's run time. Ties go to the tighter fit
 * (as best-fit) so that equally fast hosts fill one at a time, then to the first.
 */
export class FastestPlacement implements Placement {
  readonly name = 'fastest';

  choose(_job: Job, feasible: HostCandidate[]): PlacementDecision {
    let best = feasible[0];
    for (const c of feasible) {
      if (c.speed > best.speed || (c.speed === best.speed && c.freeGpus.length < best.freeGpus.length)) {
        best = c;
      }
    }
    return { kind: 'place', host: best.host };
  }
}

/**
 * A uniformly random feasible host: the floor any informed placement should beat. The generator is
 * injected (uniform in [0, 1)) so that a seeded one makes benchmark runs repeatable.
 */
export class RandomPlacement implements Placement {
  readonly name = 'random';

  constructor(private readonly random: () => number) {}

  choose(_job: Job, feasible: HostCandidate[]): PlacementDecision {
    // The clamp guards against a generator that returns exactly 1.
    const index = Math.min(feasible.length - 1, Math.floor(this.random() * feasible.length));
    return { kind: 'place', host: feasible[index].host };
  }
}

/**
 * Seconds until the job would finish on a host that can start it now: its run time there (runtimeSec
 * ÷ speed; with learned speeds, the predicted time) plus the host's own queue wait (Slurm).
 */
export function finishSec(job: Job, c: HostCandidate): number {
  return job.runtimeSec / c.speed + (c.expectedWaitSec ?? 0);
}

/** The feasible host where the job would finish soonest (finishSec); ties go to the first. */
export class SoonestFinishPlacement implements Placement {
  readonly name = 'soonest-finish';

  choose(job: Job, feasible: HostCandidate[]): PlacementDecision {
    let best = feasible[0];
    let bestSec = Infinity;
    for (const c of feasible) {
      const sec = finishSec(job, c);
      if (sec < bestSec) {
        best = c;
        bestSec = sec;
      }
    }
    return { kind: 'place', host: best.host };
  }
}

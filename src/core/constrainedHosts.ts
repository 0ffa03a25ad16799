/**
 * The scheduler's view of one constrained job (JobSpec.constraints): which online hosts it may ever
 * use (what a placement sees as `all`), which of them can take it now and with which GPU indices
 * (what it sees as `feasible`), or why it waits. Placements, the DQN agent among them, choose only
 * from `feasible`, so a host the constraints rule out is masked from every one of them alike.
 */
import type { HostConstraints, Job } from './job';
import { canTake, type HostCandidate } from './placement';
import { matchingGpus, neverReason, notNowText, unsatisfiableText, type HostProfile } from './hostConstraints';
import { plural } from './text';

export type ConstrainedHosts =
  | { kind: 'wait'; reason: string }
  | {
      kind: 'fit';
      /** Online hosts that can take the job now, each with its matching free GPUs (lowest first). */
      feasible: HostCandidate[];
      gpusOf: Map<HostCandidate, number[]>;
      /** Online hosts the constraints allow, whether or not they have room now. */
      allowed: HostCandidate[];
    };

const profileOf = (c: HostCandidate): HostProfile => ({ name: c.host, labels: c.labels, gpuSpecs: c.gpuSpecs, opaqueGpus: c.opaqueGpus });

/**
 * `hosts`: every configured host, online or not (so an offline host that could run the job keeps it
 * waiting rather than declared impossible); without it, the online candidates are all there is.
 */
export function constrainedHosts(job: Job, c: HostConstraints, candidates: readonly HostCandidate[], hosts?: readonly HostProfile[]): ConstrainedHosts {
  const profiles = hosts ?? candidates.map(profileOf);
  const possible: HostProfile[] = [];
  const never: string[] = [];
  for (const p of profiles) {
    const why = neverReason(c, job.gpus, p);
    if (why === undefined) {
      possible.push(p);
    } else {
      never.push(why);
    }
  }
  if (possible.length === 0) {
    return { kind: 'wait', reason: unsatisfiableText(c, never) };
  }
  const allowed = candidates.filter((cand) => neverReason(c, job.gpus, profileOf(cand)) === undefined);
  const online = new Set(allowed.map((a) => a.host));
  const offline = possible.filter((p) => !online.has(p.name)).map((p) => p.name);
  const feasible: HostCandidate[] = [];
  const gpusOf = new Map<HostCandidate, number[]>();
  const notNow: string[] = [];
  for (const cand of allowed) {
    const gpus = matchingGpus(c, cand, cand.freeGpus);
    if (canTake(cand, job.gpus) && gpus.length >= job.gpus) {
      feasible.push(cand);
      gpusOf.set(cand, gpus);
    } else if (cand.totalGpus < job.gpus) {
      notNow.push(`${cand.host} has ${plural(cand.totalGpus, 'GPU')} for TrainQ, the job needs ${job.gpus}`);
    } else {
      notNow.push(notNowText(cand.host, c, job.gpus, gpus.length, cand.runningJobs < cand.maxJobs, cand.maxJobs));
    }
  }
  if (feasible.length > 0) {
    return { kind: 'fit', feasible, gpusOf, allowed };
  }
  if (offline.length > 0) {
    notNow.push(`${offline.join(', ')} ${offline.length === 1 ? 'is' : 'are'} offline`);
  }
  return { kind: 'wait', reason: `Waiting for a host it may use: ${notNow.join('; ')}.` };
}

/**
 * constrainedHosts for one dispatch round, remembered per (constraints, GPU count): queues often hold
 * many jobs with the same constraints (a sweep's trials, a re-run series), and between two launches
 * the answer for them cannot change. `launched()` forgets the answers once a launch took GPUs or a slot.
 */
export class ConstrainedRound {
  private readonly answers = new Map<string, ConstrainedHosts>();
  private readonly keys = new WeakMap<HostConstraints, string>();

  constructor(
    private readonly candidates: readonly HostCandidate[],
    private readonly hosts?: readonly HostProfile[],
  ) {}

  check(job: Job, c: HostConstraints): ConstrainedHosts {
    let key = this.keys.get(c);
    if (key === undefined) {
      key = JSON.stringify([c.require, c.exclude, c.gpuModel, c.minGpuMemMiB]);
      this.keys.set(c, key);
    }
    key = `${job.gpus}:${key}`;
    let answer = this.answers.get(key);
    if (answer === undefined) {
      answer = constrainedHosts(job, c, this.candidates, this.hosts);
      this.answers.set(key, answer);
    }
    return answer;
  }

  launched(): void {
    this.answers.clear();
  }
}

/**
 * The offers as a played-forward queue should see them (etaPlanner.ts): the memory a running TrainQ
 * job uses on its GPUs comes back when it ends, so those GPUs count as empty. Offers without GPU
 * facts are returned as they are.
 */
export function withJobMemoryFreed<T extends HostProfile>(offers: readonly T[], jobs: readonly Job[]): T[] {
  return offers.map((o) => {
    const held = new Set(jobs.filter((j) => j.state === 'running' && j.host === o.name).flatMap((j) => j.gpuIndices ?? []));
    if (o.gpuSpecs === undefined || held.size === 0) {
      return o;
    }
    return { ...o, gpuSpecs: o.gpuSpecs.map((g) => (held.has(g.index) ? { ...g, memoryUsedMiB: 0 } : g)) };
  });
}

/**
 * Placements that leave GPUs idle on purpose, for the headroom study (src/sim/headroom.ts): the two
 * ways a "wait" can pay off rather than merely reorder the queue. Neither ships; they show what
 * holding back is worth on a workload, whoever decides it.
 */
import type { Job } from '../core/job';
import type { HostCandidate, Placement, PlacementDecision, RoundView } from '../core/placement';
import { FEATURE_COUNT, FEATURE_NAMES, RoundSummary } from '../agent/encoder';

/** Every wait is released once something ends: holds only while a job runs, so nothing stalls. */
const somethingRuns = (all: readonly HostCandidate[]): boolean => all.some((c) => c.runningJobs > 0);

/**
 * Keeps `share` of the cluster's GPUs for short jobs: a job estimated longer than twice the typical
 * job (a running geometric mean of estimates, as the agent's time unit) waits rather than take them.
 */
export function reserveForShortJobs(inner: Placement, share: number): Placement {
  let logUnit = Math.log(3600);
  return {
    name: `reserve-${share}`,
    noteSubmitted(job: Job) {
      logUnit += 0.01 * (Math.log(Math.max(1, job.runtimeSec)) - logUnit);
    },
    choose(job, feasible, all): PlacementDecision {
      const total = all.reduce((s, c) => s + c.totalGpus, 0);
      const free = all.reduce((s, c) => s + c.freeGpus.length, 0);
      if (somethingRuns(all) && job.runtimeSec > 2 * Math.exp(logUnit) && free - job.gpus < share * total) {
        return { kind: 'wait', reason: 'kept for short jobs' };
      }
      return inner.choose(job, feasible, all);
    },
  };
}

const WAIT_GAIN = FEATURE_NAMES.indexOf('waitBestGain');

/**
 * The agent's `faster-host` rule taken greedily: wait whenever a strictly faster host is expected (from
 * the running jobs' estimates) to finish the job more than `minGain` sooner than the best host free now,
 * within the agent's hold cap (a quarter of the estimate, at most 12 h). Uses the agent's own encoder
 * for "expected", so it judges by exactly what the agent sees.
 */
export function fasterHostWait(inner: Placement, minGain: number): Placement {
  let view: RoundView = { nowMs: 0, queued: [], running: [] };
  let round: RoundSummary | undefined;
  const heldSince = new Map<string, number>();
  return {
    name: `faster-host-wait-${minGain}`,
    beginRound(v) {
      view = v;
      round = undefined;
    },
    choose(job, feasible, all): PlacementDecision {
      round ??= new RoundSummary(view, 3600);
      const now = round.nowSec;
      const since = heldSince.get(job.id) ?? now;
      const holdCapSec = Math.min(12 * 3600, 0.25 * job.runtimeSec);
      const allowWait = now - since < holdCapSec && somethingRuns(all);
      const encoded = round.encode(job, feasible, all, { allowWait, heldSec: now - since, holdCapSec });
      if (allowWait && encoded.rows[(encoded.count - 1) * FEATURE_COUNT + WAIT_GAIN] > minGain) {
        heldSince.set(job.id, since);
        return { kind: 'wait', reason: 'a faster host frees up soon' };
      }
      heldSince.delete(job.id);
      const decision = inner.choose(job, feasible, all);
      if (decision.kind === 'place') {
        round.recordLaunch(decision.host, job, feasible.find((c) => c.host === decision.host)?.speed ?? 1);
      }
      return decision;
    },
  };
}

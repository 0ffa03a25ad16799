/**
 * The `oracle` policy: a reference that knows the truth no real scheduler has, each job's true run time
 * on every host (spec.hostSec), so the bench shows how far from it the learning policies are. It is not
 * a target: shortest-true-first is near-optimal for mean JCT only when jobs do not compete for hosts.
 *
 *   order      shortest true run time first (the job's fastestSec, its best host's), ties by submission
 *   placement  "soonest true finish": the feasible host where run time + expected queue wait is least
 *
 * Placement.choose sees only core's Job, so the placement learns the job → spec mapping from the
 * discipline's admit(), which the simulator calls once per job before any round can offer it.
 */
import type { Job } from '../core/job';
import type { Placement } from '../core/placement';
import type { PolicyContext, PolicyInstance } from './policyTypes';
import { bySize } from './queueDisciplines';
import type { SimJobSpec } from './simJobs';

export const ORACLE_SUMMARY = 'knows the truth (a reference, not a target): shortest true run time first, host of soonest true finish';

export function createOraclePolicy(ctx: PolicyContext): PolicyInstance {
  const hostIndex = new Map(ctx.cluster.hosts.map((h, i) => [h.name, i]));
  const specOf = new Map<Job, SimJobSpec>();
  const order = bySize('shortest-true', (spec) => spec.fastestSec);
  const placement: Placement = {
    name: 'soonest-true-finish',
    choose(job, feasible) {
      const spec = specOf.get(job);
      if (!spec) {
        throw new Error(`oracle: job ${job.id} was offered a host before it was admitted; the simulator admits every job first.`);
      }
      let best = feasible[0];
      let bestSec = Infinity;
      for (const c of feasible) {
        const sec = spec.hostSec[hostIndex.get(c.host) as number] + (c.expectedWaitSec ?? 0);
        if (sec < bestSec) {
          best = c;
          bestSec = sec;
        }
      }
      return { kind: 'place', host: best.host };
    },
  };
  return {
    discipline: {
      name: order.name,
      admit: (q) => {
        specOf.set(q.job, q.spec);
        order.admit(q);
      },
      order: (nowMs) => order.order(nowMs),
    },
    placement,
  };
}

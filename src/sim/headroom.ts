/**
 * How much room a placement agent has at all: the `npm run bench:headroom` study behind the README's
 * statement that the DQN's JCT target is out of reach on the development traces.
 *
 * The agent's actions are "place on a host that can take the job now" or "wait" (core's planDispatch
 * then offers the GPUs to the next job in the queue), and it sees runtime estimates, never true
 * durations. So whatever it learns, its schedule is one of three kinds, each of which has a family of
 * hand-written stand-ins here, run through the same simulator and queues as the benchmark:
 *   placement  which host, in the product's queue order: every heuristic placement (the
 *              benchmark's priority-* policies);
 *   reorder    a different order of the queue by estimate (waiting on a job so that one behind it
 *              starts first): shortest estimate first, smallest estimated GPU-area first, and the
 *              product's queue with other aging periods, each with every placement. The stand-ins
 *              reorder freely; the agent only within its hold cap, so they bound it from above;
 *   hold       leaving GPUs idle on purpose: keep a share of the cluster for short jobs, or wait for
 *              a faster host expected to free up (the agent's own `faster-host` rule, taken greedily).
 * For scale: the oracle (shortest true duration first, every placement), and the spread of
 * priority-random over seeds, which shows how much JCT moves when nothing but chance changes.
 */
import type { Placement } from '../core/placement';
import { MostFreeGpusPlacement } from '../core/placement';
import { BestFitPlacement, FastestPlacement, FirstFitPlacement, RandomPlacement } from '../core/placementPolicies';
import { PriorityClassifier } from '../core/priorityClassifier';
import type { Cluster } from './clusterLoader';
import { policyMetrics } from './metrics';
import { withPlacementHooks } from './placementHooks';
import { fasterHostWait, reserveForShortJobs } from './holdPlacements';
import { estimateOrderDiscipline, fcfsDiscipline, priorityDiscipline, sjfDiscipline, type QueueDiscipline } from './queueDisciplines';
import { createRng } from './rng';
import type { SimJobSpec } from './simJobs';
import { simulate } from './simulator';

export type Family = 'placement' | 'reorder' | 'hold' | 'oracle' | 'chance' | 'fcfs';

export interface Variant {
  family: Family;
  name: string;
  avgJct: number;
}

export interface HeadroomReport {
  /** The best policy the benchmark's target is measured against: fcfs-firstfit or a priority-* one. */
  yardstick: Variant;
  variants: Variant[];
  /** Per family, its best variant. */
  best: Partial<Record<Family, Variant>>;
}

const HOUR_MS = 3_600_000;

const PLACEMENTS: ReadonlyArray<[string, () => Placement]> = [
  ['firstfit', () => new FirstFitPlacement()],
  ['bestfit', () => new BestFitPlacement()],
  ['least-loaded', () => new MostFreeGpusPlacement()],
  ['fastest', () => new FastestPlacement()],
];

interface Candidate {
  family: Family;
  name: string;
  discipline: () => QueueDiscipline;
  placement: () => Placement;
}

const priority = (agingMs: number) => () => priorityDiscipline(new PriorityClassifier(), agingMs);

function candidates(seeds: readonly number[]): Candidate[] {
  const list: Candidate[] = [{ family: 'fcfs', name: 'fcfs-firstfit', discipline: fcfsDiscipline, placement: () => new FirstFitPlacement() }];
  for (const [p, make] of PLACEMENTS) {
    // The product's own queue with every placement: the benchmark's priority-* policies.
    list.push({ family: 'placement', name: `priority-${p}`, discipline: priority(HOUR_MS), placement: make });
    list.push({ family: 'reorder', name: `shortest-estimate · ${p}`, discipline: () => estimateOrderDiscipline('estimate'), placement: make });
    list.push({ family: 'reorder', name: `smallest-estimated-area · ${p}`, discipline: () => estimateOrderDiscipline('area'), placement: make });
    for (const hours of [0.25, 4, 24]) {
      list.push({ family: 'reorder', name: `priority, aging ${hours} h · ${p}`, discipline: priority(hours * HOUR_MS), placement: make });
    }
    list.push({ family: 'reorder', name: `priority, no aging · ${p}`, discipline: priority(0), placement: make });
    for (const share of [0.05, 0.1]) {
      list.push({ family: 'hold', name: `reserve ${share * 100}% for short jobs · ${p}`, discipline: priority(HOUR_MS), placement: () => reserveForShortJobs(make(), share) });
    }
    list.push({ family: 'oracle', name: `shortest-true-duration · ${p}`, discipline: () => sjfDiscipline(), placement: make });
  }
  for (const minGain of [0, 0.25, 0.5]) {
    list.push({ family: 'hold', name: `wait for a faster host (gain > ${minGain}) · fastest`, discipline: priority(HOUR_MS), placement: () => fasterHostWait(new FastestPlacement(), minGain) });
  }
  for (const seed of seeds) {
    list.push({ family: 'chance', name: `priority-random, seed ${seed}`, discipline: priority(HOUR_MS), placement: () => new RandomPlacement(createRng(seed, 'placement-random').next) });
  }
  return list;
}

/** Runs every stand-in on one workload (about fifty simulations). */
export function runHeadroom(jobs: readonly SimJobSpec[], cluster: Cluster, seeds: readonly number[] = [1, 2, 3, 4, 5]): HeadroomReport {
  const variants: Variant[] = candidates(seeds).map((c) => {
    const run = simulate(jobs, cluster, withPlacementHooks(c.discipline(), c.placement()), { seed: 1 });
    return { family: c.family, name: c.name, avgJct: policyMetrics(jobs, cluster, run).avgJct };
  });
  // The benchmark's policies that do not know true durations; its priority-random is seed 1.
  const firstRandom = variants.find((v) => v.family === 'chance');
  const benchmarked = variants.filter((v) => v.family === 'placement' || v.family === 'fcfs' || v === firstRandom);
  const yardstick = benchmarked.reduce((a, b) => (b.avgJct < a.avgJct ? b : a));
  const best: HeadroomReport['best'] = {};
  for (const v of variants) {
    const current = best[v.family];
    if (!current || v.avgJct < current.avgJct) {
      best[v.family] = v;
    }
  }
  return { yardstick, variants, best };
}

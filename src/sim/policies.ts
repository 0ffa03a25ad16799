/**
 * The named policies the benchmark runs: an ordering (queue discipline) paired with a placement.
 * Names are a contract (other tools read them from the JSON), so they live in one table; a new
 * policy, such as the DQN placement, is one entry here.
 */
import { createDqnPolicy, DQN_SUMMARY } from './dqnPolicy';
import { createOraclePolicy, ORACLE_SUMMARY } from './oraclePolicy';
import { MostFreeGpusPlacement, type Placement } from '../core/placement';
import { BestFitPlacement, FastestPlacement, FirstFitPlacement, RandomPlacement, SoonestFinishPlacement } from '../core/placementPolicies';
import { PriorityClassifier } from '../core/priorityClassifier';
import { fcfsDiscipline, priorityDiscipline, sjfDiscipline } from './queueDisciplines';
import { createRng } from './rng';
import { withLearnedRuntimes } from './learnedRuntimes';
import type { PolicyContext, PolicyInstance } from './policyTypes';

export interface PolicyEntry {
  name: string;
  summary: string;
  /** May be async, for a placement that loads a model or starts a backend before its first decision. */
  create: (ctx: PolicyContext) => PolicyInstance | Promise<PolicyInstance>;
}

export class PolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyError';
  }
}

const withPriority = (ctx: PolicyContext, placement: Placement): PolicyInstance => ({
  discipline: priorityDiscipline(new PriorityClassifier(), ctx.agingMs),
  placement,
});

export const POLICIES: readonly PolicyEntry[] = [
  {
    name: 'fcfs-firstfit',
    summary: 'submission order, first host with room',
    create: () => ({ discipline: fcfsDiscipline(), placement: new FirstFitPlacement() }),
  },
  {
    name: 'sjf-firstfit',
    summary: 'shortest true duration first (an oracle), first host with room',
    create: () => ({ discipline: sjfDiscipline(), placement: new FirstFitPlacement() }),
  },
  { name: 'oracle', summary: ORACLE_SUMMARY, create: createOraclePolicy },
  { name: 'priority-firstfit', summary: 'TrainQ priority queues, first host with room', create: (ctx) => withPriority(ctx, new FirstFitPlacement()) },
  { name: 'priority-bestfit', summary: 'TrainQ priority queues, tightest packing', create: (ctx) => withPriority(ctx, new BestFitPlacement()) },
  {
    name: 'priority-least-loaded',
    summary: "TrainQ priority queues, the shipped default placement (most free GPUs)",
    create: (ctx) => withPriority(ctx, new MostFreeGpusPlacement()),
  },
  { name: 'priority-fastest', summary: 'TrainQ priority queues, fastest host with room', create: (ctx) => withPriority(ctx, new FastestPlacement()) },
  {
    name: 'priority-random',
    summary: 'TrainQ priority queues, a random host with room (seeded)',
    create: (ctx) => withPriority(ctx, new RandomPlacement(createRng(ctx.seed, 'placement-random').next)),
  },
  {
    name: 'learned-soonest',
    summary: 'TrainQ priority queues over predicted run times, host of soonest predicted finish (the run-time model without the agent)',
    create: (ctx) => withLearnedRuntimes(withPriority(ctx, new SoonestFinishPlacement())),
  },
  { name: 'dqn', summary: DQN_SUMMARY, create: async (ctx) => withLearnedRuntimes(await createDqnPolicy(ctx)) },
];

/** The policies run when none are named: all of them. */
export function defaultPolicyNames(): string[] {
  return POLICIES.map((p) => p.name);
}

/** Looks the names up in order (duplicates dropped); unknown names are errors. */
export function resolvePolicies(names: readonly string[]): PolicyEntry[] {
  const resolved: PolicyEntry[] = [];
  for (const name of new Set(names)) {
    const entry = POLICIES.find((p) => p.name === name);
    if (!entry) {
      throw new PolicyError(`Unknown policy '${name}'; known policies: ${POLICIES.map((p) => p.name).join(', ')}.`);
    }
    resolved.push(entry);
  }
  return resolved;
}

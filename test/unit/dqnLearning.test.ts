import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RandomPlacement } from '../../src/core/placementPolicies';
import { PriorityClassifier } from '../../src/core/priorityClassifier';
import type { HostCandidate } from '../../src/core/placement';
import { createAgent } from '../../src/agent/agentSetup';
import { resolveBackend } from '../../src/agent/backend';
import type { Cluster } from '../../src/sim/clusterLoader';
import { dqnPolicyInstance } from '../../src/sim/dqnPolicy';
import { policyMetrics } from '../../src/sim/metrics';
import { priorityDiscipline } from '../../src/sim/queueDisciplines';
import { createRng } from '../../src/sim/rng';
import { buildWorkload } from '../../src/sim/simJobs';
import { simulate } from '../../src/sim/simulator';
import { makeJob } from '../support/builders';

// Two one-GPU hosts, one twice as fast, and light load: the best placement is known (the fast host
// whenever it is free), and a random one puts half the jobs on the slow host.
const CLUSTER: Cluster = { name: 'two', hosts: [{ name: 'slow', gpus: 1, speed: 1 }, { name: 'fast', gpus: 1, speed: 2 }] };

function workload(seed: number, n: number) {
  const rng = createRng(seed, 'two-hosts');
  let t = 0;
  const rows = Array.from({ length: n }, (_, i) => {
    t += -3 * 3600 * Math.log(1 - rng.next());
    return { line: i + 2, submitSec: t, durationSec: 3600 * (0.5 + rng.next()), gpus: 1 };
  });
  return buildWorkload(rows, CLUSTER, seed).jobs;
}

test('the DQN learns to prefer the faster host and beats random placement clearly', async (t) => {
  const { tf } = await resolveBackend('wasm');
  const agent = createAgent(
    tf,
    undefined,
    { init: createRng(1, 'init').next, learner: createRng(1, 'learner').next },
    { config: { learningRate: 1e-3, epsilonStart: 1, epsilonEnd: 0.05, epsilonDecayDecisions: 1000, minReplay: 64, targetSyncEvery: 100 } },
  );
  for (let episode = 0; episode < 6; episode++) {
    const policy = dqnPolicyInstance(agent, { agingMs: 3_600_000 });
    simulate(workload(100 + episode, 250), CLUSTER, policy);
    policy.dispose?.();
  }
  assert.ok(agent.learner.trainSteps > 1000, `trained ${agent.learner.trainSteps} steps`);

  // Both hosts free: greedy Q-values rank the fast host first.
  agent.placement.learning = false;
  const job = makeJob({ runtimeSec: 3600 });
  const free = (host: string, speed: number): HostCandidate => ({ host, totalGpus: 1, freeGpus: [0], speed, runningJobs: 0, maxJobs: 1 });
  agent.placement.beginRound({ nowMs: 0, queued: [job], running: [] });
  assert.deepEqual(agent.placement.choose(job, [free('slow', 1), free('fast', 2)], [free('slow', 1), free('fast', 2)]), { kind: 'place', host: 'fast' });

  // On unseen arrivals, greedy and frozen, it beats a random placement by a clear margin.
  const test = workload(999, 300);
  const frozen = dqnPolicyInstance(agent, { agingMs: 3_600_000 });
  const dqn = policyMetrics(test, CLUSTER, simulate(test, CLUSTER, frozen)).avgJct;
  frozen.dispose?.();
  const random = policyMetrics(
    test,
    CLUSTER,
    simulate(test, CLUSTER, { discipline: priorityDiscipline(new PriorityClassifier(), 3_600_000), placement: new RandomPlacement(createRng(1, 'random').next) }),
  ).avgJct;
  t.diagnostic(`avg JCT: DQN ${(dqn / 3600).toFixed(2)} h, random ${(random / 3600).toFixed(2)} h`);
  assert.ok(dqn < 0.85 * random, `DQN avg JCT ${(dqn / 3600).toFixed(2)} h vs random ${(random / 3600).toFixed(2)} h`);
  agent.learner.dispose();
});

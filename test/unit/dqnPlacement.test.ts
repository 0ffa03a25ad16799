import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HostCandidate } from '../../src/core/placement';
import { canTake } from '../../src/core/placement';
import { AgentStats } from '../../src/agent/agentStats';
import { createAgent } from '../../src/agent/agentSetup';
import { resolveBackend } from '../../src/agent/backend';
import type { Cluster } from '../../src/sim/clusterLoader';
import { createDqnPolicy, dqnPolicyInstance } from '../../src/sim/dqnPolicy';
import { createRng } from '../../src/sim/rng';
import { buildWorkload } from '../../src/sim/simJobs';
import { simulate } from '../../src/sim/simulator';
import { makeJob } from '../support/builders';

const CLUSTER: Cluster = {
  name: 'mixed',
  hosts: [
    { name: 'a100', gpus: 4, speed: 1.6 },
    { name: 'v100', gpus: 8, speed: 1 },
    { name: 't4', gpus: 2, speed: 0.35 },
  ],
};

/** A small, busy synthetic trace: arrivals every ~20 min, run times from minutes to a day, 1–4 GPUs. */
function workload(seed: number, n = 150) {
  const rng = createRng(seed, 'test-trace');
  let t = 0;
  const rows = Array.from({ length: n }, (_, i) => {
    t += -1200 * Math.log(1 - rng.next());
    return { line: i + 2, submitSec: t, durationSec: Math.round(600 * Math.exp(3 * rng.next())), gpus: [1, 1, 2, 4][Math.floor(rng.next() * 4)] };
  });
  return buildWorkload(rows, CLUSTER, seed).jobs;
}

async function exploringAgent(seed: number, stats?: AgentStats) {
  const { tf } = await resolveBackend('cpu');
  const agent = createAgent(tf, undefined, { init: createRng(seed, 'init').next, learner: createRng(seed, 'learner').next }, { config: { epsilonStart: 1, epsilonEnd: 1, minReplay: 32 }, stats });
  return { tf, agent };
}

test('masking: whatever it explores, the agent only ever picks a feasible host, or waits when waiting is safe', async () => {
  const { agent } = await exploringAgent(5);
  const rng = createRng(5, 'candidates');
  let waits = 0;
  for (let i = 0; i < 400; i++) {
    const all: HostCandidate[] = Array.from({ length: 1 + Math.floor(rng.next() * 6) }, (_, h) => {
      const total = [1, 2, 4, 8][Math.floor(rng.next() * 4)];
      const free = Math.floor(rng.next() * (total + 1));
      return { host: `h${h}`, totalGpus: total, freeGpus: Array.from({ length: free }, (_, g) => g), speed: 0.35 + rng.next(), runningJobs: total - free, maxJobs: total };
    });
    const job = makeJob({ gpus: 1 + Math.floor(rng.next() * 2), runtimeSec: 3600 });
    const feasible = all.filter((c) => canTake(c, job.gpus));
    if (feasible.length === 0) {
      continue;
    }
    agent.placement.beginRound({ nowMs: i * 1000, queued: [job], running: [] });
    const decision = agent.placement.choose(job, feasible, all);
    if (decision.kind === 'place') {
      assert.ok(feasible.some((c) => c.host === decision.host), `chose ${decision.host}, feasible: ${feasible.map((c) => c.host).join(',')}`);
    } else {
      waits += 1;
      assert.ok(all.some((c) => c.runningJobs > 0), 'waits only while something runs');
    }
  }
  assert.ok(waits > 0, 'waiting was explored');
  agent.learner.dispose();
});

test('a job is not held beyond its cap: once held long enough it must be placed', async () => {
  const { agent } = await exploringAgent(6);
  const job = makeJob({ runtimeSec: 4 * 3600 });
  const busy: HostCandidate = { host: 'busy', totalGpus: 1, freeGpus: [], speed: 2, runningJobs: 1, maxJobs: 1 };
  const free: HostCandidate = { host: 'free', totalGpus: 1, freeGpus: [0], speed: 1, runningJobs: 0, maxJobs: 1 };
  let held = 0;
  for (let minute = 0; minute < 24 * 60; minute += 10) {
    agent.placement.beginRound({ nowMs: minute * 60_000, queued: [job], running: [] });
    const d = agent.placement.choose(job, [free], [free, busy]);
    if (d.kind === 'place') {
      held = minute;
      break;
    }
    assert.ok(minute < 2 * 60, `held at minute ${minute}, past half its 4 h estimate`);
  }
  assert.ok(held <= 2 * 60);
  agent.learner.dispose();
});

test('even exploring at random, a simulation never stalls: every job finishes', async () => {
  const stats = new AgentStats('cpu');
  const { agent } = await exploringAgent(7, stats);
  const jobs = workload(7);
  const run = simulate(jobs, CLUSTER, dqnPolicyInstance(agent, { agingMs: 3_600_000 }));
  assert.ok(run.outcomes.every((o) => Number.isFinite(o.endSec)));
  const decisions = stats.decisions.toArray();
  assert.ok(decisions.some((d) => d.chosen === undefined), 'some decisions were waits');
  assert.ok(decisions.every((d) => d.candidates.some((c) => c.host === d.chosen)), 'the chosen action is among the scored candidates');
  assert.ok(run.trainSteps > 0, 'it trained online');
  agent.learner.dispose();
});

test('same seed, same numbers; another seed, another run', async () => {
  const jobs = workload(11, 120);
  const runOnce = async (seed: number) => {
    const policy = await createDqnPolicy({ seed, agingMs: 3_600_000, cluster: CLUSTER });
    try {
      return simulate(jobs, CLUSTER, policy).outcomes;
    } finally {
      policy.dispose?.();
    }
  };
  const a = await runOnce(1);
  const b = await runOnce(1);
  assert.deepEqual(a, b);
  const c = await runOnce(2);
  assert.notDeepEqual(a, c);
});

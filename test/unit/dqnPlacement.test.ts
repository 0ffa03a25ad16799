import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HostCandidate } from '../../src/core/placement';
import { canTake } from '../../src/core/placement';
import { AgentStats, type DecisionRecord } from '../../src/agent/agentStats';
import { DEFAULT_PLACEMENT_OPTIONS, type WaitOffer } from '../../src/agent/dqnPlacement';
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

/** Many hosts of each speed, so that jobs competing for hosts often have several to choose from. */
const WIDE: Cluster = {
  name: 'wide',
  hosts: ['a', 'b', 'c', 'd', 'e', 'f'].map((name, i) => ({ name, gpus: 4, speed: [1.6, 1, 0.5][i % 3] })),
};

/** A small, busy synthetic trace: arrivals every ~20 min, run times from minutes to a day, 1–4 GPUs. */
function workload(seed: number, n = 150, meanGapSec = 1200, cluster: Cluster = CLUSTER) {
  const rng = createRng(seed, 'test-trace');
  let t = 0;
  const rows = Array.from({ length: n }, (_, i) => {
    t += -meanGapSec * Math.log(1 - rng.next());
    return { line: i + 2, submitSec: t, durationSec: Math.round(600 * Math.exp(3 * rng.next())), gpus: [1, 1, 2, 4][Math.floor(rng.next() * 4)] };
  });
  return buildWorkload(rows, cluster, seed).jobs;
}

async function exploringAgent(seed: number, stats?: AgentStats, waitOffer: WaitOffer = 'faster-host') {
  const { tf } = await resolveBackend('cpu');
  const agent = createAgent(
    tf,
    undefined,
    { init: createRng(seed, 'init').next, learner: createRng(seed, 'learner').next },
    { config: { epsilonStart: 1, epsilonEnd: 1, minReplay: 32 }, placement: { waitOffer }, stats },
  );
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
    const job = makeJob({ gpus: 1 + Math.floor(rng.next() * 2), runtimeSec: 20 * 3600 });
    const feasible = all.filter((c) => canTake(c, job.gpus));
    if (feasible.length === 0) {
      continue;
    }
    // Busy hosts' jobs end within the hour, so waiting for a faster one is sometimes on offer.
    const running = all.filter((c) => c.runningJobs > 0).map((c) => makeJob({ state: 'running', host: c.host, startedAt: i * 1000, runtimeSec: 3600 * c.speed, gpus: c.totalGpus - c.freeGpus.length }));
    agent.placement.beginRound({ nowMs: i * 1000, queued: [job], running });
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

test('waiting is offered only for a faster host expected soon, and never beyond the hold cap', async () => {
  const stats = new AgentStats('cpu');
  const { agent } = await exploringAgent(6, stats);
  const job = makeJob({ runtimeSec: 40 * 3600 });
  // The fast host's only job ends in 5 h; then it would run this job in 20 h, against 40 h on the slow host now.
  const blocker = makeJob({ runtimeSec: 10 * 3600, state: 'running', host: 'fast', startedAt: 0 });
  const fast: HostCandidate = { host: 'fast', totalGpus: 1, freeGpus: [], speed: 2, runningJobs: 1, maxJobs: 1 };
  const slow: HostCandidate = { host: 'slow', totalGpus: 1, freeGpus: [0], speed: 1, runningJobs: 0, maxJobs: 1 };
  const offered = (nowMs: number, running = [blocker]) => {
    agent.placement.beginRound({ nowMs, queued: [job], running });
    const decision = agent.placement.choose(job, [slow], [slow, fast]);
    const last = stats.decisions.toArray().pop() as DecisionRecord;
    return { decision, waitOffered: last.candidates.some((c) => c.host === undefined) };
  };
  // No faster host in sight (nothing known to free it): no wait row at all.
  assert.equal(offered(0, []).waitOffered, false);
  // A faster host soon: wait is offered; exploring at random, the agent eventually takes it.
  let first = offered(0);
  for (let i = 1; first.decision.kind === 'place'; i++) {
    assert.ok(first.waitOffered);
    first = offered(i * 1000);
  }
  const capMs = DEFAULT_PLACEMENT_OPTIONS.maxHoldFraction * job.runtimeSec * 1000;
  assert.ok(capMs <= DEFAULT_PLACEMENT_OPTIONS.maxHoldSec * 1000);
  // Past the cap, the job must go to a free host whatever the agent would like.
  const late = offered(capMs + 60_000);
  assert.equal(late.waitOffered, false);
  assert.deepEqual(late.decision, { kind: 'place', host: 'slow' });
  agent.learner.dispose();
});

test('wait offers: `never` scores hosts only, `when-safe` offers waiting whenever something runs', async () => {
  const job = makeJob({ runtimeSec: 40 * 3600 });
  // Nothing faster is about to free up: only `when-safe` would wait here.
  const busy: HostCandidate = { host: 'busy', totalGpus: 2, freeGpus: [1], speed: 1, runningJobs: 1, maxJobs: 2 };
  const running = [makeJob({ state: 'running', host: 'busy', startedAt: 0, runtimeSec: 3600 })];
  const offered = async (waitOffer: WaitOffer) => {
    const stats = new AgentStats('cpu');
    const { agent } = await exploringAgent(9, stats, waitOffer);
    let waitRows = 0;
    for (let i = 0; i < 20; i++) {
      agent.placement.beginRound({ nowMs: i, queued: [job], running });
      const decision = agent.placement.choose(job, [busy], [busy]);
      const last = stats.decisions.toArray().pop() as DecisionRecord;
      waitRows += last.candidates.filter((c) => c.host === undefined).length;
      if (waitOffer === 'never') {
        assert.deepEqual(decision, { kind: 'place', host: 'busy' });
      }
    }
    agent.learner.dispose();
    return waitRows;
  };
  assert.equal(await offered('never'), 0);
  assert.equal(await offered('faster-host'), 0);
  assert.equal(await offered('when-safe'), 20);
});

test('with no job competing for hosts only the soonest-finishing ones are offered; under contention every feasible host is', async () => {
  const stats = new AgentStats('cpu');
  const { agent } = await exploringAgent(10, stats, 'never');
  const fast: HostCandidate = { host: 'fast', totalGpus: 4, freeGpus: [0, 1], speed: 2, runningJobs: 2, maxJobs: 4 };
  const fast2: HostCandidate = { ...fast, host: 'fast2' };
  const slow: HostCandidate = { host: 'slow', totalGpus: 4, freeGpus: [0, 1, 2, 3], speed: 1, runningJobs: 0, maxJobs: 4 };
  const job = makeJob({ gpus: 1, runtimeSec: 3600 });
  const offered = (queued: ReturnType<typeof makeJob>[]) => {
    agent.placement.beginRound({ nowMs: 0, queued, running: [] });
    const decision = agent.placement.choose(job, [fast, fast2, slow], [fast, fast2, slow]);
    const last = stats.decisions.toArray().pop() as DecisionRecord;
    return { decision, candidates: last.candidates.map((c) => c.host).sort(), infeasible: last.infeasible };
  };
  // 3 GPUs asked for, 8 free: the two fast hosts are offered, the slow one is listed with why not.
  const light = offered([job, makeJob({ gpus: 2 })]);
  assert.deepEqual(light.candidates, ['fast', 'fast2']);
  assert.deepEqual(light.infeasible, [{ host: 'slow', reason: 'would finish it later, and no queued job competes for the hosts' }]);
  // 9 GPUs asked for, 8 free: the agent weighs every host.
  const busy = offered([job, makeJob({ gpus: 4 }), makeJob({ gpus: 4 })]);
  assert.deepEqual(busy.candidates, ['fast', 'fast2', 'slow']);
  assert.deepEqual(busy.infeasible, []);
  // A job wider than every host never starts, so it competes for nothing.
  assert.deepEqual(offered([job, makeJob({ gpus: 16 })]).candidates, ['fast', 'fast2']);
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
  // Busy enough that jobs compete for hosts, where the agent (its seeded exploration, and past 300
  // decisions its seeded replay sampling) decides.
  const jobs = workload(11, 400, 300, WIDE);
  const runOnce = async (seed: number) => {
    const policy = await createDqnPolicy({ seed, agingMs: 3_600_000, cluster: WIDE });
    try {
      return simulate(jobs, WIDE, policy).outcomes;
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

test('each simulated run starts its own clock: queueing time is charged in every episode, not only the first', async () => {
  const { agent } = await exploringAgent(8);
  const elapsedPerRun: number[] = [];
  const remember = agent.learner.remember.bind(agent.learner);
  let elapsed = 0;
  agent.learner.remember = (t) => {
    elapsed += t.elapsed;
    remember(t);
  };
  for (const seed of [1, 2]) {
    elapsed = 0;
    const policy = dqnPolicyInstance(agent, { agingMs: 3_600_000 });
    simulate(workload(seed, 80), CLUSTER, policy);
    policy.dispose?.();
    elapsedPerRun.push(elapsed);
  }
  assert.ok(elapsedPerRun.every((e) => e > 10), `time units seen per run: ${elapsedPerRun.join(', ')}`);
  agent.learner.dispose();
});

/**
 * Host constraints (issue 16, item 5): the static and the now question with their reasons, the
 * scheduler's masking and GPU choice, the agent and the heuristic placements through the scheduler,
 * the ETA planner, the simulator, and stored constraints checked on load.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { constraintsProblem, labelListProblem, matchingGpus, neverReason, type GpuSpec } from '../../src/core/hostConstraints';
import type { HostConstraints, Job } from '../../src/core/job';
import { dispatchOrder } from '../../src/core/jobQueues';
import { MostFreeGpusPlacement, type HostCandidate, type Placement } from '../../src/core/placement';
import { BestFitPlacement, FastestPlacement, FirstFitPlacement, RandomPlacement, SoonestFinishPlacement } from '../../src/core/placementPolicies';
import { buildCandidates, planDispatch, type HostOffer } from '../../src/core/scheduler';
import { planEtas, type EtaModel } from '../../src/core/etaPlanner';
import { checkState } from '../../src/core/storeValidation';
import { emptyWorkspaceState } from '../../src/core/workspaceState';
import { createAgent } from '../../src/agent/agentSetup';
import { resolveBackend } from '../../src/agent/backend';
import { createRng } from '../../src/sim/rng';
import { JobManager } from '../../src/core/jobManager';
import { silentLogger } from '../../src/core/logger';
import { PriorityClassifier } from '../../src/core/priorityClassifier';
import { FakeHost, MemoryPersistence, makeJob } from '../support/builders';

const gpu = (index: number, name: string, usedMiB: number, totalMiB: number): GpuSpec => ({ index, name, memoryUsedMiB: usedMiB, memoryTotalMiB: totalMiB });
const A100 = 'NVIDIA A100-SXM4-40GB';
const T4 = 'Tesla T4';

const offer = (name: string, gpus: number, over: Partial<HostOffer> = {}): HostOffer => ({
  name,
  online: true,
  gpuIndices: Array.from({ length: gpus }, (_, i) => i),
  speed: 1,
  maxJobs: 8,
  ...over,
});

/** local: 2 T4; lab-1 (label a100): GPU 0 an A100 with little free memory, GPUs 1–2 empty A100s; lab-2 (label a100): 4 A100s. */
function cluster(): HostOffer[] {
  return [
    offer('local', 2, { gpuSpecs: [gpu(0, T4, 0, 15360), gpu(1, T4, 0, 15360)] }),
    offer('lab-1', 3, { labels: ['a100', 'lab'], gpuSpecs: [gpu(0, A100, 38000, 40960), gpu(1, A100, 500, 40960), gpu(2, A100, 0, 40960)] }),
    offer('lab-2', 4, { labels: ['a100'], gpuSpecs: [0, 1, 2, 3].map((i) => gpu(i, A100, 0, 40960)) }),
  ];
}

const plan = (jobs: Job[], offers: HostOffer[], placement: Placement = new MostFreeGpusPlacement(), running: Job[] = []) =>
  planDispatch(dispatchOrder(jobs, 0, 0), buildCandidates(offers, running), placement, { hosts: offers });

test('neverReason: exclude and require by name or label (case-insensitive), GPU model and total memory, each with a reason', () => {
  const [local, lab1, lab2] = cluster();
  const c = (x: HostConstraints) => [local, lab1, lab2].map((h) => neverReason(x, 1, h));
  assert.deepEqual(c({ exclude: ['LAB-2'] }), [undefined, undefined, 'lab-2 is excluded']);
  assert.deepEqual(c({ exclude: ['a100'] }), [undefined, 'lab-1 is excluded (label a100)', 'lab-2 is excluded (label a100)']);
  assert.deepEqual(c({ require: ['A100'] }), ['local is not A100 (no labels)', undefined, undefined]);
  assert.deepEqual(c({ require: ['local', 'lab-2'] }), [undefined, 'lab-1 is not local or lab-2 (labels: a100, lab)', undefined]);
  assert.deepEqual(c({ gpuModel: 'a100' }), ['local has no a100 GPU (Tesla T4)', undefined, undefined]);
  assert.deepEqual(c({ minGpuMemMiB: 20 * 1024 }), ['local has 0 GPUs with 20 GiB; the job needs 1', undefined, undefined]);
  // A host whose GPUs are not known yet (offline, never probed) might: it is not ruled out.
  assert.equal(neverReason({ gpuModel: 'H100' }, 1, { name: 'far' }), undefined);
  assert.match(neverReason({ gpuModel: 'A100' }, 1, { name: 'cluster', opaqueGpus: true }) ?? '', /does not report GPU models.*label/);
  // Names only matter where they are asked for: no constraint, no reason.
  assert.equal(neverReason({}, 8, local), undefined);
  // A job needing 4 A100s cannot run on lab-1 (3 A100s), ever.
  assert.equal(neverReason({ gpuModel: 'A100' }, 4, lab1), 'lab-1 has 3 A100 GPUs; the job needs 4');
});

test('matchingGpus: only free GPUs of the model with enough free memory now, in the order given', () => {
  const [, lab1] = cluster();
  assert.deepEqual(matchingGpus({ gpuModel: 'a100', minGpuMemMiB: 20480 }, lab1, [0, 1, 2]), [1, 2]);
  assert.deepEqual(matchingGpus({ minGpuMemMiB: 3000 }, lab1, [2, 0]), [2]);
  assert.deepEqual(matchingGpus({ require: ['lab'] }, lab1, [0, 2]), [0, 2], 'name constraints do not limit GPUs');
  assert.deepEqual(matchingGpus({ gpuModel: 'A100' }, {}, [0]), [], 'GPUs of unknown model never match a model constraint');
  assert.deepEqual(matchingGpus({ minGpuMemMiB: 1 }, { gpuSpecs: [{ index: 0, name: A100 }] }, [0]), [], 'unknown memory never meets a minimum');
});

test('the scheduler masks hosts the constraints rule out and picks the GPU indices that match', () => {
  const jobs = [
    makeJob({ id: 'big-mem', gpus: 2, constraints: { gpuModel: 'A100', minGpuMemMiB: 20480, exclude: ['lab-2'] } }),
    makeJob({ id: 'not-local', gpus: 1, constraints: { exclude: ['local'] }, createdAt: 1 }),
  ];
  const p = plan(jobs, cluster());
  assert.deepEqual(
    p.launches.map((l) => [l.job.id, l.host, l.gpuIndices]),
    [
      ['big-mem', 'lab-1', [1, 2]],
      ['not-local', 'lab-2', [0]],
    ],
  );
  // The next round: lab-1's GPU 0 is free but short of memory; the job waits and says which host has what.
  const running = p.launches.map((l) => makeJob({ id: l.job.id, state: 'running', host: l.host, gpuIndices: l.gpuIndices }));
  const again = plan([makeJob({ id: 'another', gpus: 1, constraints: { require: ['lab-1'], minGpuMemMiB: 20480 } })], cluster(), undefined, running);
  assert.equal(again.launches.length, 0);
  assert.equal(again.waiting.get('another'), 'Waiting for a host it may use: lab-1 has 0 GPUs with 20 GiB free now, the job needs 1.');
});

test('a job no host can ever run says so, naming every host and why; one an offline host could run waits for it', () => {
  const job = makeJob({ id: 'never', constraints: { require: ['h100'], exclude: ['local'] } });
  const p = plan([job], cluster());
  assert.equal(
    p.waiting.get('never'),
    'No host can run this job (requires h100 · excludes local): local is excluded; lab-1 is not h100 (labels: a100, lab); lab-2 is not h100 (labels: a100).',
  );
  const offers = [...cluster(), offer('h100-box', 8, { online: false, labels: ['h100'] })];
  const waits = plan([job], offers);
  assert.equal(waits.waiting.get('never'), 'Waiting for a host it may use: h100-box is offline.');
  // With no hosts configured at all the message still says why.
  assert.match(plan([job], []).waiting.get('never') ?? '', /^No host can run this job \(.*\): no hosts are configured\.$/);
});

test('unconstrained jobs are scheduled exactly as before (same launches, same reasons)', () => {
  const jobs = [makeJob({ id: 'a', gpus: 3 }), makeJob({ id: 'b', gpus: 2 }), makeJob({ id: 'c', gpus: 9 })];
  const withTraits = plan(jobs, cluster());
  const plain = planDispatch(dispatchOrder(jobs, 0, 0), buildCandidates(cluster().map(({ labels: _l, gpuSpecs: _g, ...o }) => o), []), new MostFreeGpusPlacement());
  assert.deepEqual(withTraits.launches.map((l) => [l.job.id, l.host, l.gpuIndices]), plain.launches.map((l) => [l.job.id, l.host, l.gpuIndices]));
  assert.deepEqual([...withTraits.waiting], [...plain.waiting]);
});

test('every heuristic placement, fed by the scheduler, only ever places on an allowed host with matching GPUs', () => {
  const rng = createRng(7, 'constraints');
  const placements: Placement[] = [new MostFreeGpusPlacement(), new FirstFitPlacement(), new BestFitPlacement(), new FastestPlacement(), new SoonestFinishPlacement(), new RandomPlacement(rng.next)];
  const choices: HostConstraints[] = [{ exclude: ['lab-2'] }, { require: ['local'] }, { gpuModel: 'A100', minGpuMemMiB: 30000 }, { require: ['a100'], exclude: ['lab-1'] }];
  for (const placement of placements) {
    for (let round = 0; round < 50; round++) {
      const constraints = choices[Math.floor(rng.next() * choices.length)];
      const offers = cluster().map((o) => ({ ...o, speed: 0.5 + rng.next() }));
      const job = makeJob({ gpus: 1 + Math.floor(rng.next() * 2), constraints });
      for (const l of plan([job], offers, placement).launches) {
        const host = offers.find((o) => o.name === l.host)!;
        assert.equal(neverReason(constraints, job.gpus, host), undefined, `${placement.name} placed on ${l.host} against ${JSON.stringify(constraints)}`);
        assert.deepEqual(matchingGpus(constraints, host, l.gpuIndices), l.gpuIndices, `${placement.name} gave non-matching GPUs`);
      }
    }
  }
});

test('the DQN agent, exploring at random, never places a constrained job on a host the constraints rule out', async () => {
  const { tf } = await resolveBackend('cpu');
  const agent = createAgent(tf, undefined, { init: createRng(3, 'init').next, learner: createRng(3, 'learner').next }, { config: { epsilonStart: 1, epsilonEnd: 1, minReplay: 32 } });
  const seen = new Set<string>();
  const offered: string[][] = [];
  const spy: Placement = {
    name: 'spy',
    beginRound: (v) => agent.placement.beginRound?.(v),
    choose: (job, feasible: HostCandidate[], all: HostCandidate[]) => {
      offered.push(all.map((c) => c.host));
      return agent.placement.choose(job, feasible, all);
    },
  };
  for (let i = 0; i < 200; i++) {
    const job = makeJob({ gpus: 1, constraints: i % 2 ? { exclude: ['lab-2'] } : { require: ['a100'], gpuModel: 'A100', minGpuMemMiB: 20480 } });
    spy.beginRound?.({ nowMs: i * 1000, queued: [job], running: [] });
    for (const l of plan([job], cluster(), spy).launches) {
      seen.add(l.host);
      assert.ok(i % 2 ? l.host !== 'lab-2' : l.host !== 'local', `round ${i}: placed on ${l.host}`);
      if (l.host === 'lab-1') {
        assert.ok(i % 2 || l.gpuIndices[0] !== 0, 'lab-1 GPU 0 lacks the memory');
      }
    }
  }
  assert.deepEqual([...seen].sort(), ['lab-1', 'lab-2', 'local'], 'it explored every allowed host');
  // Hosts ruled out are not even in the agent's view of the cluster (its faster-host features).
  assert.ok(offered.some((hosts) => hosts.join() === 'local,lab-1'));
  assert.ok(offered.some((hosts) => hosts.join() === 'lab-1,lab-2'));
  agent.learner.dispose();
});

test('ETA planner: a constrained job is planned on an allowed host only, GPUs held by running jobs count as empty when they end', () => {
  const onHosts = (q: { estimateSec?: number }, hosts: readonly { declaredSpeed: number }[]) =>
    hosts.map((h) => ({ medianSec: (q.estimateSec ?? 3600) / h.declaredSpeed, p80Sec: 0, runs: 0, scriptRuns: 0 }));
  const model: EtaModel = { predictOn: onHosts, predictAll: (q, hosts) => ({ base: onHosts(q, [{ declaredSpeed: 1 }])[0], onHosts: onHosts(q, hosts) }) };
  // lab-2's 4 A100s are held by a running job that uses 39 GiB on each: after it ends they are empty.
  const offers = cluster().map((o) => (o.name === 'lab-2' ? { ...o, speed: 4, gpuSpecs: o.gpuSpecs!.map((g) => ({ ...g, memoryUsedMiB: 39000 })) } : o));
  const running = makeJob({ id: 'r', state: 'running', host: 'lab-2', gpuIndices: [0, 1, 2, 3], gpus: 4, startedAt: 0, runtimeSec: 4 * 3600 });
  const queued = makeJob({ id: 'q', gpus: 3, constraints: { gpuModel: 'A100', minGpuMemMiB: 30000 } });
  const eta = planEtas({ jobs: [running, queued], offers, nowMs: 0, agingMs: 0 }, model);
  assert.equal(eta.queued.get('q')?.host, 'lab-2');
  assert.equal(eta.queued.get('q')?.startMs, 3600 * 1000, 'starts when the running job ends');
  const never = makeJob({ id: 'n', constraints: { require: ['nowhere'] } });
  assert.equal(planEtas({ jobs: [never], offers, nowMs: 0, agingMs: 0 }, model).unplanned, 1);
});

test('stored constraints are checked on load: a bad value sets only that job aside, with a message naming the field', () => {
  const good = makeJob({ constraints: { require: ['lab-1', 'a100'], exclude: ['local'], gpuModel: 'A100', minGpuMemMiB: 20480 } });
  const bads = [
    { ...makeJob(), constraints: 'a100' },
    { ...makeJob(), constraints: { require: ['a b'] } },
    { ...makeJob(), constraints: { exclude: 'lab-2' } },
    { ...makeJob(), constraints: { gpuModel: '' } },
    { ...makeJob(), constraints: { minGpuMemMiB: -5 } },
    { ...makeJob(), constraints: { minGpuMemMiB: 1e400 } },
    { ...makeJob(), constraints: { gpuModel: 'A100', cpus: 4 } },
    { ...makeJob(), constraints: null },
  ];
  const other = makeJob({ state: 'succeeded' });
  const { state, setAside } = checkState(JSON.parse(JSON.stringify({ ...emptyWorkspaceState(), jobs: [good, ...bads, other] })));
  assert.deepEqual(state.jobs.map((j) => j.id), [good.id, other.id]);
  assert.deepEqual(state.jobs[0].constraints, good.constraints);
  assert.deepEqual(
    setAside.map((s) => s.reason),
    [
      'jobs[1].constraints is not an object',
      'jobs[2].constraints require has "a b"; each must be 1–63 letters, digits, \'.\', \'_\' or \'-\'',
      'jobs[3].constraints exclude must be a list of names such as ["a100", "lab"]',
      'jobs[4].constraints the GPU model must be non-empty text without surrounding spaces, e.g. "A100"',
      'jobs[5].constraints the minimum free GPU memory must be a whole number of MiB from 1 to 16777216',
      'jobs[6].constraints the minimum free GPU memory must be a whole number of MiB from 1 to 16777216',
      'jobs[7].constraints has unknown field "cpus"',
      'jobs[8].constraints is not an object',
    ],
  );
});

test('label lists: non-empty strings of letters, digits, . _ -, at most 64, each problem named', () => {
  assert.equal(labelListProblem(['a100', 'lab.1', 'x_y-z'], 'labels'), undefined);
  assert.equal(labelListProblem('a100', 'labels'), 'labels must be a list of names such as ["a100", "lab"]');
  assert.equal(labelListProblem([''], 'labels'), 'labels has ""; each must be 1–63 letters, digits, \'.\', \'_\' or \'-\'');
  assert.equal(labelListProblem(['ok', 7], 'labels'), 'labels has 7; each must be 1–63 letters, digits, \'.\', \'_\' or \'-\'');
  assert.equal(labelListProblem(['x'.repeat(64)], 'labels')?.startsWith('labels has "xxx'), true);
  assert.equal(labelListProblem(Array.from({ length: 65 }, (_, i) => `l${i}`), 'labels'), 'labels has 65 entries; at most 64');
  assert.equal(constraintsProblem({}), undefined);
});

test('through the JobManager: bad constraints are refused with one message and change nothing; the dispatcher says when no host ever can', async () => {
  const host = Object.assign(new FakeHost('local', 2), { labels: ['workstation'] });
  const persistence = new MemoryPersistence();
  const manager = new JobManager({
    persistence,
    state: emptyWorkspaceState(),
    hosts: [host],
    placement: new MostFreeGpusPlacement(),
    classifier: new PriorityClassifier(),
    logger: silentLogger,
    settings: () => ({ agingMinutes: 60, cancelGraceSeconds: 1, retries: 0 }),
    removeJobFiles: async () => undefined,
  });
  manager.setWritable(true);
  try {
    const spec = { script: '/ws/train.py', args: [], cwd: '/ws', gpus: 1, importance: 'normal' as const, runtimeSec: 60 };
    for (const [constraints, message] of [
      [{ require: ['a b'] }, 'Host constraints: require has "a b"; each must be 1–63 letters, digits, \'.\', \'_\' or \'-\'.'],
      [{ minGpuMemMiB: 0.5 }, 'Host constraints: the minimum free GPU memory must be a whole number of MiB from 1 to 16777216.'],
      [{ gpuModel: 'A100', typo: 1 }, 'Host constraints: has unknown field "typo".'],
    ] as const) {
      await assert.rejects(manager.queue({ ...spec, constraints: constraints as HostConstraints }), { message });
    }
    assert.equal(manager.jobs.length, 0);
    assert.equal(persistence.saves.length, 0, 'nothing was saved');
    const never = await manager.queue({ ...spec, constraints: { require: ['a100'] } });
    const here = await manager.queue({ ...spec, constraints: { require: ['WORKSTATION'] } });
    await manager.refreshHosts(true);
    await manager.kick();
    assert.equal(manager.waitingReason(never.id), 'No host can run this job (requires a100): local is not a100 (labels: workstation).');
    assert.deepEqual([never.state, here.state, here.host], ['queued', 'running', 'local']);
  } finally {
    manager.dispose();
  }
});

test('many jobs with the same constraints in one round: each launch is seen by the next, no GPU given twice', () => {
  const jobs = Array.from({ length: 5 }, (_, i) => makeJob({ id: `same-${i}`, gpus: 2, createdAt: i, constraints: { require: ['a100'], gpuModel: 'A100' } }));
  const p = plan(jobs, cluster());
  assert.deepEqual(
    p.launches.map((l) => [l.job.id, l.host, l.gpuIndices]),
    [
      ['same-0', 'lab-2', [0, 1]],
      ['same-1', 'lab-1', [0, 1]],
      ['same-2', 'lab-2', [2, 3]],
    ],
  );
  assert.equal(p.waiting.get('same-3'), 'Waiting for a host it may use: lab-1 has 1 A100 GPU free now, the job needs 2; lab-2 has 0 A100 GPUs free now, the job needs 2.');
  assert.equal(p.waiting.get('same-4'), p.waiting.get('same-3'));
});

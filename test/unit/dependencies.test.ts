// Job dependencies (issue 16, item 1) in core: eligibility, the cascade of "dependency failed",
// cycles, dependencies on jobs gone from the history, the checks a stored job's `after` goes through,
// and a dispatch round, the ETA planner and the simulator honouring them.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import {
  checkDependency,
  dependencyHold,
  dependencyState,
  findCycle,
  labeller,
  lookupIn,
  resolveByName,
  setDependency,
  settleDependents,
  waitingText,
} from '../../src/core/dependencies';
import { planEtas, type EtaModel } from '../../src/core/etaPlanner';
import type { Job, JobState } from '../../src/core/job';
import { takeFromHistory } from '../../src/core/jobHistory';
import { dispatchOrder } from '../../src/core/jobQueues';
import { MostFreeGpusPlacement } from '../../src/core/placement';
import { buildCandidates, planDispatch } from '../../src/core/scheduler';
import { parseScriptHeader } from '../../src/core/scriptHeader';
import { checkState } from '../../src/core/storeValidation';
import { emptyWorkspaceState } from '../../src/core/workspaceState';
import { fastestFitSpeed, loadCluster } from '../../src/sim/clusterLoader';
import { resolvePolicies } from '../../src/sim/policies';
import type { SimJobSpec } from '../../src/sim/simJobs';
import { SimulationError, simulate } from '../../src/sim/simulator';
import { makeJob } from '../support/builders';

const job = (id: string, over: Partial<Job> = {}): Job => makeJob({ id, name: `${id}.py`, ...over });
const ended = (id: string, state: JobState, over: Partial<Job> = {}): Job => job(id, { state, endedAt: 5, ...over });

test('after waits for every listed job to end, whatever its outcome; after-ok for every one to succeed', () => {
  const a = job('a', { state: 'running' });
  const b = ended('b', 'failed');
  const c = ended('c', 'succeeded');
  const lookup = lookupIn([a, b, c]);
  const waiting = dependencyState(job('x', { after: { mode: 'after', jobs: ['a', 'b'] } }), lookup);
  assert.equal(waiting.kind, 'waiting');
  assert.deepEqual(waiting.kind === 'waiting' && waiting.on.map((j) => j.id), ['a']);
  assert.equal(dependencyState(job('x', { after: { mode: 'after', jobs: ['b', 'c'] } }), lookup).kind, 'ready');
  assert.equal(dependencyState(job('x', { after: { mode: 'after-ok', jobs: ['c'] } }), lookup).kind, 'ready');
  // A failure wins over waiting: the job can never run, whatever `a` does.
  assert.deepEqual(dependencyState(job('x', { after: { mode: 'after-ok', jobs: ['a', 'b'] } }), lookup), { kind: 'failed', id: 'b', dependency: b });
  assert.equal(dependencyState(job('x'), lookup).kind, 'ready', 'no dependency: ready');
  for (const state of ['cancelled', 'lost'] as const) {
    assert.equal(dependencyState(job('x', { after: { mode: 'after-ok', jobs: ['d'] } }), lookupIn([ended('d', state)])).kind, 'failed', state);
    assert.equal(dependencyState(job('x', { after: { mode: 'after', jobs: ['d'] } }), lookupIn([ended('d', state)])).kind, 'ready', state);
  }
});

test('a dependency no longer in the store: after proceeds, after-ok fails naming the id', () => {
  const lookup = lookupIn([]);
  assert.equal(dependencyState(job('x', { after: { mode: 'after', jobs: ['gone'] } }), lookup).kind, 'ready');
  const jobs = [job('x', { after: { mode: 'after-ok', jobs: ['gone'] } })];
  assert.deepEqual(settleDependents(jobs, 9).map((j) => j.id), ['x']);
  assert.equal(jobs[0].state, 'cancelled');
  assert.equal(jobs[0].dependencyFailed, 'gone');
  assert.match(jobs[0].reason!, /job gone is no longer in the history/);
});

test('waiting text names the jobs (with an id when two share a name) and the mode', () => {
  const a = job('aaaaaaaa-1', { name: 'train.py' });
  const b = job('bbbbbbbb-2', { name: 'train.py' });
  const p = job('p', { name: 'prep.sh' });
  const jobs = [a, b, p];
  assert.equal(waitingText('after-ok', [p], labeller(jobs)), 'Waits for prep.sh to succeed.');
  assert.equal(waitingText('after', [a, p], labeller(jobs)), 'Waits for train.py (aaaaaaaa) and prep.sh to end.');
});

test('a failed job ends its after-ok dependents and theirs, in one call; after dependents are left to run', () => {
  const a = ended('a', 'failed');
  const b = job('b', { after: { mode: 'after-ok', jobs: ['a'] } });
  // c comes before b in the list: the cascade must not depend on the order.
  const c = job('c', { after: { mode: 'after-ok', jobs: ['b'] } });
  const d = job('d', { after: { mode: 'after', jobs: ['b'] } });
  const e = job('e', { after: { mode: 'after-ok', jobs: ['d'] } });
  const jobs = [c, a, b, d, e];
  assert.deepEqual(settleDependents(jobs, 42).map((j) => j.id).sort(), ['b', 'c']);
  assert.deepEqual([b.state, b.dependencyFailed, b.endedAt], ['cancelled', 'a', 42]);
  assert.match(b.reason!, /^Dependency failed: a\.py ended failed\.$/);
  assert.deepEqual([c.state, c.dependencyFailed], ['cancelled', 'b']);
  assert.match(c.reason!, /b\.py did not run \(its own dependency failed\)/);
  assert.equal(d.state, 'queued', 'after: b ended, so d may run');
  assert.equal(e.state, 'queued');
  assert.deepEqual(settleDependents(jobs, 43), [], 'nothing left to settle');
});

test('cycles are refused with the cycle named, and the job keeps what it had', () => {
  const a = job('a', { after: { mode: 'after', jobs: ['b'] } });
  const b = job('b', { after: { mode: 'after-ok', jobs: ['c'] } });
  const c = job('c');
  const jobs = [a, b, c];
  assert.throws(() => setDependency(jobs, c, { mode: 'after', jobs: ['a'] }), /cycle.*c\.py → a\.py → b\.py → c\.py/);
  assert.equal(c.after, undefined, 'refused: unchanged');
  assert.throws(() => setDependency(jobs, a, { mode: 'after', jobs: ['a'] }), /cannot wait for itself/);
  assert.deepEqual(a.after, { mode: 'after', jobs: ['b'] });
  assert.throws(() => checkDependency(jobs, { mode: 'after', jobs: ['nope'] }), /"nope" is not in the queue or the history/);
  assert.throws(() => checkDependency(jobs, { mode: 'before' as never, jobs: ['a'] }), /mode is 'after' or 'after-ok'/);
  assert.throws(() => checkDependency(jobs, { mode: 'after', jobs: [] }), /at least one job/);
  assert.throws(() => checkDependency(jobs, { mode: 'after', jobs: ['a', 'a'] }), /same job twice/);
  assert.throws(() => setDependency(jobs, ended('z', 'succeeded'), { mode: 'after', jobs: ['a'] }), /only a queued job/);
  // A dependency that closes no cycle is set; undefined clears it.
  const d = job('d');
  setDependency([...jobs, d], d, { mode: 'after-ok', jobs: ['a', 'c'] });
  assert.deepEqual(d.after, { mode: 'after-ok', jobs: ['a', 'c'] });
  setDependency([...jobs, d], d, undefined);
  assert.equal(d.after, undefined);
});

test('cycle search over a 20,000-job chain neither overflows the stack nor revisits jobs', () => {
  const jobs: Job[] = [job('n0')];
  for (let i = 1; i < 20_000; i++) {
    jobs.push(job(`n${i}`, { after: { mode: 'after', jobs: [`n${i - 1}`] } }));
  }
  const cycle = findCycle('n0', ['n19999'], lookupIn(jobs));
  assert.equal(cycle?.length, 20_001);
  assert.deepEqual([cycle![0], cycle![1], cycle![20_000]], ['n0', 'n19999', 'n0']);
  assert.equal(findCycle('other', ['n19999'], lookupIn(jobs)), undefined);
});

test('removing jobs from the history settles their dependents first, then stops the others waiting for them', () => {
  const state = emptyWorkspaceState();
  const ok = ended('ok', 'succeeded');
  const bad = ended('bad', 'failed');
  const running = job('run', { state: 'running' });
  const x = job('x', { after: { mode: 'after-ok', jobs: ['ok', 'run'] } });
  const y = job('y', { after: { mode: 'after-ok', jobs: ['bad'] } });
  const z = job('z', { after: { mode: 'after', jobs: ['ok'] } });
  state.jobs = [ok, bad, running, x, y, z];
  const gone = takeFromHistory(state, () => true, 7);
  // y ended "dependency failed" before bad left, and as a finished job it was cleared too.
  assert.deepEqual(gone.map((j) => j.id).sort(), ['bad', 'ok', 'y']);
  assert.equal(y.dependencyFailed, 'bad');
  assert.deepEqual(x.after, { mode: 'after-ok', jobs: ['run'] }, 'ok succeeded and left: x waits only for run');
  assert.equal(z.after, undefined, 'nothing left to wait for');
  assert.deepEqual(state.jobs.map((j) => j.id), ['run', 'x', 'z']);
});

test('header names resolve to the newest queued or running job of that name; unknown names come back', () => {
  const old = job('old', { name: 'train.py', state: 'running', createdAt: 1 });
  const newer = job('new', { name: 'train.py', createdAt: 2 });
  const done = ended('done', 'succeeded', { name: 'prep.sh', createdAt: 3 });
  assert.deepEqual(resolveByName([old, newer, done], ['train.py', 'prep.sh', 'train.py']), { ids: ['new'], unresolved: ['prep.sh'] });
});

test('script header: after= and after-ok= list names; a bad one warns and queues nothing wrongly', () => {
  const h = parseScriptHeader('# trainq: gpus=1 after=prep.sh,"my run.py"\nprint(1)');
  assert.deepEqual(h.after, { mode: 'after', names: ['prep.sh', 'my run.py'] });
  assert.deepEqual(h.values, { gpus: 1 });
  assert.deepEqual(h.warnings, []);
  const ok = parseScriptHeader('# trainq: after=a.py\n# trainq: after-ok=b.py');
  assert.deepEqual(ok.after, { mode: 'after-ok', names: ['b.py'] });
  assert.match(ok.warnings[0], /^Line 2: after= was already given; using this after-ok= instead\.$/);
  const empty = parseScriptHeader('# trainq: after=, gpus=2');
  assert.equal(empty.after, undefined);
  assert.match(empty.warnings[0], /after= names no job/);
  assert.match(parseScriptHeader('# trainq: afterok=a.py').warnings[0], /unknown key "afterok".*after, after-ok/);
});

function planOn(jobs: readonly Job[], gpus = 4) {
  const offers = [{ name: 'local', online: true, gpuIndices: Array.from({ length: gpus }, (_, i) => i), speed: 1, maxJobs: 8 }];
  return planDispatch(dispatchOrder(jobs, 10, 0), buildCandidates(offers, jobs), new MostFreeGpusPlacement(), { held: dependencyHold(jobs) });
}

test('a dispatch round never starts a waiting job, and the jobs behind it start', () => {
  const a = job('a', { state: 'running', host: 'local', gpuIndices: [0], startedAt: 1 });
  // The waiting job is first in the order (high, shortest): it must not block the low one behind it.
  const w = job('w', { priority: 'high', runtimeSec: 60, after: { mode: 'after-ok', jobs: ['a'] } });
  const other = job('o', { priority: 'low' });
  const plan = planOn([a, w, other]);
  assert.deepEqual(plan.launches.map((l) => l.job.id), ['o']);
  assert.equal(plan.waiting.get('w'), 'Waits for a.py to succeed.');
  // Once `a` succeeded the waiting job starts.
  Object.assign(a, { state: 'succeeded', endedAt: 5 });
  assert.deepEqual(planOn([a, w, other]).launches.map((l) => l.job.id).sort(), ['o', 'w']);
  // Without dependencies the round gets no hold at all.
  assert.equal(dependencyHold([other]), undefined);
});

test('a dependency on a queued job that has not started holds the dependent in the same round', () => {
  const first = job('first', { priority: 'low' });
  const second = job('second', { priority: 'high', after: { mode: 'after', jobs: ['first'] } });
  assert.deepEqual(planOn([first, second]).launches.map((l) => l.job.id), ['first']);
});

test('ETAs: a dependent starts no earlier than its dependency is predicted to end, even with GPUs free', () => {
  const exact: EtaModel = {
    predictOn: (q, hosts) => hosts.map(() => ({ medianSec: q.estimateSec ?? 0, p80Sec: 0, runs: 0, scriptRuns: 0 })),
    predictAll: (q, hosts) => ({
      base: { medianSec: q.estimateSec ?? 0, p80Sec: 0, runs: 0, scriptRuns: 0 },
      onHosts: hosts.map(() => ({ medianSec: q.estimateSec ?? 0, p80Sec: 0, runs: 0, scriptRuns: 0 })),
    }),
  };
  const now = 1_000_000;
  const a = job('a', { runtimeSec: 600 });
  const b = job('b', { runtimeSec: 60, after: { mode: 'after-ok', jobs: ['a'] } });
  const c = job('c', { runtimeSec: 60, after: { mode: 'after-ok', jobs: ['b'] } });
  const failedDep = job('f', { runtimeSec: 60, after: { mode: 'after-ok', jobs: ['x'] } });
  const x = ended('x', 'failed');
  const plan = planEtas({ jobs: [a, b, c, failedDep, x], offers: [{ name: 'h', online: true, gpuIndices: [0, 1, 2, 3], speed: 1, maxJobs: 8 }], nowMs: now, agingMs: 0 }, exact);
  assert.deepEqual(plan.queued.get('a'), { startMs: now, endMs: now + 600_000, host: 'h' });
  assert.deepEqual(plan.queued.get('b'), { startMs: now + 600_000, endMs: now + 660_000, host: 'h' });
  assert.deepEqual(plan.queued.get('c'), { startMs: now + 660_000, endMs: now + 720_000, host: 'h' });
  assert.equal(plan.queued.get('f'), undefined, 'its dependency failed: it never starts');
  assert.equal(plan.unplanned, 1);
});

test('stored after and dependencyFailed: bad values set that job aside with a clear reason, the rest loads', () => {
  const good = job('good', { after: { mode: 'after-ok', jobs: ['gone'] } });
  const failed = ended('failed', 'cancelled', { dependencyFailed: 'good' });
  const bad = [
    [{ after: { mode: 'later', jobs: ['good'] } }, /^jobs\[2\]\.after\.mode is not one of after, after-ok$/],
    [{ after: { mode: 'after', jobs: 'good' } }, /^jobs\[2\]\.after\.jobs is not a list$/],
    [{ after: { mode: 'after', jobs: [] } }, /^jobs\[2\]\.after\.jobs is not a list of distinct ids of other jobs$/],
    [{ after: { mode: 'after', jobs: ['good', 'good'] } }, /distinct ids/],
    [{ after: { mode: 'after', jobs: ['bad'] } }, /distinct ids of other jobs/],
    [{ after: { mode: 'after', jobs: [''] } }, /^jobs\[2\]\.after\.jobs\[0\] is empty$/],
    [{ after: null }, /^jobs\[2\]\.after is not an object$/],
    [{ dependencyFailed: 3 }, /^jobs\[2\]\.dependencyFailed is not a string$/],
  ] as const;
  for (const [over, reason] of bad) {
    const raw = JSON.parse(JSON.stringify({ ...emptyWorkspaceState(), jobs: [good, failed, { ...job('bad'), ...over }] }));
    const { state, setAside } = checkState(raw);
    assert.deepEqual(state.jobs.map((j) => j.id), ['good', 'failed'], JSON.stringify(over));
    assert.equal(setAside.length, 1);
    assert.match(setAside[0].reason, reason);
  }
  // A good store round-trips with its dependencies intact.
  const round = checkState(JSON.parse(JSON.stringify({ ...emptyWorkspaceState(), jobs: [good, failed] })));
  assert.deepEqual(round.setAside, []);
  assert.deepEqual(round.state.jobs[0].after, { mode: 'after-ok', jobs: ['gone'] });
  assert.equal(round.state.jobs[1].dependencyFailed, 'good');
});

const ROOT = path.join(__dirname, '..', '..');
const TWO_HOSTS = loadCluster(path.join(ROOT, 'test', 'fixtures', 'sim', 'two-hosts.json'));

function simSpec(index: number, submitSec: number, durationSec: number, gpus: number, after?: number[]): SimJobSpec {
  const hostSec = Float64Array.from(TWO_HOSTS.hosts, (h) => durationSec / h.speed);
  return {
    index, line: index + 2, submitSec, durationSec, gpus, importance: 'normal', estimateSec: durationSec,
    fastestSec: durationSec / fastestFitSpeed(TWO_HOSTS, gpus), identity: `p${index}`, script: `p${index}/train.py`, args: [], user: 'u', hostSec,
    ...(after && { after }),
  };
}

test('simulator: a dependent starts only when its dependency finished, and does not hold up others', async () => {
  // Hosts "slow" (2 GPUs, speed 1) and "fast" (2 GPUs, speed 2). A: 100 s; B waits for A; C is free.
  const specs = [simSpec(0, 0, 100, 1), simSpec(1, 0, 10, 1, [0]), simSpec(2, 0, 10, 1)];
  const [entry] = resolvePolicies(['fcfs-firstfit']);
  const run = simulate(specs, TWO_HOSTS, await entry.create!({ seed: 7, agingMs: 3_600_000, cluster: TWO_HOSTS }));
  const [a, b, c] = run.outcomes;
  assert.equal(c.startSec, 0, 'C does not wait behind B');
  assert.equal(b.startSec, a.endSec, 'B starts when A ends');
  assert.ok(a.endSec > 0);
  const again = await entry.create!({ seed: 7, agingMs: 3_600_000, cluster: TWO_HOSTS });
  assert.throws(() => simulate([simSpec(0, 0, 10, 1, [1]), simSpec(1, 0, 10, 1)], TWO_HOSTS, again), (e: Error) =>
    e instanceof SimulationError && /job 0 .*may only wait for jobs submitted before it/.test(e.message));
});

test('a cycle in a stored queue (past every check) is named in the waiting reason, and so is what waits on it', () => {
  const a = job('a', { after: { mode: 'after', jobs: ['b'] } });
  const b = job('b', { after: { mode: 'after-ok', jobs: ['a'] } });
  const c = job('c', { after: { mode: 'after', jobs: ['b'] } });
  const r = job('r', { state: 'running' });
  const d = job('d', { after: { mode: 'after', jobs: ['r'] } });
  const hold = dependencyHold([a, b, c, r, d])!;
  assert.equal(hold(a), 'Waits for a dependency cycle (a.py → b.py → a.py); none of these can start: Clear Dependencies on one of them.');
  assert.match(hold(b)!, /^Waits for a dependency cycle \(b\.py → a\.py → b\.py\)/);
  assert.equal(hold(c), 'Waits for b.py, which can never start (a dependency cycle): Clear Dependencies on one of them.');
  assert.equal(hold(d), 'Waits for r.py to end.', 'an ordinary wait is unaffected');
  assert.deepEqual(planOn([a, b, c, r, d]).launches.map((l) => l.job.id), [], 'nothing in or behind the cycle starts');
});

import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Job, JobState } from '../../src/core/job';
import { JobStore, STORE_VERSION, StorePathError, StoreVersionError } from '../../src/core/jobStore';
import { StoreDamagedError, validateState } from '../../src/core/storeValidation';
import { silentLogger } from '../../src/core/logger';
import { emptyWorkspaceState } from '../../src/core/workspaceState';
import type { WorkspaceState } from '../../src/core/workspaceState';
import { createRng } from '../../src/sim/rng';
import { runWriterUntilKilled } from '../support/killedWriter';

const FIXTURES = path.join(__dirname, '..', 'fixtures');

function makeJob(id: string, state: JobState = 'queued'): Job {
  return {
    id,
    name: 'train.py',
    script: '/work/project/train.py',
    args: ['--lr', '0.01'],
    cwd: '/work/project',
    gpus: 1,
    importance: 'normal',
    runtimeSec: 600,
    priority: 'medium',
    priorityReason: 'gpus < 2',
    priorityOverridden: false,
    state,
    createdAt: 1_700_000_000_000,
  };
}

function stateWith(count: number, prefix = 'j'): WorkspaceState {
  return { ...emptyWorkspaceState(), jobs: Array.from({ length: count }, (_, i) => makeJob(`${prefix}-${i}`)) };
}

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'trainq-store-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A store whose backup holds `older` and whose store.json holds `newer`. */
async function twoGenerations(dir: string, older: WorkspaceState, newer: WorkspaceState): Promise<void> {
  const { store } = await JobStore.open(dir, silentLogger);
  await store.save(older);
  await store.save(newer);
}

test('a saved state loads back unchanged, in the versioned envelope, with the previous version as backup', async (t) => {
  const dir = await tempDir(t);
  const first: WorkspaceState = {
    jobs: [makeJob('a', 'succeeded'), { ...makeJob('b', 'running'), host: 'local', gpuIndices: [0], startedAt: 1_700_000_001_000 }],
    priorityExamples: [{ features: { gpus: 1, importance: 'high', runtimeSec: 60 }, label: 'high', at: 5 }],
    lastInputs: { 'train.py': { args: ['--lr', '0.01'], gpus: 1, importance: 'normal', runtimeSec: 600 } },
    paused: true,
  };
  const second = { ...first, jobs: [...first.jobs, makeJob('c')] };
  const { store, state, notice } = await JobStore.open(dir, silentLogger, { now: () => 1234 });
  assert.deepEqual(state, emptyWorkspaceState());
  assert.equal(notice, undefined);

  await store.save(first);
  await store.save(second);

  const reopened = await JobStore.open(dir, silentLogger);
  assert.deepEqual(reopened.state, second);
  assert.equal(reopened.notice, undefined);
  const envelope = JSON.parse(await fs.readFile(path.join(dir, 'store.json'), 'utf8'));
  assert.equal(envelope.format, 'trainq-store');
  assert.equal(envelope.version, STORE_VERSION);
  assert.equal(envelope.savedAt, 1234);
  const backup = JSON.parse(await fs.readFile(path.join(dir, 'store.json.bak'), 'utf8'));
  assert.deepEqual(backup.state, first);
  assert.deepEqual((await fs.readdir(dir)).sort(), ['store.json', 'store.json.bak']);
});

test('saves made during a write are coalesced and each resolves only once its state is on disk', async (t) => {
  const dir = await tempDir(t);
  const written: number[] = [];
  const { store } = await JobStore.open(dir, silentLogger, { onWrite: (info) => written.push(info.jobs) });

  const saves = Array.from({ length: 50 }, (_, i) =>
    store.save(stateWith(i + 1)).then(() => {
      assert.ok(Math.max(...written) >= i + 1, `save ${i} resolved before a write holding its state`);
    }),
  );
  await Promise.all(saves);

  // The first save writes at once; the 49 asked for meanwhile collapse into one write of the last state.
  assert.deepEqual(written, [1, 50]);
  const reopened = await JobStore.open(dir, silentLogger);
  assert.equal(reopened.state.jobs.length, 50);
  assert.equal(reopened.state.jobs[49].id, 'j-49');
});

for (const [what, damage] of [
  ['unparseable', () => '{"format": "trainq-store", "version": 1, oops'],
  ['empty', () => ''],
  ['truncated', (good: string) => good.slice(0, Math.floor(good.length / 2))],
] as const) {
  test(`a store.json that is ${what} falls back to the backup, says so, and keeps the damaged file`, async (t) => {
    const dir = await tempDir(t);
    const older = stateWith(2, 'old');
    await twoGenerations(dir, older, stateWith(3, 'new'));
    const file = path.join(dir, 'store.json');
    const damaged = damage(await fs.readFile(file, 'utf8'));
    await fs.writeFile(file, damaged);

    const { store, state, notice } = await JobStore.open(dir, silentLogger);

    assert.deepEqual(state, older);
    assert.match(notice ?? '', /^TrainQ's job store was damaged \(.+\); restored the previous copy from .+\./);
    const kept = /kept as (store\.json\.corrupt-[^ ]+)\.$/.exec(notice ?? '')?.[1];
    assert.ok(kept, `notice names the kept file: ${notice}`);
    assert.equal(await fs.readFile(path.join(dir, kept), 'utf8'), damaged);

    // The next save must not rotate the damaged file over the only good copy.
    const next = stateWith(4, 'next');
    await store.save(next);
    assert.deepEqual((await JobStore.open(dir, silentLogger)).state, next);
    assert.deepEqual(JSON.parse(await fs.readFile(path.join(dir, 'store.json.bak'), 'utf8')).state, older);
  });
}

test('a damaged store and a damaged backup give an empty queue, a notice and both files kept', async (t) => {
  const dir = await tempDir(t);
  await fs.writeFile(path.join(dir, 'store.json'), '{"format":"trainq-store","vers');
  await fs.writeFile(path.join(dir, 'store.json.bak'), '');

  const first = await JobStore.open(dir, silentLogger);
  const again = await JobStore.open(dir, silentLogger);

  assert.deepEqual(first.state, emptyWorkspaceState());
  assert.match(first.notice ?? '', /store and its backup were both damaged .*starting with an empty queue/);
  assert.match(first.notice ?? '', /kept as store\.json\.corrupt-\S+ and store\.json\.bak\.corrupt-\S+\.$/);
  const names = await fs.readdir(dir);
  // Nothing is deleted, and loading twice reuses the copies instead of piling up new ones.
  assert.equal(names.length, 4, names.join(', '));
  assert.ok(names.includes('store.json') && names.includes('store.json.bak'));
  assert.equal(again.notice, first.notice);
});

test('a missing store.json with a good backup restores the backup and says so', async (t) => {
  const dir = await tempDir(t);
  const older = stateWith(2);
  await twoGenerations(dir, older, stateWith(3));
  await fs.rm(path.join(dir, 'store.json'));

  const { state, notice } = await JobStore.open(dir, silentLogger);

  assert.deepEqual(state, older);
  assert.match(notice ?? '', /was missing; restored the previous copy/);
});

test('a store written by a newer TrainQ is refused with StoreVersionError and left untouched', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'store.json');
  const newer = JSON.stringify({ format: 'trainq-store', version: STORE_VERSION + 1, savedAt: 1, state: { queue: 'new shape' } });
  await fs.writeFile(file, newer);

  await assert.rejects(JobStore.open(dir, silentLogger), (err: unknown) => {
    assert.ok(err instanceof StoreVersionError);
    assert.equal(err.foundVersion, STORE_VERSION + 1);
    assert.match(err.message, /newer version of TrainQ.*Update TrainQ/);
    return true;
  });
  assert.equal(await fs.readFile(file, 'utf8'), newer);
  assert.deepEqual(await fs.readdir(dir), ['store.json']);
});

test('the v1 fixture loads with every job and setting', async (t) => {
  const dir = await tempDir(t);
  await fs.copyFile(path.join(FIXTURES, 'store-v1.json'), path.join(dir, 'store.json'));

  const { state, notice } = await JobStore.open(dir, silentLogger);

  assert.equal(notice, undefined);
  assert.deepEqual(
    state.jobs.map((j) => [j.id, j.state]),
    [
      ['j-20240601-0001', 'succeeded'],
      ['j-20240601-0002', 'failed'],
      ['j-20240601-0003', 'running'],
      ['j-20240601-0004', 'queued'],
    ],
  );
  assert.deepEqual(state.jobs[0].gpuIndices, [0, 1, 2, 3]);
  assert.equal(state.jobs[1].priorityOverridden, true);
  assert.equal(state.priorityExamples[0].label, 'medium');
  assert.deepEqual(Object.keys(state.lastInputs), ['vision/train_resnet.py', 'nlp/eval.py']);
  assert.equal(state.paused, false);
});

test('the v1 fixture migrates to v2: pgid and slurmJobId become handles, and the saved store loads and keeps working', async (t) => {
  const dir = await tempDir(t);
  await fs.copyFile(path.join(FIXTURES, 'store-v1.json'), path.join(dir, 'store.json'));
  const raw = JSON.parse(await fs.readFile(path.join(dir, 'store.json'), 'utf8')) as { state: { jobs: Array<Record<string, unknown>> } };

  const { store, state } = await JobStore.open(dir, silentLogger);

  // Every job that had an id of its host's has it as a handle now, and nothing else of it changed.
  state.jobs.forEach((job, i) => {
    const { pgid, slurmJobId, ...rest } = raw.state.jobs[i];
    const handle = slurmJobId !== undefined ? { kind: 'slurm', jobId: slurmJobId } : pgid !== undefined ? { kind: 'process', pgid } : undefined;
    assert.deepEqual(job, handle === undefined ? rest : { ...rest, handle }, job.id);
    assert.ok(!('pgid' in job) && !('slurmJobId' in job), job.id);
  });
  assert.deepEqual(state.jobs[0].handle, { kind: 'process', pgid: 41233 });
  assert.ok(state.jobs.some((j) => j.handle === undefined), 'a queued job has no handle');

  // Saved by this version it is the current format, and loads again unchanged; a change made then survives a reload.
  await store.save(state);
  const saved = JSON.parse(await fs.readFile(path.join(dir, 'store.json'), 'utf8'));
  assert.equal(saved.version, STORE_VERSION);
  const again = await JobStore.open(dir, silentLogger);
  assert.deepEqual(again.state, state);
  again.state.jobs[0].reason = 'checked';
  await again.store.save(again.state);
  assert.equal((await JobStore.open(dir, silentLogger)).state.jobs[0].reason, 'checked');
});

test('a v1 Slurm job migrates to a Slurm handle; a v1 id that was damage stays damage, set aside with its reason', async (t) => {
  const dir = await tempDir(t);
  const base = { ...makeJob('slurm', 'running'), host: 'cluster', gpus: 1, gpuIndices: [0], startedAt: 5 };
  const bad = { ...makeJob('bad', 'succeeded'), host: 'cluster', gpuIndices: [1], startedAt: 5, endedAt: 6 };
  const state = { ...emptyWorkspaceState(), jobs: [{ ...base, slurmJobId: '12345' }, { ...bad, pgid: 1 }] };
  await fs.writeFile(path.join(dir, 'store.json'), JSON.stringify({ format: 'trainq-store', version: 1, savedAt: 1, state }));

  const loaded = await JobStore.open(dir, silentLogger);

  assert.deepEqual(loaded.state.jobs.map((j) => [j.id, j.handle]), [['slurm', { kind: 'slurm', jobId: '12345' }]]);
  assert.deepEqual(loaded.setAside?.map((s) => s.reason), ['jobs[1].handle.pgid is not a process group id']);
});

/** A store state picked apart on purpose: any field may be deleted or replaced by the cases below. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = Record<string, any>;

test('state of the wrong shape is rejected as damaged', () => {
  const good = () => structuredClone(stateWith(2)) as unknown as Loose;
  const cases: Array<[string, (s: Loose) => unknown, RegExp]> = [
    ['jobs not a list', (s) => ({ ...s, jobs: {} }), /^jobs is not a list$/],
    ['job without id', (s) => (delete s.jobs[1].id, s), /^jobs\[1\]\.id is not a string$/],
    ['unknown job state', (s) => ((s.jobs[0].state = 'exploded'), s), /^jobs\[0\]\.state is not one of/],
    ['repeated id', (s) => ((s.jobs[1].id = s.jobs[0].id), s), /^jobs\[1\]\.id is empty or repeated$/],
    ['args not strings', (s) => ((s.jobs[0].args = [1]), s), /^jobs\[0\]\.args\[0\] is not a string$/],
    ['paused not boolean', (s) => ({ ...s, paused: 'no' }), /^paused is not true or false$/],
    ['not an object', () => [1, 2], /^the state is not an object$/],
  ];
  for (const [what, corrupt, message] of cases) {
    assert.throws(() => validateState(corrupt(good())), (err: unknown) => {
      assert.ok(err instanceof StoreDamagedError, what);
      assert.match(err.message, message, what);
      return true;
    });
  }
  assert.deepEqual(validateState(good()), stateWith(2));
});

test('a store.json that parses but fails validation falls back to the backup', async (t) => {
  const dir = await tempDir(t);
  const older = stateWith(1);
  await twoGenerations(dir, older, stateWith(2));
  await fs.writeFile(
    path.join(dir, 'store.json'),
    JSON.stringify({ format: 'trainq-store', version: 1, savedAt: 1, state: { jobs: 'all of them' } }),
  );

  const { state, notice } = await JobStore.open(dir, silentLogger);

  assert.deepEqual(state, older);
  assert.match(notice ?? '', /damaged \(jobs is not a list\)/);
});

test('temp files left by a dead writer are removed on open, a live writer\'s are kept', async (t) => {
  const dir = await tempDir(t);
  const deadPid = await exitedPid();
  const dead = path.join(dir, `store.json.tmp-${deadPid}-3`);
  const live = path.join(dir, `store.json.tmp-${process.ppid}-1`);
  await fs.writeFile(dead, '{"format":"trainq');
  await fs.writeFile(live, '{"format":"trainq');

  await JobStore.open(dir, silentLogger);

  await assert.rejects(fs.stat(dead), { code: 'ENOENT' });
  assert.ok((await fs.stat(live)).isFile());
});

test('a writer killed mid-save in a loop always leaves a store holding every acknowledged job', async (t) => {
  const dir = await tempDir(t);
  const writer = path.join(FIXTURES, 'storeWriter.ts');
  const random = createRng(20240601, 'test').next;
  const acked = new Set<number>();
  let killedMidWrite = 0;

  for (let iteration = 0; iteration < 25; iteration++) {
    await runWriterUntilKilled(writer, [dir, '3000'], random() * 100, (n) => acked.add(n));
    if ((await fs.readdir(dir)).some((name) => name.includes('.tmp-') || name.includes('.baktmp-'))) {
      killedMidWrite++;
    }

    const { state, notice } = await JobStore.open(dir, silentLogger);

    // A SIGKILL cannot tear a renamed-into-place file, so there is never anything to recover.
    assert.equal(notice, undefined, `iteration ${iteration}`);
    const ids = new Set(state.jobs.map((j) => j.id));
    const missing = [...acked].filter((n) => !ids.has(`job-${n}`));
    assert.deepEqual(missing, [], `iteration ${iteration}: acknowledged jobs missing from the store`);
    assert.ok(!(await fs.readdir(dir)).some((name) => name.includes('.tmp-')), 'leftover temp files removed');
  }
  assert.ok(acked.size >= 25);
  t.diagnostic(`${acked.size} jobs acknowledged; ${killedMidWrite} of 25 kills left a save half done`);
});


async function exitedPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid ?? assert.fail('no pid');
}

test('a large store is written as exactly JSON.stringify of its envelope, also after finished jobs were cached', async (t) => {
  const dir = await tempDir(t);
  const { store } = await JobStore.open(dir, silentLogger, { now: () => 1234 });
  const state = emptyWorkspaceState();
  state.jobs = Array.from({ length: 300 }, (_, i) => makeJob(`big${i}`, i % 3 === 0 ? 'queued' : 'succeeded'));
  state.priorityExamples = [{ features: { gpus: 2, importance: 'high', runtimeSec: 600 }, label: 'high', at: 5 }];
  state.lastInputs = { 'a b/train.py': { args: ['--x', '"q"'], gpus: 1, importance: 'low', runtimeSec: 60 } };
  await store.save(state);
  state.jobs[0].state = 'running';
  state.jobs.splice(1, 1);
  await store.save(state);
  const expected = JSON.stringify({ format: 'trainq-store', version: STORE_VERSION, savedAt: 1234, state: { ...state } });
  assert.equal(await fs.readFile(path.join(dir, 'store.json'), 'utf8'), expected);
});

test('changedSinceLoad: false after this store loaded or saved, true once another writer replaced the file', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'trainq-changed-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  const { store } = await JobStore.open(dir, silentLogger);
  assert.equal(await store.changedSinceLoad(), false, 'nothing on disk yet, and nothing changed');
  await store.save(stateWith(1));
  assert.equal(await store.changedSinceLoad(), false, 'our own save');
  const { store: other } = await JobStore.open(dir, silentLogger);
  await other.save(stateWith(2));
  assert.equal(await store.changedSinceLoad(), true, 'another writer');
  await store.load();
  assert.equal(await store.changedSinceLoad(), false);
});

test('a folder that appears at store.json after load makes the save fail with the path error, leaving no temp file', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'trainq-blocked-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  const { store } = await JobStore.open(dir, silentLogger);
  await store.save(stateWith(1));
  await fs.rm(path.join(dir, 'store.json'));
  await fs.mkdir(path.join(dir, 'store.json'));
  await assert.rejects(store.save(stateWith(2)), StorePathError);
  assert.deepEqual(await fs.readdir(dir), ['store.json'], 'only the folder: no temp file, no backup made of it');
});

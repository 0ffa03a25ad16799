/**
 * Loading what the scheduler cannot use (issue 12, finding 3): each bad value sets its job aside with
 * the reason, kept in a file beside the store, and the rest of the queue loads and dispatches; a BOM
 * is not damage; a folder where store.json belongs is reported once. Fuzzed in storeValidation.test.ts.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Job } from '../../src/core/job';
import { dispatchOrder } from '../../src/core/jobQueues';
import { JobStore, STORE_VERSION, StorePathError } from '../../src/core/jobStore';
import { silentLogger, type Logger } from '../../src/core/logger';
import { MostFreeGpusPlacement } from '../../src/core/placement';
import { buildCandidates, planDispatch } from '../../src/core/scheduler';
import { StoreDamagedError, validateState } from '../../src/core/storeValidation';
import { emptyWorkspaceState } from '../../src/core/workspaceState';
import type { WorkspaceState } from '../../src/core/workspaceState';
import { makeJob } from '../support/builders';

const job = (id: string, over: Partial<Job> = {}): Job => makeJob({ id, ...over });

function stateWith(count: number): WorkspaceState {
  return { ...emptyWorkspaceState(), jobs: Array.from({ length: count }, (_, i) => job(`j-${i}`)) };
}

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'trainq-reader-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A running job as a dispatch round leaves it: host, start time and one GPU index per GPU. */
function runningJob(id: string, host: string, gpuIndices: number[]): Job {
  return job(id, { state: 'running', gpus: gpuIndices.length, host, gpuIndices, startedAt: 1_700_000_001_000, handle: { kind: 'process', pgid: 4242 } });
}

/** store.json holding `state`; the string "@inf@" stands for the token 1e400, which JSON.parse reads as Infinity. */
async function writeStore(dir: string, state: unknown, name = 'store.json'): Promise<void> {
  const text = JSON.stringify({ format: 'trainq-store', version: STORE_VERSION, savedAt: 1_700_000_000_000, state }).replaceAll('"@inf@"', '1e400');
  await fs.writeFile(path.join(dir, name), text);
}

/** One dispatch round over the loaded jobs on one host with GPUs 0 and 1. */
function planOn(jobs: readonly Job[]) {
  const offers = [{ name: 'local', online: true, gpuIndices: [0, 1], speed: 1, maxJobs: 8 }];
  return planDispatch(dispatchOrder(jobs, 1_700_000_100_000, 0), buildCandidates(offers, jobs), new MostFreeGpusPlacement());
}

function recordingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const push = (level: string) => (m: string | Error) => lines.push(`${level}: ${String(m)}`);
  return { lines, logger: { trace() {}, debug() {}, info() {}, warn: push('warn'), error: push('error') } };
}

const NOT_GPU_LIST = /^jobs\[1\]\.gpuIndices is not a list of distinct GPU indices$/;
const asQueued = (j: Record<string, unknown>) =>
  Object.assign(j, { state: 'queued', host: undefined, gpuIndices: undefined, startedAt: undefined, handle: undefined });

/** jobs[1] starts as a good running job on GPU 1 of "local"; each case breaks one thing. */
const BAD_JOBS: Array<[string, (job: Record<string, unknown>) => unknown, RegExp]> = [
  // The values from the issue.
  ['gpuIndices "0"', (j) => (j.gpuIndices = '0'), NOT_GPU_LIST],
  ['gpuIndices ["0"]', (j) => (j.gpuIndices = ['0']), NOT_GPU_LIST],
  ['gpuIndices 0', (j) => (j.gpuIndices = 0), NOT_GPU_LIST],
  ['gpuIndices {}', (j) => (j.gpuIndices = {}), NOT_GPU_LIST],
  ['gpus -3 (queued)', (j) => Object.assign(asQueued(j), { gpus: -3 }), /^jobs\[1\]\.gpus: GPUs \(gpus\) must be a whole number from 0 to 64 \(got -3\)\.$/],
  // GPU indices and counts.
  ['a repeated GPU index', (j) => Object.assign(j, { gpus: 2, gpuIndices: [1, 1] }), NOT_GPU_LIST],
  ['a fractional GPU index', (j) => (j.gpuIndices = [0.5]), NOT_GPU_LIST],
  ['a negative GPU index', (j) => (j.gpuIndices = [-1]), NOT_GPU_LIST],
  ['a GPU another running job holds', (j) => (j.gpuIndices = [0]), /^jobs\[1\]\.gpuIndices holds GPU 0 on host "local", which jobs\[0\] holds too$/],
  ['fewer indices than GPUs', (j) => (j.gpus = 2), /^jobs\[1\]\.gpuIndices lists 1 GPU for a job that runs on 2$/],
  ['gpus 1.5', (j) => (j.gpus = 1.5), /^jobs\[1\]\.gpus: .*whole number/],
  ['gpus 65', (j) => (j.gpus = 65), /^jobs\[1\]\.gpus: .*from 0 to 64/],
  ['gpus "1"', (j) => (j.gpus = '1'), /^jobs\[1\]\.gpus: /],
  // A running job's required fields.
  ['a running job without a host', (j) => delete j.host, /^jobs\[1\]\.host is missing \(a running job has one\)$/],
  ['a running job without GPU indices', (j) => delete j.gpuIndices, /^jobs\[1\]\.gpuIndices is missing/],
  ['a running job without a start time', (j) => delete j.startedAt, /^jobs\[1\]\.startedAt is missing/],
  ['an empty host', (j) => (j.host = ''), /^jobs\[1\]\.host is empty$/],
  // The classifier's features, with the queue input's limits.
  ['runtimeSec 0', (j) => (j.runtimeSec = 0), /^jobs\[1\]\.runtimeSec: Runtime must be between/],
  ['runtimeSec Infinity (1e400)', (j) => (j.runtimeSec = '@inf@'), /^jobs\[1\]\.runtimeSec: /],
  ['expectedGain 101', (j) => (j.expectedGain = 101), /^jobs\[1\]\.expectedGain: Expected gain must be a percentage/],
  ['expectedGain null', (j) => (j.expectedGain = null), /^jobs\[1\]\.expectedGain: /],
  ['importance "critical"', (j) => (j.importance = 'critical'), /^jobs\[1\]\.importance: /],
  // Times, process ids, exit codes, attempts.
  ['createdAt "yesterday"', (j) => (j.createdAt = 'yesterday'), /^jobs\[1\]\.createdAt is not a time$/],
  ['startedAt -1', (j) => (j.startedAt = -1), /^jobs\[1\]\.startedAt is not a time$/],
  ['endedAt 1e300', (j) => (j.endedAt = 1e300), /^jobs\[1\]\.endedAt is not a time$/],
  ['prioritySetAt Infinity', (j) => (j.prioritySetAt = '@inf@'), /^jobs\[1\]\.prioritySetAt is not a time$/],
  ['handle.pgid 1', (j) => (j.handle = { kind: 'process', pgid: 1 }), /^jobs\[1\]\.handle\.pgid is not a process group id$/],
  ['handle.pgid -5', (j) => (j.handle = { kind: 'process', pgid: -5 }), /^jobs\[1\]\.handle\.pgid is not a process group id$/],
  ['handle.pgid "4242"', (j) => (j.handle = { kind: 'process', pgid: '4242' }), /^jobs\[1\]\.handle\.pgid is not a process group id$/],
  ['handle.pgid 2^31', (j) => (j.handle = { kind: 'process', pgid: 2 ** 31 }), /^jobs\[1\]\.handle\.pgid is not a process group id$/],
  ['handle without a kind', (j) => (j.handle = { pgid: 4242 }), /^jobs\[1\]\.handle\.kind is not one of process, slurm$/],
  ['handle 4242', (j) => (j.handle = 4242), /^jobs\[1\]\.handle is not an object$/],
  ['exitCode 1.5', (j) => (j.exitCode = 1.5), /^jobs\[1\]\.exitCode is not an exit code$/],
  ['attempt 0', (j) => (j.attempt = 0), /^jobs\[1\]\.attempt is not an attempt number$/],
  ['handle.jobId "1; rm -rf ~"', (j) => (j.handle = { kind: 'slurm', jobId: '1; rm -rf ~' }), /^jobs\[1\]\.handle\.jobId is not a Slurm job id$/],
  // Strings that reach an argv or a path.
  ['a NUL in script', (j) => (j.script = '/w/train.py\0.sh'), /^jobs\[1\]\.script contains a NUL character$/],
  ['a NUL in an argument', (j) => (j.args = ['--lr', '0.1\0']), /^jobs\[1\]\.args\[1\] contains a NUL character$/],
  ['an empty cwd', (j) => (j.cwd = ''), /^jobs\[1\]\.cwd is empty$/],
  ['reason 5', (j) => (j.reason = 5), /^jobs\[1\]\.reason is not a string$/],
  ['retryOf {}', (j) => (j.retryOf = {}), /^jobs\[1\]\.retryOf is not a string$/],
  // Identity and shape.
  ['a repeated id', (j) => (j.id = 'ok-0'), /^jobs\[1\]\.id is empty or repeated$/],
  ['state "exploded"', (j) => (j.state = 'exploded'), /^jobs\[1\]\.state is not one of/],
];

for (const [what, damage, reason] of BAD_JOBS) {
  test(`a job with ${what} is set aside with the reason; the rest load and dispatch`, async (t) => {
    const dir = await tempDir(t);
    const bad = runningJob('bad-1', 'local', [1]) as unknown as Record<string, unknown>;
    damage(bad);
    await writeStore(dir, { ...emptyWorkspaceState(), jobs: [runningJob('ok-0', 'local', [0]), bad, job('ok-2')] });

    const { state, notice, setAside } = await JobStore.open(dir, silentLogger);

    assert.deepEqual(state.jobs.map((j) => j.id), ['ok-0', 'ok-2']);
    assert.equal(setAside?.length, 1);
    assert.equal(setAside[0].where, 'jobs[1]');
    assert.match(setAside[0].reason, reason);
    assert.match(notice ?? '', /^1 job could not be loaded and was set aside: jobs\[1\]\.\S+ .+ \(kept in \S+store\.json\.setaside-\S+\)\./);
    const kept = JSON.parse(await fs.readFile(/kept in (\S+)\)/.exec(notice ?? '')![1], 'utf8'));
    assert.equal(kept.entries[0].reason, setAside[0].reason);
    assert.equal(kept.entries[0].value.id, bad.id, 'the set-aside file holds the job as it was read');
    // The round the old store broke or misled: the queued job gets GPU 1, never GPU 0, which ok-0 holds.
    assert.deepEqual(planOn(state.jobs).launches.map((l) => [l.job.id, l.gpuIndices]), [['ok-2', [1]]]);
    // The strict check used by tools agrees.
    assert.throws(() => validateState(JSON.parse(JSON.stringify({ ...state, jobs: [...state.jobs, bad] }))), StoreDamagedError);
  });
}

test('a job that is not an object at all is set aside like any other', async (t) => {
  const dir = await tempDir(t);
  await writeStore(dir, { ...emptyWorkspaceState(), jobs: [job('a'), 42, ['x'], null, job('b')] });
  const { state, setAside, notice } = await JobStore.open(dir, silentLogger);
  assert.deepEqual(state.jobs.map((j) => j.id), ['a', 'b']);
  assert.deepEqual(setAside?.map((s) => s.reason), ['jobs[1] is not an object', 'jobs[2] is not an object', 'jobs[3] is not an object']);
  assert.match(notice ?? '', /^3 jobs could not be loaded and were set aside: jobs\[1\] is not an object; jobs\[2\] .*; jobs\[3\] is not an object \(kept in /);
});

test('a set-aside job that was running is named as possibly still running; a save drops it from store.json, the file keeps it', async (t) => {
  const dir = await tempDir(t);
  const bad = { ...runningJob('lost-track', 'gpu-box', [0]), gpuIndices: '0' };
  await writeStore(dir, { ...emptyWorkspaceState(), jobs: [job('a'), bad] });

  const { store, state, notice } = await JobStore.open(dir, silentLogger);
  assert.match(notice ?? '', /may still run on its host; TrainQ no longer follows it\.$/);
  await store.save(state);

  const reopened = await JobStore.open(dir, silentLogger);
  assert.equal(reopened.notice, undefined);
  assert.deepEqual(reopened.state.jobs.map((j) => j.id), ['a']);
  const names = (await fs.readdir(dir)).filter((n) => n.startsWith('store.json.setaside-'));
  assert.equal(names.length, 1);
  assert.deepEqual(JSON.parse(await fs.readFile(path.join(dir, names[0]), 'utf8')).entries[0].value, bad);
});

test('reloading a store with a set-aside job reuses the kept file and logs the notice once', async (t) => {
  const dir = await tempDir(t);
  await writeStore(dir, { ...emptyWorkspaceState(), jobs: [job('a'), job('b', { gpus: -3 })] });
  const { logger, lines } = recordingLogger();
  let clock = 1_700_000_000_000;
  const { store, notice } = await JobStore.open(dir, logger, { now: () => (clock += 60_000) });
  // A read-only window reloads on every change to store.json.
  for (let i = 0; i < 5; i++) {
    assert.equal((await store.load()).notice, notice);
  }
  assert.equal((await fs.readdir(dir)).filter((n) => n.includes('.setaside-')).length, 1);
  assert.deepEqual(lines, [`warn: ${notice}`]);
});

test('damaged learned examples and remembered inputs are set aside too; the jobs are untouched', async (t) => {
  const dir = await tempDir(t);
  const good = stateWith(2);
  await writeStore(dir, {
    ...good,
    priorityExamples: [
      { features: { gpus: 1, importance: 'high', runtimeSec: 600 }, label: 'high', at: 5 },
      { features: { gpus: -1, importance: 'high', runtimeSec: 600 }, label: 'high', at: 6 },
    ],
    lastInputs: {
      'ok.py': { args: [], gpus: 1, importance: 'low', runtimeSec: 60 },
      'bad.py': { args: 'no', gpus: 1, importance: 'low', runtimeSec: 60 },
    },
  });
  const { state, notice } = await JobStore.open(dir, silentLogger);
  assert.deepEqual(state.jobs, good.jobs);
  assert.equal(state.priorityExamples.length, 1);
  assert.deepEqual(Object.keys(state.lastInputs), ['ok.py']);
  assert.match(notice ?? '', /^2 entries could not be loaded and were set aside: priorityExamples\[1\]\.features\.gpus: .*; lastInputs\["bad\.py"\]\.args is not a list \(kept in /);
});

test('a UTF-8 byte-order mark before the store is not damage', async (t) => {
  const dir = await tempDir(t);
  await writeStore(dir, stateWith(2));
  const file = path.join(dir, 'store.json');
  await fs.writeFile(file, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), await fs.readFile(file)]));

  const { state, notice } = await JobStore.open(dir, silentLogger);

  assert.equal(notice, undefined);
  assert.deepEqual(state, stateWith(2));
  assert.deepEqual(await fs.readdir(dir), ['store.json']);
});

test('a folder named store.json is reported once, clearly, with the backup restored and nothing to copy', async (t) => {
  const dir = await tempDir(t);
  const older = stateWith(2);
  await writeStore(dir, older, 'store.json.bak');
  await fs.mkdir(path.join(dir, 'store.json'));
  const { logger, lines } = recordingLogger();

  const { store, state, notice } = await JobStore.open(dir, logger);
  const again = await store.load();

  assert.deepEqual(state, older);
  assert.equal(
    notice?.replace(/from .+?\. /, 'from <time>. '),
    "TrainQ's job store was damaged (store.json is a folder, not a file); restored the previous copy from <time>. " +
      `${path.join(dir, 'store.json')} is not a file, so TrainQ cannot save changes to the queue until it is moved or renamed.`,
  );
  assert.ok(store.pathProblem instanceof StorePathError);
  assert.deepEqual(store.pathProblem.files, [path.join(dir, 'store.json')]);
  assert.equal(again.notice, notice);
  // One warning and no error: there was nothing to copy, and the second load said nothing new.
  assert.deepEqual(lines, [`warn: ${notice}`]);
  assert.deepEqual((await fs.readdir(dir)).sort(), ['store.json', 'store.json.bak']);

  // Saves fail with the same clear error each time (nothing is acknowledged), but the log says it once.
  for (let i = 0; i < 3; i++) {
    await assert.rejects(store.save(older), StorePathError);
  }
  assert.equal(lines.filter((l) => l.startsWith('error:')).length, 1, lines.join('\n'));
  assert.deepEqual((await fs.readdir(dir)).sort(), ['store.json', 'store.json.bak'], 'no temp file left behind');

  // Once the folder is gone the next load clears the problem.
  await fs.rmdir(path.join(dir, 'store.json'));
  await store.load();
  assert.equal(store.pathProblem, undefined);
  await store.save(older);
  assert.deepEqual((await JobStore.open(dir, logger)).state, older);
});

test('a folder in the backup\'s place is reported although store.json is good', async (t) => {
  const dir = await tempDir(t);
  await writeStore(dir, stateWith(1));
  await fs.mkdir(path.join(dir, 'store.json.bak'));

  const { store, state, notice } = await JobStore.open(dir, silentLogger);

  assert.deepEqual(state, stateWith(1));
  assert.equal(
    notice,
    `${path.join(dir, 'store.json.bak')} is not a file, so TrainQ cannot save changes to the queue until it is moved or renamed.`,
  );
  assert.deepEqual(store.pathProblem?.files, [path.join(dir, 'store.json.bak')]);
});

test('a store that is damaged as a whole still falls back to the backup, whose set-aside jobs are reported too', async (t) => {
  const dir = await tempDir(t);
  await writeStore(dir, { ...emptyWorkspaceState(), jobs: [job('a'), job('b', { createdAt: -1 })] }, 'store.json.bak');
  await writeStore(dir, { ...emptyWorkspaceState(), jobs: {} });

  const { state, notice } = await JobStore.open(dir, silentLogger);

  assert.deepEqual(state.jobs.map((j) => j.id), ['a']);
  assert.match(notice ?? '', /^TrainQ's job store was damaged \(jobs is not a list\); restored the previous copy from .+ The damaged file was kept as /);
  assert.match(notice ?? '', /\. 1 job could not be loaded and was set aside: jobs\[1\]\.createdAt is not a time \(kept in \S+store\.json\.bak\.setaside-\S+\)\.$/);
});

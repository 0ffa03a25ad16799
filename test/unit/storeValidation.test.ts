/**
 * The store as an adversary writes it: thousands of seeded mutations of a good store (fields deleted,
 * types swapped, NaN/Infinity/-0/1e308, negatives, huge arrays, nested garbage, NUL in strings, GPU
 * indices stolen from running jobs, a damaged envelope) are loaded, and every outcome is checked
 * against a reference model of the rules (test/support/storeModel.ts) written apart from the validator.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Job } from '../../src/core/job';
import { jobDescription, jobTooltipMarkdown } from '../../src/ui/jobFormat';
import { dispatchOrder, groupJobs } from '../../src/core/jobQueues';
import { JobStore, StoreVersionError } from '../../src/core/jobStore';
import { silentLogger } from '../../src/core/logger';
import { MostFreeGpusPlacement } from '../../src/core/placement';
import { buildTrainingSet } from '../../src/core/priorityClassifier';
import { buildCandidates, planDispatch, type HostOffer } from '../../src/core/scheduler';
import { checkState, validateState } from '../../src/core/storeValidation';
import type { WorkspaceState } from '../../src/core/workspaceState';
import { createRng } from '../../src/sim/rng';
import { OPTIONAL, REQUIRED, expectedLoad, isRecord, jobsToKeep, type Obj } from '../support/storeModel';

const SEED = 20240612;
const STORES = 2400;
const NOW = 1_717_300_000_000;
/** GPU count per host in the generated stores. */
const HOSTS: Record<string, number> = { a: 8, b: 4 };

// ---- The invariants a loaded state must meet, checked by running what uses it. ----

function assertUsable(state: WorkspaceState, where: string): void {
  const kept = jobsToKeep(state.jobs);
  assert.equal(kept.length, state.jobs.length, `${where}: a loaded job breaks the rules`);
  const offers: HostOffer[] = [
    { name: 'a', online: true, gpuIndices: [0, 1, 2, 3, 4, 5, 6, 7], speed: 1, maxJobs: 16 },
    // GPUs 1 and 3 missing: running jobs may hold indices this host no longer offers.
    { name: 'b', online: true, gpuIndices: [0, 2], speed: 2, maxJobs: 16 },
    ...[...new Set(state.jobs.map((j) => j.host))]
      .filter((h): h is string => h !== undefined && !(h in HOSTS))
      .map((name) => ({ name, online: true, gpuIndices: [0, 1], speed: 1, maxJobs: 16 })),
  ];
  const candidates = buildCandidates(offers, state.jobs);
  const plan = planDispatch(dispatchOrder(state.jobs, NOW, 3_600_000), candidates, new MostFreeGpusPlacement());
  const taken = new Set(state.jobs.filter((j) => j.state === 'running').flatMap((j) => j.gpuIndices!.map((g) => `${j.host}/${g}`)));
  for (const launch of plan.launches) {
    // === and not Object.is: a hand-written "gpus": -0 asks for no GPU, and gets none.
    assert.ok(launch.gpuIndices.length === launch.job.gpus, `${where}: ${launch.job.id} got ${launch.gpuIndices.length} GPUs for ${launch.job.gpus}`);
    const offered = offers.find((o) => o.name === launch.host)!.gpuIndices;
    for (const g of launch.gpuIndices) {
      assert.ok(offered.includes(g), `${where}: GPU ${g} does not exist on ${launch.host}`);
      assert.ok(!taken.has(`${launch.host}/${g}`), `${where}: GPU ${g} on ${launch.host} handed out twice`);
      taken.add(`${launch.host}/${g}`);
    }
  }
  groupJobs(state.jobs, NOW, 3_600_000, 50);
  for (const job of state.jobs) {
    jobDescription(job, { now: NOW });
    jobTooltipMarkdown(job, { now: NOW });
  }
  buildTrainingSet([], state.priorityExamples);
}

// ---- The generator. ----

interface Gen {
  next(): number;
  int(lo: number, hi: number): number;
  pick<T>(xs: readonly T[]): T;
  chance(p: number): boolean;
}

function gen(seed: number): Gen {
  const rng = createRng(seed, 'store-fuzz');
  const int = (lo: number, hi: number) => lo + Math.floor(rng.next() * (hi - lo + 1));
  return { next: rng.next, int, pick: (xs) => xs[int(0, xs.length - 1)], chance: (p) => rng.next() < p };
}

/** Stands for a JSON token JSON.stringify cannot write (1e400 → Infinity, -0, NaN → unparseable). */
const token = (t: string) => `@tok:${t}@`;

function goodStore(g: Gen): WorkspaceState {
  const free: Record<string, number[]> = Object.fromEntries(
    Object.entries(HOSTS).map(([h, n]) => [h, Array.from({ length: n }, (_, i) => i)]),
  );
  const jobs = Array.from({ length: g.int(3, 10) }, (_, i): Job => {
    const job: Job = {
      id: `j${i}`,
      name: 'train.py',
      script: '/w/train.py',
      args: ['--seed', String(i), 'quote "x"', '$(rm -rf ~)'],
      cwd: '/w',
      gpus: g.int(0, 3),
      importance: g.pick(['low', 'normal', 'high'] as const),
      runtimeSec: g.pick([60, 600, 3600, 30 * 86_400]),
      priority: g.pick(['high', 'medium', 'low'] as const),
      priorityReason: 'gpus ≤ 2',
      priorityOverridden: g.chance(0.3),
      state: g.pick(['queued', 'queued', 'running', 'running', 'succeeded', 'failed', 'cancelled', 'lost'] as const),
      createdAt: NOW - g.int(0, 86_400_000),
    };
    if (g.chance(0.5)) {
      job.expectedGain = g.int(0, 100);
    }
    const fits = Object.keys(HOSTS).find((h) => free[h].length >= job.gpus);
    if (job.state === 'running' && fits === undefined) {
      job.state = 'queued';
    }
    if (job.state !== 'queued') {
      const host = job.state === 'running' ? (fits as string) : g.pick(Object.keys(HOSTS));
      job.host = host;
      job.gpuIndices = job.state === 'running' ? free[host].splice(0, job.gpus) : Array.from({ length: job.gpus }, (_, k) => k);
      job.startedAt = job.createdAt + 1000;
      job.handle = g.chance(0.7) ? { kind: 'process', pgid: g.int(2, 99_999) } : { kind: 'slurm', jobId: String(g.int(1, 999_999)) };
    }
    if (job.state !== 'queued' && job.state !== 'running') {
      Object.assign(job, { endedAt: job.createdAt + 6000, exitCode: g.int(0, 255), reason: 'exited', attempt: g.int(1, 3), retryOf: 'j0' });
    }
    return job;
  });
  const features = () => ({ gpus: g.int(0, 8), importance: g.pick(['low', 'normal', 'high'] as const), runtimeSec: g.pick([60, 7200]) });
  return {
    jobs,
    priorityExamples: Array.from({ length: g.int(0, 3) }, (_, i) => ({
      features: features(),
      label: g.pick(['high', 'medium', 'low'] as const),
      at: NOW + i,
    })),
    lastInputs: Object.fromEntries(Array.from({ length: g.int(0, 3) }, (_, i) => [`s${i}.py`, { args: ['-x'], ...features() }])),
    paused: g.chance(0.2),
  };
}

const FIELDS = [...Object.keys(REQUIRED), ...Object.keys(OPTIONAL), 'extra'];
const NUMERIC_FIELDS = ['gpus', 'runtimeSec', 'expectedGain', 'createdAt', 'startedAt', 'endedAt', 'prioritySetAt', 'exitCode', 'attempt'];

function garbage(g: Gen): unknown {
  return g.pick<() => unknown>([
    () => null,
    () => g.chance(0.5),
    () => g.pick([0, -1, 1.5, 65, 1e308, -1e308, 2 ** 53, 2 ** 31, 1e-300, 8.64e15 + 1]),
    () => token(g.pick(['1e400', '-1e400', '-0', 'NaN'])),
    () => g.pick(['', '0', '1', 'abc', 'a\0b', '\0', 'running', '/w/x.py\0;rm', '__proto__']),
    () => g.pick([[], ['0'], [0, 0], [-1], [1e308], [0.5], [null], ['a\0']]),
    () => g.pick([{}, { length: 1, 0: 0 }, { a: { b: [{}] } }]),
    () => Array.from({ length: g.int(1_000, 5_000) }, (_, i) => (g.chance(0.5) ? i : String(i))),
    () => {
      let nested: unknown = g.pick([0, 'x', {}]);
      for (let d = g.int(10, 2_000); d > 0; d--) {
        nested = g.chance(0.5) ? [nested] : { n: nested };
      }
      return nested;
    },
  ])();
}

/** Applies one mutation; returns its name and the index of the job it touched, if any. */
function mutate(g: Gen, s: Obj, envelope: Obj): [string, number?] {
  // An earlier mutation may have replaced a list; mutations of its items then have nothing to touch.
  const jobs: unknown[] = Array.isArray(s.jobs) ? s.jobs : [];
  const examples: unknown[] = Array.isArray(s.priorityExamples) ? s.priorityExamples : [];
  const lastInputs: Obj = isRecord(s.lastInputs) ? s.lastInputs : {};
  const i = g.int(0, jobs.length - 1);
  const job = jobs[i];
  const running = jobs.filter(
    (j): j is Obj => isRecord(j) && j.state === 'running' && Array.isArray(j.gpuIndices) && j.gpuIndices.length > 0,
  );
  const roll = g.next();
  if (roll < 0.06) {
    const k = g.pick(['jobs', 'priorityExamples', 'lastInputs', 'paused']);
    if (g.chance(0.3)) {
      delete s[k];
    } else {
      s[k] = garbage(g);
    }
    return ['shape'];
  }
  if (roll < 0.1) {
    const k = g.pick(['version', 'version', 'savedAt', 'format', 'state']);
    // Version 1 is an older format the reader migrates (the model does it its own way); 4 and 5 are newer.
    envelope[k] = k === 'version' && g.chance(0.7) ? g.pick<unknown>([1, 4, 5, 0, 1.5, '3']) : garbage(g);
    return ['envelope'];
  }
  if (roll < 0.16 && examples.length > 0) {
    const e = g.pick(examples);
    if (!isRecord(e)) {
      return ['none'];
    }
    const features = e.features;
    const target: Obj = isRecord(features) && g.chance(0.5) ? features : e;
    target[g.pick(target === e ? ['label', 'at', 'features'] : ['gpus', 'runtimeSec', 'importance', 'expectedGain'])] = garbage(g);
    return ['example'];
  }
  if (roll < 0.22 && Object.keys(lastInputs).length > 0) {
    const inputs = lastInputs[g.pick(Object.keys(lastInputs))];
    if (!isRecord(inputs)) {
      return ['none'];
    }
    inputs[g.pick(['args', 'gpus', 'runtimeSec', 'importance', 'expectedGain'])] = garbage(g);
    return ['inputs'];
  }
  if (!isRecord(job)) {
    return ['none'];
  }
  const kind = g.pick(['delete', 'garbage', 'garbage', 'swap', 'whole', 'dup-id', 'steal-gpu', 'state', 'nul', 'edge-number', 'handle']);
  switch (kind) {
    case 'delete':
      delete job[g.pick(Object.keys(job))];
      break;
    case 'garbage':
      job[g.pick(FIELDS)] = garbage(g);
      break;
    case 'swap': {
      const keys = Object.keys(job);
      job[g.pick(keys)] = job[g.pick(keys)];
      break;
    }
    case 'whole':
      jobs[i] = garbage(g);
      break;
    case 'dup-id': {
      const other = g.pick(jobs);
      job.id = isRecord(other) ? other.id : 'j0';
      break;
    }
    case 'steal-gpu': {
      // Running on a GPU another running job holds, with as many indices as GPUs (so only the theft is wrong).
      const victim = running.length > 0 ? g.pick(running) : undefined;
      if (victim === undefined || victim === job) {
        return ['none'];
      }
      const gpus = typeof job.gpus === 'number' ? Math.min(4, Math.max(1, job.gpus)) : 1;
      const gpuIndices = [(victim.gpuIndices as number[])[0], 7, 6, 5].slice(0, gpus);
      Object.assign(job, { state: 'running', host: victim.host, gpus, gpuIndices, startedAt: NOW });
      break;
    }
    case 'state':
      job.state = g.pick(['queued', 'running', 'succeeded', 'lost', 'Running', '']);
      break;
    case 'nul':
      job[g.pick(['id', 'name', 'script', 'cwd', 'host'])] = `x\0${g.pick(['', 'y'])}`;
      if (g.chance(0.5)) {
        job.args = [...(Array.isArray(job.args) ? job.args : []), 'a\0b'];
      }
      break;
    case 'handle':
      // A handle that is nearly right: the other kind's field, an edge pgid, a Slurm id that is not digits.
      job.handle = g.pick<unknown>([
        { kind: 'process', pgid: g.pick<unknown>([1, 2, 2 ** 31 - 1, 2 ** 31, -2, 2.5, '77', token('1e400')]) },
        { kind: 'slurm', jobId: g.pick<unknown>(['1', '0'.repeat(20), '1'.repeat(21), '1;x', '', 12, ' 1']) },
        { kind: 'process', jobId: '12' },
        { kind: 'slurm', pgid: 77 },
        { kind: 'pid', pgid: 77 },
        { pgid: 77 },
      ]);
      break;
    case 'edge-number':
      job[g.pick(NUMERIC_FIELDS)] = g.pick<unknown>([token('-0'), token('1e400'), token('-1e400'), 1e308, -1e308, -1, 0, 0.5, 2 ** 53 + 2]);
      break;
  }
  return [kind, i];
}

/** The bytes of one mutated store, with what was done to it. */
function mutatedStore(g: Gen): { bytes: Buffer; touched: Set<number>; labels: string[]; base: WorkspaceState } {
  const base = goodStore(g);
  const state = structuredClone(base) as unknown as Obj;
  const envelope: Obj = { format: 'trainq-store', version: 2, savedAt: NOW, state };
  const touched = new Set<number>();
  const labels: string[] = [];
  for (let m = g.int(1, 3); m > 0; m--) {
    const [label, index] = mutate(g, state, envelope);
    labels.push(label);
    if (index !== undefined) {
      touched.add(index);
    }
  }
  const text = JSON.stringify(envelope).replace(/"@tok:([^@]+)@"/g, '$1');
  let bytes = Buffer.from(text, 'utf8');
  const textual = g.next();
  if (textual < 0.03) {
    bytes = bytes.subarray(0, g.int(0, bytes.length - 1));
    labels.push('truncated');
  } else if (textual < 0.06) {
    bytes = Buffer.from(bytes);
    bytes[g.int(0, bytes.length - 1)] = g.int(0, 255);
    labels.push('byte');
  }
  if (g.chance(0.1)) {
    bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes]);
    labels.push('bom');
  }
  return { bytes, touched, labels, base };
}

// ---- The tests. ----

test(`${STORES} seeded mutated stores: load throws only StoreVersionError, keeps every valid job and nothing the scheduler cannot use`, async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'trainq-fuzz-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  const backup: WorkspaceState = { jobs: [], priorityExamples: [], lastInputs: {}, paused: false };
  await fs.writeFile(path.join(dir, 'store.json.bak'), JSON.stringify({ format: 'trainq-store', version: 2, savedAt: NOW, state: backup }));
  let clock = NOW;
  const { store } = await JobStore.open(dir, silentLogger, { now: () => (clock += 1000) });
  const g = gen(SEED);
  const counts = { jobsIn: 0, valid: 0, kept: 0, setAside: 0, untouchedKept: 0, fallbacks: 0, versionErrors: 0, withNotice: 0 };
  const byMutation = new Map<string, number>();

  for (let n = 0; n < STORES; n++) {
    const { bytes, touched, labels, base } = mutatedStore(g);
    labels.forEach((l) => byMutation.set(l, (byMutation.get(l) ?? 0) + 1));
    const where = `store ${n} (seed ${SEED}; ${labels.join(', ')})`;
    await fs.writeFile(path.join(dir, 'store.json'), bytes);
    const expected = expectedLoad(bytes);

    let loaded: Awaited<ReturnType<JobStore['load']>>;
    try {
      loaded = await store.load();
    } catch (err) {
      assert.ok(err instanceof StoreVersionError, `${where}: load threw ${String(err)}`);
      assert.equal(expected.kind, 'version', `${where}: unexpected StoreVersionError`);
      counts.versionErrors++;
      continue;
    } finally {
      for (const name of await fs.readdir(dir)) {
        if (name !== 'store.json.bak') {
          await fs.rm(path.join(dir, name), { force: true });
        }
      }
    }
    assert.notEqual(expected.kind, 'version', `${where}: a newer format was loaded`);
    assertUsable(loaded.state, where);
    counts.withNotice += loaded.notice === undefined ? 0 : 1;
    if (expected.kind === 'fallback') {
      assert.deepEqual(loaded.state, backup, `${where}: damage to the whole store must fall back to the backup`);
      assert.match(loaded.notice ?? '', /damaged/, where);
      counts.fallbacks++;
      continue;
    }
    if (expected.kind !== 'ok') {
      continue;
    }
    const input = expected.jobs;
    counts.jobsIn += input.length;
    counts.valid += expected.keep.length;
    counts.kept += loaded.state.jobs.length;
    counts.setAside += loaded.setAside?.filter((s) => s.where.startsWith('jobs[')).length ?? 0;
    // Nothing valid lost, nothing invalid kept: exactly the reference model's jobs, as they were read.
    assert.deepEqual(loaded.state.jobs, expected.keep.map((i) => input[i]), `${where}: loaded jobs differ from the valid ones`);
    assert.equal(loaded.state.jobs.length + (loaded.setAside ?? []).filter((s) => s.where.startsWith('jobs[')).length, input.length, where);
    assert.equal(loaded.state.priorityExamples.length, expected.examples, `${where}: examples`);
    assert.deepEqual(Object.keys(loaded.state.lastInputs), expected.inputs, `${where}: remembered inputs`);
    const anySetAside = (loaded.setAside?.length ?? 0) > 0;
    assert.equal(loaded.notice !== undefined, anySetAside, `${where}: a notice exactly when something was set aside`);
    // A job no mutation touched loads unchanged unless a touched job took its id or GPU first
    // (a flipped byte may land in any job, so it touches them all).
    for (const [i, job] of base.jobs.entries()) {
      if (!touched.has(i) && !labels.includes('byte') && expected.keep.includes(i)) {
        assert.deepEqual(input[i], job, `${where}: untouched job ${i} changed`);
        counts.untouchedKept++;
      }
    }
  }
  assert.equal(counts.kept, counts.valid);
  assert.equal(counts.kept + counts.setAside, counts.jobsIn);
  assert.ok(counts.setAside > 1_000 && counts.fallbacks > 100 && counts.versionErrors > 10, JSON.stringify(counts));
  t.diagnostic(`${STORES} stores: ${JSON.stringify(counts)}`);
  t.diagnostic(`mutations: ${[...byMutation].map(([k, v]) => `${k} ${v}`).join(', ')}`);
});

test('checkState keeps the objects read, unknown fields included, and a "__proto__" script key stays an ordinary key', () => {
  const text =
    '{"jobs":[],"priorityExamples":[],"paused":false,"future":1,' +
    '"lastInputs":{"__proto__":{"args":[],"gpus":1,"importance":"low","runtimeSec":60},"b.py":{"args":[],"gpus":-1,"importance":"low","runtimeSec":60}}}';
  const { state, setAside } = checkState(JSON.parse(text));
  assert.deepEqual(Object.keys(state.lastInputs), ['__proto__']);
  assert.equal(Object.getPrototypeOf(state.lastInputs), Object.prototype);
  assert.equal((state as unknown as { future: number }).future, 1);
  assert.deepEqual(setAside.map((s) => s.where), ['lastInputs["b.py"]']);
  assert.equal(JSON.stringify(state.lastInputs), '{"__proto__":{"args":[],"gpus":1,"importance":"low","runtimeSec":60}}');
});

test('validateState stays strict: one bad item anywhere is StoreDamagedError naming it', () => {
  const job = {
    ...{ id: 'a', name: 'n', script: '/s', cwd: '/w', args: [], gpus: 1, importance: 'low', runtimeSec: 60 },
    ...{ priority: 'low', priorityReason: '', priorityOverridden: false, state: 'queued', createdAt: 0 },
  };
  const state = { jobs: [job, { ...job, id: 'b', gpus: -3 }], priorityExamples: [], lastInputs: {}, paused: false };
  assert.throws(() => validateState(state), /^StoreDamagedError: jobs\[1\]\.gpus: /);
  assert.equal(checkState(state).state.jobs.length, 1);
});

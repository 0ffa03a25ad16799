/**
 * The dispatch lock's fence in one process: a holder "stopped" past staleness is simulated by a
 * second lock whose clock runs ahead, so every interleaving the two-process test hits by chance is
 * stepped through here on purpose.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FencedError } from '../../src/core/dispatchFence';
import { JobStore } from '../../src/core/jobStore';
import { silentLogger } from '../../src/core/logger';
import type { LockInfo } from '../../src/core/lockFile';
import { DispatchLock, type DispatchLockOptions } from '../../src/core/storeLock';
import { emptyWorkspaceState } from '../../src/core/workspaceState';
import { makeJob } from '../support/builders';

interface Ctx {
  after(fn: () => unknown): void;
}

async function tempDir(t: Ctx): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'trainq-fence-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

function makeLock(t: Ctx, dir: string, options: Partial<DispatchLockOptions> = {}): DispatchLock {
  // Timers are off (an hour), so each heartbeat happens exactly where a test calls refresh().
  const lock = DispatchLock.create(path.join(dir, 'dispatch.lock'), { logger: silentLogger, heartbeatMs: 3_600_000, ...options });
  t.after(() => lock.dispose());
  return lock;
}

async function lockInfo(dir: string): Promise<LockInfo> {
  return JSON.parse(await fs.readFile(path.join(dir, 'dispatch.lock'), 'utf8')) as LockInfo;
}

/** `a` holds; `b`, whose clock is ahead by more than staleMs, takes over as if `a` had been stopped. */
async function takeover(t: Ctx, dir: string) {
  const a = makeLock(t, dir, { ownerId: 'window-a', staleMs: 1_000 });
  assert.equal(await a.tryAcquire(), true);
  const b = makeLock(t, dir, { ownerId: 'window-b', staleMs: 1_000, now: () => Date.now() + 5_000 });
  assert.equal(await b.tryAcquire(), true);
  return { a, b };
}

test('each holder gets a higher epoch than any before it, even after the lock file is gone', async (t) => {
  const dir = await tempDir(t);
  const first = makeLock(t, dir, { ownerId: 'first' });
  assert.equal(await first.tryAcquire(), true);
  assert.equal(first.epoch, 1);
  await first.release();
  const second = makeLock(t, dir, { ownerId: 'second' });
  assert.equal(await second.tryAcquire(), true);
  assert.equal(second.epoch, 2);
  assert.equal((await lockInfo(dir)).epoch, 2);
  const { b } = await takeover(t, await tempDir(t));
  assert.equal(b.epoch, 2);
});

test('a resumed holder cannot heartbeat over the lock of the window that took over, and goes read-only', async (t) => {
  const dir = await tempDir(t);
  const { a, b } = await takeover(t, dir);
  const changes: boolean[] = [];
  a.onDidChangeHeld((held) => changes.push(held));

  assert.equal(await a.refresh(), false);

  assert.deepEqual(changes, [false]);
  assert.equal((await lockInfo(dir)).ownerId, 'window-b', 'the new holder is not overwritten');
  assert.equal(b.held, true);
  assert.throws(() => a.assertCurrent(), FencedError);
  assert.doesNotThrow(() => b.assertCurrent());
});

test('a save by a holder that was taken over is refused, tells the lock, and leaves the new holder\'s store alone', async (t) => {
  const dir = await tempDir(t);
  const a = makeLock(t, dir, { ownerId: 'window-a', staleMs: 1_000 });
  assert.equal(await a.tryAcquire(), true);
  const { store: storeA } = await JobStore.open(dir, silentLogger, { fence: a });
  await storeA.save({ ...emptyWorkspaceState(), jobs: [makeJob({ id: 'saved-by-a' })] });

  const b = makeLock(t, dir, { ownerId: 'window-b', staleMs: 1_000, now: () => Date.now() + 5_000 });
  assert.equal(await b.tryAcquire(), true);
  const { store: storeB, state } = await JobStore.open(dir, silentLogger, { fence: b });
  assert.deepEqual(state.jobs.map((j) => j.id), ['saved-by-a'], 'the new holder loads what the old one saved');
  await storeB.save({ ...state, jobs: [...state.jobs, makeJob({ id: 'saved-by-b' })] });

  await assert.rejects(storeA.save({ ...emptyWorkspaceState(), jobs: [makeJob({ id: 'late-from-a' })] }), FencedError);

  assert.equal(a.held, false, 'the failed save told the lock');
  const onDisk = (await storeB.load()).state.jobs.map((j) => j.id);
  assert.deepEqual(onDisk, ['saved-by-a', 'saved-by-b']);
  await assert.rejects(storeA.save(emptyWorkspaceState()), /does not hold the dispatch lock/);
});

test('a save already under way when the fence goes is refused at its rename', async (t) => {
  const dir = await tempDir(t);
  const a = makeLock(t, dir, { ownerId: 'window-a', staleMs: 1_000 });
  assert.equal(await a.tryAcquire(), true);
  const { store } = await JobStore.open(dir, silentLogger, { fence: a });
  await store.save(emptyWorkspaceState());
  const fenceDir = a.tempDir()!;
  // Pull the fence away while the write is between its temp file and the rename.
  const realRename = fs.rename;
  let pulled = false;
  t.after(() => (fs.rename = realRename));
  fs.rename = (async (from: string, to: string) => {
    if (!pulled && path.basename(to) === 'store.json') {
      pulled = true;
      await realRename(fenceDir, `${fenceDir}-retired`);
    }
    return realRename(from, to);
  }) as typeof fs.rename;

  await assert.rejects(store.save({ ...emptyWorkspaceState(), jobs: [makeJob({ id: 'in-flight' })] }), FencedError);
  fs.rename = realRename;
  assert.equal(pulled, true);
  const stored = JSON.parse(await fs.readFile(path.join(dir, 'store.json'), 'utf8')) as { state: { jobs: unknown[] } };
  assert.deepEqual(stored.state.jobs, []);
});

test('a heartbeat stamped a day in the future does not wedge the lock: unchanged for staleMs, it is stale', async (t) => {
  const dir = await tempDir(t);
  const future: LockInfo = { pid: process.ppid, hostname: os.hostname(), ownerId: 'clock-ahead', acquiredAt: Date.now(), heartbeatAt: Date.now() + 86_400_000 };
  await fs.writeFile(path.join(dir, 'dispatch.lock'), JSON.stringify(future));
  let mono = 0;
  const lock = makeLock(t, dir, { ownerId: 'mine', staleMs: 1_000, monotonicNow: () => mono });

  assert.equal(await lock.tryAcquire(), false, 'first look: its holder may be alive');
  mono = 900;
  assert.equal(await lock.tryAcquire(), false, 'unchanged for less than staleMs');
  mono = 1_001;
  assert.equal(await lock.tryAcquire(), true);
  assert.equal((await lockInfo(dir)).ownerId, 'mine');
});

test('a heartbeat that keeps changing keeps the lock, whatever its clock says', async (t) => {
  const dir = await tempDir(t);
  let mono = 0;
  const lock = makeLock(t, dir, { ownerId: 'mine', staleMs: 1_000, monotonicNow: () => mono });
  for (let beat = 0; beat < 5; beat++) {
    const info: LockInfo = { pid: process.ppid, hostname: os.hostname(), ownerId: 'other', acquiredAt: 0, heartbeatAt: Date.now() + 86_400_000 + beat };
    await fs.writeFile(path.join(dir, 'dispatch.lock'), JSON.stringify(info));
    mono += 800;
    assert.equal(await lock.tryAcquire(), false, `beat ${beat}`);
  }
});

test('a directory at the lock path is moved aside once and the lock works', async (t) => {
  const dir = await tempDir(t);
  await fs.mkdir(path.join(dir, 'dispatch.lock'));
  await fs.writeFile(path.join(dir, 'dispatch.lock', 'keep.txt'), 'user data');
  const warnings: string[] = [];
  const lock = makeLock(t, dir, { ownerId: 'mine', logger: { ...silentLogger, warn: (m: string) => warnings.push(m) } });

  assert.equal(await lock.tryAcquire(), true);

  assert.equal((await lockInfo(dir)).ownerId, 'mine');
  const aside = (await fs.readdir(dir)).filter((n) => n.startsWith('dispatch.lock.damaged-'));
  assert.equal(aside.length, 1);
  assert.equal(await fs.readFile(path.join(dir, aside[0], 'keep.txt'), 'utf8'), 'user data');
  assert.equal(warnings.filter((w) => w.includes('folder was in the way')).length, 1);
});

test('temp files of older versions and retired fences are cleaned when the lock is taken', async (t) => {
  const dir = await tempDir(t);
  const leftovers = ['dispatch.lock.tmp-123-4', 'dispatch.lock.tmp-99999-1', 'dispatch.lock.retired-x'];
  for (const name of leftovers) {
    await fs.writeFile(path.join(dir, name), '');
  }
  await fs.mkdir(path.join(dir, 'dispatch.lock.fence-7-crashed'));
  const lock = makeLock(t, dir, { ownerId: 'mine' });

  assert.equal(await lock.tryAcquire(), true);

  assert.equal(lock.epoch, 8, 'counts on from the crashed holder');
  assert.deepEqual((await fs.readdir(dir)).sort(), ['dispatch.lock', 'dispatch.lock.epoch', 'dispatch.lock.fence-8-mine']);
  await lock.release();
  assert.deepEqual((await fs.readdir(dir)).sort(), ['dispatch.lock.epoch']);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Emitter } from '../../src/core/emitter';
import { followLeadership, type LeaderLock, type LeaderQueue } from '../../src/core/leadership';
import { silentLogger } from '../../src/core/logger';
import { emptyWorkspaceState, type WorkspaceState } from '../../src/core/workspaceState';
import { makeJob } from '../support/builders';

class FakeLock implements LeaderLock {
  free = true;
  retrying = 0;
  disposed = false;
  readonly held = new Emitter<boolean>();
  readonly onDidChangeHeld = this.held.event;
  async tryAcquire(): Promise<boolean> {
    return this.free;
  }
  async owner() {
    return { pid: 4242, hostname: 'h', ownerId: 'other', acquiredAt: 0, heartbeatAt: 0 };
  }
  startRetrying() {
    this.retrying++;
    return { dispose: () => void this.retrying-- };
  }
  dispose(): void {
    this.disposed = true;
  }
}

class FakeQueue implements LeaderQueue {
  readonly events: string[] = [];
  state: WorkspaceState = emptyWorkspaceState();
  replaceState(state: WorkspaceState): void {
    this.state = state;
    this.events.push(`state:${state.jobs.map((j) => j.id).join(',')}`);
  }
  setWritable(writable: boolean): void {
    this.events.push(writable ? 'writable' : 'read-only');
  }
  async reconcile(): Promise<void> {
    this.events.push('reconcile');
  }
}

function setup(free: boolean) {
  const lock = new FakeLock();
  lock.free = free;
  const queue = new FakeQueue();
  let onDisk: WorkspaceState = { ...emptyWorkspaceState(), jobs: [makeJob({ id: 'on-disk' })] };
  let watchers = 0;
  let changed: (() => void) | undefined;
  const deps = {
    lock,
    queue,
    store: { load: async () => ({ state: onDisk }) },
    watchStore: (cb: () => void) => {
      watchers++;
      changed = cb;
      return { dispose: () => void watchers-- };
    },
    logger: silentLogger,
  };
  return {
    lock,
    queue,
    deps,
    setDisk: (s: WorkspaceState) => (onDisk = s),
    watchers: () => watchers,
    fireChange: () => changed?.(),
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

test('a window that gets the lock re-reads the store after taking it, then dispatches and reconciles', async () => {
  const { queue, deps, watchers } = setup(true);
  await followLeadership(deps);
  assert.deepEqual(queue.events, ['state:on-disk', 'writable', 'reconcile']);
  assert.equal(watchers(), 0, 'a dispatcher does not follow the file it writes');
});

test('a read-only window follows the store and retries; taking over re-reads before it dispatches', async () => {
  const { lock, queue, deps, setDisk, watchers, fireChange } = setup(false);
  await followLeadership(deps);
  assert.deepEqual([watchers(), lock.retrying], [1, 1]);
  setDisk({ ...emptyWorkspaceState(), jobs: [makeJob({ id: 'saved-by-other' })] });
  fireChange();
  await settle();
  assert.deepEqual(queue.events, ['state:saved-by-other']);

  setDisk({ ...emptyWorkspaceState(), jobs: [makeJob({ id: 'last-save' })] });
  lock.held.fire(true);
  await settle();
  await settle();
  assert.deepEqual(queue.events.slice(1), ['state:last-save', 'writable', 'reconcile']);
  assert.deepEqual([watchers(), lock.retrying], [0, 0]);
});

test('losing the lock: read-only at once, what was saved is shown, and one retry loop, not one per loss', async () => {
  const { lock, queue, deps, setDisk, watchers } = setup(true);
  const handle = await followLeadership(deps);
  queue.events.length = 0;
  setDisk({ ...emptyWorkspaceState(), jobs: [makeJob({ id: 'successor-state' })] });
  lock.held.fire(false);
  await settle();
  assert.deepEqual(queue.events, ['read-only', 'state:successor-state']);
  lock.held.fire(true);
  await settle();
  await settle();
  lock.held.fire(false);
  await settle();
  assert.deepEqual([watchers(), lock.retrying], [1, 1]);

  handle.dispose();
  assert.deepEqual([watchers(), lock.retrying, lock.disposed], [0, 0, true]);
});

test('taking the lock re-reads the store only when another window wrote it since this one read it', async () => {
  for (const changed of [false, true]) {
    const { queue, deps } = setup(true);
    await followLeadership({ ...deps, store: { ...deps.store, changedSinceLoad: async () => changed } });
    assert.deepEqual(queue.events, changed ? ['state:on-disk', 'writable', 'reconcile'] : ['writable', 'reconcile']);
  }
});

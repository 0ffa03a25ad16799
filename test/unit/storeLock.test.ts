import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../src/core/logger';
import { DispatchLock } from '../../src/core/storeLock';
import type { LockInfo } from '../../src/core/lockFile';
import type { DispatchLockOptions } from '../../src/core/storeLock';

interface Ctx {
  after(fn: () => unknown): void;
}

async function lockPath(t: Ctx): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'trainq-lock-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  return path.join(dir, 'dispatch.lock');
}

function makeLock(t: Ctx, file: string, options: Partial<DispatchLockOptions> = {}): DispatchLock {
  const lock = DispatchLock.create(file, { logger: silentLogger, ...options });
  t.after(() => lock.dispose());
  return lock;
}

async function writeLock(file: string, info: Partial<LockInfo>): Promise<void> {
  const now = Date.now();
  const full: LockInfo = { pid: process.ppid, hostname: os.hostname(), ownerId: 'other', acquiredAt: now, heartbeatAt: now, ...info };
  await fs.writeFile(file, JSON.stringify(full));
}

async function readLock(file: string): Promise<LockInfo> {
  return JSON.parse(await fs.readFile(file, 'utf8')) as LockInfo;
}

/**
 * The next value an event fires. The lock's timers are unref()'d, so the pending timeout here is
 * also what keeps the test process alive while a retry or heartbeat is due.
 */
function nextValue<T>(event: (listener: (value: T) => void) => { dispose(): void }, timeoutMs = 2_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no event within ${timeoutMs} ms`)), timeoutMs);
    const sub = event((value) => {
      clearTimeout(timer);
      sub.dispose();
      resolve(value);
    });
  });
}

async function exitedPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid ?? assert.fail('no pid');
}

test('of two windows asking at once exactly one holds the lock, and the file names it', async (t) => {
  const file = await lockPath(t);
  const a = makeLock(t, file, { ownerId: 'window-a' });
  const b = makeLock(t, file, { ownerId: 'window-b' });

  const results = await Promise.all([a.tryAcquire(), b.tryAcquire()]);

  assert.equal(results.filter(Boolean).length, 1);
  assert.deepEqual([a.held, b.held], results);
  const holder = results[0] ? a : b;
  const info = await a.owner();
  assert.equal(info?.ownerId, holder.ownerId);
  assert.equal(info?.pid, process.pid);
  assert.equal(info?.hostname, os.hostname());
});

test('a released lock is taken by the window that keeps retrying', async (t) => {
  const file = await lockPath(t);
  const a = makeLock(t, file, { ownerId: 'window-a' });
  const b = makeLock(t, file, { ownerId: 'window-b' });
  assert.equal(await a.tryAcquire(), true);
  assert.equal(await b.tryAcquire(), false);
  const aChanges: boolean[] = [];
  a.onDidChangeHeld((held) => aChanges.push(held));

  b.startRetrying(10);
  const bTookOver = nextValue(b.onDidChangeHeld);
  await a.release();

  assert.equal(await bTookOver, true);
  assert.equal(b.held, true);
  assert.equal(a.held, false);
  assert.deepEqual(aChanges, [false]);
  assert.equal((await readLock(file)).ownerId, 'window-b');
});

test('a lock left by a process that has exited on this host is taken over', async (t) => {
  const file = await lockPath(t);
  await writeLock(file, { pid: await exitedPid() });
  const lock = makeLock(t, file, { ownerId: 'mine' });

  assert.equal(await lock.tryAcquire(), true);
  assert.equal((await readLock(file)).ownerId, 'mine');
  // No guard or temp file is left; the new holder's fence folder and the epoch counter are.
  assert.deepEqual((await fs.readdir(path.dirname(file))).sort(), ['dispatch.lock', 'dispatch.lock.epoch', 'dispatch.lock.fence-1-mine']);
});

test('a lock whose heartbeat is older than staleMs is taken over, even from a live process', async (t) => {
  const file = await lockPath(t);
  await writeLock(file, { pid: process.ppid, heartbeatAt: 1_000_000 });
  let clock = 1_000_000 + 30_000;
  const lock = makeLock(t, file, { ownerId: 'mine', staleMs: 30_000, now: () => clock });

  assert.equal(await lock.tryAcquire(), false, 'exactly staleMs old is still fresh');
  clock += 1;
  assert.equal(await lock.tryAcquire(), true);
  assert.equal((await readLock(file)).ownerId, 'mine');
});

test('a fresh lock held by another live process is not taken', async (t) => {
  const file = await lockPath(t);
  await writeLock(file, { pid: process.ppid, ownerId: 'other-window' });
  const before = await fs.readFile(file, 'utf8');
  const lock = makeLock(t, file, { ownerId: 'mine' });

  assert.equal(await lock.tryAcquire(), false);
  assert.equal(lock.held, false);
  assert.equal(await fs.readFile(file, 'utf8'), before);
  assert.equal((await lock.owner())?.ownerId, 'other-window');
});

test('an unreadable lock file counts as stale only once it is older than staleMs', async (t) => {
  const file = await lockPath(t);
  await fs.writeFile(file, '');
  const { mtimeMs } = await fs.stat(file);
  let clock = mtimeMs + 1_000;
  const lock = makeLock(t, file, { ownerId: 'mine', staleMs: 30_000, now: () => clock });

  assert.equal(await lock.tryAcquire(), false, 'an empty file may be a holder mid-write');
  clock = mtimeMs + 30_001;
  assert.equal(await lock.tryAcquire(), true);
  assert.equal((await readLock(file)).ownerId, 'mine');
});

test('the heartbeat rewrites heartbeatAt while the lock is held', async (t) => {
  const file = await lockPath(t);
  let clock = 5_000;
  const lock = makeLock(t, file, { ownerId: 'mine', heartbeatMs: 10, now: () => clock });
  assert.equal(await lock.tryAcquire(), true);
  assert.deepEqual(
    [(await readLock(file)).acquiredAt, (await readLock(file)).heartbeatAt],
    [5_000, 5_000],
  );

  clock = 9_000;
  for (let i = 0; i < 100 && (await readLock(file)).heartbeatAt !== 9_000; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }

  const info = await readLock(file);
  assert.equal(info.heartbeatAt, 9_000);
  assert.equal(info.acquiredAt, 5_000);
  assert.equal(lock.held, true);
});

test('a holder whose lock was taken over notices at its next heartbeat and fires onDidChangeHeld(false)', async (t) => {
  const file = await lockPath(t);
  const lock = makeLock(t, file, { ownerId: 'mine' });
  assert.equal(await lock.tryAcquire(), true);
  const changed = nextValue(lock.onDidChangeHeld);
  await writeLock(file, { ownerId: 'usurper' });

  assert.equal(await lock.refresh(), false);

  assert.equal(await changed, false);
  assert.equal(lock.held, false);
  assert.equal((await readLock(file)).ownerId, 'usurper', 'the new holder is not overwritten');
});

test('dispose releases the lock at once, quietly, and only a lock it owns', async (t) => {
  const file = await lockPath(t);
  const a = makeLock(t, file, { ownerId: 'window-a' });
  const b = makeLock(t, file, { ownerId: 'window-b' });
  assert.equal(await a.tryAcquire(), true);
  const changes: boolean[] = [];
  a.onDidChangeHeld((held) => changes.push(held));

  a.dispose();

  assert.deepEqual(changes, [], 'a window being torn down is not told it lost the lock');
  assert.equal(a.held, false);
  await assert.rejects(fs.stat(file), { code: 'ENOENT' });
  assert.equal(await a.tryAcquire(), false, 'a disposed lock never acquires again');
  assert.equal(await b.tryAcquire(), true);
  b.dispose();
  await assert.rejects(fs.stat(file), { code: 'ENOENT' });

  // A window that lost the lock without noticing yet must not delete the new holder's file.
  const c = makeLock(t, file, { ownerId: 'window-c' });
  assert.equal(await c.tryAcquire(), true);
  await writeLock(file, { ownerId: 'usurper' });
  c.dispose();
  assert.equal((await readLock(file)).ownerId, 'usurper');
});

test('of several windows recovering the same stale lock at once exactly one wins', async (t) => {
  const file = await lockPath(t);
  const deadPid = await exitedPid();
  for (let round = 0; round < 50; round++) {
    await writeLock(file, { pid: deadPid, ownerId: `dead-${round}` });
    const locks = Array.from({ length: 5 }, (_, i) => DispatchLock.create(file, { ownerId: `w${round}-${i}`, logger: silentLogger }));

    // Staggered starts make one contender's rename land after another's fresh create, the risky order.
    const results = await Promise.all(
      locks.map(async (l, i) => {
        await new Promise((resolve) => setTimeout(resolve, (i * round) % 4));
        return l.tryAcquire();
      }),
    );

    assert.equal(results.filter(Boolean).length, 1, `round ${round}: ${results}`);
    const winner = locks[results.indexOf(true)];
    assert.equal((await readLock(file)).ownerId, winner.ownerId);
    locks.forEach((l) => l.dispose());
  }
});

test('a held, retrying lock does not keep a Node process alive', async (t) => {
  const file = await lockPath(t);
  const script = [
    `const { DispatchLock } = require(${JSON.stringify(path.join(__dirname, '../../src/core/storeLock.ts'))});`,
    `const lock = DispatchLock.create(${JSON.stringify(file)}, { heartbeatMs: 50, logger: console });`,
    `lock.tryAcquire().then((held) => { lock.startRetrying(50); console.log('held ' + held); });`,
  ].join('\n');
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);

  const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
    child.once('exit', (c, s) => resolve([c, s])),
  );
  clearTimeout(killer);

  assert.equal(output.trim(), 'held true');
  assert.deepEqual([code, signal], [0, null], 'the process ended on its own');
});

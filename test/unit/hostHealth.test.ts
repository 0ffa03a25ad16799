import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostUnreachableError } from '../../src/core/hostErrors';
import { HostHealth } from '../../src/hosts/remote/hostHealth';

test('failures back off exponentially up to the cap, and one success clears everything', () => {
  let now = 1_000_000;
  const health = new HostHealth('gpu-1', 'ssh', { baseMs: 1000, maxMs: 5000 }, () => now);
  assert.equal(health.inBackoff(), false);
  assert.deepEqual([1, 2, 3, 4, 5].map(() => health.noteFailure('unreachable', 'unreachable: Connection refused')), [1000, 2000, 4000, 5000, 5000]);
  assert.equal(health.retryAt, now + 5000);
  assert.equal(health.inBackoff(), true);
  assert.deepEqual(health.offlineStatus(), {
    name: 'gpu-1',
    kind: 'ssh',
    state: 'offline',
    gpus: [],
    error: 'unreachable: Connection refused',
    problem: 'unreachable',
    retryAt: now + 5000,
    offlineSince: now,
    probedAt: now,
  });
  const outageStart = now;
  now += 5000;
  assert.equal(health.inBackoff(), false, 'the next attempt is due');
  assert.equal(health.noteSuccess(), true, 'it was offline');
  assert.deepEqual([health.online, health.retryAt, health.problem], [true, undefined, undefined]);
  assert.equal(health.noteSuccess(), false);
  assert.equal(health.noteFailure('auth', 'authentication failed'), 1000, 'the backoff starts over');
  assert.equal(health.offlineStatus().offlineSince, now, 'a new outage has its own start');
  assert.notEqual(now, outageStart);
});

test('the unreachable error carries the problem, the retry time and whether the job may have started', () => {
  const health = new HostHealth('gpu-1', 'ssh', { baseMs: 1000, maxMs: 5000 }, () => 42);
  health.noteFailure('hostKeyChanged', 'host key changed: SHA256:abc');
  const err = health.unreachableError(false);
  assert.ok(err instanceof HostUnreachableError);
  assert.deepEqual([err.host, err.problem, err.message, err.retryAt, err.mayHaveStarted], ['gpu-1', 'hostKeyChanged', 'gpu-1: host key changed: SHA256:abc', 1042, false]);
  assert.equal(health.unreachableError(true).mayHaveStarted, true);
});

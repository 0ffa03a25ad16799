/**
 * Two real processes share one workspace's store and dispatch lock, as two VS Code windows do. Round
 * after round the dispatching one is stopped (SIGSTOP) past the lock's staleness, the other takes
 * over, and the stopped one is resumed (SIGCONT) wherever it was: mid-save, mid-heartbeat, mid-round.
 * Counted at the end: acknowledged jobs missing from the store, jobs started twice, and starts by an
 * epoch after a newer epoch had acted (two dispatchers at once). All must be zero.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JobStore } from '../../src/core/jobStore';
import { silentLogger } from '../../src/core/logger';

const ROUNDS = Number(process.env.TRAINQ_FENCE_ROUNDS ?? 50);
const STALE_MS = 400;
const WORKER = path.join(__dirname, '../support/dispatchWorker.ts');

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function start(dir: string, name: string): Promise<ChildProcess> {
  const child = fork(WORKER, [dir, name, String(STALE_MS)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`${name} exited early with ${code}`)));
  });
}

async function holderPid(dir: string): Promise<number | undefined> {
  try {
    return (JSON.parse(await fs.readFile(path.join(dir, 'dispatch.lock'), 'utf8')) as { pid: number }).pid;
  } catch {
    return undefined;
  }
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting until ${what}`);
    }
    await sleep(20);
  }
}

async function lines(file: string): Promise<string[][]> {
  const text = await fs.readFile(file, 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map((l) => l.split(' '));
}

test(`a dispatcher stopped past the lock's staleness and resumed ${ROUNDS} times loses no acknowledged job and never dispatches beside its successor`, { timeout: 240_000 }, async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'trainq-fence-'));
  t.after(() => (process.env.TRAINQ_KEEP_FENCE_DIR ? undefined : fs.rm(dir, { recursive: true, force: true })));
  const workers = [await start(dir, 'a'), await start(dir, 'b')];
  t.after(() => workers.forEach((w) => w.exitCode === null && w.kill('SIGKILL')));
  const byPid = new Map(workers.map((w) => [w.pid!, w]));

  let takeovers = 0;
  for (let round = 0; round < ROUNDS; round++) {
    await until('a window holds the lock', async () => byPid.has((await holderPid(dir)) ?? -1));
    const holder = byPid.get((await holderPid(dir))!)!;
    // Stopped at a varying moment of whatever it is doing: queueing, saving, dispatching, heartbeating.
    await sleep(20 + ((round * 37) % 90));
    holder.kill('SIGSTOP');
    await until('the other window takes over', async () => {
      const pid = await holderPid(dir);
      return pid !== undefined && pid !== holder.pid && byPid.has(pid);
    });
    takeovers++;
    await sleep(100); // the new dispatcher queues and starts jobs
    holder.kill('SIGCONT');
    await sleep(150 + ((round * 53) % 200)); // the resumed window runs on with whatever it had in flight
  }

  await Promise.all(workers.map((w) => new Promise((resolve) => { w.once('exit', resolve); w.kill('SIGTERM'); })));
  const acks = await lines(path.join(dir, 'acks.log'));
  const launches = await lines(path.join(dir, 'launches.log'));
  const { state } = await JobStore.open(dir, silentLogger);
  const stored = new Set(state.jobs.map((j) => j.id));

  const lost = acks.filter(([, , id]) => !stored.has(id)).map(([, , id]) => id);
  const started = new Map<string, number>();
  launches.forEach(([, , id]) => started.set(id, (started.get(id) ?? 0) + 1));
  const twice = [...started].filter(([, n]) => n > 1).map(([id]) => id);
  // Two dispatchers: a start whose fence check passed after a newer epoch had acted (started or
  // acknowledged a job). An acknowledgement itself is not flagged: a window stopped between its save
  // and telling the user tells the user after resuming, truthfully, since the save landed first.
  // Also counted, not asserted: starts that reached the host after the successor acted although their
  // check passed before (the window stopped in the microseconds between the check and the host call).
  const events = [...acks, ...launches]
    .map(([kind, epoch, id, at, checkedAt]) => ({ kind, epoch: Number(epoch), id, at: Number(at), checkedAt: Number(checkedAt ?? at) }))
    .sort((x, y) => x.at - y.at);
  const superseded = (time: (e: (typeof events)[number]) => number) => {
    const firstActs = new Map<number, number>();
    events.forEach((e) => firstActs.set(e.epoch, Math.min(firstActs.get(e.epoch) ?? Infinity, e.at)));
    return events.filter((e) => e.kind === 'launch' && [...firstActs].some(([epoch, first]) => epoch > e.epoch && first < time(e)));
  };
  const overlapping = superseded((e) => e.checkedAt);
  const lateArrivals = superseded((e) => e.at).length - overlapping.length;
  const epochs = new Set(events.map((e) => e.epoch));
  t.diagnostic(`${takeovers} takeovers, ${epochs.size} epochs, ${acks.length} jobs acknowledged, ${launches.length} starts, ${stored.size} jobs in the store`);
  t.diagnostic(`lost ${lost.length}, started twice ${twice.length}, starts decided by a superseded dispatcher ${overlapping.length}, starts reaching the host after the takeover (stopped between check and call) ${lateArrivals}`);

  assert.equal(takeovers, ROUNDS);
  assert.ok(epochs.size > ROUNDS / 2, `the windows took turns (${epochs.size} epochs acted)`);
  assert.ok(acks.length > ROUNDS, 'the user queued jobs throughout');
  assert.deepEqual(lost, [], 'acknowledged jobs missing from the store');
  assert.deepEqual(twice, [], 'jobs started twice');
  assert.deepEqual(overlapping, [], 'starts decided by a dispatcher after its successor had acted');
});

// The metrics follower on real files: half-written lines wait for their end, what was read is saved as
// byte offsets so a new follower (a reload) neither repeats nor loses a report, the JSON-lines file is
// read beside the log, a job that ended is read to the end once, and an endless line costs nothing.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import type { Job } from '../../src/core/job';
import { MetricsFollower } from '../../src/core/metricsFollower';
import { makeJob } from '../support/builders';

async function setup(jobs: Job[], withFile = true) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'trainq-metrics-'));
  const host = {
    logPath: (id: string) => path.join(dir, `${id}.log`),
    ...(withFile && { metricsPath: (id: string) => path.join(dir, `${id}.jsonl`) }),
  };
  let saves = 0;
  const follower = () => new MetricsFollower({ jobs: () => jobs, host: () => host, save: async () => void saves++ });
  return { dir, host, follower, saves: () => saves };
}

test('a half-written line waits for its newline; offsets survive a new follower, so nothing is counted twice', async () => {
  const job = makeJob({ id: 'j1', state: 'running', host: 'local', startedAt: 1 });
  const t = await setup([job]);
  const log = t.host.logPath('j1');
  await fs.writeFile(log, 'epoch 1\ntrainq:metric val_acc=0.5 step=1\ntrainq:metric val_acc=0.6');
  const first = t.follower();
  let updates = await first.poll();
  assert.deepEqual(updates.map((u) => u.names), [['val_acc']]);
  assert.deepEqual(job.metrics!.series.val_acc.map((p) => [p.step, p.value]), [[1, 0.5]]);
  await fs.appendFile(log, '0 step=2\n');
  updates = await first.poll();
  assert.deepEqual(job.metrics!.series.val_acc.map((p) => [p.step, p.value]), [[1, 0.5], [2, 0.6]]);
  // A reload: a new follower over the saved job reads on from the saved offset.
  const saved: Job = JSON.parse(JSON.stringify(job));
  const again = await setup([saved]);
  await fs.appendFile(log, 'trainq:metric val_acc=0.7 step=3\n');
  const second = new MetricsFollower({ jobs: () => [saved], host: () => t.host, save: async () => undefined });
  await second.poll();
  assert.deepEqual(saved.metrics!.series.val_acc.map((p) => p.step), [1, 2, 3]);
  assert.equal(t.saves() > 0, true);
  await fs.rm(again.dir, { recursive: true, force: true });
});

test('JSON lines from TRAINQ_METRICS_FILE join the log\'s reports; a job that ended is read to the end once', async () => {
  const job = makeJob({ id: 'j2', state: 'running', host: 'local', startedAt: 1 });
  const t = await setup([job]);
  await fs.writeFile(t.host.logPath('j2'), 'trainq:metric loss=1.5 step=1\n');
  await fs.writeFile(t.host.metricsPath!('j2'), '{"val_acc": 0.4, "step": 1}\n{"val_acc": "x"}\n');
  const f = t.follower();
  await f.poll();
  assert.deepEqual(Object.keys(job.metrics!.latest).sort(), ['loss', 'val_acc']);
  // The job ends with a last line that has no newline: it is taken at the final read, and only once.
  await fs.appendFile(t.host.logPath('j2'), 'trainq:metric loss=0.9 step=2');
  Object.assign(job, { state: 'succeeded', endedAt: 2 });
  await f.poll();
  assert.equal(job.metricsRead!.final, true);
  assert.deepEqual(job.metrics!.series.loss.map((p) => p.value), [1.5, 0.9]);
  await fs.appendFile(t.host.logPath('j2'), '\ntrainq:metric loss=0.1 step=3\n');
  assert.deepEqual(await f.poll(), [], 'a job read to the end is not read again');
});

test('an endless line without a newline is skipped, not held: the reports after it still arrive', async () => {
  const job = makeJob({ id: 'j3', state: 'running', host: 'local', startedAt: 1 });
  const t = await setup([job], false);
  await fs.writeFile(t.host.logPath('j3'), 'x'.repeat(300_000));
  const f = t.follower();
  for (let i = 0; i < 3; i++) await f.poll();
  await fs.appendFile(t.host.logPath('j3'), '\ntrainq:metric acc=0.9 step=1\n');
  for (let i = 0; i < 3; i++) await f.poll();
  assert.deepEqual(job.metrics?.series.acc?.map((p) => p.value), [0.9]);
  assert.ok(job.metricsRead!.log >= 300_000);
});

test('jobs that never ran and old history without offsets are not read at all', async () => {
  const old = makeJob({ id: 'old', state: 'succeeded', host: 'local', startedAt: 1, endedAt: 2 });
  const queued = makeJob({ id: 'q', state: 'queued' });
  const t = await setup([old, queued]);
  await fs.writeFile(t.host.logPath('old'), 'trainq:metric acc=1 step=1\n');
  assert.deepEqual(await t.follower().poll(), []);
  assert.equal(old.metrics, undefined);
  assert.equal(t.saves(), 0);
});

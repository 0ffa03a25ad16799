// The metrics follower on real files: half-written lines wait for their end, what was read is saved as
// byte offsets so a new follower (a reload) neither repeats nor loses a report, the JSON-lines file is
// read beside the log, a job that ended is read to the end once, and an endless line costs nothing.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import type { Job } from '../../src/core/job';
import { MetricsFollower, readLines } from '../../src/core/metricsFollower';
import { MAX_SERIES_POINTS, emptyJobMetrics, parseMetricJsonLine, parseMetricLine, recordMetrics, type MetricReport } from '../../src/core/metricsProtocol';
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

/** Every report readLines hands out while `bytes` arrive in pieces of `size`, read after each piece, then to the end. */
async function readInPieces(bytes: Buffer, size: number, parse: (line: string) => MetricReport | undefined): Promise<MetricReport[]> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'trainq-lines-'));
  const file = path.join(dir, 'output.log');
  await fs.writeFile(file, '');
  const got: MetricReport[] = [];
  const take = (line: string) => {
    const r = parse(line);
    if (r) got.push(r);
  };
  let offset = 0;
  for (let i = 0; i < bytes.length; i += size) {
    await fs.appendFile(file, bytes.subarray(i, i + size));
    offset = await readLines(file, offset, 1 << 20, false, take);
  }
  await readLines(file, offset, 1 << 20, true, take);
  await fs.rm(dir, { recursive: true, force: true });
  return got;
}
const plain = (r: MetricReport) => ({ ...(r.step !== undefined && { step: r.step }), values: { ...r.values } });

test('whole lines only, across pieces split anywhere, even mid-character; \\r\\n and a lone \\r end lines', async () => {
  const text = 'noise ✓ line\ntrainq:metric a=1 step=1\r\ntrainq:metric b=2.5 step=2\nprogress 50%\rtrainq:metric c=3\n{"ignored": 1}\n';
  const bytes = Buffer.from(`${text}trainq:metric énergie=1 a=4`);
  const expected = [{ step: 1, values: { a: 1 } }, { step: 2, values: { b: 2.5 } }, { values: { c: 3 } }, { values: { a: 4 } }];
  for (let size = 1; size <= 7; size++) {
    assert.deepEqual((await readInPieces(bytes, size, parseMetricLine)).map(plain), expected, `pieces of ${size} bytes; the last line counts at the end, its bad name dropped`);
  }
  // A 3-byte character split between two pieces is decoded whole.
  const json = Buffer.from('{"loss": 0.5, "note": "€€€"}\n');
  const cut = json.indexOf(0xe2) + 1;
  assert.deepEqual((await readInPieces(json, cut, parseMetricJsonLine)).map(plain), [{ values: { loss: 0.5 } }]);
});

test('10 000 lines at once and one by one: every report, and the series stays bounded', async () => {
  const lines = Array.from({ length: 10_000 }, (_, i) => (i % 3 === 0 ? `epoch ${i}` : `trainq:metric loss=${1 / (i + 1)} step=${i}`));
  const bytes = Buffer.from(`${lines.join('\n')}\n`);
  const whole = await readInPieces(bytes, bytes.length, parseMetricLine);
  assert.equal(whole.length, lines.filter((l) => l.startsWith('trainq')).length);
  const oneByOne = await readInPieces(bytes, Math.ceil(bytes.length / 500), parseMetricLine);
  assert.equal(oneByOne.length, whole.length);
  const metrics = emptyJobMetrics();
  whole.forEach((r, i) => recordMetrics(metrics, r, i));
  assert.ok(metrics.series.loss.length <= MAX_SERIES_POINTS);
  assert.equal(metrics.series.loss.at(-1)!.step, 9998, 'the latest point survives thinning');
  assert.equal(metrics.series.loss[0].step, 1, 'and so does the first');
});

test('reports are saved at most every 10 s (redrawn from memory between), and at once when a job was read to its end', async () => {
  const job = makeJob({ id: 'j5', state: 'running', host: 'local', startedAt: 1 });
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'trainq-durable-'));
  const host = { logPath: (id: string) => path.join(dir, `${id}.log`) };
  let now = 0;
  const asked: boolean[] = [];
  const f = new MetricsFollower({ jobs: () => [job], host: () => host, now: () => now, save: async (durable) => void asked.push(durable) });
  for (let s = 1; s <= 12; s++) {
    await fs.appendFile(host.logPath('j5'), `trainq:metric loss=${1 / s} step=${s}\n`);
    await f.poll();
    now += 1000;
  }
  assert.deepEqual(asked, [true, false, false, false, false, false, false, false, false, false, true, false]);
  Object.assign(job, { state: 'succeeded', endedAt: now });
  await f.poll();
  assert.equal(asked.at(-1), true, 'the final read is saved at once');
  assert.equal(job.metrics!.series.loss.length, 12, 'every report is in memory whether saved yet or not');
});

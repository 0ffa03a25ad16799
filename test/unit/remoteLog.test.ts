import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MetricsMirror } from '../../src/hosts/remote/metricsMirror';
import { LogMirror } from '../../src/hosts/remote/remoteLog';

let dir: string;
let seq = 0;
const logFile = () => path.join(dir, `job-${++seq}`, 'output.log');

before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'trainq-remotelog-'));
});

after(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

test('appends stream in and a reopened mirror resumes at the local size', async () => {
  const file = logFile();
  const mirror = await LogMirror.open(file, 1000);
  await mirror.reset();
  await mirror.append(Buffer.from('abc\n'), 'h:/r/output.log');
  await mirror.append(Buffer.from('def\n'), 'h:/r/output.log');
  assert.equal(await fs.readFile(file, 'utf8'), 'abc\ndef\n');
  const again = await LogMirror.open(file, 1000);
  assert.equal(again.offset, 8);
  assert.equal(again.capped, false);
});

test('a capped copy keeps the head, then a note and the tail; a reopened mirror stays capped', async () => {
  const file = logFile();
  const mirror = await LogMirror.open(file, 20);
  await mirror.reset();
  await mirror.append(Buffer.from('0123456789abcdef'), 'h:/r/output.log');
  assert.equal(mirror.capped, true);
  assert.equal(mirror.offset, 10);
  const reopened = await LogMirror.open(file, 20);
  assert.deepEqual([reopened.offset, reopened.capped], [10, true]);
  await reopened.append(Buffer.from('ignored'), 'h:/r/output.log');
  await reopened.finish(100, Buffer.from('TAIL567890'), 90, 'h:/r/output.log');
  const text = await fs.readFile(file, 'utf8');
  assert.ok(text.startsWith('0123456789\n[TrainQ: the log passed 10 bytes'));
  assert.ok(text.endsWith('[TrainQ: 80 bytes left out of 100 bytes; the full log stays at h:/r/output.log]\nTAIL567890'));
  await reopened.finish(100, Buffer.from('again'), 95, 'h:/r/output.log');
  assert.equal(await fs.readFile(file, 'utf8'), text, 'finishing twice adds nothing');
});

test('reset starts a fresh copy', async () => {
  const file = logFile();
  const mirror = await LogMirror.open(file, 20);
  await mirror.reset();
  await mirror.append(Buffer.from('0123456789abcdef'), 'h:/r');
  await mirror.reset();
  assert.equal(await fs.readFile(file, 'utf8'), '');
  assert.deepEqual([(await LogMirror.open(file, 20)).offset, (await LogMirror.open(file, 20)).capped], [0, false]);
});

test('the metrics copy resumes at its size, stops at a whole line below its cap, and drains the rest at the end', async () => {
  const file = path.join(dir, `job-${++seq}`, 'metrics.jsonl');
  const mirror = await MetricsMirror.open(file, 40);
  assert.equal(mirror.offset, 0, 'no copy yet: from the start');
  await mirror.append(Buffer.from('{"a": 1}\n'));
  const reopened = await MetricsMirror.open(file, 40);
  assert.equal(reopened.offset, 9, 'a reload resumes at the size on disk');
  const remote = Buffer.from('{"a": 1}\n{"a": 2}\n{"a": 3}\n{"a": 4}\n{"a": 5}\n');
  const fetched: number[] = [];
  const fetch = async (offset: number, max: number) => (fetched.push(offset), { size: remote.length, data: remote.subarray(offset, offset + max) });
  await reopened.drain(remote.length, 12, fetch);
  assert.equal(await fs.readFile(file, 'utf8'), '{"a": 1}\n{"a": 2}\n{"a": 3}\n{"a": 4}\n', 'whole lines up to the cap, no torn line');
  assert.equal(reopened.offset, -1, 'full: nothing more is asked for');
  assert.deepEqual(fetched, [9, 21, 33], 'in pieces of at most max bytes');
  await reopened.reset();
  assert.equal(reopened.offset, 0);
  await assert.rejects(fs.access(file), 'a fresh launch starts without the old copy');
});


// The one durable write (src/core/durableFile.ts) that the job store, the agent's weights, the remote
// log's sidecar and the dispatch lock share: what it leaves on disk when it works, when it fails and
// when its process is killed in the middle.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { replaceFile, tempFileWriter, writeSynced } from '../../src/core/durableFile';
import { createRng } from '../../src/sim/rng';
import { durableGeneration, generationOf } from '../fixtures/durableWriter';
import { runWriterUntilKilled } from '../support/killedWriter';

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'trainq-durable-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

test('a replace leaves the new file, the previous one as backup, and no temp files', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'state.json');
  await replaceFile(file, 'one', { backup: `${file}.bak` });
  assert.deepEqual(await fs.readdir(dir), ['state.json'], 'nothing to back up the first time');
  await replaceFile(file, 'two', { backup: `${file}.bak` });
  await replaceFile(file, Buffer.from('three'), { backup: `${file}.bak` });
  assert.equal(await fs.readFile(file, 'utf8'), 'three');
  assert.equal(await fs.readFile(`${file}.bak`, 'utf8'), 'two');
  assert.deepEqual((await fs.readdir(dir)).sort(), ['state.json', 'state.json.bak']);
  await replaceFile(file, 'four');
  assert.equal(await fs.readFile(`${file}.bak`, 'utf8'), 'two', 'no backup asked for, none rotated');
});

test('temp files are written in the given folder, and a folder that is gone fails the write and changes nothing', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'store.json');
  const fence = path.join(dir, 'fence');
  await fs.mkdir(fence);
  const seen: string[] = [];
  const inFence = () => (seen.push(fence), fence);
  await replaceFile(file, 'old', { tempDir: inFence, backup: `${file}.bak` });
  await replaceFile(file, 'new', { tempDir: inFence, backup: `${file}.bak` });
  assert.equal(seen.length, 4, 'asked for the temp file and for the backup\'s link on each write');
  assert.deepEqual(await fs.readdir(fence), []);

  // Another window retired the fence folder (renamed it away) while this writer was stopped.
  await fs.rename(fence, path.join(dir, 'retired'));
  await assert.rejects(replaceFile(file, 'late', { tempDir: inFence, backup: `${file}.bak` }), { code: 'ENOENT' });
  assert.equal(await fs.readFile(file, 'utf8'), 'new');
  assert.equal(await fs.readFile(`${file}.bak`, 'utf8'), 'old');
  assert.deepEqual((await fs.readdir(dir)).sort(), ['retired', 'store.json', 'store.json.bak']);
});

test('a temp folder that refuses (a lost lock) stops the write before anything is written, or before the backup', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'store.json');
  await replaceFile(file, 'kept', { backup: `${file}.bak` });
  const refuse = () => {
    throw new Error('not the holder');
  };
  await assert.rejects(replaceFile(file, 'x', { tempDir: refuse }), /not the holder/);
  let calls = 0;
  const refuseSecond = () => {
    if (++calls > 1) {
      throw new Error('lost meanwhile');
    }
    return dir;
  };
  await assert.rejects(replaceFile(file, 'y', { tempDir: refuseSecond, backup: `${file}.bak` }), /lost meanwhile/);
  assert.equal(await fs.readFile(file, 'utf8'), 'kept');
  assert.deepEqual(await fs.readdir(dir), ['store.json'], 'the written temp file is removed again');
});

test('a file and its backup left as one inode (a crash between the two renames) leave no stray link', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'dqn.json');
  await fs.writeFile(file, 'same');
  await fs.link(file, `${file}.bak`);
  await replaceFile(file, 'next', { backup: `${file}.bak` });
  assert.equal(await fs.readFile(file, 'utf8'), 'next');
  assert.equal(await fs.readFile(`${file}.bak`, 'utf8'), 'same');
  assert.deepEqual((await fs.readdir(dir)).sort(), ['dqn.json', 'dqn.json.bak']);
});

test('an exclusive write never touches a file that exists, and a write that fails removes what it created', async (t) => {
  const dir = await tempDir(t);
  const lock = path.join(dir, 'dispatch.lock');
  await writeSynced(lock, '{"pid":1}', 'wx');
  await assert.rejects(writeSynced(lock, '{"pid":2}', 'wx'), { code: 'EEXIST' });
  assert.equal(await fs.readFile(lock, 'utf8'), '{"pid":1}');

  const other = path.join(dir, 'other.lock');
  await assert.rejects(writeSynced(other, 42 as unknown as string, 'wx'));
  assert.deepEqual(await fs.readdir(dir), ['dispatch.lock'], 'no empty file left to look like a lock');
});

test('temp file names tell their writer, and nothing else passes for one', () => {
  const target = '/ws/.trainq/store.json';
  assert.equal(tempFileWriter('store.json.tmp-123-4', target), 123);
  assert.equal(tempFileWriter('store.json.baktmp-7-1', target), 7);
  for (const name of ['store.json', 'store.json.bak', 'store.json.tmp', 'store.json.tmp-1', 'store.json.tmp-1-2.x', 'other.json.tmp-1-2', 'xstore.json.tmp-1-2', 'store.jsonXtmp-1-2']) {
    assert.equal(tempFileWriter(name, target), undefined, name);
  }
});

test('a writer killed mid-write in a loop always leaves a whole file, at least as new as acknowledged, and a whole backup', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'state.txt');
  const writer = path.join(__dirname, '..', 'fixtures', 'durableWriter.ts');
  const random = createRng(20240917, 'durable').next;
  let acked = 0;
  let killedMidWrite = 0;
  const iterations = 25;

  for (let iteration = 0; iteration < iterations; iteration++) {
    await runWriterUntilKilled(writer, [file], random() * 60, (n) => (acked = Math.max(acked, n)));

    const names = await fs.readdir(dir);
    const temps = names.filter((name) => tempFileWriter(name, file) !== undefined);
    killedMidWrite += temps.length > 0 ? 1 : 0;
    const current = generationOf(await fs.readFile(file, 'utf8'));
    assert.ok(current !== undefined, `iteration ${iteration}: the file is not one whole generation`);
    assert.ok(current >= acked, `iteration ${iteration}: generation ${current} on disk, ${acked} acknowledged`);
    if (names.includes('state.txt.bak')) {
      const backup = generationOf(await fs.readFile(`${file}.bak`, 'utf8'));
      assert.ok(backup !== undefined && backup <= current, `iteration ${iteration}: the backup is not a whole older generation`);
    }
    // What a killed writer leaves is only ever its own temp files, which the next opener may delete.
    await Promise.all(temps.map((name) => fs.rm(path.join(dir, name))));
  }
  assert.ok(acked >= iterations);
  assert.equal(generationOf(durableGeneration(acked)), acked);
  t.diagnostic(`${acked} generations acknowledged; ${killedMidWrite} of ${iterations} kills left a write half done`);
});

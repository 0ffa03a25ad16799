import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { relativeInside } from '../../src/core/pathInside';
import { mapIntoRemote } from '../../src/hosts/remote/remoteLayout';
import { createRng } from '../../src/sim/rng';

/** The rule the remote hosts used: any relative path starting with the two characters '..' was outside. */
function oldInside(root: string, target: string, api: typeof path = path): boolean {
  const rel = api.relative(api.resolve(root), api.resolve(target));
  return !(rel.startsWith('..') || api.isAbsolute(rel));
}

test('a top-level ..name.py or ...py is inside the folder; only a first segment of exactly .. climbs out', () => {
  assert.equal(oldInside('/ws/proj', '/ws/proj/..name.py'), false, 'the old rule refused it');
  assert.equal(relativeInside('/ws/proj', '/ws/proj/..name.py'), '..name.py');
  assert.equal(relativeInside('/ws/proj', '/ws/proj/...py'), '...py');
  assert.equal(relativeInside('/ws/proj', '/ws/proj/..'), undefined);
  assert.equal(relativeInside('/ws/proj', '/ws/proj/../x.py'), undefined);
  assert.equal(relativeInside('/ws/proj', '/ws/proj/sub/../../x.py'), undefined);
  assert.equal(relativeInside('/ws/proj', '/ws/proj/../proj/..name/train.py'), '..name/train.py');
  assert.equal(relativeInside('/ws/proj', '/ws/proj/sub/..'), '');
  assert.equal(relativeInside('/ws/proj/', '/ws/proj'), '');
  assert.equal(relativeInside('/ws/proj', '/ws/projX/train.py'), undefined, 'a sibling sharing the prefix');
  assert.equal(relativeInside('/ws/proj', '/train.py'), undefined);
  assert.equal(relativeInside('/', '/..name.py'), '..name.py');
});

test('Windows paths: another drive is outside, ..name.py inside, case as Windows compares it', () => {
  const win = path.win32;
  assert.equal(relativeInside('C:\\ws\\proj', 'C:\\ws\\proj\\..name.py', win), '..name.py');
  assert.equal(relativeInside('C:\\ws\\proj', 'C:/ws/proj/sub/...py', win), 'sub\\...py');
  assert.equal(relativeInside('C:\\ws\\proj', 'C:\\ws\\proj\\..\\x.py', win), undefined);
  assert.equal(relativeInside('C:\\ws\\proj', 'D:\\ws\\proj\\x.py', win), undefined);
  assert.equal(relativeInside('C:\\ws\\proj', 'c:\\WS\\Proj\\a.py', win), 'a.py');
});

test('the new rule agrees with the old one everywhere except names that merely begin with ..', () => {
  const next = createRng(20240611, 'pathInside').next;
  const SEGMENTS = ['a', 'proj', '.', '..', '..a', '...', '.hidden', 'b.py', '..name.py', '...py'];
  let differed = 0;
  for (let round = 0; round < 3000; round++) {
    const segments = Array.from({ length: 1 + Math.floor(next() * 5) }, () => SEGMENTS[Math.floor(next() * SEGMENTS.length)]);
    const target = `/ws/proj/${segments.join('/')}`;
    const rel = path.relative('/ws/proj', path.resolve(target));
    const first = rel.split(path.sep)[0];
    const inside = relativeInside('/ws/proj', target);
    if (inside !== undefined) {
      assert.equal(path.resolve('/ws/proj', inside), path.resolve(target), `${target}: the relative path leads back to it`);
    }
    if (first.startsWith('..') && first !== '..') {
      differed++;
      assert.equal(inside, rel, `${target} is inside`);
    } else {
      assert.equal(inside !== undefined, oldInside('/ws/proj', target), target);
    }
  }
  assert.ok(differed > 100, `the loop reached names beginning with .. (${differed})`);
});

test('symlinks are not followed, as before: a link inside counts as inside, a root reached through a link does not contain the real path', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trainq-inside-'));
  try {
    const root = path.join(tmp, 'proj');
    const elsewhere = path.join(tmp, 'elsewhere');
    fs.mkdirSync(root);
    fs.mkdirSync(elsewhere);
    fs.writeFileSync(path.join(elsewhere, 'train.py'), '');
    fs.symlinkSync(elsewhere, path.join(root, 'linked'));
    fs.symlinkSync(elsewhere, path.join(root, '..linked'));
    fs.symlinkSync(root, path.join(tmp, 'alias'));
    const throughLink = path.join(root, 'linked', 'train.py');
    assert.ok(fs.existsSync(throughLink));
    assert.equal(relativeInside(root, throughLink), path.join('linked', 'train.py'));
    assert.equal(oldInside(root, throughLink), true, 'the old rule did not follow links either');
    assert.equal(relativeInside(root, path.join(root, '..linked', 'train.py')), path.join('..linked', 'train.py'));
    const viaAlias = path.join(tmp, 'alias', 'train.py');
    assert.equal(relativeInside(root, viaAlias), undefined);
    assert.equal(oldInside(root, viaAlias), false);
    assert.equal(relativeInside(path.join(tmp, 'alias'), viaAlias), 'train.py');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('remote hosts map a top-level ..name.py into the synced copy', () => {
  assert.equal(mapIntoRemote('/ws/proj/..name.py', '/ws/proj', '/home/me/trainq/proj'), '/home/me/trainq/proj/..name.py');
  assert.throws(() => mapIntoRemote('/ws/proj/../x.py', '/ws/proj', '/home/me/trainq/proj'), /outside the synced folder/);
});

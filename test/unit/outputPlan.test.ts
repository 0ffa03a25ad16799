import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileOutputGlobs } from '../../src/core/outputGlobs';
import { boundProblem, keepBothName, needsContentCheck, placements, planOutputs, selectOutputs, type LocalOutputState } from '../../src/core/outputPlan';
import { listArgs, nulList, parseHashes, parseOutputListing, rsyncFetchArgs, tarFetchCommands, TAR_SEND_SCRIPT } from '../../src/hosts/remote/outputTransfer';

const MiB = 1024 * 1024;

test('selection: only what the globs select, each once, sorted; unusable names from the host are refused', () => {
  const globs = compileOutputGlobs(['outputs/**', '*.ckpt']);
  const sel = selectOutputs(
    [
      { path: 'outputs/b.bin', size: 5 },
      { path: 'outputs/a.bin', size: 3 },
      { path: 'outputs/a.bin', size: 3 },
      { path: 'data/huge.bin', size: 10 ** 12 },
      { path: 'model.ckpt', size: 7 },
      { path: '../escape.ckpt', size: 1 },
      { path: '/etc/x.ckpt', size: 1 },
    ],
    globs,
  );
  assert.deepEqual(sel.files.map((f) => f.path), ['model.ckpt', 'outputs/a.bin', 'outputs/b.bin']);
  assert.equal(sel.totalBytes, 15);
  assert.deepEqual(sel.refused, ['../escape.ckpt', '/etc/x.ckpt']);
});

test('the bound: at the limit is fine; over it the message names the size and the setting', () => {
  assert.equal(boundProblem(100 * MiB, 100 * MiB, 'trainq.outputs.maxMiB'), undefined);
  const msg = boundProblem(100 * MiB + 1, 100 * MiB, 'trainq.outputs.maxMiB');
  assert.match(msg ?? '', /100 MiB, more than trainq\.outputs\.maxMiB \(100 MiB\); nothing was copied/);
  assert.match(boundProblem(3.25 * MiB, 1 * MiB, 's') ?? '', /3\.3 MiB/);
  assert.match(boundProblem(1, 0, 's') ?? '', /nothing was copied/);
});

test('conflict plan: new files, unchanged files, differing files and blocked destinations', () => {
  const files = [
    { path: 'new.bin', size: 1 },
    { path: 'same.bin', size: 4 },
    { path: 'samesize-other.bin', size: 4 },
    { path: 'bigger.bin', size: 9 },
    { path: 'unknown-hash.bin', size: 4 },
    { path: 'link/x.bin', size: 1 },
  ];
  const local: Record<string, LocalOutputState> = {
    'same.bin': { kind: 'file', size: 4 },
    'samesize-other.bin': { kind: 'file', size: 4 },
    'bigger.bin': { kind: 'file', size: 2 },
    'unknown-hash.bin': { kind: 'file', size: 4 },
    'link/x.bin': { kind: 'blocked', why: 'link is a symbolic link' },
  };
  const at = (p: string) => local[p] ?? { kind: 'absent' as const };
  // Only equal sizes need hashes; a different size is a conflict without one.
  assert.deepEqual(needsContentCheck(files, at), ['same.bin', 'samesize-other.bin', 'unknown-hash.bin']);
  const same: Record<string, boolean | undefined> = { 'same.bin': true, 'samesize-other.bin': false, 'unknown-hash.bin': undefined };
  const plan = planOutputs(files, at, (p) => same[p]);
  assert.deepEqual(plan.fresh.map((f) => f.path), ['new.bin']);
  assert.deepEqual(plan.same.map((f) => f.path), ['same.bin']);
  // An unknown hash counts as different: asked about, never overwritten silently.
  assert.deepEqual(plan.conflicts.map((f) => f.path), ['samesize-other.bin', 'bigger.bin', 'unknown-hash.bin']);
  assert.deepEqual(plan.blocked.map((b) => [b.file.path, b.why]), [['link/x.bin', 'link is a symbolic link']]);

  const none = () => false;
  assert.deepEqual(placements(plan, 'skip', 'gpu-a', none), [{ path: 'new.bin', to: 'new.bin', overwrite: false }]);
  assert.deepEqual(placements(plan, 'overwrite', 'gpu-a', none).filter((p) => p.overwrite).map((p) => p.to), ['samesize-other.bin', 'bigger.bin', 'unknown-hash.bin']);
  const both = placements(plan, 'keepBoth', 'gpu-a', none);
  assert.ok(both.every((p) => !p.overwrite), 'Keep Both overwrites nothing');
  assert.deepEqual(both.map((p) => p.to), ['new.bin', 'samesize-other (gpu-a).bin', 'bigger (gpu-a).bin', 'unknown-hash (gpu-a).bin']);
});

test('Keep Both names: beside the file, numbered when taken, extension and folders kept', () => {
  const taken = new Set(['outputs/model (gpu-a).ckpt', 'outputs/model (gpu-a 2).ckpt']);
  assert.equal(keepBothName('outputs/model.ckpt', 'gpu-a', (p) => taken.has(p)), 'outputs/model (gpu-a 3).ckpt');
  assert.equal(keepBothName('.env', 'h', () => false), '.env (h)');
  assert.equal(keepBothName('a.b/README', 'h', () => false), 'a.b/README (h)');
  assert.equal(keepBothName('x.tar.gz', 'h', () => false), 'x.tar (h).gz');
  // A host name cannot put a slash (a folder) into the new name.
  assert.equal(keepBothName('m.pt', 'a/../b', () => false), 'm (a-..-b).pt');
});

test('the listing is read from NUL-separated records: names with spaces, quotes and shell syntax stay whole', () => {
  const names = ['outputs/a b.txt', "outputs/it's.txt", 'outputs/$(touch pwned)', 'outputs/-rf'];
  const body = names.map((n, i) => `F${i + 1} ./${n}\0`).join('') + 'Eoutputs/evil\0';
  const listing = parseOutputListing(Buffer.from(`motd noise\nTRAINQ-OUTPUTS\n${body}`));
  assert.deepEqual(listing.files, names.map((n, i) => ({ path: n, size: i + 1 })));
  assert.deepEqual(listing.escaping, ['outputs/evil']);
  assert.throws(() => parseOutputListing(Buffer.from('TRAINQ-ERROR the job folder /x does not exist on the host\n')), /does not exist/);
  assert.deepEqual(listArgs('/w/proj', [{ root: '', depth: 1 }, { root: 'outputs', depth: undefined }]), ['/w/proj', '', '1', 'outputs', '-']);
  assert.deepEqual(parseHashes(`TRAINQ-HASHES\n${'a'.repeat(64)}\n-\nnot-a-hash\n`, 4), ['a'.repeat(64), undefined, undefined, undefined]);
  assert.deepEqual([...nulList(['a b', 'c'])], [...Buffer.from('a b\0c\0')]);
});

test('rsync and tar command lines: the file list goes on stdin, the remote folder as one quoted word', () => {
  const rsync = rsyncFetchArgs('ssh -o BatchMode=yes', "host:/w/my proj/'x'/", '/ws/out/');
  assert.deepEqual(rsync, ['-t', '-s', '--from0', '--files-from=-', '--timeout=60', '-e', 'ssh -o BatchMode=yes', "host:/w/my proj/'x'/", '/ws/out/']);
  const tar = tarFetchCommands(['-p', '2222'], 'me@host', "/w/a b/$(id)/'q'", '/ws/.trainq-incoming-1');
  assert.deepEqual(tar.ssh.slice(0, 4), ['-p', '2222', '--', 'me@host']);
  // One remote command: the fixed script and the folder, each single-quoted, so the remote shell runs
  // `sh -c SCRIPT trainq DIR` and the folder reaches the script as $1 byte for byte.
  assert.equal(tar.ssh[4], `sh -c '${TAR_SEND_SCRIPT.replace(/'/g, `'\\''`)}' trainq '/w/a b/$(id)/'\\''q'\\'''`);
  assert.match(TAR_SEND_SCRIPT, /--null -T -/);
  assert.deepEqual(tar.tar, ['-x', '-o', '-f', '-', '-C', '/ws/.trainq-incoming-1']);
});

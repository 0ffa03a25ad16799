import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mapIntoRemote, remoteArgv, remoteJobDir, remoteProjectDir } from '../../src/hosts/remote/remoteLayout';

const map = (p: string) => mapIntoRemote(p, '/ws/proj', '/home/me/trainq/proj');

test('local paths inside the project map to the synced copy; others are refused', () => {
  assert.equal(map('/ws/proj'), '/home/me/trainq/proj');
  assert.equal(map('/ws/proj/my scripts/train run.py'), '/home/me/trainq/proj/my scripts/train run.py');
  assert.throws(() => map('/ws/other/train.py'), /outside the synced folder '\/ws\/proj'/);
  assert.throws(() => map('/ws/proj/a\nb.py'), /not a usable remote path/);
  assert.equal(remoteProjectDir('/home/me/trainq', '/ws/proj/'), '/home/me/trainq/proj');
  assert.throws(() => remoteProjectDir('/w', '/'), /cannot be synced/);
  assert.throws(() => remoteJobDir('/w', '../x'), /Invalid job id/);
});

test('.py jobs run with the host python; arguments stay verbatim', () => {
  const script = '/ws/proj/train.py';
  const args = ['--lr', '0.1', '/ws/proj/train.py', "'; rm -rf ~; '"];
  assert.deepEqual(remoteArgv(['/ws/proj/.venv/bin/python', script, ...args], { script }, '~/envs/torch/bin/python', map), [
    '~/envs/torch/bin/python',
    '/home/me/trainq/proj/train.py',
    ...args,
  ]);
});

test('other interpreters keep their name, a local absolute path reduced to it', () => {
  const script = '/ws/proj/run.sh';
  assert.deepEqual(remoteArgv(['bash', script, 'a'], { script }, 'python3', map), ['bash', '/home/me/trainq/proj/run.sh', 'a']);
  assert.deepEqual(remoteArgv(['/usr/local/bin/bash', '-e', script], { script }, 'python3', map), ['bash', '-e', '/home/me/trainq/proj/run.sh']);
  assert.deepEqual(remoteArgv([script, 'x'], { script }, 'python3', map), ['/home/me/trainq/proj/run.sh', 'x']);
  assert.throws(() => remoteArgv(['bash', '/elsewhere.sh'], { script }, 'python3', map), /does not contain the script path/);
});

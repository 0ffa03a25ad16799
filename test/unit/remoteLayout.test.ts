import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mapIntoRemote, remoteJobDir, remoteProjectDir } from '../../src/hosts/remote/remoteLayout';

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

import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { ClusterError, fastestFitSpeed, largestHostGpus, loadCluster, parseCluster, totalGpus } from '../../src/sim/clusterLoader';

const ROOT = path.join(__dirname, '..', '..');

test('the bench clusters load, with their GPU totals', () => {
  const totals = ['hetero-24', 'hetero-48', 'hetero-64', 'homo-8'].map((name) => {
    const cluster = loadCluster(path.join(ROOT, 'bench', 'clusters', `${name}.json`));
    assert.equal(cluster.name, name);
    return totalGpus(cluster);
  });
  assert.deepEqual(totals, [24, 48, 64, 8]);
});

test('the fastest host a job fits on depends on its width', () => {
  const cluster = loadCluster(path.join(ROOT, 'bench', 'clusters', 'hetero-24.json'));
  assert.equal(largestHostGpus(cluster), 8);
  assert.equal(fastestFitSpeed(cluster, 4), 1.6);
  assert.equal(fastestFitSpeed(cluster, 8), 1.0);
  assert.equal(fastestFitSpeed(cluster, 16), 0);
});

const host = (over: Record<string, unknown>): string => JSON.stringify({ name: 'c', hosts: [{ name: 'a', gpus: 4, speed: 1 }, { name: 'b', gpus: 2, speed: 1, ...over }] });

const BAD: ReadonlyArray<[string, string, RegExp]> = [
  ['not JSON', '{"name": "c", hosts: []}', /c\.json: not valid JSON \(/],
  ['an array', '[]', /c\.json: expected an object \{"name": \.\.\., "hosts": \[\.\.\.\]\}/],
  ['no name', '{"hosts": [{"name": "a", "gpus": 1, "speed": 1}]}', /c\.json: name must be a non-empty string \(got nothing\)/],
  ['no hosts', '{"name": "c", "hosts": []}', /c\.json: hosts must be a non-empty array \(got \[\]\)/],
  ['a host that is not an object', '{"name": "c", "hosts": [4]}', /c\.json: hosts\[0\] must be an object/],
  ['a host without a name', host({ name: '' }), /c\.json: hosts\[1\]: name must be a non-empty string \(got ""\)/],
  ['zero GPUs', host({ gpus: 0 }), /c\.json: hosts\[1\] \("b"\): gpus must be a positive integer \(got 0\)/],
  ['fractional GPUs', host({ gpus: 2.5 }), /gpus must be a positive integer \(got 2\.5\)/],
  ['GPUs as a string', host({ gpus: '8' }), /gpus must be a positive integer \(got "8"\)/],
  ['zero speed', host({ speed: 0 }), /c\.json: hosts\[1\] \("b"\): speed must be a positive number \(got 0\)/],
  ['negative speed', host({ speed: -1 }), /speed must be a positive number \(got -1\)/],
  ['no speed', host({ speed: undefined }), /speed must be a positive number \(got nothing\)/],
];

for (const [what, text, message] of BAD) {
  test(`a cluster with ${what} is rejected with a clear message`, () => {
    assert.throws(() => parseCluster(text, 'c.json'), (err: Error) => {
      assert.ok(err instanceof ClusterError, `${err.name}: ${err.message}`);
      assert.match(err.message, message);
      return true;
    });
  });
}

test('host names must be unique, and the message names both places', () => {
  assert.throws(
    () => loadCluster(path.join(ROOT, 'test', 'fixtures', 'sim', 'duplicate-hosts.json')),
    /duplicate-hosts\.json: hosts\[2\] has the name "box", already used by hosts\[0\]; host names must be unique\./,
  );
});

test('a missing cluster file is one clear error', () => {
  assert.throws(() => loadCluster('/nonexistent/c.json'), /^ClusterError: Cannot read the cluster \/nonexistent\/c\.json: no such file\.$/);
});

test('a slurm host needs a queue delay; other kinds are refused by name', () => {
  const cluster = loadCluster(path.join(ROOT, 'bench', 'clusters', 'hetero-slurm-40.json'));
  assert.deepEqual(cluster.hosts.at(-1), { name: 'slurm-gpu', gpus: 24, speed: 1.2, kind: 'slurm', queueDelay: { medianSec: 7200, sigma: 1 } });
  const host = (extra: object) => JSON.stringify({ name: 'c', hosts: [{ name: 'h', gpus: 4, speed: 1, ...extra }] });
  assert.throws(() => parseCluster(host({ kind: 'slurm' }), 'c.json'), /"h"\): a slurm host needs "queueDelay"/);
  assert.throws(() => parseCluster(host({ kind: 'slurm', queueDelay: { medianSec: 0, sigma: 1 } }), 'c.json'), ClusterError);
  assert.throws(() => parseCluster(host({ kind: 'slurm', queueDelay: { medianSec: 60, sigma: -1 } }), 'c.json'), ClusterError);
  assert.throws(() => parseCluster(host({ kind: 'k8s' }), 'c.json'), /kind must be "slurm" or absent \(got "k8s"\)/);
});

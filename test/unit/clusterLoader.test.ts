import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';
import { ClusterError, fastestFitSpeed, hasTypedHost, largestHostGpus, loadCluster, parseCluster, totalGpus } from '../../src/sim/clusterLoader';

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
  ['zero GPUs', host({ gpus: 0 }), /c\.json: hosts\[1\] \("b"\): gpus must be a positive integer, at most 65536 \(got 0\)/],
  ['fractional GPUs', host({ gpus: 2.5 }), /gpus must be a positive integer, at most 65536 \(got 2\.5\)/],
  ['GPUs as a string', host({ gpus: '8' }), /gpus must be a positive integer, at most 65536 \(got "8"\)/],
  ['zero speed', host({ speed: 0 }), /c\.json: hosts\[1\] \("b"\): speed must be a positive number from 0\.001 to 1000 \(got 0\)/],
  ['negative speed', host({ speed: -1 }), /speed must be a positive number from 0\.001 to 1000 \(got -1\)/],
  ['no speed', host({ speed: undefined }), /speed must be a positive number from 0\.001 to 1000 \(got nothing\)/],
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

// Numbers at the edge of a double. JSON.parse reads 1e400 as Infinity, so the file can hold one.
const EDGE: ReadonlyArray<[string, string, RegExp]> = [
  ['speed 1e400', host({ speed: 0 }).replace('"speed":0', '"speed":1e400'), /speed must be a positive number from 0\.001 to 1000 \(got Infinity\)/],
  ['speed -0', host({ speed: 0 }).replace('"speed":0', '"speed":-0'), /speed must be a positive number from 0\.001 to 1000 \(got -0\)/],
  ['speed 1e-324 (0)', host({ speed: 0 }).replace('"speed":0', '"speed":1e-324'), /speed .*\(got 0\)/],
  ['speed 0.0009', host({ speed: 0.0009 }), /speed .*\(got 0\.0009\)/],
  ['speed 1000.5', host({ speed: 1000.5 }), /speed .*\(got 1000\.5\)/],
  ['Number.MAX_VALUE GPUs', host({ gpus: Number.MAX_VALUE }), /gpus must be a positive integer, at most 65536 \(got 1\.7976931348623157e\+308\)/],
  ['65537 GPUs', host({ gpus: 65_537 }), /gpus .*\(got 65537\)/],
  ['sigma 800', host({ kind: 'slurm', queueDelay: { medianSec: 60, sigma: 800 } }), /"b"\): queueDelay\.sigma must be a number from 0 to 5 \(got 800\)/],
  ['sigma Infinity', host({ kind: 'slurm', queueDelay: { medianSec: 60, sigma: 0 } }).replace('"sigma":0', '"sigma":1e400'), /queueDelay\.sigma .*\(got Infinity\)/],
  ['median 1e308', host({ kind: 'slurm', queueDelay: { medianSec: 1e308, sigma: 1 } }), /queueDelay\.medianSec must be a positive number of seconds, at most 2592000 \(30 days\) \(got 1e\+308\)/],
  ['median -0', host({ kind: 'slurm', queueDelay: { medianSec: 0, sigma: 1 } }).replace('"medianSec":0', '"medianSec":-0'), /queueDelay\.medianSec .*\(got -0\)/],
  ['median 5e-324', host({ kind: 'slurm', queueDelay: { medianSec: 0, sigma: 1 } }).replace('"medianSec":0', '"medianSec":1e-324'), /queueDelay\.medianSec .*\(got 0\)/],
  ['17 hosts of 65536 GPUs', JSON.stringify({ name: 'c', hosts: Array.from({ length: 17 }, (_, i) => ({ name: `h${i}`, gpus: 65_536, speed: 1 })) }), /c\.json: the hosts have 1114112 GPUs in all; at most 1048576/],
];

for (const [what, text, message] of EDGE) {
  test(`a cluster with ${what} is rejected, naming the bound`, () => {
    assert.throws(() => parseCluster(text, 'c.json'), (err: Error) => {
      assert.ok(err instanceof ClusterError, `${err.name}: ${err.message}`);
      assert.match(err.message, message);
      return true;
    });
  });
}

test('the bounds themselves are accepted, and a sigma of -0 is kept as 0', () => {
  const text = JSON.stringify({
    name: 'edge',
    hosts: [
      { name: 'slowest', gpus: 65_536, speed: 0.001 },
      { name: 'fastest', gpus: 1, speed: 1000 },
      { name: 'q', gpus: 8, speed: 1, kind: 'slurm', queueDelay: { medianSec: 2_592_000, sigma: 5 } },
      { name: 'q0', gpus: 8, speed: 1, kind: 'slurm', queueDelay: { medianSec: 5e-324, sigma: 0 } },
    ],
  }).replace('"sigma":0', '"sigma":-0');
  const cluster = parseCluster(text, 'edge.json');
  assert.equal(totalGpus(cluster), 65_553);
  assert.ok(Object.is(cluster.hosts[3].queueDelay?.sigma, 0));
});

test('an endless cluster file (/dev/zero) ends at the byte limit', { skip: process.platform === 'win32' }, () => {
  const script = `try { require('./src/sim/clusterLoader').loadCluster('/dev/zero'); } catch (e) { console.log(e.name + ': ' + e.message); }`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, `killed: ${r.stdout}${r.stderr}`);
  assert.equal(r.stdout.trim(), 'ClusterError: /dev/zero: the cluster is larger than 1 MiB, the most the simulator reads (is it a cluster file?).');
});

test('typed clusters load: each host keeps its declared speed beside its GPU type, and "trace" and "note" are read past', () => {
  const pairs = { 'typed-lab-48': ['philly-103959', 48], 'typed-default-32': ['philly-0e4a51', 32], 'typed-small-12': ['philly-ed69ec', 12], 'typed-big-64': ['philly-7f04ca', 64] };
  for (const [name, [, gpus]] of Object.entries(pairs)) {
    const cluster = loadCluster(path.join(ROOT, 'bench', 'clusters', `${name}.json`));
    assert.equal(totalGpus(cluster), gpus);
    assert.ok(cluster.hosts.every((h) => h.gpuType !== undefined && h.speed > 0), name);
    assert.ok(hasTypedHost(cluster));
    // The documentation keys are not carried into the cluster the simulator sees.
    assert.deepEqual(Object.keys(cluster), ['name', 'hosts']);
  }
  const lab = loadCluster(path.join(ROOT, 'bench', 'clusters', 'typed-lab-48.json'));
  assert.deepEqual(lab.hosts[2], { name: 'p100-a', gpus: 8, speed: 0.6, gpuType: 'p100' });
  // An untyped host reads back with no gpuType key at all, as before types existed.
  assert.deepEqual(Object.keys(parseCluster(host({}), 'c.json').hosts[1]), ['name', 'gpus', 'speed']);
  assert.equal(hasTypedHost(parseCluster(host({}), 'c.json')), false);
  const slurm = parseCluster(host({ gpuType: 'v100', kind: 'slurm', queueDelay: { medianSec: 60, sigma: 0 } }), 'c.json').hosts[1];
  assert.equal(slurm.gpuType, 'v100');
});

test('a bad gpuType, "trace" or "note" is one clear line naming the file, the host and the allowed types', () => {
  const cases: ReadonlyArray<[string, string]> = [
    [host({ gpuType: 'a100' }), 'c.json: hosts[1] ("b"): gpuType must be one of k80, p100, v100 or absent (got "a100").'],
    [host({ gpuType: 100 }), 'c.json: hosts[1] ("b"): gpuType must be one of k80, p100, v100 or absent (got 100).'],
    [host({ gpuType: 'V100' }), 'c.json: hosts[1] ("b"): gpuType must be one of k80, p100, v100 or absent (got "V100").'],
    [host({ gpuType: null }), 'c.json: hosts[1] ("b"): gpuType must be one of k80, p100, v100 or absent (got null).'],
    [JSON.stringify({ name: 'c', trace: 7, hosts: [{ name: 'a', gpus: 1, speed: 1 }] }), 'c.json: trace must be a string or absent (got 7).'],
    [JSON.stringify({ name: 'c', note: ['x'], hosts: [{ name: 'a', gpus: 1, speed: 1 }] }), 'c.json: note must be a string or absent (got ["x"]).'],
  ];
  for (const [text, message] of cases) {
    assert.throws(
      () => parseCluster(text, 'c.json'),
      (err: Error) => err instanceof ClusterError && err.message === message && !err.message.includes('\n'),
    );
  }
  // "speed" stays required on a typed host: it is what the user declared.
  assert.throws(() => parseCluster(host({ gpuType: 'v100', speed: undefined }), 'c.json'), /hosts\[1\] \("b"\): speed must be a positive number/);
});

/**
 * Host constraints as input (issue 16, item 5): script header keys, memory amounts, the labels of
 * `trainq.hosts`, what the roster offers the scheduler, and constrained jobs in the simulator.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConstraintInputError, parseGpuMemory, withConstraint } from '../../src/core/constraintInput';
import { HostRoster } from '../../src/core/hostRoster';
import { silentLogger } from '../../src/core/logger';
import { parseScriptHeader } from '../../src/core/scriptHeader';
import { parseHostConfigs } from '../../src/hosts/hostConfig';
import type { Cluster } from '../../src/sim/clusterLoader';
import { resolvePolicies } from '../../src/sim/policies';
import type { SimJobSpec } from '../../src/sim/simJobs';
import { simulate } from '../../src/sim/simulator';
import { FakeHost } from '../support/builders';

test('header keys hosts=, exclude=, gpu-model=, min-gpu-mem= become the job constraints', () => {
  const h = parseScriptHeader('#!/usr/bin/env python\n# trainq: gpus=2 hosts=lab-1,a100 exclude=lab-2\n# trainq: gpu-model="RTX 4090" min-gpu-mem=20GiB\n');
  assert.deepEqual(h.warnings, []);
  assert.deepEqual(h.values.gpus, 2);
  assert.deepEqual(h.constraints, { require: ['lab-1', 'a100'], exclude: ['lab-2'], gpuModel: 'RTX 4090', minGpuMemMiB: 20480 });
  assert.deepEqual(parseScriptHeader('# trainq: host=local min-gpu-mem=512MiB\n').constraints, { require: ['local'], minGpuMemMiB: 512 });
});

test('bad header values are warnings naming the key, the value and the line; the good ones stay', () => {
  const h = parseScriptHeader(
    '# trainq: hosts=lab-1 min-gpu-mem=20\n# trainq: exclude="a b" gpu-model=""\n# trainq: min-gpu-mem=3TB hosts=, exclude=local\n# trainq: hosts=local\n',
  );
  assert.deepEqual(h.warnings, [
    'Line 1: min-gpu-mem: "20" has no unit; write e.g. 20GiB or 20MiB.',
    'Line 2: exclude: the list has "a b"; each must be 1–63 letters, digits, \'.\', \'_\' or \'-\'.',
    'Line 2: gpu-model: "": the GPU model must be non-empty text without surrounding spaces, e.g. "A100".',
    'Line 3: min-gpu-mem: "3TB" has the unknown unit "TB"; use MiB or GiB.',
    'Line 3: hosts: names no host or label; expected e.g. lab-1,a100.',
    'Host constraints: local is both required and excluded; the job could run nowhere.',
  ]);
  // A later line replaces the earlier list, as every header key does.
  assert.deepEqual(h.constraints, { require: ['local'], exclude: ['local'] });
});

test('memory amounts: MiB and GiB (binary, GB read as GiB), rounded up, bounded; a bare number is refused', () => {
  assert.equal(parseGpuMemory('20GiB'), 20480);
  assert.equal(parseGpuMemory('20 g'), 20480);
  assert.equal(parseGpuMemory('1.5GB'), 1536);
  assert.equal(parseGpuMemory('0.1MiB'), 1);
  assert.equal(parseGpuMemory('.5G'), 512);
  for (const bad of ['', 'GiB', '-1GiB', '0MiB', '1e3MiB', '20', '20 KiB', '99999999GiB', 'NaN GiB']) {
    assert.throws(() => parseGpuMemory(bad), ConstraintInputError, bad);
  }
  assert.throws(() => withConstraint({}, 'gpuModel', 'x'.repeat(65)), /at most 64/);
  assert.deepEqual(withConstraint({ gpuModel: 'A100' }, 'require', ' a , b,a '), { gpuModel: 'A100', require: ['a', 'b'] });
});

test('trainq.hosts labels: valid ones are kept for ssh and slurm entries; a bad one refuses that entry alone with a clear message', () => {
  const { hosts, errors } = parseHostConfigs([
    { name: 'lab-1', type: 'ssh', target: 'lab-1', labels: ['a100', 'lab'] },
    { name: 'cluster', type: 'slurm', target: 'local', labels: ['h100'] },
    { name: 'plain', type: 'ssh', target: 'plain' },
    { name: 'bad-1', type: 'ssh', target: 'x', labels: ['a100', 'two words'] },
    { name: 'bad-2', type: 'ssh', target: 'x', labels: 'a100' },
    { name: 'bad-3', type: 'slurm', target: 'local', labels: [''] },
  ]);
  assert.deepEqual(hosts.map((h) => [h.name, h.labels]), [
    ['lab-1', ['a100', 'lab']],
    ['cluster', ['h100']],
    ['plain', []],
  ]);
  assert.deepEqual(errors, [
    `host 'bad-1': 'labels' has "two words"; each must be 1–63 letters, digits, '.', '_' or '-'.`,
    `host 'bad-2': 'labels' must be a list of names such as ["a100", "lab"].`,
    `host 'bad-3': 'labels' has ""; each must be 1–63 letters, digits, '.', '_' or '-'.`,
  ]);
});

test('the roster offers labels and GPU models and memory to the scheduler; an offline host has labels but unknown GPUs, a Slurm partition opaque ones', async () => {
  const online = Object.assign(new FakeHost('gpu-box', 1), { labels: ['a100'] });
  online.probe = async () => ({ name: 'gpu-box', kind: 'local', state: 'online', gpus: [{ index: 0, uuid: 'u0', name: 'NVIDIA A100', memoryUsedMiB: 100, memoryTotalMiB: 40960 }], probedAt: 0 });
  const offline = Object.assign(new FakeHost('far', 8), { labels: ['h100'] });
  offline.probe = async () => ({ name: 'far', kind: 'ssh', state: 'offline', gpus: [], probedAt: 0 });
  const roster = new HostRoster({ exited: () => undefined, statusChanged: () => undefined, noted: () => undefined }, () => 0, silentLogger);
  // A Slurm partition lists GPUs without models or memory: constraints on those can never match it.
  const slurm = Object.assign(new FakeHost('cluster', 4), { kind: 'slurm', labels: [] });
  roster.set([online, offline, slurm]);
  await roster.probeAll();
  const [a, b, c] = roster.offers();
  assert.deepEqual([a.labels, a.gpuSpecs], [['a100'], [{ index: 0, name: 'NVIDIA A100', memoryUsedMiB: 100, memoryTotalMiB: 40960 }]]);
  assert.deepEqual([b.labels, b.gpuSpecs, b.online], [['h100'], undefined, false]);
  assert.deepEqual([c.labels, c.gpuSpecs, c.opaqueGpus], [undefined, undefined, true]);
});

test('simulator: constrained jobs run only on allowed hosts (by label and by GPU type); unconstrained ones anywhere', async () => {
  const cluster: Cluster = {
    name: 'labelled',
    hosts: [
      { name: 'fast', gpus: 2, speed: 2, labels: ['big'] },
      { name: 'slow', gpus: 2, speed: 1, gpuType: 'v100' },
    ],
  };
  const spec = (index: number, constraints?: SimJobSpec['constraints']): SimJobSpec => ({
    index,
    line: index + 2,
    submitSec: index,
    durationSec: 100,
    gpus: 1,
    importance: 'normal',
    estimateSec: 100,
    fastestSec: 50,
    identity: `p:${index}`,
    script: `p${index}/train.py`,
    args: [],
    user: 'u',
    hostSec: Float64Array.from([50, 100]),
    ...(constraints && { constraints }),
  });
  const jobs = [spec(0, { exclude: ['big'] }), spec(1, { exclude: ['big'] }), spec(2, { gpuModel: 'V100' }), spec(3, { require: ['fast'] }), spec(4), spec(5)];
  for (const name of ['fcfs-firstfit', 'priority-fastest', 'priority-random', 'learned-soonest', 'oracle', 'dqn']) {
    const [entry] = resolvePolicies([name]);
    const run = simulate(jobs, cluster, await entry.create!({ seed: 1, agingMs: 3_600_000, cluster }));
    assert.deepEqual(run.outcomes.slice(0, 4).map((o) => o.host), ['slow', 'slow', 'slow', 'fast'], name);
    // Jobs 0 and 1 hold slow's GPUs: job 2 (V100 only) waits for one though fast is free.
    assert.ok(run.outcomes[2].startSec >= 100, `${name}: job 2 started at ${run.outcomes[2].startSec}`);
  }
});

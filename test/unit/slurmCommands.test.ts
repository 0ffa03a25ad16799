import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildCandidates } from '../../src/core/scheduler';
import {
  gpuCount,
  schedulerGpus,
  parseSacct,
  parseSbatch,
  parseSinfo,
  parseSqueue,
  sbatchOptions,
  sinfoArgs,
  timeLimitFor,
} from '../../src/hosts/slurm/slurmCommands';

test('sbatch options: name, one log for both streams, --gres for GPUs, partition/account/qos, extra options last', () => {
  assert.deepEqual(
    sbatchOptions({
      jobId: 'abc',
      logFile: '/w/jobs/abc/output.log',
      gpus: 2,
      timeLimit: '90',
      partition: 'gpu',
      account: 'lab',
      qos: 'high',
      extra: ['--mem=8G'],
    }),
    [
      '--parsable',
      '--job-name=trainq-abc',
      '--output=/w/jobs/abc/output.log',
      '--error=/w/jobs/abc/output.log',
      '--nodes=1',
      '--time=90',
      '--gres=gpu:2',
      '--partition=gpu',
      '--account=lab',
      '--qos=high',
      '--mem=8G',
    ],
  );
  const cpu = sbatchOptions({ jobId: 'x', logFile: '/a 100%/log', gpus: 0, timeLimit: '5', extra: [] });
  assert.ok(!cpu.some((a) => a.startsWith('--gres')), 'a CPU job asks for no GPUs');
  assert.ok(cpu.includes('--output=/a 100%%/log'), "a literal % in the path is escaped from Slurm's file name patterns");
});

test('sbatch options check the extra options again where the command is built, and pass them under full names', () => {
  const base = { jobId: 'abc', logFile: '/w/log', gpus: 1, timeLimit: '5' };
  for (const extra of [['--job-nam=evil'], ['-vJevil'], ['--arr=0-9'], ['--mem'], ['x'], ['--', '-x']]) {
    assert.throws(() => sbatchOptions({ ...base, extra }), /sbatch|option/, JSON.stringify(extra));
  }
  const out = sbatchOptions({ ...base, extra: ['--mem', '8G', '-Ca100', '--comm=x'] });
  assert.deepEqual(out.slice(-3), ['--mem=8G', '--constraint=a100', '--comment=x']);
  assert.equal(out.filter((a) => a.startsWith('--job-name=')).length, 1, 'one job name, the one TrainQ finds jobs by');
});

test('time limit: the host setting wins, else the estimate plus a quarter and ten minutes, in minutes', () => {
  assert.equal(timeLimitFor(3600, '4:00:00'), '4:00:00');
  assert.equal(timeLimitFor(3600), '85');
  assert.equal(timeLimitFor(60), '12');
  assert.equal(timeLimitFor(0), '85', 'no estimate: an hour');
});

test('time limit: a learned p80 on the host gives p80 plus a half and ten minutes; the host setting still wins', () => {
  assert.equal(timeLimitFor(3600, undefined, 2000), String(Math.ceil((2000 * 1.5 + 600) / 60)));
  assert.equal(timeLimitFor(60, undefined, 7200), '190', 'a job that usually runs 2 h is not killed at its 1-minute estimate');
  assert.equal(timeLimitFor(3600, '4:00:00', 2000), '4:00:00');
  assert.equal(timeLimitFor(3600, undefined, Number.NaN), '85', 'an unusable prediction falls back to the estimate');
  assert.equal(timeLimitFor(3600, undefined, 0), '85');
});

test('sbatch --parsable: id, or id;cluster', () => {
  assert.equal(parseSbatch('1234\n'), '1234');
  assert.equal(parseSbatch('sbatch: warning: x\n77;cluster-a\n'), '77');
  assert.equal(parseSbatch('sbatch: error: Batch job submission failed\n'), undefined);
});

test('squeue rows: state, reason (None dropped), wait status as exit code or signal, nodes', () => {
  const rows = parseSqueue(
    [
      '1|trainq-a|COMPLETED|None|0|tq-node1',
      '2|trainq-b|FAILED|NonZeroExitCode|768|tq-node1',
      '3|trainq-c|PENDING|Resources|0|',
      '4|trainq-d|TIMEOUT|TimeLimit|15|n1',
      'slurm_load_jobs error: x',
    ].join('\n'),
  );
  assert.deepEqual(rows, [
    { slurmId: '1', name: 'trainq-a', state: 'COMPLETED', reason: undefined, exitCode: 0, nodes: 'tq-node1' },
    { slurmId: '2', name: 'trainq-b', state: 'FAILED', reason: 'NonZeroExitCode', exitCode: 3, nodes: 'tq-node1' },
    { slurmId: '3', name: 'trainq-c', state: 'PENDING', reason: 'Resources', exitCode: 0, nodes: undefined },
    { slurmId: '4', name: 'trainq-d', state: 'TIMEOUT', reason: 'TimeLimit', signal: 15, nodes: 'n1' },
  ]);
});

test('sacct rows: "CANCELLED by 0" trimmed, code:signal split, steps skipped', () => {
  assert.deepEqual(
    parseSacct(
      '10|trainq-a|COMPLETED|0:0|n1\n10.batch|batch|COMPLETED|0:0|n1\n11|trainq-b|CANCELLED by 0|0:15|n2\n12|trainq-c|FAILED|2:0|n1\n',
    ),
    [
      { slurmId: '10', name: 'trainq-a', state: 'COMPLETED', exitCode: 0, signal: undefined, nodes: 'n1' },
      { slurmId: '11', name: 'trainq-b', state: 'CANCELLED', exitCode: undefined, signal: 15, nodes: 'n2' },
      { slurmId: '12', name: 'trainq-c', state: 'FAILED', exitCode: 2, signal: undefined, nodes: 'n1' },
    ],
  );
});

test('gres strings', () => {
  assert.equal(gpuCount('gpu:4'), 4);
  assert.equal(gpuCount('gpu:a100:2(S:0-1)'), 2);
  assert.equal(gpuCount('gpu:(null):2(IDX:0-1)'), 2);
  assert.equal(gpuCount('gpu:a100:2,gpu:v100:1,mps:100'), 3);
  assert.equal(gpuCount('(null)'), 0);
});

test("sinfo: one partition's nodes and GPUs; drained or unresponsive nodes have no idle GPUs", () => {
  const out = [
    'n1|idle|gpu:4|gpu:0|gpu*',
    'n2|mixed|gpu:a100:4(S:0)|gpu:a100:3(IDX:0-2)|gpu*',
    'n3|drained|gpu:4|gpu:0|gpu*',
    'n4|idle*|gpu:4|gpu:0|gpu*',
    'n1|idle|gpu:4|gpu:0|debug',
    'c1|idle|(null)|gpu:0|cpu',
  ].join('\n');
  assert.deepEqual(parseSinfo(out, 'gpu'), { partition: 'gpu', nodes: 4, gpusTotal: 16, gpusAllocated: 3, gpusIdle: 5 });
  assert.deepEqual(
    parseSinfo(out),
    { partition: 'gpu', nodes: 4, gpusTotal: 16, gpusAllocated: 3, gpusIdle: 5 },
    'no partition: the default one',
  );
  assert.deepEqual(parseSinfo(out, 'cpu'), { partition: 'cpu', nodes: 1, gpusTotal: 0, gpusAllocated: 0, gpusIdle: 0 });
  assert.equal(parseSinfo(out, 'none').nodes, 0);
  assert.deepEqual(sinfoArgs('gpu'), [
    'sinfo',
    '--noheader',
    '--Node',
    '--Format=NodeList:|,StateLong:|,Gres:|,GresUsed:|,Partition:',
    '--partition=gpu',
  ]);
});

test("scheduler GPUs: free capacity equals Slurm's idle GPUs, next to the indices TrainQ's jobs hold", () => {
  const cap = { partition: 'gpu', nodes: 2, gpusTotal: 8, gpusAllocated: 5, gpusIdle: 3 };
  const gpus = schedulerGpus(cap, new Set([0, 2]));
  assert.deepEqual(
    gpus.map((g) => g.index),
    [0, 2, 1, 3, 4],
  );
  const running = [0, 2].map((i) => ({ state: 'running' as const, host: 'c', gpuIndices: [i] }));
  const [candidate] = buildCandidates(
    [{ name: 'c', online: true, gpuIndices: gpus.map((g) => g.index), speed: 1, maxJobs: 16 }],
    running as never,
  );
  assert.deepEqual(candidate.freeGpus, [1, 3, 4]);
});

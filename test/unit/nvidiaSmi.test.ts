import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { GpuInfo } from '../../src/core/host';
import { parseGpuApps, parseNvidiaSmiCsv, queryGpuApps, queryGpus, withGpuApps } from '../../src/hosts/nvidiaSmi';

const FAKE_SMI = path.join(__dirname, '..', 'fixtures', 'bin', 'nvidia-smi');

/** Runs `fn` with environment overrides for the fake nvidia-smi, restoring them afterwards. */
async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.keys(vars).map((k) => [k, process.env[k]] as const);
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) {
        delete process.env[k];
      } else {
        process.env[k] = v;
      }
    }
  }
}

test('parses well-formed rows into GPUs', () => {
  const gpus = parseNvidiaSmiCsv(
    '0, GPU-aaa, NVIDIA A100-SXM4-40GB, 87, 30512, 40960\n1, GPU-bbb, NVIDIA A100-SXM4-40GB, 0, 4, 40960\n',
  );
  assert.deepEqual(gpus, [
    { index: 0, uuid: 'GPU-aaa', name: 'NVIDIA A100-SXM4-40GB', utilizationPct: 87, memoryUsedMiB: 30512, memoryTotalMiB: 40960 },
    { index: 1, uuid: 'GPU-bbb', name: 'NVIDIA A100-SXM4-40GB', utilizationPct: 0, memoryUsedMiB: 4, memoryTotalMiB: 40960 },
  ]);
});

test('[N/A] and [Not Supported] become undefined metrics, extra spaces and CRLF are tolerated', () => {
  const gpus = parseNvidiaSmiCsv(
    '  0 ,  GPU-aaa ,  Tesla K80 , [N/A] , [Not Supported] ,  11441  \r\n1,GPU-bbb,Tesla K80,N/A,12,11441\r\n',
  );
  assert.equal(gpus.length, 2);
  assert.equal(gpus[0].name, 'Tesla K80');
  assert.equal(gpus[0].uuid, 'GPU-aaa');
  assert.equal(gpus[0].utilizationPct, undefined);
  assert.equal(gpus[0].memoryUsedMiB, undefined);
  assert.equal(gpus[0].memoryTotalMiB, 11441);
  assert.equal(gpus[1].utilizationPct, undefined);
  assert.equal(gpus[1].memoryUsedMiB, 12);
});

test('blank, garbage and truncated lines are skipped without losing good rows', () => {
  const text = [
    '',
    'No devices were found',
    'index, uuid, name, utilization.gpu [%], memory.used [MiB], memory.total [MiB]',
    '0, GPU-aaa, NVIDIA H100, 10, 100',
    'x, GPU-bbb, NVIDIA H100, 10, 100, 80000',
    '2, GPU-ccc, NVIDIA H100 80GB HBM3, 55, 1000, 81559',
    '   ',
  ].join('\n');
  const gpus = parseNvidiaSmiCsv(text);
  assert.deepEqual(
    gpus.map((g) => [g.index, g.uuid, g.name]),
    [[2, 'GPU-ccc', 'NVIDIA H100 80GB HBM3']],
  );
});

test('empty output parses to no GPUs', () => {
  assert.deepEqual(parseNvidiaSmiCsv(''), []);
  assert.deepEqual(parseNvidiaSmiCsv('\n\n'), []);
});

test('a name with a comma keeps the numeric fields aligned', () => {
  const [gpu] = parseNvidiaSmiCsv('0, GPU-aaa, Weird, Name, 5, 6, 7');
  assert.equal(gpu.name, 'Weird, Name');
  assert.equal(gpu.utilizationPct, 5);
  assert.equal(gpu.memoryTotalMiB, 7);
});

test('queryGpus runs the fake 4-GPU machine', async () => {
  const result = await queryGpus({ command: FAKE_SMI });
  assert.equal(result.note, undefined);
  assert.deepEqual(
    result.gpus.map((g) => g.index),
    [0, 1, 2, 3],
  );
  assert.equal(new Set(result.gpus.map((g) => g.uuid)).size, 4);
  assert.equal(result.gpus[2].utilizationPct, undefined);
  assert.equal(result.gpus[0].utilizationPct, 87);
});

test('the fake machine size follows TRAINQ_FAKE_GPUS, and zero GPUs gets a note', async () => {
  const eight = await withEnv({ TRAINQ_FAKE_GPUS: '8' }, () => queryGpus({ command: FAKE_SMI }));
  assert.equal(eight.gpus.length, 8);
  const none = await withEnv({ TRAINQ_FAKE_GPUS: '0' }, () => queryGpus({ command: FAKE_SMI }));
  assert.deepEqual(none, { gpus: [], note: 'nvidia-smi reported no GPUs' });
});

test('a missing binary gives a note, not an exception', async () => {
  const result = await queryGpus({ command: '/nonexistent/trainq/nvidia-smi' });
  assert.deepEqual(result, { gpus: [], note: 'nvidia-smi not found' });
});

test('a hanging nvidia-smi is killed at the timeout', async () => {
  const started = Date.now();
  const result = await withEnv({ TRAINQ_FAKE_NVIDIA_SMI_SLEEP: '30' }, () =>
    queryGpus({ command: FAKE_SMI, timeoutMs: 300 }),
  );
  assert.deepEqual(result.gpus, []);
  assert.equal(result.note, 'nvidia-smi timed out after 300 ms');
  assert.ok(Date.now() - started < 5000, 'returned long before the fake finished sleeping');
});

test('a non-zero exit reports the first line of stderr', async () => {
  const result = await withEnv({ TRAINQ_FAKE_NVIDIA_SMI_EXIT: '9' }, () => queryGpus({ command: FAKE_SMI }));
  assert.deepEqual(result.gpus, []);
  assert.equal(
    result.note,
    "nvidia-smi exited with code 9: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.",
  );
});

const gpu = (index: number, uuid: string): GpuInfo => ({ index, uuid, name: 'NVIDIA A100-SXM4-40GB' });

test('census lines parse into apps; noise and malformed lines are skipped', () => {
  const apps = parseGpuApps([
    'Welcome!',
    'GPU-a 100 run job-1',
    'GPU-a 101 ended job-7',
    'GPU-b 102 none -',
    'GPU-b 103 other -',
    'GPU-b x ended job-7',
    'GPU-b 104 weird job-7',
    '',
  ]);
  assert.deepEqual(apps, [
    { uuid: 'GPU-a', pid: 100, state: 'run', jobId: 'job-1' },
    { uuid: 'GPU-a', pid: 101, state: 'ended', jobId: 'job-7' },
    { uuid: 'GPU-b', pid: 102, state: 'none' },
    { uuid: 'GPU-b', pid: 103, state: 'other' },
  ]);
});

test('a running job\'s processes are its own, an ended job\'s are leftovers by job, the rest are foreign', () => {
  const gpus = withGpuApps(
    [gpu(0, 'GPU-a'), gpu(1, 'GPU-b'), gpu(2, 'GPU-c')],
    parseGpuApps(['GPU-a 1 run j1', 'GPU-b 2 ended j9', 'GPU-b 3 ended j9', 'GPU-b 4 ended j3', 'GPU-b 5 run j1', 'GPU-c 6 none -', 'GPU-c 7 other -']),
  );
  assert.deepEqual(
    gpus.map((g) => [g.index, g.foreignProcesses, g.leftoverJobs]),
    [
      [0, 0, undefined],
      [1, 0, ['j3', 'j9']],
      [2, 2, undefined],
    ],
  );
});

test('the census run here tells a running job, a leftover, another TrainQ\'s job and a foreign process apart', { skip: process.platform !== 'linux' }, async () => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'trainq-census-'));
  const jobs = path.join(root, 'jobs');
  const children = [];
  try {
    for (const d of ['live', 'done', 'dead']) await fs.mkdir(path.join(jobs, d), { recursive: true });
    await fs.writeFile(path.join(jobs, 'done', 'ended'), '0\n');
    // A live group whose leader names the job folder, as the wrapper's command line does.
    const wrapper = spawn('sh', ['-c', 'sleep 30', 'trainq-job', path.join(jobs, 'live')], { detached: true, stdio: 'ignore' });
    await fs.writeFile(path.join(jobs, 'live', 'pgid'), `${wrapper.pid}\n`);
    await fs.writeFile(path.join(jobs, 'dead', 'pgid'), '999999999\n');
    const proc = (id?: string) => spawn('sleep', ['30'], { stdio: 'ignore', env: id === undefined ? { PATH: process.env.PATH } : { PATH: process.env.PATH, TRAINQ_JOB_ID: id } });
    const [run, ended, dead, other, bad, none] = [proc('live'), proc('done'), proc('dead'), proc('elsewhere'), proc('../x'), proc()];
    children.push(wrapper, run, ended, dead, other, bad, none);
    const smi = path.join(root, 'smi');
    const rows = [[run, 'GPU-a'], [ended, 'GPU-a'], [dead, 'GPU-a'], [other, 'GPU-b'], [bad, 'GPU-b'], [none, 'GPU-b']];
    await fs.writeFile(smi, `#!/bin/sh\ncat <<'EOF'\n${rows.map(([p, u]) => `${u}, ${(p as { pid: number }).pid}`).join('\n')}\nEOF\n`, { mode: 0o755 });
    await new Promise((r) => setTimeout(r, 100));
    const apps = await queryGpuApps({ command: smi, jobsDir: jobs });
    assert.deepEqual(
      apps?.map((a) => [a.uuid, a.state, a.jobId]),
      [
        ['GPU-a', 'run', 'live'],
        ['GPU-a', 'ended', 'done'],
        ['GPU-a', 'ended', 'dead'],
        ['GPU-b', 'other', 'elsewhere'],
        ['GPU-b', 'other', undefined],
        ['GPU-b', 'none', undefined],
      ],
    );
  } finally {
    for (const c of children) process.kill(c === children[0] ? -c.pid! : c.pid!, 'SIGKILL');
    await fs.rm(root, { recursive: true, force: true });
  }
});

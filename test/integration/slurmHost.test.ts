import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Job } from '../../src/core/job';
import { silentLogger } from '../../src/core/logger';
import type { JobNote } from '../../src/core/host';
import { parseSlurmHostConfig } from '../../src/hosts/hostConfig';
import { SBATCH_OPTIONS } from '../../src/hosts/slurm/sbatchOptions';
import { SlurmHost, type SlurmHostOptions } from '../../src/hosts/slurm/slurmHost';
import { MetricsFollower } from '../../src/core/metricsFollower';
import { ourOutcome, SBATCH_CORPUS, type SbatchOutcome } from '../fixtures/sbatchCorpus';
import { makeJob as buildJob } from '../support/builders';
import { request, slurmIdOf } from '../support/launchRequests';
import { ensureSlurm, SlurmCluster } from '../support/slurm';
import { ensureOpenSsh, SshdFixture } from '../support/sshd';
import { nextExit, waitFor } from '../support/waiting';

const skip = ensureSlurm() ?? ensureOpenSsh();
let cluster: SlurmCluster;
let fx: SshdFixture;
let project: string;
let jobsRoot: string;
const hosts: SlurmHost[] = [];
let seq = 0;

before(async () => {
  if (skip) return;
  cluster = await SlurmCluster.start({ gpus: 4 });
  fx = await SshdFixture.start([{ name: 'login' }]);
  await cluster.writeClientWrappers(fx.server('login').binDir);
  project = path.join(fx.root, 'local', 'proj');
  jobsRoot = path.join(fx.root, 'local', 'jobs');
  await fs.mkdir(project, { recursive: true });
});

after(async () => {
  if (skip) return;
  for (const host of hosts) host.dispose();
  await Promise.all(hosts.map((h) => h.closeConnection()));
  await cluster.stop();
  await fx.stop();
});

function newHost(target: 'local' | 'login', entry: Record<string, unknown> = {}, over: Partial<SlurmHostOptions> = {}): SlurmHost {
  const config = parseSlurmHostConfig({ name: `slurm-${target}`, type: 'slurm', target, partition: 'gpu', ...entry });
  const host = new SlurmHost({
    config,
    jobsRoot,
    logger: silentLogger,
    localEnv: cluster.env,
    controlDir: path.join(fx.root, 'ctl'),
    sshConfigFile: fx.sshConfig,
    pollMs: 200,
    lostAfterMs: 60_000,
    backoff: { baseMs: 300, maxMs: 1000 },
    ...over,
  });
  hosts.push(host);
  return host;
}

async function writeScript(name: string, body: string): Promise<string> {
  const file = path.join(project, name);
  await fs.writeFile(file, body);
  return file;
}

function makeJob(script: string, args: string[] = [], extra: Partial<Job> = {}): Job {
  seq += 1;
  return buildJob({
    id: `slurm-${process.pid}-${seq}`,
    name: path.basename(script),
    script,
    args,
    cwd: project,
    gpus: 0,
    runtimeSec: 600,
    state: 'running',
    createdAt: Date.now(),
    ...extra,
  });
}

async function launch(host: SlurmHost, job: Job, gpuIndices: number[] = []): Promise<string> {
  const result = await host.launch(request(job, gpuIndices));
  const slurmId = slurmIdOf(result);
  assert.match(slurmId, /^\d+$/);
  job.handle = result;
  return slurmId;
}

const stateOf = (slurmId: string) => cluster.tryRun('squeue', ['--noheader', '--states=all', `--jobs=${slurmId}`, '--format=%T']).trim();
const sleeper = () => writeScript('sleeper.py', 'import sys, time\nprint("started", flush=True)\ntime.sleep(float(sys.argv[1]))\n');

// Slurm checks time limits about every 30 s and counts them in minutes, so this job takes 60–100 s:
// it starts first and is checked near the end, while the other tests run.
let timeout: Promise<{ exitCode?: number; reason?: string }> | undefined;

test('a job over its time limit ends as TIMEOUT: failed, reason "Slurm time limit" (started now, checked later)', { skip }, async () => {
  const host = newHost('local', { timeLimit: '1' });
  const job = makeJob(await sleeper(), ['600']);
  const exited = nextExit(host, job.id, 150_000);
  exited.catch(() => undefined);
  await launch(host, job);
  timeout = exited;
});

test('probe reports the partition, its nodes and idle GPUs, locally and through a login node', { skip }, async () => {
  for (const target of ['local', 'login'] as const) {
    const status = await newHost(target).probe();
    assert.equal(status.state, 'online', `${target}: ${status.error}`);
    assert.equal(status.kind, 'slurm');
    assert.deepEqual(status.slurm, { partition: 'gpu', nodes: 1, gpusTotal: 4, gpusAllocated: 0, gpusIdle: 4 });
    assert.equal(status.gpus.length, 4);
    assert.equal(status.gpuNote, 'partition gpu: 1 node, 4 GPUs, 4 idle');
  }
  const missing = await newHost('local', { partition: 'nope' }).probe();
  assert.equal(missing.state, 'offline');
  assert.match(missing.error ?? '', /nope/);
});

for (const target of ['local', 'login'] as const) {
  test(`${target}: a script runs with literal arguments; its log and exit code come back`, { skip }, async () => {
    const host = newHost(target);
    const pwned = path.join(os.tmpdir(), `trainq-slurm-pwned-${process.pid}`);
    const script = await writeScript(
      'argv.py',
      'import json, os, sys\nprint(json.dumps({"argv": sys.argv[1:], "id": os.environ.get("TRAINQ_JOB_ID"), "gpus": os.environ.get("CUDA_VISIBLE_DEVICES")}))\nsys.exit(3)\n',
    );
    const args = [
      `'; touch ${pwned}; '`,
      `"; touch ${pwned}; "`,
      `$(touch ${pwned})`,
      `\`touch ${pwned}\``,
      'two words',
      'it\'s "quoted"',
      '',
      '$HOME',
      '%j %%',
    ];
    const job = makeJob(script, args, { gpus: 2 });
    const exited = nextExit(host, job.id, 30_000);
    await launch(host, job, [0, 1]);
    assert.deepEqual(await exited, { jobId: job.id, exitCode: 3, reason: undefined });
    const printed = JSON.parse((await fs.readFile(host.logPath(job.id), 'utf8')).trim().split('\n')[0]);
    assert.deepEqual(printed.argv, args);
    assert.equal(printed.id, job.id);
    assert.equal(printed.gpus.split(',').length, 2, 'Slurm sets CUDA_VISIBLE_DEVICES to the 2 GPUs it allocated');
    await assert.rejects(fs.access(pwned), 'no argument was run as shell code');

    // Removed from the history, the job's folder goes too; a lost job's would stay (Slurm may still run it).
    const folder = target === 'local' ? path.join(jobsRoot, job.id) : path.join(fx.server('login').home, 'trainq', '.trainq', 'jobs', job.id);
    await fs.access(path.join(folder, 'slurm_id'));
    const lost = { ...job, id: `${job.id}-lost`, state: 'lost' as const, host: host.name };
    assert.deepEqual(await host.forget([{ ...job, state: 'failed', host: host.name }, lost]), { removed: 1, kept: 0 });
    await assert.rejects(fs.access(folder), 'the job folder is gone');
  });
}

for (const target of ['local', 'login'] as const) {
  test(`${target}: TRAINQ_METRICS_FILE lines reach TrainQ while the job runs, and its last line when it ends`, { skip }, async () => {
    const host = newHost(target);
    const go = `go-metrics-${target}`;
    const script = await writeScript(
      `metrics-${target}.sh`,
      `printf '{"val_acc": 0.5, "step": 1}\\n' >> "$TRAINQ_METRICS_FILE"\nwhile [ ! -e ${go} ]; do sleep 0.05; done\n`
        + `printf '{"val_acc": 0.75, "step": 2}\\n' >> "$TRAINQ_METRICS_FILE"\n`,
    );
    const job = makeJob(script, [], { host: host.name, startedAt: Date.now() });
    const exited = nextExit(host, job.id, 60_000);
    await launch(host, job);
    const follower = new MetricsFollower({ jobs: () => [job], host: () => host, save: async () => undefined });
    await waitFor('the first value from the metrics file', async () => (await follower.poll(), job.metrics?.latest.val_acc === 0.5), 30_000);
    // The login target runs the job in the synced copy of the project; "local" in the project itself.
    const cwd = target === 'local' ? project : path.join(fx.server('login').home, 'trainq', 'proj');
    await fs.writeFile(path.join(cwd, go), '');
    assert.deepEqual(await exited, { jobId: job.id, exitCode: 0, reason: undefined });
    job.state = 'succeeded';
    await follower.poll();
    assert.deepEqual(job.metrics!.series.val_acc.map((p) => [p.step, p.value]), [[1, 0.5], [2, 0.75]]);
    if (target === 'login') {
      const remoteFile = path.join(fx.server('login').home, 'trainq', '.trainq', 'jobs', job.id, 'metrics.jsonl');
      assert.deepEqual(await fs.readFile(host.metricsPath(job.id)), await fs.readFile(remoteFile), 'the local copy is the remote file');
    } else {
      assert.equal(host.metricsPath(job.id), path.join(jobsRoot, job.id, 'metrics.jsonl'), 'on this machine: the job\'s own file');
    }
    follower.dispose();
    await fs.rm(path.join(cwd, go));
  });
}

test("a pending job shows Slurm's reason; cancel ends it", { skip }, async () => {
  const host = newHost('login');
  const notes: JobNote[] = [];
  host.onDidUpdateJob((n) => notes.push(n));
  const script = await sleeper();
  const [first, second] = [makeJob(script, ['120'], { gpus: 4 }), makeJob(script, ['120'], { gpus: 4 })];
  await launch(host, first, [0, 1, 2, 3]);
  const secondId = await launch(host, second, [4, 5, 6, 7]);
  await waitFor("the second job's pending reason", () =>
    notes.some((n) => n.jobId === second.id && /^Pending in Slurm \(job \d+\): (Resources|Priority)$/.test(n.note ?? '')),
  );
  await waitFor('the first job to run', () =>
    notes.some((n) => n.jobId === first.id && /^Running in Slurm on tq-node1/.test(n.note ?? '')),
  );
  const status = await host.probe();
  assert.equal(status.slurm?.gpusIdle, 0);
  // The first job was seen running: its queue wait (submission to running) is what the host expects next.
  assert.ok(status.slurm?.expectedWaitSec !== undefined && status.slurm.expectedWaitSec >= 0 && status.slurm.expectedWaitSec < 60, `expected wait ${status.slurm?.expectedWaitSec}`);
  assert.equal(status.gpus.length, 8, "the GPUs TrainQ's jobs hold are listed beside the (no) idle ones");
  const ends = [nextExit(host, first.id), nextExit(host, second.id)];
  await host.cancel(second);
  await host.cancel(first);
  const [a, b] = await Promise.all(ends);
  assert.equal(b.exitCode, undefined, 'a pending job never ran: no exit code');
  assert.notEqual(a.exitCode, 0);
  assert.equal(stateOf(secondId), 'CANCELLED');
});

test('slurmctld restarted mid-job: a new host reattaches by Slurm id and nothing is submitted twice', { skip }, async () => {
  const first = newHost('login');
  const script = await writeScript('short.py', 'import time\ntime.sleep(6)\nprint("done", flush=True)\n');
  const job = makeJob(script);
  const slurmId = await launch(first, job);
  await waitFor('the job to run', () => stateOf(slurmId) === 'RUNNING');
  await cluster.stopController();
  first.dispose();
  const second = newHost('login');
  assert.deepEqual(await second.reattach(job), { kind: 'running' }, 'a controller that is away is no reason to give up');
  await cluster.startController();
  const exited = nextExit(second, job.id, 60_000);
  // A retried dispatch of the same job adopts the submission instead of running sbatch again.
  assert.equal(slurmIdOf(await second.launch(request(job, []))), slurmId);
  assert.deepEqual(await exited, { jobId: job.id, exitCode: 0, reason: undefined });
  assert.match(await fs.readFile(second.logPath(job.id), 'utf8'), /done/);
  assert.equal(cluster.run('squeue', ['--noheader', '--states=all', `--name=trainq-${job.id}`, '--format=%i']).trim(), slurmId);
  // Reattaching a job whose id was never stored finds it by name.
  assert.deepEqual(await newHost('login').reattach({ ...job, handle: undefined }), { kind: 'exited', exitCode: 0 });
});

test('the TIMEOUT job started first has failed with "Slurm time limit"', { skip }, async () => {
  const report = await timeout!;
  assert.equal(report.reason, 'Slurm time limit');
  assert.ok(report.exitCode !== undefined && report.exitCode !== 0, `exit code ${report.exitCode}`);
});

test('a node set DOWN mid-job: NODE_FAIL, reported without exit code (Lost) with the reason', { skip }, async () => {
  const host = newHost('local');
  const job = makeJob(await sleeper(), ['120']);
  const exited = nextExit(host, job.id, 60_000);
  const slurmId = await launch(host, job);
  await waitFor('the job to run', () => stateOf(slurmId) === 'RUNNING');
  cluster.run('scontrol', ['update', `NodeName=${cluster.node}`, 'State=DOWN', 'Reason=test']);
  const report = await exited;
  assert.equal(report.exitCode, undefined);
  assert.match(report.reason ?? '', new RegExp(`Slurm job ${slurmId} ended with NODE_FAIL: a node of the job failed`));
  cluster.tryRun('scontrol', ['update', `NodeName=${cluster.node}`, 'State=RESUME']);
  await cluster.waitFor(() => /^idle/m.test(cluster.tryRun('sinfo', ['--noheader', '--format=%T'])), 'the node to come back', 30_000);
});

/**
 * Runs the real sbatch on words without submitting anything: `-v` makes it print every option it
 * set ("defined options") before it talks to slurmctld, and a reservation that does not exist makes
 * slurmctld refuse the job. The corpus never names --reservation, so nothing can undo that.
 */
function realSbatch(words: readonly string[]): SbatchOutcome {
  const r = spawnSync('sbatch', ['-v', '--wrap=true', '--reservation=trainq-none', ...words], {
    env: cluster.env,
    encoding: 'utf8',
    cwd: os.tmpdir(),
    timeout: 30_000,
  });
  const err = r.stderr;
  const ambiguous = /is ambiguous; possibilities:(.*)/.exec(err);
  if (ambiguous) return { error: 'ambiguous', candidates: [...ambiguous[1].matchAll(/'--([^']*)'/g)].map((m) => m[1]) };
  if (/unrecognized option|invalid option --/.test(err)) return { error: 'unknown' };
  if (/requires an argument/.test(err)) return { error: 'needs-value' };
  if (/doesn't allow an argument/.test(err)) return { error: 'no-value' };
  if (/Script arguments not permitted with --wrap option/.test(err)) return { error: 'script' };
  if (/^Usage: sbatch \[OPTIONS/.test(r.stdout)) return { options: ['help'] };
  if (/^Usage: sbatch \[-N/.test(r.stdout)) return { options: ['usage'] };
  if (/^slurm(-wlm)? \d/.test(r.stdout)) return { options: ['version'] };
  const block = /defined options\n[^\n]*\n([\s\S]*?)sbatch: -+ -+\nsbatch: end of defined options/.exec(err);
  assert.ok(block, `sbatch ${JSON.stringify(words)} printed no option list: ${err.slice(-500)}`);
  const set = new Map([...block[1].matchAll(/^sbatch: (\S+)\s+: (.*)$/gm)].map((m) => [m[1], m[2]]));
  // Our own words: -v counts once, --wrap=true and the reservation; the corpus changes them visibly or not at all.
  const mine = (name: string, value: string) =>
    name === 'reservation' || (name === 'verbose' && value === '1') || (name === 'wrap' && value === 'true');
  return { options: [...set].filter(([name, value]) => !mine(name, value)).map(([name]) => name) };
}

/** sbatch prints an alias under the name of the option it stands for. */
function asPrinted(outcome: SbatchOutcome): SbatchOutcome {
  if (!('options' in outcome)) return outcome;
  const printed = outcome.options.map((name) => SBATCH_OPTIONS.find((o) => o.name === name)?.aliasOf ?? name);
  return { options: [...new Set(printed)].sort() };
}

test('the corpus against the real sbatch: TrainQ resolves every word to what sbatch resolves it to', { skip }, () => {
  const jobsBefore = cluster.run('squeue', ['--noheader', '--states=all', '--format=%i']);
  const disagree: string[] = [];
  for (const { words } of SBATCH_CORPUS) {
    const [ours, theirs] = [asPrinted(ourOutcome(words)), asPrinted(realSbatch(words))];
    if (JSON.stringify(ours) !== JSON.stringify(theirs)) {
      disagree.push(`${JSON.stringify(words)}: TrainQ ${JSON.stringify(ours)}, sbatch ${JSON.stringify(theirs)}`);
    }
  }
  assert.deepEqual(disagree, [], `${disagree.length} of ${SBATCH_CORPUS.length} entries disagree`);
  assert.equal(cluster.run('squeue', ['--noheader', '--states=all', '--format=%i']), jobsBefore, 'the corpus submitted nothing');
});

test("TrainQ's option table is the installed sbatch's getopt_long table (read through an LD_PRELOAD shim)", { skip }, async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'trainq-getopt-'));
  try {
    const shim = path.join(dir, 'getoptDump.so');
    try {
      const source = path.join(__dirname, '..', 'fixtures', 'getoptDump.c');
      execFileSync('cc', ['-shared', '-fPIC', '-o', shim, source, '-ldl'], { stdio: 'pipe' });
    } catch {
      t.skip('no C compiler for the getopt_long shim');
      return;
    }
    const r = spawnSync('sbatch', ['--usage'], { env: { ...cluster.env, LD_PRELOAD: shim }, encoding: 'utf8', timeout: 30_000 });
    const optstring = /^TRAINQ-OPTSTRING (.*)$/m.exec(r.stderr)?.[1];
    const rows = [...r.stderr.matchAll(/^TRAINQ-OPT (\S+) (\d) (\d+)$/gm)].map((m) => ({
      name: m[1],
      hasArg: Number(m[2]),
      val: Number(m[3]),
    }));
    assert.ok(optstring && rows.length > 50, `the shim printed the table: ${r.stderr.slice(0, 300)}`);
    const kinds = ['none', 'required', 'optional'];
    assert.deepEqual(
      SBATCH_OPTIONS.map((o) => o.name),
      rows.map((row) => row.name),
      'the same long names in the same order',
    );
    const valOf = new Map(rows.map((row) => [row.name, row.val]));
    for (const [i, o] of SBATCH_OPTIONS.entries()) {
      assert.equal(o.arg, kinds[rows[i].hasArg], `--${o.name} argument`);
      // getopt_long reports a short option's letter as the long option's value; aliases share one.
      assert.equal(rows[i].val, o.short ? o.short.charCodeAt(0) : o.aliasOf ? valOf.get(o.aliasOf) : rows[i].val, `--${o.name} value`);
      if (!o.short && !o.aliasOf) {
        const sharing = rows.filter((row) => row.val === rows[i].val).length - SBATCH_OPTIONS.filter((a) => a.aliasOf === o.name).length;
        assert.ok(rows[i].val > 255 && sharing === 1, `--${o.name} has a value of its own (or only its aliases share it)`);
      }
    }
    // The short-option string: '+' (stop at the first non-option), then letters with ':' (value) or '::' (optional value).
    assert.ok(optstring!.startsWith('+'), optstring);
    const shorts = [...optstring!.slice(1).matchAll(/([A-Za-z])(:{0,2})/g)].map((m) => [m[1], kinds[m[2].length]]);
    assert.deepEqual(
      shorts.sort(),
      SBATCH_OPTIONS.filter((o) => o.short)
        .map((o) => [o.short, o.arg])
        .sort(),
    );
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('extra options reach sbatch as full names: an abbreviation and a bundle are applied to the job', { skip }, async () => {
  const host = newHost('local', { extraSbatchArgs: ['--comm=trainq-extra', '-vk'] });
  const job = makeJob(await writeScript('quick.py', 'print("quick")\n'));
  const exited = nextExit(host, job.id, 30_000);
  const slurmId = await launch(host, job);
  assert.match(cluster.run('scontrol', ['show', 'job', slurmId]), /Comment=trainq-extra/);
  assert.equal((await exited).exitCode, 0);
});

test('a config that escaped validation is stopped where the sbatch command is built: nothing is submitted', { skip }, async () => {
  for (const extra of [['--job-nam=evil'], ['-vJevil'], ['--mem']]) {
    const valid = parseSlurmHostConfig({ name: 'slurm-local', type: 'slurm', target: 'local', partition: 'gpu' });
    const config = { ...valid, extraSbatchArgs: extra };
    const host = newHost('local', {}, { config });
    const job = makeJob(await sleeper(), ['1']);
    const launching = host.launch(request(job, []));
    await assert.rejects(launching, /sbatch's --job-name|without a value/);
    assert.equal(cluster.run('squeue', ['--noheader', '--states=all', '--name=evil', '--format=%i']).trim(), '', JSON.stringify(extra));
    assert.equal(cluster.run('squeue', ['--noheader', '--states=all', `--name=trainq-${job.id}`, '--format=%i']).trim(), '');
  }
});

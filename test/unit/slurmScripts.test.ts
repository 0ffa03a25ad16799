import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { batchScript, parseExec, parseSlurmPoll, parseSubmit, SUBMIT_SCRIPT } from '../../src/hosts/slurm/slurmScripts';

async function tempDir(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'trainq-slurm-unit-'));
}

test('the batch script passes hostile values literally and records the exit code', async () => {
  const dir = await tempDir();
  const pwned = path.join(dir, 'pwned');
  const args = [`'; touch ${pwned}; '`, `$(touch ${pwned})`, '`id`', 'a b', '', "it's", 'line\nbreak', '$HOME'];
  const script = batchScript({
    jobId: 'j1',
    jobDir: dir,
    cwd: dir,
    argv: ['sh', '-c', 'printf "%s|" "$@"; printf "%s" "$TRAINQ_JOB_ID $V"; exit 5', 'sh', ...args],
    env: { V: `x'y $(touch ${pwned})` },
  });
  await fs.writeFile(path.join(dir, 'batch.sh'), script);
  let out = '';
  try {
    execFileSync('sh', [path.join(dir, 'batch.sh')], { encoding: 'utf8' });
  } catch (e) {
    out = (e as { stdout: string }).stdout;
    assert.equal((e as { status: number }).status, 5);
  }
  assert.equal(out, `${args.join('|')}|j1 x'y $(touch ${pwned})`);
  assert.equal((await fs.readFile(path.join(dir, 'exit'), 'utf8')).trim(), '5');
  await assert.rejects(fs.access(pwned));
  await fs.rm(dir, { recursive: true, force: true });
});

/** Fake sbatch and squeue on the PATH: sbatch counts its calls; squeue knows the job only when told. */
async function fakeSlurm(dir: string, squeueAnswer: string): Promise<NodeJS.ProcessEnv> {
  const bin = path.join(dir, 'bin');
  await fs.mkdir(bin);
  await fs.writeFile(
    path.join(bin, 'sbatch'),
    `#!/bin/sh\necho x >> '${dir}/sbatch-calls'\nprintf '%s\\n' "$@" > '${dir}/sbatch-args'\necho '77;cluster'\n`,
    { mode: 0o755 },
  );
  await fs.writeFile(path.join(bin, 'squeue'), `#!/bin/sh\nprintf '%s' '${squeueAnswer}'\n`, { mode: 0o755 });
  return { ...process.env, PATH: `${bin}:${process.env.PATH}` };
}

const submit = (env: NodeJS.ProcessEnv, jobs: string) =>
  execFileSync('sh', ['-s', '--', jobs, 'j1', 'trainq-j1', '#!/bin/sh\necho hi\n', '--parsable', '--job-name=trainq-j1'], {
    input: SUBMIT_SCRIPT,
    env,
    encoding: 'utf8',
  });

test('submit runs sbatch once; a retried submit reports the stored id', async () => {
  const dir = await tempDir();
  const env = await fakeSlurm(dir, '');
  const jobs = path.join(dir, 'jobs');
  assert.deepEqual(parseSubmit(submit(env, jobs)), { slurmId: '77', existing: false });
  assert.equal(await fs.readFile(path.join(dir, 'sbatch-args'), 'utf8'), `--parsable\n--job-name=trainq-j1\n${jobs}/j1/batch.sh\n`);
  assert.deepEqual(parseSubmit(submit(env, jobs)), { slurmId: '77', existing: true });
  assert.equal((await fs.readFile(path.join(dir, 'sbatch-calls'), 'utf8')).trim().split('\n').length, 1);
  await fs.rm(dir, { recursive: true, force: true });
});

test('a submit whose answer was lost is adopted by name instead of submitted again', async () => {
  const dir = await tempDir();
  const env = await fakeSlurm(dir, '55\n');
  const jobs = path.join(dir, 'jobs');
  await fs.mkdir(path.join(jobs, 'j1'), { recursive: true });
  await fs.writeFile(path.join(jobs, 'j1', 'submitting'), '');
  assert.deepEqual(parseSubmit(submit(env, jobs)), { slurmId: '55', existing: true });
  await assert.rejects(fs.access(path.join(dir, 'sbatch-calls')), 'sbatch was not run');
  await fs.rm(dir, { recursive: true, force: true });
});

test("submit errors name sbatch's message", () => {
  assert.throws(
    () => parseSubmit('TRAINQ-ERROR sbatch failed (exit 1): sbatch: error: invalid partition specified: x\n'),
    /invalid partition/,
  );
});

test('poll output: squeue rows, an unreachable controller, disabled accounting, and framed log bytes', () => {
  const frame = (id: string, code: string, data: string, sid: string, metrics = '') =>
    `TRAINQ-JOB ${id} 0 ${code} ${data.length} ${data.length} ${sid} ${metrics.length} ${metrics.length}\n${data}${metrics}\nTRAINQ-END ${id}\n`;
  const ok = parseSlurmPoll(
    Buffer.from(
      'motd\nTRAINQ-SLURM-POLL\n@squeue\n7|trainq-a|RUNNING|None|0|n1\n@rc 0\n@sacct\nSlurm accounting storage is disabled\n@rc 1\nTRAINQ-POLL\n' +
        frame('a', '-', 'hello\n', '7', '{"loss": 1}\n') +
        frame('b', '3', '', '-'),
    ),
  );
  assert.deepEqual(
    ok.rows.map((r) => [r.slurmId, r.state]),
    [['7', 'RUNNING']],
  );
  assert.equal(ok.controllerError, undefined);
  assert.equal(ok.accountingDisabled, true);
  assert.deepEqual(
    ok.files.map((f) => [f.jobId, f.exitCode, f.data.toString(), f.pgid, f.metrics.toString()]),
    [
      ['a', undefined, 'hello\n', 7, '{"loss": 1}\n'],
      ['b', 3, '', undefined, ''],
    ],
  );
  const gone = parseSlurmPoll(
    Buffer.from('TRAINQ-SLURM-POLL\n@squeue\nslurm_load_jobs error: Invalid job id specified\n@rc 1\nTRAINQ-POLL\n'),
  );
  assert.equal(gone.controllerError, undefined, 'ids Slurm forgot are no outage');
  const down = parseSlurmPoll(
    Buffer.from(
      'TRAINQ-SLURM-POLL\n@squeue\nslurm_load_jobs error: Unable to contact slurm controller (connect failure)\n@rc 1\nTRAINQ-POLL\n',
    ),
  );
  assert.match(down.controllerError ?? '', /Unable to contact slurm controller/);
  const sacct = (body: string, rc: number) =>
    parseSlurmPoll(Buffer.from(`TRAINQ-SLURM-POLL\n@squeue\n@rc 0\n@sacct\n${body}\n@rc ${rc}\nTRAINQ-POLL\n`));
  const dbDown = sacct('sacct: error: slurm_persist_conn_open_without_init: failed to open persistent connection', 1);
  assert.match(dbDown.accountingError ?? '', /failed to open persistent connection/);
  assert.equal(dbDown.accountingDisabled, false);
  const noSacct = sacct('sh: 1: sacct: not found', 127);
  assert.deepEqual([noSacct.accountingDisabled, noSacct.accountingError], [true, undefined], 'no sacct on the host: nothing to wait for');
  assert.deepEqual(sacct('41|trainq-a|COMPLETED|0:0|n1', 0).accounting?.map((r) => r.state), ['COMPLETED']);
});

test("exec output: the command's output and exit code; a missing tool is an error", () => {
  assert.deepEqual(parseExec('rc noise\nTRAINQ-EXEC\nn1|idle\n\nTRAINQ-RC 0\n'), { output: 'n1|idle\n', code: 0 });
  assert.throws(() => parseExec('TRAINQ-EXEC\nTRAINQ-MISSING sinfo\n'), /sinfo was not found/);
});

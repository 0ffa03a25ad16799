/** The per-job environment: inline variables, the `.env` file read at dispatch, masking, store checks. */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { displayEnv, formatEnvAssignments, looksSecret, parseEnvAssignments, userEnvNameProblem } from '../../src/core/envNames';
import { launchEnvironment, readEnvFile } from '../../src/core/jobEnvironment';
import { launchOne } from '../../src/core/jobLaunch';
import { checkState } from '../../src/core/storeValidation';
import { emptyWorkspaceState } from '../../src/core/workspaceState';
import { FakeHost, makeJob } from '../support/builders';

async function tempFile(text: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'trainq-env-'));
  const file = path.join(dir, '.env');
  await fs.writeFile(file, text);
  return file;
}

test('inline variables split like arguments, stay literal, and round-trip through the input text', () => {
  const env = parseEnvAssignments(`A=1 B="x y" C='$(whoami) "q"' D=\`id\` E= F=é\\ ✓`);
  assert.deepEqual(env, { A: '1', B: 'x y', C: '$(whoami) "q"', D: '`id`', E: '', F: 'é ✓' });
  assert.deepEqual(parseEnvAssignments(formatEnvAssignments(env)), env);
  const nl = { M: 'line 1\nline 2', Q: `it's "quoted"` };
  assert.deepEqual(parseEnvAssignments(formatEnvAssignments(nl)), nl);
  assert.deepEqual(parseEnvAssignments('   '), {});
});

test('bad inline variables get one message and never quote a value', () => {
  const cases: Array<[string, RegExp]> = [
    ['A=1 secretvalue', /word 2 is not NAME=value/],
    ['=secret', /word 1 is not NAME=value/],
    ['9A=secret', /word 1 does not start with a variable name/],
    ['CUDA_VISIBLE_DEVICES=0', /set by TrainQ/],
    ['TRAINQ_JOB_ID=x', /reserved/],
    ['A="unclosed secret', /Environment: .*quote/i],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseEnvAssignments(text), (e: unknown) => {
      assert.match((e as Error).message, message, text);
      assert.doesNotMatch((e as Error).message, /secret/, text);
      return true;
    });
  }
  assert.equal(Object.getOwnPropertyDescriptor(parseEnvAssignments('__proto__=x'), '__proto__')?.value, 'x');
});

test('reserved names: CUDA_VISIBLE_DEVICES and every TRAINQ_ name, in any case', () => {
  for (const name of ['CUDA_VISIBLE_DEVICES', 'TRAINQ_JOB_ID', 'TRAINQ_METRICS_FILE', 'TRAINQ_NEW', 'trainq_x']) {
    assert.ok(userEnvNameProblem(name), name);
  }
  for (const name of ['CUDA_HOME', 'MY_TRAINQ', 'HF_TOKEN', '_']) {
    assert.equal(userEnvNameProblem(name), undefined, name);
  }
});

test('values of secret-looking names are masked for display; names always show', () => {
  for (const name of ['HF_TOKEN', 'API_KEY', 'AWS_SECRET_ACCESS_KEY', 'DB_PASSWORD', 'PGPASS', 'wandb_api_key', 'GH_AUTH']) {
    assert.ok(looksSecret(name), name);
  }
  for (const name of ['LR', 'BATCH', 'DATA_DIR', 'SEED']) {
    assert.equal(looksSecret(name), false, name);
  }
  assert.deepEqual(displayEnv({ LR: '3e-4', HF_TOKEN: 'hf_abc' }), ['LR=3e-4', 'HF_TOKEN=••••••']);
});

test('the .env file is read at dispatch: an edit made after queueing applies; inline values win', async () => {
  const file = await tempFile('A=from-file\nB=file\n');
  const job = { env: { B: 'inline' }, envFile: file };
  assert.deepEqual(await launchEnvironment(job), { A: 'from-file', B: 'inline' });
  await fs.writeFile(file, 'A=edited\n');
  assert.deepEqual(await launchEnvironment(job), { A: 'edited', B: 'inline' });
  assert.deepEqual(await launchEnvironment({}), {});
});

test('a .env file that is gone, a folder, too big or invalid: a message naming the file and line, no value', async () => {
  const file = await tempFile('OK=1\nleaked-secret\n');
  await assert.rejects(readEnvFile(file), (e: Error) => e.message === `The .env file ${file}, line 2: expected NAME=value (a line with no "=").`);
  await assert.rejects(readEnvFile(path.join(path.dirname(file), 'gone.env')), /does not exist/);
  await assert.rejects(readEnvFile(path.dirname(file)), /is a folder/);
  await assert.rejects(readEnvFile('/x/.env', async () => Buffer.alloc(2 * 1024 * 1024, 'A')), /larger than 1 MiB/);
});

test('launchOne fails a job whose .env file is invalid at dispatch, without starting it or quoting the file', async () => {
  const host = new FakeHost('local', 1);
  const bad = await tempFile('TOKEN="hunter2-secret\n');
  const outcome = await launchOne({ job: makeJob({ envFile: bad }), host: 'local', gpuIndices: [0] }, host);
  assert.equal(outcome.kind, 'failed');
  assert.match((outcome as { message: string }).message, /line 1: the double-quoted value .* never closed/);
  assert.doesNotMatch((outcome as { message: string }).message, /hunter2/);
  assert.equal(host.launches.length, 0);

  const good = await tempFile('TOKEN=hunter2-secret\n');
  const started = await launchOne({ job: makeJob({ envFile: good, env: { A: '1' } }), host: 'local', gpuIndices: [0] }, host);
  assert.equal(started.kind, 'started');
  assert.deepEqual(host.launches[0].env, { TOKEN: 'hunter2-secret', A: '1' });
  assert.equal(host.launches[0].job.envFile, good, 'the job keeps the path, never the values');
});

test('stored envFile and interpreter are checked on load: a bad one sets that job aside, the rest loads', () => {
  const state = emptyWorkspaceState();
  const good = makeJob({ envFile: '/ws/.env', interpreter: '.venv/bin/python' });
  const bads = [
    makeJob({ envFile: 'relative/.env' }),
    makeJob({ envFile: '' }),
    makeJob({ interpreter: 'python\nrm -rf' }),
    { ...makeJob(), interpreter: 42 },
    { ...makeJob(), envFile: null },
  ];
  const { state: loaded, setAside } = checkState({ ...state, jobs: [good, ...bads] });
  assert.deepEqual(loaded.jobs.map((j) => j.id), [good.id]);
  assert.deepEqual(
    setAside.map((s) => s.reason),
    [
      'jobs[1].envFile is not an absolute path',
      'jobs[2].envFile is empty',
      'jobs[3].interpreter contains a line break',
      'jobs[4].interpreter is not a string',
      'jobs[5].envFile is not a string',
    ],
  );
});

test('header keys env-file= and python= are read as written; an empty one is a warning naming the line', async () => {
  const { parseScriptHeader } = await import('../../src/core/scriptHeader');
  const header = parseScriptHeader('#!/usr/bin/env python\n# trainq: gpus=0 env-file=config/.env python=.venv/bin/python\n');
  assert.deepEqual([header.envFile, header.interpreter, header.warnings], ['config/.env', '.venv/bin/python', []]);
  const bad = parseScriptHeader('# trainq: env-file= python=""\n');
  assert.deepEqual([bad.envFile, bad.interpreter], [undefined, undefined]);
  assert.deepEqual(bad.warnings, ['Line 1: env-file= needs a path on one line, e.g. env-file=.env.', 'Line 1: python= needs a path on one line, e.g. python=.venv/bin/python.']);
});

test('Retry keeps the .env file and the interpreter (the file is read again when the retry starts)', async () => {
  const { specOf } = await import('../../src/core/jobTransitions');
  const spec = specOf(makeJob({ env: { A: '1' }, envFile: '/ws/.env', interpreter: '.venv/bin/python' }));
  assert.deepEqual([spec.env, spec.envFile, spec.interpreter], [{ A: '1' }, '/ws/.env', '.venv/bin/python']);
  assert.equal('envFile' in specOf(makeJob()), false);
});

test('the tooltip shows variable names, masks secret-looking values, and shows the .env path and interpreter', async () => {
  const { jobTooltipMarkdown } = await import('../../src/ui/jobFormat');
  const md = jobTooltipMarkdown(makeJob({ env: { LR: '3e-4', HF_TOKEN: 'hf_secret' }, envFile: '/ws/.env', interpreter: 'python3.11' }), { now: 0 });
  assert.match(md, /\*\*Environment:\*\* `\s?LR=3e-4\s?` `\s?HF_TOKEN=••••••\s?`/);
  assert.doesNotMatch(md, /hf_secret/);
  assert.match(md, /\*\*\.env file:\*\* `\s?\/ws\/\.env\s?` \(read when the job starts\)/);
  assert.match(md, /\*\*Interpreter:\*\* `\s?python3\.11\s?`/);
});

test("a job's interpreter: a host's rules, or a path relative to the job folder; never a shell word or '..'", async () => {
  const { interpreterFor, jobInterpreterProblem } = await import('../../src/hosts/interpreterName');
  for (const ok of ['.venv/bin/python', 'venv/bin/python3', '/opt/conda/envs/x/bin/python', '~/miniconda3/bin/python', 'python3.11']) {
    assert.equal(jobInterpreterProblem(ok), undefined, ok);
  }
  for (const bad of ['../venv/bin/python', 'a/../../python', 'eval', 'source', '-c', 'py thon', '/my envs/python', '$(id)/python', 'x;rm']) {
    assert.ok(jobInterpreterProblem(bad), bad);
  }
  assert.equal(interpreterFor({}, 'python3'), 'python3', "the host's when the job has none");
  assert.equal(interpreterFor({ interpreter: '.venv/bin/python' }, 'python3'), '.venv/bin/python');
  assert.throws(() => interpreterFor({ interpreter: 'eval' }, 'python3'), /The job's interpreter "eval" is a shell builtin/);
});

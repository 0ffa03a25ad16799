/**
 * The per-job environment through real hosts: inline variables and a `.env` file read at dispatch
 * reach the script literally (spaces, quotes, $(…), backticks, newlines, unicode) on the local host,
 * the loopback SSH host and a one-node Slurm; the job's own interpreter is the one that runs it; and
 * the `.env` file's secret is in no log line, job log, job folder file or store file.
 * Run under `flock /tmp/trainq-slurm.lock` (it starts Slurm).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Host } from '../../src/core/host';
import type { Job } from '../../src/core/job';
import { JobManager } from '../../src/core/jobManager';
import { JobStore } from '../../src/core/jobStore';
import { launchOne } from '../../src/core/jobLaunch';
import type { Logger } from '../../src/core/logger';
import { MostFreeGpusPlacement } from '../../src/core/placement';
import { emptyWorkspaceState } from '../../src/core/workspaceState';
import { parseSlurmHostConfig } from '../../src/hosts/hostConfig';
import { LocalHost } from '../../src/hosts/local/localHost';
import { SlurmHost } from '../../src/hosts/slurm/slurmHost';
import { SshHost } from '../../src/hosts/ssh/sshHost';
import { makeJob as buildJob } from '../support/builders';
import { ensureSlurm, SlurmCluster } from '../support/slurm';
import { ensureOpenSsh, SshdFixture } from '../support/sshd';
import { nextExit, waitFor } from '../support/waiting';

const skip = ensureSlurm() ?? ensureOpenSsh();
const SECRET = 's3cr3t-Tok3n';
/** Every hostile character class, as inline value and as .env value. */
const HOSTILE = `$(whoami) "q" \`id\` 'single' x  y $HOME ; | & * \\n\\\\ ✓ ünï`;
const MULTILINE = 'line 1\nline 2';
const ENV_FILE = [
  '# the job reads this when it starts',
  `export API_TOKEN="${SECRET}-$(whoami)"`,
  `FROM_FILE='${HOSTILE.replace(/'/g, '')}'`,
  'OVERRIDDEN=from-file',
  `MULTI="line 1\\nline 2"`,
].join('\n');
const SCRIPT = [
  'import json, os, sys',
  'names = ["INLINE", "FROM_FILE", "OVERRIDDEN", "MULTI", "API_TOKEN", "VIA_INTERPRETER", "LATE"]',
  // Only a digest of the secret is printed, so the job's own log never holds it.
  'import hashlib',
  'out = {n: os.environ.get(n) for n in names if n != "API_TOKEN"}',
  'out["token_sha"] = hashlib.sha256(os.environ.get("API_TOKEN", "").encode()).hexdigest()',
  'out["argv"] = sys.argv[1:]',
  'print("RESULT " + json.dumps(out))',
].join('\n');

let cluster: SlurmCluster;
let fx: SshdFixture;
let root: string;
let project: string;
let jobsRoot: string;
let envFile: string;
let interpreter: string;
const hosts: Array<{ dispose(): void; closeConnection?(): Promise<void> }> = [];
const logLines: string[] = [];
const logger: Logger = {
  trace: (m) => void logLines.push(String(m)),
  debug: (m) => void logLines.push(String(m)),
  info: (m) => void logLines.push(String(m)),
  warn: (m) => void logLines.push(String(m)),
  error: (m) => void logLines.push(String(m)),
};
let seq = 0;

before(async () => {
  if (skip) return;
  cluster = await SlurmCluster.start({ gpus: 2 });
  fx = await SshdFixture.start([{ name: 'gpu-a', gpus: 1 }]);
  root = fx.root;
  project = path.join(root, 'local', 'proj');
  jobsRoot = path.join(root, 'local', 'jobs');
  await fs.mkdir(project, { recursive: true });
  await fs.writeFile(path.join(project, 'env_job.py'), SCRIPT);
  envFile = path.join(project, '.env');
  await fs.writeFile(envFile, ENV_FILE);
  // The job's own interpreter: a wrapper that marks its runs, so the test sees it was used, not python3.
  interpreter = path.join(root, 'bin-interp', 'mypython');
  await fs.mkdir(path.dirname(interpreter), { recursive: true });
  await fs.writeFile(interpreter, '#!/bin/sh\nVIA_INTERPRETER=yes exec python3 "$@"\n', { mode: 0o755 });
});

after(async () => {
  if (skip) return;
  for (const host of hosts) host.dispose();
  await Promise.all(hosts.map((h) => h.closeConnection?.()));
  await cluster.stop();
  await fx.stop();
});

function job(extra: Partial<Job> = {}): Job {
  seq += 1;
  return buildJob({
    id: `env-${process.pid}-${seq}`,
    name: 'env_job.py',
    script: path.join(project, 'env_job.py'),
    args: ['--x', HOSTILE],
    cwd: project,
    gpus: 0,
    runtimeSec: 600,
    createdAt: Date.now(),
    env: { INLINE: HOSTILE, OVERRIDDEN: 'inline', MULTI_INLINE: MULTILINE },
    envFile,
    interpreter,
    ...extra,
  });
}

/** Dispatches through launchOne (which reads the .env file now), waits for the exit, returns what the script printed. */
async function runOn(host: Host, j: Job): Promise<Record<string, unknown>> {
  const exit = nextExit(host, j.id, 60_000);
  const outcome = await launchOne({ job: j, host: host.name, gpuIndices: [] }, host);
  assert.equal(outcome.kind, 'started', JSON.stringify(outcome));
  const report = await exit;
  const log = await fs.readFile(host.logPath(j.id), 'utf8');
  assert.equal(report.exitCode, 0, log);
  const line = log.split('\n').find((l) => l.startsWith('RESULT '));
  assert.ok(line, log);
  return JSON.parse(line.slice('RESULT '.length)) as Record<string, unknown>;
}

function assertLiteral(printed: Record<string, unknown>): void {
  assert.equal(printed.INLINE, HOSTILE);
  assert.equal(printed.FROM_FILE, HOSTILE.replace(/'/g, ''));
  assert.equal(printed.OVERRIDDEN, 'inline', 'an inline value wins over the .env file');
  assert.equal(printed.MULTI, MULTILINE);
  const whoami = os.userInfo().username;
  assert.equal(printed.token_sha, createHash('sha256').update(`${SECRET}-$(whoami)`).digest('hex'), `the .env secret reached the job literally (not ${SECRET}-${whoami})`);
  assert.equal(printed.VIA_INTERPRETER, 'yes', "the job's own interpreter ran it");
  assert.deepEqual(printed.argv, ['--x', HOSTILE]);
}

/** Every file under `dir` that holds the secret, but the .env file itself and its copy in a synced project. */
async function filesWithSecret(dir: string): Promise<string[]> {
  const hits: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const entry of await fs.readdir(d, { withFileTypes: true }).catch(() => [])) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) await walk(p);
      // A store temp file may be renamed away between the listing and the read.
      else if (entry.isFile() && entry.name !== '.env' && (await fs.readFile(p).catch(() => Buffer.alloc(0))).includes(SECRET)) hits.push(p);
    }
  };
  await walk(dir);
  return hits;
}

test('local host, through the JobManager and a real store: literal values, .env read at dispatch, no secret in logs or store', { skip }, async () => {
  const storeDir = path.join(root, 'local', 'store');
  const { store } = await JobStore.open(storeDir, logger);
  const host = new LocalHost({ jobsRoot, logger, maxJobs: 4 });
  hosts.push(host);
  let id = 0;
  const manager = new JobManager({
    persistence: store, state: emptyWorkspaceState(), hosts: [host], placement: new MostFreeGpusPlacement(),
    classifier: { classify: () => ({ priority: 'medium', path: 'test' }), retrain: () => undefined },
    logger, settings: () => ({ agingMinutes: 60, cancelGraceSeconds: 1, retries: 0 }),
    removeJobFiles: async () => undefined, newId: () => `env-local-${process.pid}-${++id}`,
  });
  manager.setWritable(true);
  await manager.setPaused(true);
  const spec = job();
  const queued = await manager.queue({ script: spec.script, args: spec.args, cwd: spec.cwd, gpus: 0, importance: 'normal', runtimeSec: 60, env: spec.env, envFile, interpreter });
  // Edited after queueing: the job must see this, not what the file held then.
  await fs.writeFile(envFile, ENV_FILE.replace('OVERRIDDEN=from-file', 'OVERRIDDEN=from-file\nLATE=edited-after-queueing'));
  const exit = nextExit(host, queued.id, 30_000);
  await manager.setPaused(false);
  await exit;
  await waitFor('the job to be recorded as ended', () => manager.job(queued.id)?.state === 'succeeded');
  const log = await fs.readFile(host.logPath(queued.id), 'utf8');
  const printed = JSON.parse(log.split('\n').find((l) => l.startsWith('RESULT '))!.slice(7)) as Record<string, unknown>;
  assertLiteral(printed);
  assert.equal(printed.LATE, 'edited-after-queueing', 'the .env file was read at dispatch, not at queue time');
  assert.deepEqual(await filesWithSecret(storeDir), [], 'the store holds the path, never the values');
  assert.deepEqual(await filesWithSecret(path.join(jobsRoot, queued.id)), [], 'nothing in the job folder (log, wrapper files)');
  assert.equal(logLines.filter((l) => l.includes(SECRET)).length, 0, 'no TrainQ log line');
  assert.ok((await fs.readFile(path.join(storeDir, 'store.json'), 'utf8')).includes(envFile));
  manager.dispose();
  await fs.writeFile(envFile, ENV_FILE);
});

test('local host: a .env file made invalid after queueing fails the job at dispatch, naming the line, not the value', { skip }, async () => {
  const host = new LocalHost({ jobsRoot, logger, maxJobs: 4 });
  hosts.push(host);
  const bad = path.join(project, 'bad.env');
  await fs.writeFile(bad, `OK=1\n${SECRET}\n`);
  const outcome = await launchOne({ job: job({ envFile: bad }), host: host.name, gpuIndices: [] }, host);
  assert.deepEqual(outcome, { kind: 'failed', message: `The .env file ${bad}, line 2: expected NAME=value (a line with no "=").` });
  await fs.rm(bad);
  const gone = await launchOne({ job: job({ envFile: bad }), host: host.name, gpuIndices: [] }, host);
  assert.deepEqual(gone, { kind: 'failed', message: `The .env file ${bad} does not exist.` });
});

test('local host: an interpreter relative to the job folder (.venv/bin/python) runs the job', { skip }, async () => {
  const host = new LocalHost({ jobsRoot, logger, maxJobs: 4 });
  hosts.push(host);
  await fs.mkdir(path.join(project, '.venv', 'bin'), { recursive: true });
  await fs.symlink(interpreter, path.join(project, '.venv', 'bin', 'python')).catch(() => undefined);
  const printed = await runOn(host, job({ interpreter: '.venv/bin/python' }));
  assert.equal(printed.VIA_INTERPRETER, 'yes');
});

test('SSH host (loopback sshd): the same values reach the script literally, no secret in logs or job files', { skip }, async () => {
  const host = new SshHost({
    config: fx.hostConfig('gpu-a'), jobsRoot, controlDir: path.join(root, 'ctl'), logger, sshConfigFile: fx.sshConfig,
    pollMs: 100, lostAfterMs: 60_000, backoff: { baseMs: 300, maxMs: 1000 }, connectTimeoutSec: 5,
  });
  hosts.push(host);
  const j = job();
  assertLiteral(await runOn(host, j));
  assert.equal(logLines.filter((l) => l.includes(SECRET)).length, 0);
  // The local mirror and the host's job folders (the fixture's HOME) alike.
  assert.deepEqual(await filesWithSecret(root), []);
});

test('Slurm (one node, sbatch here): the same values reach the script literally; the batch script is not left behind', { skip }, async () => {
  const config = parseSlurmHostConfig({ name: 'slurm-local', type: 'slurm', target: 'local', partition: 'gpu' });
  const host = new SlurmHost({
    config, jobsRoot, logger, localEnv: cluster.env, controlDir: path.join(root, 'ctl'), sshConfigFile: fx.sshConfig,
    pollMs: 200, lostAfterMs: 60_000, backoff: { baseMs: 300, maxMs: 1000 },
  });
  hosts.push(host);
  const j = job();
  assertLiteral(await runOn(host, j));
  assert.equal(logLines.filter((l) => l.includes(SECRET)).length, 0);
  assert.deepEqual(await filesWithSecret(root), [], 'batch.sh is deleted once sbatch read it');
});

// Results back from SSH hosts (issue 16 item 3) against real loopback sshd servers: a job writes its
// outputs on the host, they come back into the workspace with rsync, or with tar where the host has no
// rsync; nothing local is overwritten without an answer; a bound copies nothing; hostile names and
// symlinks leading out of the job folder are not followed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { OutputReport, OutputRequest } from '../../src/core/host';
import type { Job } from '../../src/core/job';
import { silentLogger } from '../../src/core/logger';
import type { ConflictAnswer, RemoteOutputFile } from '../../src/core/outputPlan';
import { SshHost } from '../../src/hosts/ssh/sshHost';
import { makeJob as buildJob } from '../support/builders';
import { request } from '../support/launchRequests';
import { ensureOpenSsh, SshdFixture } from '../support/sshd';
import { nextExit } from '../support/waiting';

const skip = ensureOpenSsh();
let fx: SshdFixture;
let project: string;
let jobsRoot: string;
const hosts: SshHost[] = [];
let seq = 0;

/** Writes the outputs a training job leaves: a checkpoint, a nested log, names a shell would misread, data it must not bring. */
const JOB_SCRIPT = `#!/bin/sh
mkdir -p outputs/nested/deep data
printf 'weights of %s\\n' "$TRAINQ_JOB_ID" > outputs/model.ckpt
printf 'epoch 1\\n' > outputs/nested/deep/log.txt
printf 'x' > "outputs/a b 'q' \\$(touch pwned).txt"
printf 'x' > outputs/-rf
head -c 4096 /dev/zero > data/big.bin
exit \${1:-0}
`;

before(async () => {
  if (skip) return;
  fx = await SshdFixture.start([{ name: 'out-a', gpus: 0 }, { name: 'out-c', gpus: 0, withoutRsync: true }]);
  project = path.join(fx.root, 'local', 'proj');
  jobsRoot = path.join(fx.root, 'local', 'jobs');
  await fs.mkdir(project, { recursive: true });
  await fs.writeFile(path.join(project, 'train.sh'), JOB_SCRIPT);
});

after(async () => {
  if (skip) return;
  for (const host of hosts) host.dispose();
  await Promise.all(hosts.map((h) => h.closeConnection()));
  await fx.stop();
});

function newHost(name: string): SshHost {
  const host = new SshHost({
    config: fx.hostConfig(name, { python: 'python3' }),
    jobsRoot,
    controlDir: path.join(fx.root, 'ctl'),
    logger: silentLogger,
    sshConfigFile: fx.sshConfig,
    pollMs: 100,
    connectTimeoutSec: 5,
  });
  hosts.push(host);
  return host;
}

function makeJob(args: string[] = []): Job {
  seq += 1;
  const id = `out-${process.pid}-${seq}`;
  return buildJob({ id, name: 'train.sh', script: path.join(project, 'train.sh'), args, cwd: project, gpus: 0, runtimeSec: 10, state: 'running', createdAt: Date.now() });
}

/** Runs the job script on the host to its end. */
async function runJob(host: SshHost, args: string[] = []): Promise<Job> {
  const job = makeJob(args);
  const exited = nextExit(host, job.id, 30_000);
  await host.launch(request(job, []));
  await exited;
  return job;
}

function remoteProject(host: string, ...parts: string[]): string {
  return path.join(fx.server(host).home, 'trainq', 'proj', ...parts);
}

async function freshDest(): Promise<string> {
  const dest = await fs.mkdtemp(path.join(fx.root, 'dest-'));
  return dest;
}

function ask(answer: ConflictAnswer, asked: Array<readonly RemoteOutputFile[]>) {
  return async (conflicts: readonly RemoteOutputFile[]) => {
    asked.push(conflicts);
    return answer;
  };
}

function req(job: Job, destDir: string, over: Partial<OutputRequest> = {}): OutputRequest {
  return {
    job,
    globs: ['outputs/**'],
    destDir,
    maxBytes: 64 * 1024 * 1024,
    maxSetting: 'trainq.outputs.maxMiB',
    resolveConflicts: async () => assert.fail('no conflict was expected'),
    ...over,
  };
}

const copied = (r: OutputReport) => {
  assert.equal(r.kind, 'copied', JSON.stringify(r));
  return r as Extract<OutputReport, { kind: 'copied' }>;
};

const EXPECTED = ['outputs/-rf', "outputs/a b 'q' $(touch pwned).txt", 'outputs/model.ckpt', 'outputs/nested/deep/log.txt'];

for (const [hostName, method] of [['out-a', 'rsync'], ['out-c', 'tar']] as const) {
  test(`${method}: a job's outputs and nested files come back; the data beside them does not; no name runs as code`, { skip }, async () => {
    const host = newHost(hostName);
    const job = await runJob(host);
    const dest = await freshDest();
    const report = copied(await host.fetchOutputs(req(job, dest)));
    assert.equal(report.method, method);
    assert.deepEqual([...report.written].sort(), EXPECTED);
    assert.equal(await fs.readFile(path.join(dest, 'outputs', 'model.ckpt'), 'utf8'), `weights of ${job.id}\n`);
    assert.equal(await fs.readFile(path.join(dest, 'outputs', 'nested', 'deep', 'log.txt'), 'utf8'), 'epoch 1\n');
    assert.equal(existsSync(path.join(dest, 'data')), false, 'only what the globs select');
    assert.equal(existsSync(path.join(dest, 'pwned')) || existsSync(remoteProject(hostName, 'outputs', 'pwned')), false);
    assert.deepEqual((await fs.readdir(dest)).sort(), ['outputs'], 'no staging folder left behind');
    // The remote mtime travels with the file.
    const [here, there] = await Promise.all([fs.stat(path.join(dest, 'outputs', 'model.ckpt')), fs.stat(remoteProject(hostName, 'outputs', 'model.ckpt'))]);
    assert.equal(Math.floor(here.mtimeMs / 1000), Math.floor(there.mtimeMs / 1000));

    // Fetched again: everything is already there and the same, nothing is asked or written.
    const again = copied(await host.fetchOutputs(req(job, dest)));
    assert.deepEqual([again.written, again.same, again.bytes], [[], 4, 0]);
  });

  test(`${method}: a differing local file is not overwritten without the answer; Skip, Keep Both and Overwrite do what they say`, { skip }, async () => {
    const host = newHost(hostName);
    const job = await runJob(host);
    const dest = await freshDest();
    const local = path.join(dest, 'outputs', 'model.ckpt');
    await fs.mkdir(path.dirname(local), { recursive: true });
    // Same size as the host's file, other content: only the hash tells them apart.
    const mine = 'x'.repeat((await fs.stat(remoteProject(hostName, 'outputs', 'model.ckpt'))).size);
    await fs.writeFile(local, mine);
    const asked: Array<readonly RemoteOutputFile[]> = [];

    const skipped = copied(await host.fetchOutputs(req(job, dest, { resolveConflicts: ask('skip', asked) })));
    assert.equal(asked.length, 1, 'asked once per transfer');
    assert.deepEqual(asked[0].map((f) => f.path), ['outputs/model.ckpt']);
    assert.deepEqual(skipped.skipped.map((f) => f.path), ['outputs/model.ckpt']);
    assert.equal(await fs.readFile(local, 'utf8'), mine, 'Skip keeps the local file');
    assert.equal(skipped.written.length, 3, 'the files without conflict still came');

    const both = copied(await host.fetchOutputs(req(job, dest, { resolveConflicts: ask('keepBoth', asked) })));
    assert.deepEqual(both.written, [`outputs/model (${hostName}).ckpt`]);
    assert.equal(await fs.readFile(local, 'utf8'), mine, 'Keep Both keeps the local file');
    assert.equal(await fs.readFile(path.join(dest, 'outputs', `model (${hostName}).ckpt`), 'utf8'), `weights of ${job.id}\n`);

    const over = copied(await host.fetchOutputs(req(job, dest, { resolveConflicts: ask('overwrite', asked) })));
    assert.deepEqual(over.written, ['outputs/model.ckpt']);
    assert.equal(await fs.readFile(local, 'utf8'), `weights of ${job.id}\n`);
    assert.equal(asked.length, 3);
  });
}

test('over the bound nothing is copied and the report gives the size and the setting', { skip }, async () => {
  const host = newHost('out-a');
  const job = await runJob(host);
  const dest = await freshDest();
  const report = await host.fetchOutputs(req(job, dest, { globs: ['outputs/**', 'data/**'], maxBytes: 4096 }));
  assert.equal(report.kind, 'tooLarge');
  const r = report as Extract<OutputReport, { kind: 'tooLarge' }>;
  assert.equal(r.files, 5);
  assert.ok(r.totalBytes > 4096);
  assert.match(r.message, /more than trainq\.outputs\.maxMiB \(0 MiB\); nothing was copied/);
  assert.deepEqual(await fs.readdir(dest), [], 'not one file');
});

test('symlinks are not followed out of the job folder, on the host or in the workspace', { skip }, async () => {
  const host = newHost('out-a');
  const job = await runJob(host);
  // On the host: a folder link and a file link pointing outside the project.
  const secret = path.join(fx.root, 'secret');
  await fs.mkdir(secret, { recursive: true });
  await fs.writeFile(path.join(secret, 'key.txt'), 'secret');
  await fs.rm(remoteProject('out-a', 'linked'), { recursive: true, force: true });
  await fs.symlink(secret, remoteProject('out-a', 'linked'));
  await fs.symlink(path.join(secret, 'key.txt'), remoteProject('out-a', 'outputs', 'key-link.txt')).catch(() => undefined);
  const dest = await freshDest();
  // In the workspace: outputs/nested is a link to a folder outside it.
  const elsewhere = await fs.mkdtemp(path.join(os.tmpdir(), 'trainq-elsewhere-'));
  await fs.mkdir(path.join(dest, 'outputs'), { recursive: true });
  await fs.symlink(elsewhere, path.join(dest, 'outputs', 'nested'));
  try {
    const report = copied(await host.fetchOutputs(req(job, dest, { globs: ['outputs/**', 'linked/**', 'linked'] })));
    assert.ok(!report.written.some((p) => p.includes('key')), `no file of the linked folders: ${report.written.join(', ')}`);
    assert.ok(report.blocked.some((b) => b.startsWith('linked')), `the link that leads out is reported: ${report.blocked.join(' | ')}`);
    assert.ok(report.blocked.some((b) => b.startsWith('outputs/key-link.txt (a symbolic link on the host')), report.blocked.join(' | '));
    assert.ok(report.blocked.some((b) => b.startsWith('outputs/nested/deep/log.txt (outputs/nested is a symbolic link')), report.blocked.join(' | '));
    assert.deepEqual(await fs.readdir(elsewhere), [], 'nothing written through the workspace link');
    assert.ok(report.written.includes('outputs/model.ckpt'));
  } finally {
    await fs.rm(elsewhere, { recursive: true, force: true });
    await fs.rm(remoteProject('out-a', 'linked'), { force: true });
  }
});

test('bad globs are refused before anything runs, with one message', { skip }, async () => {
  const host = newHost('out-a');
  const job = makeJob();
  const dest = await freshDest();
  await assert.rejects(host.fetchOutputs(req(job, dest, { globs: ['../../**'] })), /climbs out of the job's folder/);
  await assert.rejects(host.fetchOutputs(req(job, dest, { globs: ['/etc/*'] })), /absolute/);
  assert.deepEqual(await fs.readdir(dest), []);
});

test('a host with sync "none" ran the job in the workspace: the outputs are in place and nothing is copied', { skip }, async () => {
  const host = new SshHost({ config: fx.hostConfig('out-a', { sync: 'none' }), jobsRoot, logger: silentLogger, sshConfigFile: fx.sshConfig });
  hosts.push(host);
  const report = await host.fetchOutputs(req(makeJob(), await freshDest()));
  assert.deepEqual(report, { kind: 'inPlace', folder: project });
});

test('a large copy reports progress up to its size; a cancelled copy leaves nothing in the workspace', { skip }, async () => {
  const host = newHost('out-a');
  const job = await runJob(host);
  // 24 MiB of outputs: large enough for the progress threshold below, written on the host directly.
  await fs.writeFile(remoteProject('out-a', 'outputs', 'big.bin'), Buffer.alloc(24 * 1024 * 1024, 7));
  try {
    const dest = await freshDest();
    const seen: Array<[number, number]> = [];
    const report = copied(await host.fetchOutputs(req(job, dest, { progress: { fromBytes: 16 * 1024 * 1024, report: (d, t) => seen.push([d, t]) } })));
    assert.ok(report.bytes > 24 * 1024 * 1024);
    assert.deepEqual(seen[0], [0, report.bytes], 'announced with its size before it starts');
    assert.deepEqual(seen.at(-1), [report.bytes, report.bytes], 'ends at 100 %');
    assert.ok(seen.every(([d, t], i) => d <= t && (i === 0 || d >= 0)), JSON.stringify(seen));
    // Small copies show no progress at all.
    const quiet: unknown[] = [];
    await host.fetchOutputs(req(job, await freshDest(), { globs: ['outputs/model.ckpt'], progress: { fromBytes: 16 * 1024 * 1024, report: (d, t) => quiet.push([d, t]) } }));
    assert.deepEqual(quiet, []);

    const abort = new AbortController();
    const cut = await freshDest();
    await assert.rejects(
      host.fetchOutputs(req(job, cut, { signal: abort.signal, progress: { fromBytes: 0, report: () => abort.abort() } })),
      /the copy was cancelled/,
    );
    assert.deepEqual(await fs.readdir(cut), [], 'no file and no staging folder');
  } finally {
    await fs.rm(remoteProject('out-a', 'outputs', 'big.bin'), { force: true });
  }
});

test('a staging folder left in the workspace by a copy that was cut off is not synced up to the host', { skip }, async () => {
  const stale = path.join(project, '.trainq-incoming-stale');
  await fs.mkdir(stale, { recursive: true });
  await fs.writeFile(path.join(stale, 'model.ckpt'), 'half');
  try {
    for (const [name, method] of [['out-a', 'rsync'], ['out-c', 'tar']] as const) {
      const result = await newHost(name).sync(project);
      assert.equal(result.method, method);
      assert.ok(existsSync(remoteProject(name, 'train.sh')), 'the project itself was synced');
      assert.equal(existsSync(remoteProject(name, '.trainq-incoming-stale')), false, `${method} left it out`);
    }
  } finally {
    await fs.rm(stale, { recursive: true, force: true });
  }
});

/**
 * Slurm host benchmark against the real one-node test cluster (test/support/slurm.ts), reached
 * locally and through a loopback sshd login node: submit latency over a warm ssh connection and the
 * status refresh of 100 tracked jobs in one squeue round trip. Prints a markdown table.
 * Run as root: node --import tsx scripts/benchSlurm.ts
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Job } from '../src/core/job';
import { silentLogger } from '../src/core/logger';
import { parseSlurmHostConfig } from '../src/hosts/hostConfig';
import { SlurmHost } from '../src/hosts/slurm/slurmHost';
import { makeJob } from '../test/support/builders';
import { ensureSlurm, SlurmCluster } from '../test/support/slurm';
import { ensureOpenSsh, SshdFixture } from '../test/support/sshd';

const SUBMITS = 40;
const TRACKED = 100;
const REFRESHES = 20;

interface Row {
  what: string;
  target: string;
  samples: number[];
  goalMs?: number;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

async function main(): Promise<void> {
  const why = ensureSlurm() ?? ensureOpenSsh();
  if (why) {
    console.error(`benchSlurm: ${why}`);
    process.exit(1);
  }
  // Enough CPUs that the tracked jobs are a mix of running and pending, as on a busy cluster.
  const cluster = await SlurmCluster.start({ gpus: 4, cpus: 32 });
  const fx = await SshdFixture.start([{ name: 'login' }]);
  const hosts: SlurmHost[] = [];
  try {
    await cluster.writeClientWrappers(fx.server('login').binDir);
    const project = path.join(fx.root, 'local', 'proj');
    await fs.mkdir(project, { recursive: true });
    const script = path.join(project, 'sleep.py');
    await fs.writeFile(script, 'import time\ntime.sleep(900)\n');
    let seq = 0;
    const job = (): Job => makeJob({ id: `bench-${++seq}`, script, cwd: project, gpus: 0, runtimeSec: 3600, state: 'running' });
    const newHost = (target: string, entry: Record<string, unknown> = {}) => {
      const host = new SlurmHost({
        config: parseSlurmHostConfig({ name: `bench-${target}`, type: 'slurm', target, partition: 'gpu', ...entry }),
        jobsRoot: path.join(fx.root, 'local', 'jobs'),
        logger: silentLogger,
        localEnv: cluster.env,
        controlDir: path.join(fx.root, 'ctl'),
        sshConfigFile: fx.sshConfig,
        // No background polls: the refresh rows time pollNow() alone.
        pollMs: 3_600_000,
      });
      hosts.push(host);
      return host;
    };
    const submit = (host: SlurmHost) => () => host.launch({ job: job(), script, args: [], cwd: project, gpuIndices: [], env: {} });
    const rows: Row[] = [];
    for (const [target, entry, label] of [
      ['login', { sync: 'none' }, 'submit (sbatch only)'],
      ['login', {}, 'submit (rsync + sbatch)'],
      ['local', {}, 'submit (sbatch only)'],
    ] as const) {
      const host = newHost(target, entry);
      await host.probe();
      await submit(host)(); // warms the ssh master and the first rsync
      const samples: number[] = [];
      for (let i = 0; i < SUBMITS; i++) samples.push(await timed(submit(host)));
      rows.push({ what: label, target, samples, goalMs: target === 'login' ? 300 : undefined });
    }
    for (const target of ['login', 'local']) {
      const host = newHost(target, { sync: 'none' });
      await host.probe();
      for (let i = 0; i < TRACKED; i++) await submit(host)();
      await host.pollNow(); // the first poll learns that accounting is off
      const samples: number[] = [];
      for (let i = 0; i < REFRESHES; i++) samples.push(await timed(() => host.pollNow()));
      rows.push({ what: `status refresh, ${TRACKED} tracked jobs`, target, samples, goalMs: 500 });
    }
    const running = cluster.run('squeue', ['--noheader', '--states=RUNNING', '--format=%i']).trim().split('\n').length;
    const all = cluster.run('squeue', ['--noheader', '--format=%i']).trim().split('\n').length;
    console.log('| measurement | target | n | median ms | p95 ms | max ms | goal |');
    console.log('|---|---|---|---|---|---|---|');
    for (const r of rows) {
      const s = [...r.samples].sort((a, b) => a - b);
      const goal = r.goalMs === undefined ? '–' : `≤ ${r.goalMs} ms ${quantile(s, 0.95) <= r.goalMs ? '✓' : '✗'}`;
      console.log(
        `| ${r.what} | ${r.target === 'login' ? 'ssh login node' : 'local sbatch'} | ${s.length} | ${quantile(s, 0.5).toFixed(1)} | ${quantile(s, 0.95).toFixed(1)} | ${s[s.length - 1].toFixed(1)} | ${goal} |`,
      );
    }
    console.log(
      `\nOne-node slurm-wlm ${cluster
        .run('sinfo', ['--version'])
        .trim()
        .replace(/^slurm(-wlm)? /, '')} cluster and sshd on loopback (no network latency), no accounting, ` +
        `${all} jobs in the queue at the end (${running} running). submit = SlurmHost.launch() until it resolves (batch script written, sbatch --parsable, Slurm id stored); ` +
        `status refresh = one poll of all tracked jobs: one squeue call by job id plus each job's exit file and log size, in one round trip.`,
    );
  } finally {
    hosts.forEach((h) => h.dispose());
    await Promise.all(hosts.map((h) => h.closeConnection()));
    await cluster.stop();
    await fx.stop();
  }
}

void main().catch((e) => {
  console.error(e);
  process.exit(1);
});

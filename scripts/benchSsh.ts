/**
 * `node --import tsx scripts/benchSsh.ts`: how fast remote hosts answer over ssh. Starts three real
 * sshd servers on loopback (test/support/sshd.ts), so the figures are TrainQ's own cost plus
 * OpenSSH's, without network latency: add your round-trip time per ssh call for a real cluster.
 * Prints one table and writes test-output/bench/ssh.json. --quick takes fewer samples.
 * Speed targets live here, in a benchmark that reports, never in timed tests that flake.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Job } from '../src/core/job';
import { silentLogger } from '../src/core/logger';
import { SshHost } from '../src/hosts/sshHost';
import { ensureOpenSsh, SshdFixture } from '../test/support/sshd';
import { atMost, describeMs, formatTable, summarize, type Row } from './bench/report';

const ROOT = path.resolve(__dirname, '..');
const OUT_DIR = path.join(ROOT, 'test-output', 'bench');
const quick = process.argv.includes('--quick');
const SAMPLES = quick ? 8 : 30;
const WARMUP = 3;
const DISPATCH_TARGET_MS = 150;
const PROBE_TARGET_MS = 500;

let seq = 0;
function job(script: string, cwd: string): Job {
  seq += 1;
  return {
    id: `bench-${process.pid}-${seq}`,
    name: path.basename(script),
    script,
    args: ['--epochs', '1'],
    cwd,
    gpus: 1,
    importance: 'normal',
    runtimeSec: 1,
    priority: 'medium',
    priorityReason: 'bench',
    priorityOverridden: false,
    state: 'running',
    createdAt: Date.now(),
  };
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

async function sample(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < WARMUP; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await time(fn));
  return out;
}

function row(id: string, metric: string, samples: number[], target?: number): Row {
  const s = summarize(samples);
  return {
    id,
    metric,
    value: describeMs(s, 'p95'),
    target: target === undefined ? '—' : `≤ ${target} ms median`,
    verdict: target === undefined ? 'info' : atMost(s.median, target),
    data: { ...s, samples },
  };
}

async function main(): Promise<void> {
  const skip = ensureOpenSsh();
  if (skip) {
    console.error(`Cannot benchmark: ${skip}`);
    process.exit(1);
  }
  const loadBefore = os.loadavg()[0];
  const fx = await SshdFixture.start([{ name: 'bench-a', gpus: 8 }, { name: 'bench-b', gpus: 4 }, { name: 'bench-c', gpus: 2 }]);
  const hosts: SshHost[] = [];
  const make = (name: string, sync: 'rsync' | 'none') => {
    const host = new SshHost({
      config: fx.hostConfig(name, { sync }),
      jobsRoot: path.join(fx.root, 'jobs'),
      controlDir: path.join(fx.root, 'ctl'),
      logger: silentLogger,
      sshConfigFile: fx.sshConfig,
      // Followed jobs are polled in the background; slow polls keep them out of the measured calls.
      pollMs: 60_000,
    });
    hosts.push(host);
    return host;
  };
  try {
    const project = path.join(fx.root, 'project');
    await fs.mkdir(path.join(project, 'data'), { recursive: true });
    const script = path.join(project, 'train.sh');
    await fs.writeFile(script, 'exit 0\n');
    // A small project: 50 source files and one 1 MiB data file.
    for (let i = 0; i < 50; i++) await fs.writeFile(path.join(project, `module_${i}.py`), `# module ${i}\n`.repeat(40));
    await fs.writeFile(path.join(project, 'data', 'blob.bin'), Buffer.alloc(1024 * 1024, 7));

    const names = ['bench-a', 'bench-b', 'bench-c'];
    const cold = await time(() => Promise.all(names.map((n) => make(n, 'rsync').probe())));
    const probers = names.map((n) => make(n, 'rsync'));
    const probe3 = await sample(SAMPLES, async () => {
      const statuses = await Promise.all(probers.map((h) => h.probe()));
      if (statuses.some((s) => s.state !== 'online')) throw new Error('a bench host went offline');
    });
    const probe1 = await sample(SAMPLES, () => probers[0].probe());

    const none = make('bench-a', 'none');
    const dispatchNone = await sample(SAMPLES, () => none.launch({ job: job(script, project), gpuIndices: [0], command: ['bash', script, '--epochs', '1'] }));
    const rsync = make('bench-b', 'rsync');
    const dispatchRsync = await sample(SAMPLES, () => rsync.launch({ job: job(script, project), gpuIndices: [1], command: ['bash', script, '--epochs', '1'] }));

    const rows = [
      row('dispatch-none', 'dispatch to a warm host, sync "none" (1 ssh round trip)', dispatchNone, DISPATCH_TARGET_MS),
      row('dispatch-rsync', 'dispatch to a warm host, rsync of 51 files + 1 MiB unchanged, then start', dispatchRsync, DISPATCH_TARGET_MS),
      row('probe-3', 'probe three hosts in parallel, warm connections', probe3, PROBE_TARGET_MS),
      row('probe-1', 'probe one host, warm connection', probe1),
      row('probe-3-cold', 'probe three hosts in parallel, new connections (handshake + auth)', [cold]),
    ];
    const load = os.loadavg()[0];
    const cores = os.cpus().length;
    // Client, servers and jobs share these cores: other work inflates every figure.
    const busy = Math.max(loadBefore, load) > cores / 2;
    const notes = [
      'Real OpenSSH servers on 127.0.0.1, one per host, each with its own host key; client with BatchMode, strict host-key checking and a ControlMaster socket per host.',
      'dispatch = SshHost.launch() until it resolves: job folder, detached wrapper started with setsid nohup, its process group returned; the rsync row first copies the project (nothing changed, so rsync only compares).',
      'probe = one round trip running nvidia-smi (fixture script), reading /proc/loadavg, /proc/meminfo and the CPU count.',
      `Machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${cores} cores, Node ${process.version}, OpenSSH on loopback; 1-minute load average ${loadBefore.toFixed(2)} before, ${load.toFixed(2)} after.`,
      ...(busy ? ['WARNING: other work was running on this machine (load average above half the cores); times are inflated, rerun on a quiet machine for figures to publish.'] : []),
    ];
    console.log(formatTable(rows));
    console.log('');
    notes.forEach((n) => console.log(`- ${n}`));
    await fs.mkdir(OUT_DIR, { recursive: true });
    const report = { generatedAt: new Date().toISOString(), quick, machine: { cores, loadAverage: { before: loadBefore, after: load }, busy }, rows, notes };
    await fs.writeFile(path.join(OUT_DIR, 'ssh.json'), `${JSON.stringify(report, null, 2)}\n`);
    console.log(`\nWrote ${path.relative(ROOT, path.join(OUT_DIR, 'ssh.json'))}`);
  } finally {
    hosts.forEach((h) => h.dispose());
    await Promise.all(hosts.map((h) => h.closeConnection()));
    await fx.stop();
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack ?? e.message : e);
  process.exit(1);
});

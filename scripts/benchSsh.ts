/**
 * `node --import tsx scripts/benchSsh.ts`: how fast remote hosts answer over ssh. Starts three real
 * sshd servers on loopback (test/support/sshd.ts), so the figures are TrainQ's own cost plus
 * OpenSSH's, without network latency: add your round-trip time per ssh call for a real cluster.
 * Prints one table and writes test-output/bench/ssh.json. --quick takes fewer samples and a shorter
 * follow window. The follow rows measure the local CPU of following three remote logs: this process
 * (the extension host's share), the ssh clients it spawns and the ControlMaster processes.
 * Speed targets live here, in a benchmark that reports, never in timed tests that flake.
 */
import { execFileSync } from 'node:child_process';
import { promises as fs, readdirSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Job } from '../src/core/job';
import type { ExitReport } from '../src/core/host';
import { silentLogger } from '../src/core/logger';
import { SshHost } from '../src/hosts/ssh/sshHost';
import { ensureOpenSsh, SshdFixture } from '../test/support/sshd';
import { atMost, describeMs, formatTable, summarize, type Row } from './bench/report';

const ROOT = path.resolve(__dirname, '..');
const OUT_DIR = path.join(ROOT, 'test-output', 'bench');
const quick = process.argv.includes('--quick');
const SAMPLES = quick ? 8 : 30;
const WARMUP = 3;
const DISPATCH_TARGET_MS = 150;
const PROBE_TARGET_MS = 500;
/** The follow rows' measuring window; it opens once all three jobs run and each host has polled once. */
const FOLLOW_WINDOW_MS = quick ? 10_000 : 30_000;
const FOLLOW_SETTLE_MS = 2_500;
/**
 * Quiet time before the baseline: V8's memory reducer runs its full GCs about 8 s after a burst of
 * allocation (the rows above), which is their cost, not following's (as in benchExtension.ts).
 */
const QUIET_MS = quick ? 0 : 10_000;
/** A window with nothing followed, before the launches: what this process spends idle. */
const IDLE_WINDOW_MS = quick ? 2_000 : 5_000;
/** SshHost's default poll interval (SshHostOptions.pollMs). */
const DEFAULT_POLL_S = 2;
/** Lines per job, one every 50 ms: the jobs outlast the window (~35 s, or ~15 s with --quick). */
const FOLLOW_LINES = quick ? 300 : 700;
const FOLLOW_GAP_S = 0.05;
/** benchExtension.ts's budget for status-bar polling, for comparison only: the spec sets none for following. */
const STATUS_BAR_BUDGET_PCT = 1;
/** The job: ~100-byte numbered lines ($1 of them, $2 s apart), then a last line naming the job. */
const FOLLOW_SCRIPT = `n=$1 gap=$2 i=1
pad=${'x'.repeat(69)}
while [ "$i" -le "$n" ]; do
  printf 'step %05d/%05d loss=0.%05d %s\\n' "$i" "$n" "$i" "$pad"
  i=$((i + 1))
  sleep "$gap"
done
printf 'last line of %s after %s lines\\n' "$TRAINQ_JOB_ID" "$n"
`;

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
  const make = (name: string, sync: 'rsync' | 'none', polling: 'slow' | 'default' = 'slow') => {
    const host = new SshHost({
      config: fx.hostConfig(name, { sync }),
      jobsRoot: path.join(fx.root, 'jobs'),
      controlDir: path.join(fx.root, 'ctl'),
      logger: silentLogger,
      sshConfigFile: fx.sshConfig,
      // Followed jobs are polled in the background; slow polls keep them out of the measured calls.
      // The follow rows measure exactly that background work, so they keep SshHost's default.
      ...(polling === 'slow' ? { pollMs: 60_000 } : {}),
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
    const dispatchNone = await sample(SAMPLES, () => none.launch({ job: job(script, project), script, args: ['--epochs', '1'], cwd: project, gpuIndices: [0], env: {} }));
    const rsync = make('bench-b', 'rsync');
    const dispatchRsync = await sample(SAMPLES, () => rsync.launch({ job: job(script, project), script, args: ['--epochs', '1'], cwd: project, gpuIndices: [1], env: {} }));

    const rows = [
      row('dispatch-none', 'dispatch to a warm host, sync "none" (1 ssh round trip)', dispatchNone, DISPATCH_TARGET_MS),
      row('dispatch-rsync', 'dispatch to a warm host, rsync of 51 files + 1 MiB unchanged, then start', dispatchRsync, DISPATCH_TARGET_MS),
      row('probe-3', 'probe three hosts in parallel, warm connections', probe3, PROBE_TARGET_MS),
      row('probe-1', 'probe one host, warm connection', probe1),
      row('probe-3-cold', 'probe three hosts in parallel, new connections (handshake + auth)', [cold]),
    ];
    // The hosts above stop following their finished jobs, so that none of their polls lands in the window.
    hosts.forEach((h) => h.dispose());
    const follow = await followRows(fx, names.map((n) => make(n, 'none', 'default')), project);
    rows.push(...follow.rows);
    const load = os.loadavg()[0];
    const cores = os.cpus().length;
    // Client, servers and jobs share these cores: other work inflates every figure.
    const busy = Math.max(loadBefore, load) > cores / 2;
    const notes = [
      'Real OpenSSH servers on 127.0.0.1, one per host, each with its own host key; client with BatchMode, strict host-key checking and a ControlMaster socket per host.',
      'dispatch = SshHost.launch() until it resolves: job folder, detached wrapper started with setsid nohup, its process group returned; the rsync row first copies the project (nothing changed, so rsync only compares).',
      'probe = one round trip running nvidia-smi (fixture script), reading /proc/loadavg, /proc/meminfo and the CPU count.',
      ...follow.notes,
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

interface CpuSnapshot {
  wallMs: number;
  cpu: NodeJS.CpuUsage;
  /** utime+stime of the children this process has reaped (/proc/self/stat cutime+cstime), in ticks. */
  childTicks: number;
  /** utime+stime per ControlMaster process, in ticks. */
  masters: Map<number, number>;
  /** Bytes of each local log copy and of each job's log on its host. */
  local: number[];
  remote: number[];
  sshCalls: number;
}

/** /proc/<pid>/stat after the command name: index 0 is field 3 (state), so field k is at k - 3. */
function statFields(pid: number | 'self'): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

function reapedChildTicks(): number {
  const f = statFields('self')!;
  return Number(f[13]) + Number(f[14]);
}

/**
 * CPU ticks of the ControlMaster processes behind these control sockets. ssh forks the master off
 * and daemonizes it (its title becomes "ssh: <ControlPath> [mux]"), so it is no child of this
 * process and its CPU never reaches cutime: it is read from its own /proc entry. Mux clients in
 * flight name the socket too but are still this process's children, and are left out.
 */
function masterTicks(controlPaths: readonly string[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (!cmdline.includes('[mux]') || !controlPaths.some((c) => cmdline.includes(c))) continue;
    const f = statFields(pid);
    if (f && Number(f[1]) !== process.pid) out.set(pid, Number(f[11]) + Number(f[12]));
  }
  return out;
}

async function fileSize(file: string): Promise<number> {
  return (await fs.stat(file).catch(() => undefined))?.size ?? 0;
}

/**
 * One job writing a log line every 50 ms on each of three hosts, followed by SshHost with its
 * default poll interval; the local CPU of following is measured over a window while all three run.
 */
async function followRows(fx: SshdFixture, followers: SshHost[], project: string): Promise<{ rows: Row[]; notes: string[] }> {
  const clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  const script = path.join(project, 'follow.sh');
  await fs.writeFile(script, FOLLOW_SCRIPT);
  let sshCalls = 0;
  for (const h of followers) {
    // Counts ssh client processes: every call on a host's transport is one.
    const runScript = h.transport.runScript.bind(h.transport);
    h.transport.runScript = (...a) => {
      sshCalls += 1;
      return runScript(...a);
    };
  }
  const controlPaths = (await Promise.all(followers.map((h) => h.transport.resolveControlPath()))).filter((c): c is string => c !== undefined);
  const jobs = followers.map(() => job(script, project));
  const ended = new Map<string, ExitReport>();
  const allEnded = new Promise<void>((resolve) => {
    for (const h of followers) {
      h.onDidExit((r) => {
        ended.set(r.jobId, r);
        if (jobs.every((j) => ended.has(j.id))) resolve();
      });
    }
  });
  await new Promise((r) => setTimeout(r, QUIET_MS));
  const idleStart = { wallMs: performance.now(), cpu: process.cpuUsage(), childTicks: reapedChildTicks() };
  await new Promise((r) => setTimeout(r, IDLE_WINDOW_MS));
  const idleCpu = process.cpuUsage(idleStart.cpu);
  const idleWallS = (performance.now() - idleStart.wallMs) / 1000;
  const idle = (100 * (idleCpu.user + idleCpu.system)) / 1e6 / idleWallS;
  const idleChildren = (100 * (reapedChildTicks() - idleStart.childTicks)) / clkTck / idleWallS;

  const launchedAt = Date.now();
  await Promise.all(
    followers.map((h, i) => h.launch({ job: jobs[i], script, args: [String(FOLLOW_LINES), String(FOLLOW_GAP_S)], cwd: project, gpuIndices: [0], env: {} })),
  );
  const localLogs = followers.map((h, i) => h.logPath(jobs[i].id));
  // The hosts share this machine's file system, so each job's own log can be read directly.
  const remoteLogs = followers.map((h, i) => path.join(fx.server(h.name).home, 'trainq', '.trainq', 'jobs', jobs[i].id, 'output.log'));
  const snapshot = async (edge: 'open' | 'close'): Promise<CpuSnapshot> => {
    // The /proc scan stays outside this process's own window: before it opens, after it closes.
    const masters = edge === 'open' ? masterTicks(controlPaths) : new Map<number, number>();
    const s: CpuSnapshot = { wallMs: performance.now(), cpu: process.cpuUsage(), childTicks: reapedChildTicks(), masters, local: [], remote: [], sshCalls };
    if (edge === 'close') s.masters = masterTicks(controlPaths);
    s.local = await Promise.all(localLogs.map(fileSize));
    s.remote = await Promise.all(remoteLogs.map(fileSize));
    return s;
  };
  await new Promise((r) => setTimeout(r, FOLLOW_SETTLE_MS));
  const before = await snapshot('open');
  await new Promise((r) => setTimeout(r, FOLLOW_WINDOW_MS));
  const after = await snapshot('close');
  if (ended.size > 0) throw new Error(`a follow job ended inside the window: ${[...ended.keys()].join(', ')}`);

  // Wait for every end, then check the copies: the bench's assertion that the logs were followed.
  const expectedRunMs = FOLLOW_LINES * FOLLOW_GAP_S * 1000;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`follow jobs did not all end (${ended.size}/${jobs.length} reported)`)), Math.max(0, launchedAt + expectedRunMs - Date.now()) + 30_000);
  });
  await Promise.race([allEnded, deadline]).finally(() => clearTimeout(timer));
  const problems: string[] = [];
  for (const [i, j] of jobs.entries()) {
    const local = await fs.readFile(localLogs[i]);
    const remote = await fs.readFile(remoteLogs[i]).catch(() => undefined);
    const lastLine = local.toString('utf8').trimEnd().split('\n').pop();
    const want = `last line of ${j.id} after ${FOLLOW_LINES} lines`;
    if (lastLine !== want) problems.push(`${followers[i].name}: local copy ends with ${JSON.stringify(lastLine?.slice(0, 120))}, not ${JSON.stringify(want)}`);
    if (remote && !local.equals(remote)) problems.push(`${followers[i].name}: local copy (${local.length} B) differs from the job's log (${remote.length} B)`);
    if (ended.get(j.id)?.exitCode !== 0) problems.push(`${followers[i].name}: job ended with ${JSON.stringify(ended.get(j.id))}`);
  }
  if (problems.length > 0) throw new Error(`the remote logs were not followed to their end:\n  ${problems.join('\n  ')}`);

  const wallS = (after.wallMs - before.wallMs) / 1000;
  const pctOfTicks = (ticks: number) => (100 * ticks) / clkTck / wallS;
  const node = (100 * (after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system)) / 1e6 / wallS;
  const clients = pctOfTicks(after.childTicks - before.childTicks);
  const masterPids = [...before.masters.keys()].filter((pid) => after.masters.has(pid));
  const masters = pctOfTicks(masterPids.reduce((sum, pid) => sum + after.masters.get(pid)! - before.masters.get(pid)!, 0));
  const calls = after.sshCalls - before.sshCalls;
  const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
  const mirrored = (sum(after.local) - sum(before.local)) / wallS;
  const written = (sum(after.remote) - sum(before.remote)) / wallS;
  const pollS = DEFAULT_POLL_S;
  // At most: each host times its next poll from the end of the previous one.
  const expectedCalls = Math.floor(wallS / pollS) * followers.length;
  // Far fewer polls than the timers allow, or not all three masters found: the figures would measure less than they claim.
  const valid = calls >= 0.75 * expectedCalls && masterPids.length === followers.length;
  const pct = (v: number) => `${v.toFixed(3)} % of one core`;
  const perCall = (v: number) => (calls > 0 ? `${((v / 100) * wallS * 1000 / calls).toFixed(2)} ms CPU per call` : 'no calls');
  const kib = (v: number) => `${(v / 1024).toFixed(2)} KiB/s`;
  const verdict = valid ? 'info' : 'INVALID';
  const window = `${Math.round(wallS)} s`;
  const data = { wallS, clkTck, idle: { wallS: idleWallS, pct: idle, childrenPct: idleChildren }, sshCalls: calls, expectedCalls, masterPids, controlPaths, lines: FOLLOW_LINES, gapS: FOLLOW_GAP_S };
  const rows: Row[] = [
    {
      id: 'follow-3-cpu-node',
      metric: `follow 3 remote logs (3 hosts, 1 job each, poll every ${pollS} s), ${window}: this process`,
      value: `${pct(node)} (${perCall(node)})`,
      target: `— (status-bar polling: ≤ ${STATUS_BAR_BUDGET_PCT} %)`,
      verdict,
      data: { ...data, pct: node },
    },
    {
      id: 'follow-idle-node',
      metric: `  baseline, nothing followed, ${Math.round(idleWallS)} s: this process`,
      value: `${pct(idle)}${idleChildren > 0 ? ` (+ ${pct(idleChildren)} in children)` : ''}`,
      target: '—',
      verdict: 'info',
      data: { ...data, pct: idle },
    },
    { id: 'follow-3-cpu-clients', metric: `  its ssh client processes (${calls} calls over the ControlMaster)`, value: `${pct(clients)} (${perCall(clients)})`, target: '—', verdict, data: { ...data, pct: clients } },
    { id: 'follow-3-cpu-masters', metric: `  the ${masterPids.length} ControlMaster ssh processes (crypto, in the background)`, value: pct(masters), target: '—', verdict, data: { ...data, pct: masters } },
    { id: 'follow-3-cpu-total', metric: '  local total', value: pct(node + clients + masters), target: `— (status-bar polling: ≤ ${STATUS_BAR_BUDGET_PCT} %)`, verdict, data: { ...data, pct: node + clients + masters } },
    {
      id: 'follow-3-bytes',
      metric: '  log bytes mirrored locally, 3 copies together',
      value: `${kib(mirrored)} (jobs wrote ${kib(written)}); ${jobs.length}/${jobs.length} copies end with the job's last line`,
      target: '—',
      verdict: 'info',
      data: { ...data, mirroredBytesPerS: mirrored, writtenBytesPerS: written, localBytes: after.local.map((b, i) => b - before.local[i]), remoteBytes: after.remote.map((b, i) => b - before.remote[i]) },
    },
  ];
  return {
    rows,
    notes: [
      `follow = three SshHost instances (one per sshd) with their default ${pollS} s poll, each following one job that prints a 100-byte line every ${FOLLOW_GAP_S * 1000} ms (${FOLLOW_LINES} lines, ~${Math.round(expectedRunMs / 1000)} s; \`sleep\` adds a little per line). ` +
        `The ${window} window opened ${FOLLOW_SETTLE_MS / 1000} s after the three launches returned (each host had polled once) and closed while all three still ran; the baseline window ran just before the launches, ${QUIET_MS / 1000} s after the rows above ended and with their hosts disposed. ` +
        `"this process" = process.cpuUsage(), i.e. the extension host's share (poll timers, parsing, appending to the local copies); ` +
        `ssh clients = /proc/self/stat cutime+cstime (CLK_TCK ${clkTck}) of the ssh processes it spawned and reaped inside the window (one per poll; at most ${expectedCalls}, as each host times its next poll from the end of the last), a call straddling an edge counting wholly on one side; ` +
        `ControlMasters = utime+stime from /proc/<pid>/stat of the daemonized "ssh: <ControlPath> [mux]" processes, which are no longer this process's children. ` +
        `Not counted: the sshd sessions and the jobs (the remote side, on this machine only because the hosts are on loopback). ` +
        `After the window every job's end was reported with exit code 0, and each local copy ends with the job's last line and equals the job's log byte for byte.`,
    ],
  };
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack ?? e.message : e);
  process.exit(1);
});

/**
 * A real one-node Slurm cluster on loopback for the Slurm integration tests and benchmark: munged
 * with its own key and socket, slurmctld and slurmd from Debian's slurm-wlm with a generated
 * slurm.conf, all state in a temporary folder, free ports. The node declares GPUs as a generic
 * resource backed by links to /dev/null (slurmd drops GPUs without a device file, and wants a
 * character device). JobRequeue=0, so a node failure ends a job with NODE_FAIL instead of re-queueing it.
 * By default there is no accounting: final states come from squeue and the exit files. With
 * `accounting: true` a throwaway MariaDB and slurmdbd run in the same folder, so sacct answers too.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, promises as fs, readdirSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from './net';

const SLURM_TOOLS = ['sbatch', 'squeue', 'sacct', 'sinfo', 'scancel', 'scontrol'];
const CLUSTER_NAME = 'trainqtest';
/** Small InnoDB settings: the database holds a few job records and should start fast. */
const MARIADB_SIZES = ['--innodb-buffer-pool-size=32M', '--innodb-log-file-size=8M'];

function aptInstall(packages: string[]): void {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', ...packages]]) {
    try {
      execFileSync('apt-get', args, { stdio: 'ignore', env, timeout: 600_000 });
    } catch {
      // The caller reports what is still missing.
    }
  }
}

/** Why the tests cannot run, or undefined. Installs slurm-wlm and munge when missing and running as root. */
export function ensureSlurm(): string | undefined {
  if (process.platform !== 'linux') {
    return 'the Slurm fixture needs Linux';
  }
  const have = () =>
    existsSync('/usr/sbin/slurmctld') && existsSync('/usr/sbin/slurmd') && existsSync('/usr/sbin/munged') && existsSync('/usr/bin/sbatch');
  if (!have() && process.getuid?.() === 0) {
    aptInstall(['slurm-wlm', 'munge']);
  }
  if (!have()) {
    return 'Slurm (slurm-wlm, munge) is not installed';
  }
  // slurmd runs jobs as their user and needs root for it; SlurmUser=root keeps the rest simple.
  return process.getuid?.() === 0 ? undefined : 'the Slurm fixture runs slurmd and must run as root';
}

/** ensureSlurm, plus MariaDB and slurmdbd for `SlurmCluster.start({ accounting: true })`. */
export function ensureSlurmAccounting(): string | undefined {
  const why = ensureSlurm();
  if (why) return why;
  const binaries = ['/usr/sbin/mariadbd', '/usr/bin/mariadb-install-db', '/usr/bin/mariadb', '/usr/sbin/slurmdbd'];
  const have = () => binaries.every((f) => existsSync(f));
  if (!have()) {
    aptInstall(['mariadb-server', 'slurmdbd']);
  }
  return have() ? undefined : 'Slurm accounting (mariadb-server, slurmdbd) is not installed';
}

/** Runs a daemon in the foreground and ends it when the test process is gone. Args: parentPid command… */
const WATCHDOG = `parent=$1
shift
"$@" &
daemon=$!
while kill -0 "$parent" 2>/dev/null && kill -0 "$daemon" 2>/dev/null; do sleep 1; done
kill -TERM "$daemon" 2>/dev/null`;

export interface SlurmClusterOptions {
  gpus?: number;
  cpus?: number;
  /** Run MariaDB and slurmdbd too, so that sacct reports ended jobs (slower start: a few seconds more). */
  accounting?: boolean;
  /** Seconds slurmctld keeps an ended job (squeue lists it); default 600. Short with accounting: sacct then answers. */
  minJobAge?: number;
}

export class SlurmCluster {
  readonly node = 'tq-node1';
  private readonly daemons = new Map<string, number>();
  /** Ports of the database and slurmdbd when accounting is on. */
  private ports?: { db: number; dbd: number };
  /** slurmdbd's password for MariaDB; root only logs in through the socket. */
  private readonly dbPassword = randomBytes(12).toString('hex');
  private lastFailure = '';

  private constructor(
    readonly root: string,
    readonly gpus: number,
    readonly accounting: boolean,
  ) {}

  get conf(): string {
    return path.join(this.root, 'slurm.conf');
  }
  /** Environment for local Slurm clients (SLURM_CONF points at this cluster). */
  get env(): NodeJS.ProcessEnv {
    return { ...process.env, SLURM_CONF: this.conf };
  }

  static async start(opts: SlurmClusterOptions = {}): Promise<SlurmCluster> {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'trainq-slurm-'));
    const cluster = new SlurmCluster(root, opts.gpus ?? 4, opts.accounting ?? false);
    try {
      await cluster.configure(opts.cpus ?? 16, opts.minJobAge ?? 600);
      await cluster.startDaemon('munged', [
        '/usr/sbin/munged',
        '-F',
        '-f',
        `--socket=${cluster.mungeSocket}`,
        `--key-file=${path.join(root, 'munge', 'munge.key')}`,
        `--log-file=${path.join(root, 'log', 'munged.log')}`,
        `--pid-file=${path.join(root, 'munge', 'pid')}`,
        `--seed-file=${path.join(root, 'munge', 'seed')}`,
      ]);
      await cluster.waitFor(() => existsSync(cluster.mungeSocket), 'munged');
      if (cluster.accounting) await cluster.startAccounting();
      await cluster.startController();
      await cluster.startDaemon('slurmd', ['/usr/sbin/slurmd', '-D', '-N', cluster.node, '-f', cluster.conf]);
      await cluster.waitFor(() => /^idle/m.test(cluster.tryRun('sinfo', ['--noheader', '--format=%T'])), 'the node to become idle', 30_000);
    } catch (e) {
      const logs = [];
      for (const log of ['mariadb.log', 'slurmdbd.log', 'slurmctld.log']) {
        const text = await fs.readFile(path.join(root, 'log', log), 'utf8').catch(() => '');
        if (text) logs.push(`--- ${log}`, ...text.trimEnd().split('\n').slice(-15));
      }
      await cluster.stop();
      throw new Error(`${(e as Error).message}\n${logs.join('\n')}`);
    }
    return cluster;
  }

  private get mungeSocket(): string {
    return path.join(this.root, 'munge', 'socket');
  }

  private get dbSocket(): string {
    return path.join(this.root, 'mariadb', 'socket');
  }

  private async configure(cpus: number, minJobAge: number): Promise<void> {
    const r = this.root;
    for (const dir of ['munge', 'state', 'spool', 'log', 'dev', 'mariadb']) {
      await fs.mkdir(path.join(r, dir), { recursive: true, mode: 0o700 });
    }
    // munged checks that its socket folder is reachable by everyone.
    await fs.chmod(path.join(r, 'munge'), 0o755);
    await fs.writeFile(path.join(r, 'munge', 'munge.key'), randomBytes(1024), { mode: 0o600 });
    for (let i = 0; i < this.gpus; i++) {
      await fs.symlink('/dev/null', path.join(r, 'dev', `gpu${i}`));
    }
    const [ctldPort, dPort] = [await freePort(), await freePort()];
    if (this.accounting) {
      this.ports = { db: await freePort(), dbd: await freePort() };
      await this.writeDbdConf();
    }
    const accounting = this.ports
      ? [
          'AccountingStorageType=accounting_storage/slurmdbd',
          'AccountingStorageHost=localhost',
          `AccountingStoragePort=${this.ports.dbd}`,
          // The munge socket for talking to slurmdbd: AuthInfo does not apply to that connection.
          `AccountingStoragePass=${this.mungeSocket}`,
        ]
      : ['AccountingStorageType=accounting_storage/none'];
    const conf = [
      `ClusterName=${CLUSTER_NAME}`,
      'SlurmctldHost=localhost(127.0.0.1)',
      'SlurmUser=root',
      'SlurmdUser=root',
      `SlurmctldPort=${ctldPort}`,
      `SlurmdPort=${dPort}`,
      'AuthType=auth/munge',
      'CredType=cred/munge',
      `AuthInfo=socket=${this.mungeSocket}`,
      `StateSaveLocation=${path.join(r, 'state')}`,
      `SlurmdSpoolDir=${path.join(r, 'spool')}`,
      `SlurmctldPidFile=${path.join(r, 'slurmctld.pid')}`,
      `SlurmdPidFile=${path.join(r, 'slurmd.pid')}`,
      `SlurmctldLogFile=${path.join(r, 'log', 'slurmctld.log')}`,
      `SlurmdLogFile=${path.join(r, 'log', 'slurmd.log')}`,
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_Core',
      'MpiDefault=none',
      'JobAcctGatherType=jobacct_gather/none',
      ...accounting,
      'JobCompType=jobcomp/none',
      'GresTypes=gpu',
      'ReturnToService=2',
      'JobRequeue=0',
      'KillWait=2',
      `MinJobAge=${minJobAge}`,
      // The node may declare more CPUs than the test machine has, so that jobs run side by side.
      'SlurmdParameters=config_overrides',
      'SchedulerType=sched/backfill',
      'SlurmctldDebug=info',
      'SlurmdDebug=info',
      `NodeName=${this.node} NodeHostname=localhost NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=4000 Gres=gpu:${this.gpus} State=UNKNOWN`,
      `PartitionName=gpu Nodes=${this.node} Default=YES MaxTime=INFINITE State=UP`,
      `PartitionName=cpu Nodes=${this.node} MaxTime=INFINITE State=UP`,
      '',
    ].join('\n');
    await fs.writeFile(this.conf, conf);
    await fs.writeFile(
      path.join(r, 'gres.conf'),
      `NodeName=${this.node} Name=gpu File=${path.join(r, 'dev', 'gpu')}[0-${this.gpus - 1}]\n`,
    );
  }

  /** slurmdbd reads slurmdbd.conf beside SLURM_CONF and refuses it unless only its user may read it. */
  private async writeDbdConf(): Promise<void> {
    const r = this.root;
    const conf = [
      'AuthType=auth/munge',
      `AuthInfo=socket=${this.mungeSocket}`,
      'DbdHost=localhost',
      'DbdAddr=127.0.0.1',
      `DbdPort=${this.ports!.dbd}`,
      'SlurmUser=root',
      `PidFile=${path.join(r, 'slurmdbd.pid')}`,
      `LogFile=${path.join(r, 'log', 'slurmdbd.log')}`,
      'DebugLevel=info',
      'StorageType=accounting_storage/mysql',
      // 127.0.0.1, not localhost: the MySQL client would take "localhost" for the system's default socket.
      'StorageHost=127.0.0.1',
      `StoragePort=${this.ports!.db}`,
      'StorageUser=slurm',
      `StoragePass=${this.dbPassword}`,
      'StorageLoc=slurm_acct_db',
      '',
    ].join('\n');
    await fs.writeFile(path.join(r, 'slurmdbd.conf'), conf, { mode: 0o600 });
  }

  /** MariaDB in the cluster's folder, slurmdbd on top of it, and this cluster registered with it. */
  private async startAccounting(): Promise<void> {
    const data = path.join(this.root, 'mariadb', 'data');
    const common = ['--no-defaults', `--datadir=${data}`, '--user=root', '--skip-name-resolve', ...MARIADB_SIZES];
    // root may log in only through the socket (as this process's user); slurmdbd gets its own password.
    execFileSync('/usr/bin/mariadb-install-db', [...common, '--auth-root-authentication-method=socket', '--skip-test-db'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 120_000,
    });
    await this.startDaemon('mariadbd', [
      '/usr/sbin/mariadbd',
      ...common,
      `--socket=${this.dbSocket}`,
      `--port=${this.ports!.db}`,
      '--bind-address=127.0.0.1',
      `--pid-file=${path.join(this.root, 'mariadb', 'pid')}`,
      `--log-error=${path.join(this.root, 'log', 'mariadb.log')}`,
      // slurmdbd warns below this (its schema conversions hold long locks).
      '--innodb-lock-wait-timeout=900',
    ]);
    await this.waitFor(() => this.succeeds('/usr/bin/mariadb', this.sql('SELECT 1')), 'MariaDB', 60_000);
    this.run(
      '/usr/bin/mariadb',
      this.sql(
        `CREATE USER 'slurm'@'127.0.0.1' IDENTIFIED BY '${this.dbPassword}'; GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';`,
      ),
    );
    await this.startDaemon('slurmdbd', ['/usr/sbin/slurmdbd', '-D']);
    // The first start creates the schema, which takes a few seconds.
    await this.waitFor(() => this.succeeds('sacctmgr', ['--noheader', '--parsable2', 'list', 'cluster']), 'slurmdbd', 30_000);
    if (!this.run('sacctmgr', ['--noheader', '--parsable2', 'list', 'cluster', 'format=Cluster']).includes(CLUSTER_NAME)) {
      this.run('sacctmgr', ['-i', 'add', 'cluster', CLUSTER_NAME]);
    }
  }

  private sql(statements: string): string[] {
    return ['--no-defaults', `--socket=${this.dbSocket}`, '--user=root', '--batch', `--execute=${statements}`];
  }

  private async startDaemon(name: string, argv: string[]): Promise<void> {
    const log = await fs.open(path.join(this.root, 'log', `${name}.out`), 'a');
    const child = spawn('/bin/sh', ['-c', WATCHDOG, `trainq-${name}-watchdog`, String(process.pid), ...argv], {
      detached: true,
      stdio: ['ignore', log.fd, log.fd],
      env: { ...this.env, PATH: process.env.PATH },
    });
    await log.close();
    child.unref();
    this.daemons.set(name, child.pid!);
  }

  startController(): Promise<void> {
    return this.startDaemon('slurmctld', ['/usr/sbin/slurmctld', '-D', '-f', this.conf]);
  }

  /** SIGTERM to slurmctld (it saves its state) and waits until it is gone; jobs keep running on the node. */
  async stopController(): Promise<void> {
    const pid = Number((await fs.readFile(path.join(this.root, 'slurmctld.pid'), 'utf8').catch(() => '')).trim());
    if (pid > 1) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        return;
      }
      await this.waitFor(() => !existsSync(`/proc/${pid}`) || /\) Z /.test(this.procState(pid)), 'slurmctld to stop');
    }
  }

  /** Runs a Slurm client against this cluster; throws with its output on failure. */
  run(tool: string, args: string[]): string {
    return execFileSync(tool, args, { env: this.env, encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** Whether a client command succeeds; its last failure is kept for the error when a wait times out. */
  private succeeds(tool: string, args: string[]): boolean {
    try {
      this.run(tool, args);
      return true;
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      this.lastFailure = `${path.basename(tool)}: ${(err.stderr || err.message).trim().split('\n').pop()}`;
      return false;
    }
  }

  tryRun(tool: string, args: string[]): string {
    try {
      return this.run(tool, args);
    } catch {
      return '';
    }
  }

  /** Wrappers of the Slurm clients that set SLURM_CONF, for a login node's PATH (an sshd test host's bin folder). */
  async writeClientWrappers(binDir: string): Promise<void> {
    await fs.mkdir(binDir, { recursive: true });
    for (const tool of SLURM_TOOLS) {
      await fs.writeFile(path.join(binDir, tool), `#!/bin/sh\nSLURM_CONF='${this.conf}' exec /usr/bin/${tool} "$@"\n`, { mode: 0o755 });
    }
  }

  async waitFor(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    this.lastFailure = '';
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${this.lastFailure ? ` (${this.lastFailure})` : ''}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private procState(pid: number): string {
    try {
      return readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return 'Z';
    }
  }

  /** Cancels every job, stops the daemons (the database and slurmdbd too) and removes the folder. */
  async stop(): Promise<void> {
    this.tryRun('scancel', ['--full', `--user=${os.userInfo().username}`]);
    // Let slurmd end the job steps itself before it goes; what is left is killed below.
    await this.waitFor(() => this.tryRun('squeue', ['--noheader', '--format=%i']).trim() === '', 'the jobs to end', 10_000).catch(
      () => undefined,
    );
    const kill = (pid: number) => {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    };
    for (const file of ['slurmd.pid', 'slurmctld.pid', 'slurmdbd.pid', 'mariadb/pid', 'munge/pid']) {
      const pid = Number((await fs.readFile(path.join(this.root, file), 'utf8').catch(() => '')).trim());
      if (pid > 1) kill(pid);
    }
    for (const pid of this.daemons.values()) kill(-pid);
    // Job steps (slurmstepd) and job processes inherit this cluster's SLURM_CONF: nothing outlives the tests.
    const mark = `SLURM_CONF=${this.conf}`;
    for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
      const pid = Number(entry);
      if (pid === process.pid) continue;
      const env = await fs.readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '');
      if (env.split('\0').includes(mark)) kill(pid);
    }
    await fs.rm(this.root, { recursive: true, force: true });
  }
}

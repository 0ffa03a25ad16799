/**
 * A remote machine reached over ssh as a TrainQ host. Jobs run there under the same wrapper and
 * exit-file protocol as local jobs (see remoteScripts.ts); this class keeps a local copy of each
 * log, notices ends by polling, and turns connection trouble into a host state with backoff
 * rather than into job failures.
 */
import { Emitter } from '../../core/emitter';
import type { Job } from '../../core/job';
import type { Logger } from '../../core/logger';
import type { ExitReport, Host, HostStatus, LaunchRequest, LaunchResult, ProbeOptions, ReattachResult } from '../../core/host';
import type { SshHostConfig } from '../hostConfig';
import { HostHealth, type Backoff } from '../remote/hostHealth';
import { assertValidJobId, jobFiles } from '../local/localProcess';
import { assertSafeRemotePath, mapIntoRemote, remoteArgv, remoteJobsDir, remoteProjectDir } from '../remote/remoteLayout';
import { FORGET_SCRIPT, forgetJobFolders, forgettable } from '../remote/remoteCleanup';
import type { ForgetOutcome } from '../../core/host';
import { LogMirror } from '../remote/remoteLog';
import { graceDeciseconds } from '../jobScripts';
import { CANCEL_SCRIPT, ENSURE_SCRIPT, LAUNCH_SCRIPT, parseEnsure, parseLaunch, parseProbe, PROBE_SCRIPT, SWEEP_SCRIPT, type EnsureFacts } from '../remote/remoteScripts';
import { SshJobFollower } from './sshJobFollower';
import { planProjectSync, type SyncMethod } from './sshSync';
import { SshError, SshTransport } from './sshTransport';

/** What every host reached over ssh takes (SSH hosts, Slurm login nodes), besides its own config. */
export interface RemoteHostOptions {
  /** Local folder for log copies: <jobsRoot>/<jobId>/output.log, like local jobs. */
  jobsRoot: string;
  /** Private folder for ssh's shared-connection sockets (in the extension's global storage). */
  controlDir?: string;
  logger: Logger;
  /** An ssh_config for -F instead of the user's own (tests). */
  sshConfigFile?: string;
  /** The local folder synced for a job (its workspace folder); defaults to the job's cwd. */
  projectRootFor?: (job: Job) => string;
  /** rsync patterns excluded from sync in addition to DEFAULT_SYNC_EXCLUDES. */
  syncExcludes?: readonly string[];
  /** How often running jobs are polled (one round trip for all of them). */
  pollMs?: number;
  /** A job whose host stays unreachable this long is reported lost. */
  lostAfterMs?: number;
  /** Cap of each job's local log copy. */
  maxLogBytes?: number;
  /** SIGTERM → SIGKILL delay for processes a job left running when it ended (trainq.cancelGraceSeconds). */
  sweepGraceSec?: number;
  /** First and longest wait before reconnecting to a host that failed. */
  backoff?: Backoff;
  connectTimeoutSec?: number;
  callTimeoutMs?: number;
  syncTimeoutMs?: number;
  rsyncCommand?: string;
  tarCommand?: string;
  sshCommand?: string;
}

export interface SshHostOptions extends RemoteHostOptions {
  config: SshHostConfig;
}

const DEFAULT_MAX_LOG_BYTES = 50 * 1024 * 1024;
const DEFAULT_SWEEP_GRACE_SEC = 10;
const PROBE_TIMEOUT_MS = 20_000;
/** What a remote sweep may take beyond its grace: the SIGKILL rounds and /proc scans. */
const SWEEP_SLACK_MS = 20_000;

export class SshHost implements Host {
  readonly name: string;
  readonly kind = 'ssh' as const;
  readonly speed: number;
  readonly maxJobs: number;
  readonly transport: SshTransport;

  private readonly exitEmitter = new Emitter<ExitReport>();
  readonly onDidExit = this.exitEmitter.event;
  private readonly statusEmitter = new Emitter<HostStatus>();
  readonly onDidChangeStatus = this.statusEmitter.event;

  private readonly config: SshHostConfig;
  private readonly opts: SshHostOptions;
  private readonly logger: Logger;
  private readonly follower: SshJobFollower;
  private readonly maxLogBytes: number;
  private readonly sweepGraceSec: number;
  private remote: Promise<EnsureFacts> | undefined;
  private readonly syncing = new Map<string, Promise<{ remoteDir: string; method: SyncMethod }>>();
  private readonly health: HostHealth;
  private retryTimer: NodeJS.Timeout | undefined;
  private disposed = false;

  constructor(opts: SshHostOptions) {
    this.config = opts.config;
    this.opts = opts;
    this.name = opts.config.name;
    this.speed = opts.config.speed;
    this.maxJobs = opts.config.maxJobs;
    this.logger = opts.logger;
    this.maxLogBytes = opts.maxLogBytes ?? DEFAULT_MAX_LOG_BYTES;
    this.sweepGraceSec = opts.sweepGraceSec ?? DEFAULT_SWEEP_GRACE_SEC;
    this.health = new HostHealth(this.name, this.kind, opts.backoff);
    this.transport = new SshTransport({
      destination: opts.config.destination,
      controlDir: opts.controlDir,
      configFile: opts.sshConfigFile,
      connectTimeoutSec: opts.connectTimeoutSec,
      defaultTimeoutMs: opts.callTimeoutMs,
      sshCommand: opts.sshCommand,
    });
    this.follower = new SshJobFollower({
      hostName: this.name,
      logger: this.logger,
      pollMs: opts.pollMs ?? 2000,
      lostAfterMs: opts.lostAfterMs ?? 10 * 60_000,
      maxLogBytes: this.maxLogBytes,
      localLog: (id) => this.logPath(id),
      call: (fn) => this.call(fn),
      jobsDir: async () => remoteJobsDir((await this.ensure()).workdir),
      transport: this.transport,
      inBackoff: () => this.health.inBackoff(),
      problem: () => this.health.problem,
      report: (report) => this.exitEmitter.fire(report),
      sweep: async (jobId) => {
        const grace = graceDeciseconds(this.sweepGraceSec);
        const timeoutMs = grace * 100 + SWEEP_SLACK_MS;
        await this.call(() => this.transport.runScript(SWEEP_SCRIPT, ['sweep', jobId, String(grace)], { timeoutMs }));
      },
    });
  }

  async probe(options: ProbeOptions = {}): Promise<HostStatus> {
    if (!options.force && this.health.inBackoff()) {
      return this.health.offlineStatus();
    }
    let stdout: string;
    try {
      stdout = (await this.call(() => this.transport.runScript(PROBE_SCRIPT, [this.config.workdir], { timeoutMs: PROBE_TIMEOUT_MS }), true)).stdout.toString('utf8');
    } catch (e) {
      if (e instanceof SshError) {
        return this.health.offlineStatus();
      }
      throw e;
    }
    const facts = parseProbe(stdout);
    if (facts.gpuNote) {
      this.logger.debug(`${this.name}: ${facts.gpuNote}`);
    }
    const { cpuCount, load1, memTotalBytes, memAvailableBytes } = facts;
    const status: HostStatus = {
      name: this.name,
      kind: this.kind,
      state: 'online',
      gpus: facts.gpus,
      gpuNote: facts.gpuNote,
      cpuCount,
      cpuLoadPct: cpuCount && load1 !== undefined ? Math.min(100, Math.round((load1 / cpuCount) * 1000) / 10) : undefined,
      memTotalBytes,
      memUsedBytes: memTotalBytes !== undefined && memAvailableBytes !== undefined ? memTotalBytes - memAvailableBytes : undefined,
      probedAt: Date.now(),
    };
    this.statusEmitter.fire(status);
    return status;
  }

  logPath(jobId: string): string {
    return jobFiles(this.opts.jobsRoot, jobId).log;
  }

  /** Copies a local project folder to <workdir>/<folder name>; concurrent calls for one folder share a copy. */
  sync(localRoot: string): Promise<{ remoteDir: string; method: SyncMethod }> {
    let running = this.syncing.get(localRoot);
    if (!running) {
      running = this.doSync(localRoot).finally(() => this.syncing.delete(localRoot));
      this.syncing.set(localRoot, running);
    }
    return running;
  }

  async launch(request: LaunchRequest): Promise<LaunchResult> {
    const { job, command, gpuIndices } = request;
    assertValidJobId(job.id);
    if (command.length === 0) {
      throw new Error(`Job ${job.id} has no command to run`);
    }
    if (this.health.inBackoff()) {
      throw this.health.unreachableError(false);
    }
    const { workdir } = await this.health.connected(() => this.ensure());
    const localRoot = this.opts.projectRootFor?.(job) ?? job.cwd;
    let remoteRoot = localRoot;
    if (this.config.sync === 'none') {
      // A shared file system: the project is at the same path on the host.
      assertSafeRemotePath(localRoot, 'Project folder');
    } else {
      remoteRoot = remoteProjectDir(workdir, localRoot);
    }
    const mapPath = (p: string) => mapIntoRemote(p, localRoot, remoteRoot);
    const argv = remoteArgv(command, job, this.config.python, mapPath);
    const cwd = mapPath(job.cwd);
    if (this.config.sync !== 'none') {
      await this.health.connected(() => this.sync(localRoot), (e) => new Error(`Could not copy ${localRoot} to ${this.name}: ${(e as Error).message}`));
    }
    // Only our polls write the local copy, and none runs for this job yet; an earlier copy would be stale.
    await (await LogMirror.open(this.logPath(job.id), this.maxLogBytes)).reset();
    const env = Object.entries(this.config.env).map(([k, v]) => `${k}=${v}`);
    const grace = String(graceDeciseconds(this.sweepGraceSec));
    const args = [remoteJobsDir(workdir), job.id, cwd, gpuIndices.join(','), grace, String(env.length), ...env, ...argv];
    let stdout: string;
    try {
      request.assertCurrent?.();
      stdout = (await this.call(() => this.transport.runScript(LAUNCH_SCRIPT, args))).stdout.toString('utf8');
    } catch (e) {
      if (e instanceof SshError) {
        if (e.mayHaveRun) {
          // The start command may have reached the host: follow the job until we know.
          await this.follower.follow(job.id, undefined, { doubtful: true });
        }
        throw this.health.unreachableError(e.mayHaveRun);
      }
      throw e;
    }
    const { pgid, existing } = parseLaunch(stdout);
    await this.follower.follow(job.id, pgid);
    this.logger.info(`${this.name}: ${existing ? 'found already started' : 'started'} job ${job.id} (pgid ${pgid}, GPUs [${gpuIndices.join(',')}]): ${argv.join(' ')}`);
    return { pgid };
  }

  async cancel(job: Job, graceSec: number): Promise<void> {
    assertValidJobId(job.id);
    const { workdir } = await this.health.connected(() => this.ensure());
    const pgid = job.pgid ?? this.follower.pgidOf(job.id);
    const args = [remoteJobsDir(workdir), job.id, pgid === undefined ? '-' : String(pgid), String(Math.max(0, Math.round(graceSec * 10)))];
    const stdout = (await this.health.connected(() => this.transport.runScript(CANCEL_SCRIPT, args))).stdout.toString('utf8');
    const outcome = /^TRAINQ-CANCEL (\S+)/m.exec(stdout)?.[1] ?? 'unknown';
    this.logger.info(`${this.name}: cancel job ${job.id}: ${outcome}`);
    // The detached watcher sends SIGKILL after the grace period; polling reports the end, also for a
    // job that was already over (or never had a process) and that this instance did not follow yet.
    await this.follower.follow(job.id, pgid);
    this.follower.pollSoon();
  }

  async forget(jobs: readonly Job[]): Promise<ForgetOutcome> {
    const ids = forgettable(jobs, this.name, 'ssh');
    if (ids.length === 0) {
      return { removed: 0, kept: 0 };
    }
    const { workdir } = await this.health.connected(() => this.ensure());
    const run = async (args: string[]) => (await this.health.connected(() => this.transport.runScript(FORGET_SCRIPT, args))).stdout.toString('utf8');
    return forgetJobFolders(run, remoteJobsDir(workdir), ids);
  }

  async reattach(job: Job): Promise<ReattachResult> {
    assertValidJobId(job.id);
    return this.follower.reattach(job.id, job.pgid);
  }

  /** Ends the shared ssh connection (tests, benchmarks); the extension lets ControlPersist expire it. */
  closeConnection(): Promise<void> {
    return this.transport.closeMaster();
  }

  /** Stops following; remote jobs keep running and are reattached by the next instance. */
  dispose(): void {
    this.disposed = true;
    clearTimeout(this.retryTimer);
    this.follower.dispose();
    this.exitEmitter.dispose();
    this.statusEmitter.dispose();
  }

  private async doSync(localRoot: string): Promise<{ remoteDir: string; method: SyncMethod }> {
    const facts = await this.ensure();
    const remoteDir = remoteProjectDir(facts.workdir, localRoot);
    const plan = await planProjectSync({
      method: this.config.sync === 'tar' ? 'tar' : 'rsync',
      remoteHasRsync: facts.rsync,
      extraExcludes: this.opts.syncExcludes,
      timeoutMs: this.opts.syncTimeoutMs,
      rsyncCommand: this.opts.rsyncCommand,
      tarCommand: this.opts.tarCommand,
    });
    if (this.config.sync === 'rsync' && plan.method !== 'rsync') {
      this.logger.info(`${this.name}: rsync is missing ${facts.rsync ? 'locally' : 'on the host'}; copying with tar`);
    }
    await this.call(() => plan.run(this.transport, localRoot, remoteDir));
    return { remoteDir, method: plan.method };
  }

  /** Creates the remote job folder root once and learns the absolute workdir and the host's tools. */
  private ensure(): Promise<EnsureFacts> {
    if (!this.remote) {
      const attempt = this.call(() => this.transport.runScript(ENSURE_SCRIPT, [this.config.workdir])).then((r) => {
        try {
          return parseEnsure(r.stdout.toString('utf8'));
        } catch (e) {
          // A workdir that cannot be created fails every job alike: a host problem, so jobs wait.
          const err = new SshError('other', `work folder: ${(e as Error).message}`, r.stderr, false);
          this.noteFailure(err);
          throw err;
        }
      });
      this.remote = attempt;
      // A failed attempt is not cached: the next call tries again.
      attempt.catch(() => {
        if (this.remote === attempt) this.remote = undefined;
      });
    }
    return this.remote;
  }

  /** Every ssh call goes through here, so that failures and recoveries drive the host's state. */
  private async call<T>(fn: () => Promise<T>, isProbe = false): Promise<T> {
    try {
      const result = await fn();
      this.noteSuccess(isProbe);
      return result;
    } catch (e) {
      if (e instanceof SshError) {
        this.noteFailure(e);
      }
      throw e;
    }
  }

  private noteSuccess(isProbe: boolean): void {
    if (!this.health.noteSuccess()) {
      return;
    }
    clearTimeout(this.retryTimer);
    this.logger.info(`${this.name}: reachable again`);
    if (!isProbe) {
      // A probe fills in GPUs and load for the status event; it fires the event itself.
      void this.probe({ force: true }).catch(() => undefined);
    }
  }

  private noteFailure(err: SshError): void {
    const wait = this.health.noteFailure(err.kind, err.message);
    this.logger.warn(`${this.name}: ${err.message} (retry in ${Math.round(wait / 1000)} s)`);
    if (err.kind === 'timeout') {
      // The shared connection may be wedged: let new calls open a fresh one.
      void this.transport.stopMaster();
    }
    this.statusEmitter.fire(this.health.offlineStatus());
    clearTimeout(this.retryTimer);
    if (!this.disposed) {
      // Nobody has to ask: the host comes back into placement by itself once it answers.
      this.retryTimer = setTimeout(() => void this.probe({ force: true }).catch(() => undefined), wait);
      this.retryTimer.unref();
    }
  }
}

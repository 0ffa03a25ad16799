/**
 * What every host that runs its scripts through a shell it does not own has in common: SSH hosts and
 * Slurm clusters, over ssh or (a Slurm target "local") on this machine. One place keeps the host's
 * health: every call goes through `call()`, so a failure takes the host offline with a backoff, a
 * retry is scheduled by itself, a timed-out shared connection (ControlMaster) is reset, and the first
 * success brings the host back. Also here: the work folder learned once, the project copy and the
 * mapping of local paths into it, and deleting job folders of forgotten jobs.
 */
import type { Job } from '../../core/job';
import type { Logger } from '../../core/logger';
import type { ForgetOutcome, HostStatus, LaunchRequest } from '../../core/host';
import type { SshDestination, SyncMode } from '../hostConfig';
import { jobCommand } from '../jobCommand';
import { interpreterFor } from '../interpreterName';
import { HostHealth, type Backoff } from './hostHealth';
import { FORGET_SCRIPT, forgetJobFolders, forgettable } from './remoteCleanup';
import { assertSafeRemotePath, mapIntoRemote, remoteJobsDir, remoteProjectDir } from './remoteLayout';
import { ENSURE_SCRIPT, parseEnsure, type EnsureFacts } from './remoteScripts';
import type { OutputEndpoint } from './outputFetch';
import { hasLocalCommand, planProjectSync, type SyncMethod } from './sshSync';
import { SshError, SshTransport, type RunOptions, type RunResult } from './sshTransport';

/** Runs a fixed script as `sh -s -- args…`: over ssh (SshTransport) or on this machine. */
export interface ScriptRunner {
  runScript(script: string, args: readonly string[], opts?: RunOptions): Promise<RunResult>;
}

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

export interface RemoteSessionOptions {
  name: string;
  kind: 'ssh' | 'slurm';
  host: RemoteHostOptions;
  /** Where ssh connects; undefined when the scripts run on this machine through `localRunner`. */
  destination?: SshDestination;
  localRunner?: ScriptRunner;
  /** The host's work folder as configured (absolute or `~/`). */
  workdir: string;
  sync: SyncMode;
  /** The host's interpreter for `.py` jobs. */
  python: string;
  /** Where the job folders are when the scripts run on this machine (nothing to learn from a remote side). */
  localJobsDir?: string;
  /** Asks the host again with a forced probe: when it answered again, and when a backoff ends. */
  reprobe: () => Promise<unknown>;
  /** The host just failed: its offline status, for the host's status event. */
  onOffline: (status: HostStatus) => void;
}

const PROBE_TIMEOUT_MS = 20_000;

export class RemoteSession {
  readonly health: HostHealth;
  /** The ssh connection; undefined when the scripts run on this machine. */
  readonly transport: SshTransport | undefined;
  private readonly runner: ScriptRunner;
  private readonly logger: Logger;
  private facts: Promise<EnsureFacts> | undefined;
  private readonly syncing = new Map<string, Promise<{ remoteDir: string; method: SyncMethod }>>();
  private retryTimer: NodeJS.Timeout | undefined;
  private disposed = false;

  constructor(private readonly opts: RemoteSessionOptions) {
    this.health = new HostHealth(opts.name, opts.kind, opts.host.backoff);
    this.logger = opts.host.logger;
    const h = opts.host;
    if (opts.destination) {
      this.transport = new SshTransport({
        destination: opts.destination,
        controlDir: h.controlDir,
        configFile: h.sshConfigFile,
        connectTimeoutSec: h.connectTimeoutSec,
        defaultTimeoutMs: h.callTimeoutMs,
        sshCommand: h.sshCommand,
      });
    }
    const runner = this.transport ?? opts.localRunner;
    if (!runner) {
      throw new Error(`${opts.name}: neither an ssh destination nor a local runner`);
    }
    this.runner = runner;
  }

  get name(): string {
    return this.opts.name;
  }

  /** Every remote step goes through here, so that failures and recoveries drive the host's state. */
  async call<T>(fn: () => Promise<T>, isProbe = false): Promise<T> {
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

  run(script: string, args: readonly string[], opts?: RunOptions): Promise<RunResult> {
    return this.call(() => this.runner.runScript(script, args, opts));
  }

  /**
   * A probe's round trip, unless the host backs off (then no call is made): its stdout, or undefined
   * when the host is offline and `health.offlineStatus()` says why. Other errors are thrown.
   */
  async probeScript(script: string, args: readonly string[], force: boolean): Promise<string | undefined> {
    if (!force && this.health.inBackoff()) {
      return undefined;
    }
    try {
      const run = () => this.runner.runScript(script, args, { timeoutMs: PROBE_TIMEOUT_MS });
      return (await this.call(run, true)).stdout.toString('utf8');
    } catch (e) {
      if (e instanceof SshError) return undefined;
      throw e;
    }
  }

  /** Creates the remote job folder root once and learns the absolute workdir and the host's tools. */
  ensure(): Promise<EnsureFacts> {
    if (!this.facts) {
      const attempt = this.run(ENSURE_SCRIPT, [this.opts.workdir]).then((r) => {
        try {
          return parseEnsure(r.stdout.toString('utf8'));
        } catch (e) {
          // A workdir that cannot be created fails every job alike: a host problem, so jobs wait.
          const err = new SshError('other', `work folder: ${(e as Error).message}`, r.stderr, false);
          this.noteFailure(err);
          throw err;
        }
      });
      this.facts = attempt;
      // A failed attempt is not cached: the next call tries again.
      attempt.catch(() => {
        if (this.facts === attempt) this.facts = undefined;
      });
    }
    return this.facts;
  }

  /** Absolute folder of the job folders on the host. */
  async jobsDir(): Promise<string> {
    return this.opts.localJobsDir ?? remoteJobsDir((await this.ensure()).workdir);
  }

  /**
   * The job's command and working folder as the host sees them: paths mapped into the host's copy of
   * the project (a local runner and sync 'none' keep them), which is copied there first.
   */
  async placeJob(request: LaunchRequest): Promise<{ argv: string[]; cwd: string }> {
    const argv = jobCommand(request.script, request.args, request.cwd, interpreterFor(request.job, this.opts.python));
    if (!this.transport) {
      return { argv, cwd: request.cwd };
    }
    const localRoot = this.opts.host.projectRootFor?.(request.job) ?? request.cwd;
    let remoteRoot = localRoot;
    if (this.opts.sync === 'none') {
      // A shared file system: the project is at the same path on the host.
      assertSafeRemotePath(localRoot, 'Project folder');
    } else {
      remoteRoot = remoteProjectDir((await this.health.connected(() => this.ensure())).workdir, localRoot);
    }
    const mapPath = (p: string) => mapIntoRemote(p, localRoot, remoteRoot);
    argv[1] = mapPath(request.script);
    const cwd = mapPath(request.cwd);
    if (this.opts.sync !== 'none') {
      await this.health.connected(() => this.sync(localRoot), (e) => new Error(`Could not copy ${localRoot} to ${this.name}: ${(e as Error).message}`));
    }
    return { argv, cwd };
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

  /**
   * Where a finished job's outputs are: its working folder in the host's copy of the project, or
   * `inPlace` when the job ran in the local folder itself (sync "none": a shared file system; a Slurm
   * target "local"), where its outputs already are.
   */
  async outputEndpoint(job: Job): Promise<OutputEndpoint | { inPlace: string }> {
    const transport = this.transport;
    if (!transport || this.opts.sync === 'none') {
      return { inPlace: job.cwd };
    }
    const facts = await this.health.connected(() => this.ensure());
    const localRoot = this.opts.host.projectRootFor?.(job) ?? job.cwd;
    const remoteDir = mapIntoRemote(job.cwd, localRoot, remoteProjectDir(facts.workdir, localRoot));
    const h = this.opts.host;
    const rsync = this.opts.sync === 'rsync' && facts.rsync && (await hasLocalCommand(h.rsyncCommand ?? 'rsync'));
    return {
      transport,
      remoteDir,
      rsync,
      run: (script, args, opts) => this.health.connected(() => this.run(script, args, opts)),
      tag: this.name,
      fetch: { rsyncCommand: h.rsyncCommand, tarCommand: h.tarCommand, sshCommand: h.sshCommand },
    };
  }

  /** Deletes the folders of the host's finished jobs that left the history (see `forgettable`). */
  async forget(jobs: readonly Job[]): Promise<ForgetOutcome> {
    const ids = forgettable(jobs, this.name, this.opts.kind);
    if (ids.length === 0) {
      return { removed: 0, kept: 0 };
    }
    const jobsDir = await this.health.connected(() => this.jobsDir());
    const run = async (args: string[]) => (await this.health.connected(() => this.run(FORGET_SCRIPT, args))).stdout.toString('utf8');
    return forgetJobFolders(run, jobsDir, ids);
  }

  /** Ends the shared ssh connection (tests, benchmarks); the extension lets ControlPersist expire it. */
  closeConnection(): Promise<void> {
    return this.transport?.closeMaster() ?? Promise.resolve();
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.retryTimer);
  }

  private async doSync(localRoot: string): Promise<{ remoteDir: string; method: SyncMethod }> {
    const transport = this.transport;
    if (!transport) {
      throw new Error(`${this.name} runs on this machine: there is nothing to copy`);
    }
    const facts = await this.ensure();
    const remoteDir = remoteProjectDir(facts.workdir, localRoot);
    const h = this.opts.host;
    const plan = await planProjectSync({
      method: this.opts.sync === 'tar' ? 'tar' : 'rsync',
      remoteHasRsync: facts.rsync,
      extraExcludes: h.syncExcludes,
      timeoutMs: h.syncTimeoutMs,
      rsyncCommand: h.rsyncCommand,
      tarCommand: h.tarCommand,
    });
    if (this.opts.sync === 'rsync' && plan.method !== 'rsync') {
      this.logger.info(`${this.name}: rsync is missing ${facts.rsync ? 'locally' : 'on the host'}; copying with tar`);
    }
    await this.call(() => plan.run(transport, localRoot, remoteDir));
    return { remoteDir, method: plan.method };
  }

  private noteSuccess(isProbe: boolean): void {
    if (!this.health.noteSuccess()) {
      return;
    }
    clearTimeout(this.retryTimer);
    this.logger.info(`${this.name}: reachable again`);
    if (!isProbe) {
      // A probe fills in GPUs and load for the status event; it fires the event itself.
      void this.opts.reprobe().catch(() => undefined);
    }
  }

  private noteFailure(err: SshError): void {
    const wait = this.health.noteFailure(err.kind, err.message);
    this.logger.warn(`${this.name}: ${err.message} (retry in ${Math.round(wait / 1000)} s)`);
    if (err.kind === 'timeout') {
      // The shared connection may be wedged: let new calls open a fresh one.
      void this.transport?.stopMaster();
    }
    this.opts.onOffline(this.health.offlineStatus());
    clearTimeout(this.retryTimer);
    if (!this.disposed) {
      // Nobody has to ask: the host comes back into placement by itself once it answers.
      this.retryTimer = setTimeout(() => void this.opts.reprobe().catch(() => undefined), wait);
      this.retryTimer.unref();
    }
  }
}

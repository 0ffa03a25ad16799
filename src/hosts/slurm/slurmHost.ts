/**
 * A Slurm cluster as a TrainQ host. TrainQ keeps its own queue, priorities and placement and hands
 * each job it places here to sbatch; Slurm's queue then decides when it runs. The cluster is reached
 * through `sbatch` on this machine (target "local", which assumes the workspace and TrainQ's job
 * folder are on the cluster's shared file system) or on a login node over ssh, where the project is
 * synced to the workdir as for SSH hosts. Both targets run the same fixed scripts (slurmScripts.ts).
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { Emitter } from '../../core/emitter';
import type { Job } from '../../core/job';
import type { Logger } from '../../core/logger';
import type { ExitReport, Host, HostStatus, JobNote, LaunchRequest, LaunchResult, ProbeOptions, ReattachResult } from '../../core/host';
import type { SlurmHostConfig } from '../hostConfig';
import { HostUnreachableError } from '../../core/hostErrors';
import { HostHealth } from '../remote/hostHealth';
import { assertValidJobId, jobFiles } from '../local/localProcess';
import { assertSafeRemotePath, mapIntoRemote, remoteArgv, remoteJobsDir, remoteProjectDir } from '../remote/remoteLayout';
import { FORGET_SCRIPT, forgetJobFolders, forgettable } from '../remote/remoteCleanup';
import type { ForgetOutcome } from '../../core/host';
import { LogMirror } from '../remote/remoteLog';
import { ENSURE_SCRIPT, parseEnsure, type EnsureFacts } from '../remote/remoteScripts';
import { parseSinfo, sbatchOptions, schedulerGpus, sinfoArgs, slurmJobName, timeLimitFor } from './slurmCommands';
import { LocalRunError, LocalScriptRunner, type ScriptRunner } from './slurmRunner';
import {
  batchScript,
  EXEC_SCRIPT,
  parseExec,
  parseSlurmPoll,
  parseSubmit,
  pollArgs,
  SLURM_POLL_SCRIPT,
  SUBMIT_SCRIPT,
} from './slurmScripts';
import { SlurmTracker } from './slurmTracker';
import { planProjectSync } from '../ssh/sshSync';
import type { RemoteHostOptions } from '../ssh/sshHost';
import { SshError, SshTransport } from '../ssh/sshTransport';

/**
 * As for SSH hosts (RemoteHostOptions); for a `local` target jobsRoot holds the job folders themselves,
 * and the poll is one squeue round trip for all tracked jobs.
 */
export interface SlurmHostOptions extends RemoteHostOptions {
  config: SlurmHostConfig;
  /** Environment of the Slurm commands for target "local" (tests point SLURM_CONF at their cluster). */
  localEnv?: NodeJS.ProcessEnv;
}

const PROBE_TIMEOUT_MS = 20_000;
const isConnectionError = (e: unknown) => e instanceof SshError || e instanceof HostUnreachableError || e instanceof LocalRunError;

export class SlurmHost implements Host {
  readonly name: string;
  readonly kind = 'slurm' as const;
  readonly speed: number;
  readonly maxJobs: number;

  private readonly exitEmitter = new Emitter<ExitReport>();
  readonly onDidExit = this.exitEmitter.event;
  private readonly statusEmitter = new Emitter<HostStatus>();
  readonly onDidChangeStatus = this.statusEmitter.event;
  private readonly noteEmitter = new Emitter<JobNote>();
  readonly onDidUpdateJob = this.noteEmitter.event;

  private readonly config: SlurmHostConfig;
  private readonly opts: SlurmHostOptions;
  private readonly logger: Logger;
  /** Undefined for target "local". */
  readonly transport: SshTransport | undefined;
  private readonly runner: ScriptRunner;
  private readonly health: HostHealth;
  private readonly tracker: SlurmTracker;
  private remoteFacts: Promise<EnsureFacts> | undefined;
  /** For the note in a capped log copy that says where the full log is. */
  private jobsDirSeen = '';

  constructor(opts: SlurmHostOptions) {
    this.config = opts.config;
    this.opts = opts;
    this.name = opts.config.name;
    this.speed = opts.config.speed;
    this.maxJobs = opts.config.maxJobs;
    this.logger = opts.logger;
    this.health = new HostHealth(this.name, this.kind, opts.backoff);
    if (opts.config.destination) {
      this.transport = new SshTransport({
        destination: opts.config.destination,
        controlDir: opts.controlDir,
        configFile: opts.sshConfigFile,
        connectTimeoutSec: opts.connectTimeoutSec,
        defaultTimeoutMs: opts.callTimeoutMs,
        sshCommand: opts.sshCommand,
      });
    }
    this.runner = this.transport ?? new LocalScriptRunner(opts.localEnv, opts.callTimeoutMs);
    const remote = this.transport !== undefined;
    this.tracker = new SlurmTracker({
      hostName: this.name,
      logger: this.logger,
      pollMs: opts.pollMs ?? 3000,
      lostAfterMs: opts.lostAfterMs ?? 10 * 60_000,
      poll: async (jobs, maxChunk, useSacct) => {
        this.jobsDirSeen = await this.jobsDir();
        const args = pollArgs(this.jobsDirSeen, maxChunk, useSacct, jobs);
        const maxOutputBytes = maxChunk * jobs.length + 1024 * 1024;
        return parseSlurmPoll((await this.call(() => this.runner.runScript(SLURM_POLL_SCRIPT, args, { maxOutputBytes }))).stdout);
      },
      mirrorFor: remote ? (id) => LogMirror.open(this.logPath(id), opts.maxLogBytes ?? 50 * 1024 * 1024) : undefined,
      remoteLog: (id) => `${this.name}:${this.jobsDirSeen}/${id}/output.log`,
      isConnectionError,
      report: (r) => this.exitEmitter.fire(r),
      note: (n) => this.noteEmitter.fire(n),
    });
  }

  /** The job's log: a local copy for the ssh target, Slurm's own output file for target "local". */
  logPath(jobId: string): string {
    if (!this.transport && this.config.workdir) {
      return jobFiles(remoteJobsDir(expandHome(this.config.workdir)), jobId).log;
    }
    return jobFiles(this.opts.jobsRoot, jobId).log;
  }

  async probe(options: ProbeOptions = {}): Promise<HostStatus> {
    if (!options.force && this.health.inBackoff()) {
      return this.health.offlineStatus();
    }
    let result: { output: string; code: number };
    try {
      const run = await this.call(
        () => this.runner.runScript(EXEC_SCRIPT, sinfoArgs(this.config.partition), { timeoutMs: PROBE_TIMEOUT_MS }),
        true,
      );
      result = parseExec(run.stdout.toString('utf8'));
    } catch (e) {
      if (e instanceof SshError) return this.health.offlineStatus();
      return this.offline(e instanceof Error ? e.message : String(e));
    }
    const lastLine = result.output.trim().split('\n').pop() ?? '';
    if (result.code !== 0) {
      return this.offline(`sinfo failed: ${lastLine || `exit code ${result.code}`}`);
    }
    const cap = parseSinfo(result.output, this.config.partition);
    if (cap.nodes === 0) {
      return this.offline(this.config.partition ? `sinfo lists no nodes in partition '${this.config.partition}'` : 'sinfo lists no nodes');
    }
    const gpus = schedulerGpus(cap, this.tracker.heldGpus());
    const status: HostStatus = {
      name: this.name,
      kind: this.kind,
      state: 'online',
      gpus,
      gpuNote: `partition ${cap.partition}: ${plural(cap.nodes, 'node')}, ${plural(cap.gpusTotal, 'GPU')}, ${cap.gpusIdle} idle`,
      slurm: { ...cap, ...(this.tracker.expectedWaitSec() !== undefined ? { expectedWaitSec: this.tracker.expectedWaitSec() } : {}) },
      probedAt: Date.now(),
    };
    this.statusEmitter.fire(status);
    return status;
  }

  async launch(request: LaunchRequest): Promise<LaunchResult> {
    const { job, command, gpuIndices } = request;
    const submittedAt = Date.now();
    assertValidJobId(job.id);
    if (command.length === 0) {
      throw new Error(`Job ${job.id} has no command to run`);
    }
    if (this.health.inBackoff()) {
      throw this.health.unreachableError(false);
    }
    const jobsDir = await this.health.connected(() => this.jobsDir());
    let argv = command;
    let cwd = job.cwd;
    if (this.transport) {
      const localRoot = this.opts.projectRootFor?.(job) ?? job.cwd;
      let remoteRoot = localRoot;
      if (this.config.sync === 'none') {
        assertSafeRemotePath(localRoot, 'Project folder');
      } else {
        remoteRoot = remoteProjectDir((await this.remote()).workdir, localRoot);
      }
      const mapPath = (p: string) => mapIntoRemote(p, localRoot, remoteRoot);
      argv = remoteArgv(command, job, this.config.python, mapPath);
      cwd = mapPath(job.cwd);
      if (this.config.sync !== 'none') {
        await this.health.connected(
          () => this.sync(localRoot, remoteRoot),
          (e) => new Error(`Could not copy ${localRoot} to ${this.name}: ${(e as Error).message}`),
        );
      }
      if (!this.tracker.isTracked(job.id)) {
        // A fresh copy for a new submission; a job followed already (a retried dispatch) keeps its copy.
        await (await LogMirror.open(this.logPath(job.id), this.opts.maxLogBytes ?? 50 * 1024 * 1024)).reset();
      }
    }
    const jobDir = `${jobsDir}/${job.id}`;
    const options = sbatchOptions({
      jobId: job.id,
      logFile: `${jobDir}/output.log`,
      gpus: job.gpus,
      timeLimit: timeLimitFor(job.runtimeSec, this.config.timeLimit),
      partition: this.config.partition,
      account: this.config.account,
      qos: this.config.qos,
      extra: this.config.extraSbatchArgs,
    });
    const script = batchScript({ jobId: job.id, jobDir, cwd, argv, env: this.config.env });
    let stdout: string;
    try {
      request.assertCurrent?.();
      stdout = (
        await this.call(() => this.runner.runScript(SUBMIT_SCRIPT, [jobsDir, job.id, slurmJobName(job.id), script, ...options]))
      ).stdout.toString('utf8');
    } catch (e) {
      if (e instanceof SshError) {
        if (e.mayHaveRun) {
          // sbatch may have run: track the job by name; the next poll finds it or says it never was.
          await this.tracker.track(job.id, undefined, gpuIndices);
        }
        throw this.health.unreachableError(e.mayHaveRun);
      }
      throw e;
    }
    const { slurmId, existing } = parseSubmit(stdout);
    await this.tracker.track(job.id, slurmId, gpuIndices);
    this.tracker.noteSubmitted(job.id, submittedAt);
    this.logger.info(
      `${this.name}: ${existing ? 'found already submitted' : 'submitted'} job ${job.id} as Slurm job ${slurmId}: ${argv.join(' ')}`,
    );
    return { pgid: 0, slurmJobId: slurmId };
  }

  /** Job folders of finished jobs; lost ones stay, since Slurm may still be running them. */
  async forget(jobs: readonly Job[]): Promise<ForgetOutcome> {
    const ids = forgettable(jobs, this.name, 'slurm');
    if (ids.length === 0) {
      return { removed: 0, kept: 0 };
    }
    const jobsDir = await this.health.connected(() => this.jobsDir());
    const run = async (args: string[]) => (await this.health.connected(() => this.call(() => this.runner.runScript(FORGET_SCRIPT, args)))).stdout.toString('utf8');
    return forgetJobFolders(run, jobsDir, ids);
  }

  /** scancel; Slurm sends SIGTERM and, after the cluster's KillWait, SIGKILL (graceSec is the cluster's to set). */
  async cancel(job: Job): Promise<void> {
    assertValidJobId(job.id);
    const slurmId = job.slurmJobId ?? this.tracker.slurmIdOf(job.id);
    const argv = ['scancel', ...(slurmId ? [slurmId] : [`--name=${slurmJobName(job.id)}`])];
    const run = await this.health.connected(() => this.call(() => this.runner.runScript(EXEC_SCRIPT, argv)));
    const { output, code } = parseExec(run.stdout.toString('utf8'));
    if (code !== 0 && !/already completing or completed|Invalid job id/i.test(output)) {
      throw new Error(`scancel failed on ${this.name}: ${output.trim().split('\n').pop() ?? `exit code ${code}`}`);
    }
    this.logger.info(`${this.name}: cancelled job ${job.id} (Slurm ${slurmId ?? 'by name'})`);
    await this.tracker.track(job.id, slurmId, job.gpuIndices ?? []);
    this.tracker.pollSoon();
  }

  reattach(job: Job): Promise<ReattachResult> {
    assertValidJobId(job.id);
    return this.tracker.reattach(job.id, job.slurmJobId, job.gpuIndices ?? []);
  }

  /** Polls the tracked jobs now (tests and benchmarks; the host polls by itself). */
  pollNow(): Promise<void> {
    return this.tracker.pollNow();
  }

  closeConnection(): Promise<void> {
    return this.transport?.closeMaster() ?? Promise.resolve();
  }

  /** Stops following; Slurm keeps the jobs and the next instance reattaches them. */
  dispose(): void {
    this.tracker.dispose();
    this.exitEmitter.dispose();
    this.statusEmitter.dispose();
    this.noteEmitter.dispose();
  }

  private offline(error: string): HostStatus {
    const status: HostStatus = {
      name: this.name,
      kind: this.kind,
      state: 'offline',
      gpus: [],
      error,
      problem: 'other',
      probedAt: Date.now(),
    };
    this.statusEmitter.fire(status);
    return status;
  }

  /** Absolute folder of the job folders on the cluster; created once (ssh target: learned from the login node). */
  private jobsDir(): Promise<string> {
    if (!this.transport) {
      return Promise.resolve(this.config.workdir ? remoteJobsDir(expandHome(this.config.workdir)) : path.resolve(this.opts.jobsRoot));
    }
    return this.remote().then((facts) => remoteJobsDir(facts.workdir));
  }

  /** The login node's absolute workdir and tools, learned once (created if missing). */
  private remote(): Promise<EnsureFacts> {
    if (!this.remoteFacts) {
      const transport = this.transport!;
      const attempt = this.call(() => transport.runScript(ENSURE_SCRIPT, [this.config.workdir ?? '~/trainq'])).then((r) =>
        parseEnsure(r.stdout.toString('utf8')),
      );
      this.remoteFacts = attempt;
      attempt.catch(() => {
        if (this.remoteFacts === attempt) this.remoteFacts = undefined;
      });
    }
    return this.remoteFacts;
  }

  private async sync(localRoot: string, remoteDir: string): Promise<void> {
    const plan = await planProjectSync({
      method: this.config.sync === 'tar' ? 'tar' : 'rsync',
      remoteHasRsync: (await this.remote()).rsync,
      extraExcludes: this.opts.syncExcludes,
      timeoutMs: this.opts.syncTimeoutMs,
      rsyncCommand: this.opts.rsyncCommand,
      tarCommand: this.opts.tarCommand,
    });
    await this.call(() => plan.run(this.transport!, localRoot, remoteDir));
  }

  /** Every ssh call goes through here, so that failures and recoveries drive the host's state. */
  private async call<T>(fn: () => Promise<T>, isProbe = false): Promise<T> {
    try {
      const result = await fn();
      if (this.health.noteSuccess() && !isProbe) {
        this.logger.info(`${this.name}: reachable again`);
        void this.probe({ force: true }).catch(() => undefined);
      }
      return result;
    } catch (e) {
      if (e instanceof SshError) {
        const wait = this.health.noteFailure(e.kind, e.message);
        this.logger.warn(`${this.name}: ${e.message} (retry in ${Math.round(wait / 1000)} s)`);
        this.statusEmitter.fire(this.health.offlineStatus());
      }
      throw e;
    }
  }
}

function expandHome(p: string): string {
  return p === '~' ? os.homedir() : p.startsWith('~/') ? path.join(os.homedir(), p.slice(2)) : p;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * A Slurm cluster as a TrainQ host. TrainQ keeps its own queue, priorities and placement and hands
 * each job it places here to sbatch; Slurm's queue then decides when it runs. The cluster is reached
 * through `sbatch` on this machine (target "local", which assumes the workspace and TrainQ's job
 * folder are on the cluster's shared file system) or on a login node over ssh, where the project is
 * synced to the workdir as for SSH hosts. Both targets run the same fixed scripts (slurmScripts.ts).
 */
import { plural } from '../../core/text';
import * as os from 'node:os';
import * as path from 'node:path';
import { Emitter } from '../../core/emitter';
import type { Job } from '../../core/job';
import type { Host, HostStatus, JobNote, LaunchRequest, LaunchResult, ProbeOptions, ReattachResult } from '../../core/host';
import type { SlurmHostConfig } from '../hostConfig';
import { HostUnreachableError } from '../../core/hostErrors';
import { assertJobEnv } from '../jobEnv';
import { slurmIdOf } from '../jobHandle';
import { assertValidJobId, jobFiles } from '../local/localProcess';
import { remoteJobsDir } from '../remote/remoteLayout';
import { MetricsMirror } from '../remote/metricsMirror';
import { LogMirror } from '../remote/remoteLog';
import { RemoteHostBase } from '../remote/remoteHost';
import type { RemoteHostOptions } from '../remote/session';
import { parseSinfo, sbatchOptions, schedulerGpus, sinfoArgs, slurmJobName, timeLimitFor } from './slurmCommands';
import { LocalRunError, LocalScriptRunner } from './slurmRunner';
import { batchScript, EXEC_SCRIPT, parseExec, parseSlurmPoll, parseSubmit, pollArgs, SLURM_POLL_SCRIPT, SUBMIT_SCRIPT } from './slurmScripts';
import { SlurmTracker } from './slurmTracker';
import { SshError, type SshTransport } from '../remote/sshTransport';

/**
 * As for SSH hosts (RemoteHostOptions); for a `local` target jobsRoot holds the job folders themselves,
 * and the poll is one squeue round trip for all tracked jobs.
 */
export interface SlurmHostOptions extends RemoteHostOptions {
  config: SlurmHostConfig;
  /** Environment of the Slurm commands for target "local" (tests point SLURM_CONF at their cluster). */
  localEnv?: NodeJS.ProcessEnv;
}

const isConnectionError = (e: unknown) => e instanceof SshError || e instanceof HostUnreachableError || e instanceof LocalRunError;

export class SlurmHost extends RemoteHostBase implements Host {
  readonly kind = 'slurm' as const;
  private readonly noteEmitter = new Emitter<JobNote>();
  readonly onDidUpdateJob = this.noteEmitter.event;

  private readonly config: SlurmHostConfig;
  private readonly opts: SlurmHostOptions;
  /** Undefined for target "local". */
  readonly transport: SshTransport | undefined;
  private readonly tracker: SlurmTracker;
  /** For the note in a capped log copy that says where the full log is. */
  private jobsDirSeen = '';

  constructor(opts: SlurmHostOptions) {
    const { config } = opts;
    const jobsDir = config.workdir ? remoteJobsDir(expandHome(config.workdir)) : path.resolve(opts.jobsRoot);
    super('slurm', config, opts, config.destination ? undefined : { runner: new LocalScriptRunner(opts.localEnv, opts.callTimeoutMs), jobsDir });
    this.config = config;
    this.opts = opts;
    this.transport = this.session.transport;
    const local = !this.transport;
    this.tracker = new SlurmTracker({
      hostName: this.name,
      logger: this.logger,
      pollMs: opts.pollMs ?? 3000,
      lostAfterMs: opts.lostAfterMs ?? 10 * 60_000,
      poll: async (jobs, maxChunk, metricsChunk, useSacct) => {
        this.jobsDirSeen = await this.session.jobsDir();
        const args = pollArgs(this.jobsDirSeen, maxChunk, metricsChunk, useSacct, jobs);
        const maxOutputBytes = (maxChunk + metricsChunk) * jobs.length + 1024 * 1024;
        return parseSlurmPoll((await this.session.run(SLURM_POLL_SCRIPT, args, { maxOutputBytes })).stdout);
      },
      mirrorFor: local
        ? undefined
        : async (id) => ({
            log: await LogMirror.open(this.logPath(id), opts.maxLogBytes ?? 50 * 1024 * 1024),
            metrics: await MetricsMirror.open(this.metricsPath(id)),
          }),
      remoteLog: (id) => `${this.name}:${this.jobsDirSeen}/${id}/output.log`,
      isConnectionError,
      report: (r) => this.exitEmitter.fire(r),
      note: (n) => this.noteEmitter.fire(n),
    });
  }

  /** The job's log: a local copy for the ssh target, Slurm's own output file for target "local". */
  logPath(jobId: string): string {
    return this.localFiles(jobId).log;
  }

  /**
   * The job's TRAINQ_METRICS_FILE: the local copy each poll extends for the ssh target; for target
   * "local" the job folder is on this machine (the shared file system), so the job's own file.
   */
  metricsPath(jobId: string): string {
    return this.localFiles(jobId).metrics;
  }

  private localFiles(jobId: string) {
    if (!this.transport && this.config.workdir) {
      return jobFiles(remoteJobsDir(expandHome(this.config.workdir)), jobId);
    }
    return jobFiles(this.opts.jobsRoot, jobId);
  }

  async probe(options: ProbeOptions = {}): Promise<HostStatus> {
    let result: { output: string; code: number };
    try {
      const stdout = await this.session.probeScript(EXEC_SCRIPT, sinfoArgs(this.config.partition), options.force ?? false);
      if (stdout === undefined) return this.session.health.offlineStatus();
      result = parseExec(stdout);
    } catch (e) {
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
    const { job, gpuIndices } = request;
    const submittedAt = Date.now();
    assertValidJobId(job.id);
    assertJobEnv(request.env);
    const { health } = this.session;
    if (health.inBackoff()) {
      throw health.unreachableError(false);
    }
    const jobsDir = await health.connected(() => this.session.jobsDir());
    const { argv, cwd } = await this.session.placeJob(request);
    if (this.transport && !this.tracker.isTracked(job.id)) {
      // A fresh copy for a new submission; a job followed already (a retried dispatch) keeps its copy.
      await (await LogMirror.open(this.logPath(job.id), this.opts.maxLogBytes ?? 50 * 1024 * 1024)).reset();
      await (await MetricsMirror.open(this.metricsPath(job.id))).reset();
    }
    const jobDir = `${jobsDir}/${job.id}`;
    const options = sbatchOptions({
      jobId: job.id,
      logFile: `${jobDir}/output.log`,
      gpus: job.gpus,
      timeLimit: timeLimitFor(job.runtimeSec, this.config.timeLimit, request.predictedP80Sec),
      partition: this.config.partition,
      account: this.config.account,
      qos: this.config.qos,
      extra: this.config.extraSbatchArgs,
    });
    const script = batchScript({ jobId: job.id, jobDir, cwd, argv, env: { ...this.config.env, ...request.env } });
    let stdout: string;
    try {
      request.assertCurrent?.();
      stdout = (await this.session.run(SUBMIT_SCRIPT, [jobsDir, job.id, slurmJobName(job.id), script, ...options])).stdout.toString('utf8');
    } catch (e) {
      if (e instanceof SshError) {
        if (e.mayHaveRun) {
          // sbatch may have run: track the job by name; the next poll finds it or says it never was.
          await this.tracker.track(job.id, undefined, gpuIndices);
        }
        throw health.unreachableError(e.mayHaveRun);
      }
      throw e;
    }
    const { slurmId, existing } = parseSubmit(stdout);
    await this.tracker.track(job.id, slurmId, gpuIndices);
    this.tracker.noteSubmitted(job.id, submittedAt);
    this.logger.info(
      `${this.name}: ${existing ? 'found already submitted' : 'submitted'} job ${job.id} as Slurm job ${slurmId}: ${argv.join(' ')}`,
    );
    return { kind: 'slurm', jobId: slurmId };
  }

  /** scancel; Slurm sends SIGTERM and, after the cluster's KillWait, SIGKILL (graceSec is the cluster's to set). */
  async cancel(job: Job): Promise<void> {
    assertValidJobId(job.id);
    const slurmId = slurmIdOf(job, this.name) ?? this.tracker.slurmIdOf(job.id);
    const argv = ['scancel', ...(slurmId ? [slurmId] : [`--name=${slurmJobName(job.id)}`])];
    const run = await this.session.health.connected(() => this.session.run(EXEC_SCRIPT, argv));
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
    return this.tracker.reattach(job.id, slurmIdOf(job, this.name), job.gpuIndices ?? []);
  }

  /** Polls the tracked jobs now (tests and benchmarks; the host polls by itself). */
  pollNow(): Promise<void> {
    return this.tracker.pollNow();
  }

  /** Stops following; Slurm keeps the jobs and the next instance reattaches them. */
  override dispose(): void {
    super.dispose();
    this.tracker.dispose();
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
}

function expandHome(p: string): string {
  return p === '~' ? os.homedir() : p.startsWith('~/') ? path.join(os.homedir(), p.slice(2)) : p;
}

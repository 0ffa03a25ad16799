/**
 * A remote machine reached over ssh as a TrainQ host. Jobs run there under the same wrapper and
 * exit-file protocol as local jobs (see remoteScripts.ts); the session (remote/session.ts) turns
 * connection trouble into a host state with backoff rather than into job failures, and the follower
 * keeps a local copy of each log and notices ends by polling.
 */
import type { Job } from '../../core/job';
import type { Host, HostStatus, LaunchRequest, LaunchResult, ProbeOptions, ReattachResult } from '../../core/host';
import type { SshHostConfig } from '../hostConfig';
import { envEntries } from '../jobEnv';
import { processGroupOf } from '../jobHandle';
import { graceDeciseconds } from '../jobScripts';
import { assertValidJobId, jobFiles } from '../local/localProcess';
import { MetricsMirror } from '../remote/metricsMirror';
import { LogMirror } from '../remote/remoteLog';
import { CANCEL_SCRIPT, LAUNCH_SCRIPT, parseLaunch, parseProbe, PROBE_SCRIPT, SWEEP_SCRIPT } from '../remote/remoteScripts';
import { RemoteHostBase } from '../remote/remoteHost';
import type { RemoteHostOptions } from '../remote/session';
import { SshJobFollower } from './sshJobFollower';
import type { SyncMethod } from '../remote/sshSync';
import { SshError, type SshTransport } from '../remote/sshTransport';

export interface SshHostOptions extends RemoteHostOptions {
  config: SshHostConfig;
}

const DEFAULT_MAX_LOG_BYTES = 50 * 1024 * 1024;
const DEFAULT_SWEEP_GRACE_SEC = 10;
/** What a remote sweep may take beyond its grace: the SIGKILL rounds and /proc scans. */
const SWEEP_SLACK_MS = 20_000;

export class SshHost extends RemoteHostBase implements Host {
  readonly kind = 'ssh' as const;
  readonly transport: SshTransport;

  private readonly config: SshHostConfig;
  private readonly jobsRoot: string;
  private readonly follower: SshJobFollower;
  private readonly maxLogBytes: number;
  private readonly sweepGraceSec: number;

  constructor(opts: SshHostOptions) {
    super('ssh', opts.config, opts);
    this.config = opts.config;
    this.jobsRoot = opts.jobsRoot;
    this.transport = this.session.transport!;
    this.maxLogBytes = opts.maxLogBytes ?? DEFAULT_MAX_LOG_BYTES;
    this.sweepGraceSec = opts.sweepGraceSec ?? DEFAULT_SWEEP_GRACE_SEC;
    this.follower = new SshJobFollower({
      hostName: this.name,
      logger: this.logger,
      pollMs: opts.pollMs ?? 2000,
      lostAfterMs: opts.lostAfterMs ?? 10 * 60_000,
      maxLogBytes: this.maxLogBytes,
      localLog: (id) => this.logPath(id),
      localMetrics: (id) => this.metricsPath(id),
      session: this.session,
      report: (report) => this.exitEmitter.fire(report),
      sweep: async (jobId) => {
        const grace = graceDeciseconds(this.sweepGraceSec);
        await this.session.run(SWEEP_SCRIPT, ['sweep', jobId, String(grace)], { timeoutMs: grace * 100 + SWEEP_SLACK_MS });
      },
    });
  }

  async probe(options: ProbeOptions = {}): Promise<HostStatus> {
    const stdout = await this.session.probeScript(PROBE_SCRIPT, [this.config.workdir], options.force ?? false);
    if (stdout === undefined) {
      return this.session.health.offlineStatus();
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
    return jobFiles(this.jobsRoot, jobId).log;
  }

  /** The local copy of the job's TRAINQ_METRICS_FILE, beside the log copy; each poll brings what is new. */
  metricsPath(jobId: string): string {
    return jobFiles(this.jobsRoot, jobId).metrics;
  }

  /** Copies a local project folder to <workdir>/<folder name>; concurrent calls for one folder share a copy. */
  sync(localRoot: string): Promise<{ remoteDir: string; method: SyncMethod }> {
    return this.session.sync(localRoot);
  }

  async launch(request: LaunchRequest): Promise<LaunchResult> {
    const { job, gpuIndices } = request;
    assertValidJobId(job.id);
    const env = envEntries(this.config.env, request.env);
    const { health } = this.session;
    if (health.inBackoff()) {
      throw health.unreachableError(false);
    }
    const jobsDir = await health.connected(() => this.session.jobsDir());
    const { argv, cwd } = await this.session.placeJob(request);
    // Only our polls write the local copy, and none runs for this job yet; an earlier copy would be stale.
    await (await LogMirror.open(this.logPath(job.id), this.maxLogBytes)).reset();
    await (await MetricsMirror.open(this.metricsPath(job.id))).reset();
    const grace = String(graceDeciseconds(this.sweepGraceSec));
    const args = [jobsDir, job.id, cwd, gpuIndices.join(','), grace, String(env.length), ...env, ...argv];
    let stdout: string;
    try {
      request.assertCurrent?.();
      stdout = (await this.session.run(LAUNCH_SCRIPT, args)).stdout.toString('utf8');
    } catch (e) {
      if (e instanceof SshError) {
        if (e.mayHaveRun) {
          // The start command may have reached the host: follow the job until we know.
          await this.follower.follow(job.id, undefined, { doubtful: true });
        }
        throw health.unreachableError(e.mayHaveRun);
      }
      throw e;
    }
    const { pgid, existing } = parseLaunch(stdout);
    await this.follower.follow(job.id, pgid);
    this.logger.info(`${this.name}: ${existing ? 'found already started' : 'started'} job ${job.id} (pgid ${pgid}, GPUs [${gpuIndices.join(',')}]): ${argv.join(' ')}`);
    return { kind: 'process', pgid };
  }

  async cancel(job: Job, graceSec: number): Promise<void> {
    assertValidJobId(job.id);
    const pgid = processGroupOf(job, this.name) ?? this.follower.pgidOf(job.id);
    const { health } = this.session;
    const jobsDir = await health.connected(() => this.session.jobsDir());
    const args = [jobsDir, job.id, pgid === undefined ? '-' : String(pgid), String(Math.max(0, Math.round(graceSec * 10)))];
    const stdout = (await health.connected(() => this.session.run(CANCEL_SCRIPT, args))).stdout.toString('utf8');
    const outcome = /^TRAINQ-CANCEL (\S+)/m.exec(stdout)?.[1] ?? 'unknown';
    this.logger.info(`${this.name}: cancel job ${job.id}: ${outcome}`);
    // The detached watcher sends SIGKILL after the grace period; polling reports the end, also for a
    // job that was already over (or never had a process) and that this instance did not follow yet.
    await this.follower.follow(job.id, pgid);
    this.follower.pollSoon();
  }

  async reattach(job: Job): Promise<ReattachResult> {
    assertValidJobId(job.id);
    return this.follower.reattach(job.id, processGroupOf(job, this.name));
  }

  /** Stops following; remote jobs keep running and are reattached by the next instance. */
  override dispose(): void {
    super.dispose();
    this.follower.dispose();
  }
}

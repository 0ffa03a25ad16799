/**
 * Follows the running jobs of one SSH host: each poll (one round trip for all of them, see JobPoller)
 * reads liveness, the exit file and the growth of the log and of the metrics file; the new bytes are
 * appended to each job's local copies, and a job whose wrapper died has what it left running ended before its end is reported.
 */
import type { Logger } from '../../core/logger';
import type { ExitReport, ReattachResult } from '../../core/host';
import { HostUnreachableError } from '../../core/hostErrors';
import { JobPoller, type PolledJob } from '../remote/jobPoller';
import { METRICS_POLL_CHUNK, MetricsMirror } from '../remote/metricsMirror';
import { parsePoll, type PollEntry } from '../remote/pollFrames';
import { drainLog, FINAL_CHUNK, LogMirror, POLL_CHUNK } from '../remote/remoteLog';
import { POLL_SCRIPT } from '../remote/remoteScripts';
import type { RemoteSession } from '../remote/session';
import { SshError } from '../remote/sshTransport';

export interface SshJobFollowerDeps {
  hostName: string;
  logger: Logger;
  pollMs: number;
  lostAfterMs: number;
  maxLogBytes: number;
  localLog: (jobId: string) => string;
  /** Where the copy of the job's metrics.jsonl goes (beside the log copy). */
  localMetrics: (jobId: string) => string;
  /** The host's session: its calls drive the host's health. */
  session: RemoteSession;
  report: (report: ExitReport) => void;
  /** Ends what a job whose wrapper died left running (the wrapper's own sweep never ran). */
  sweep: (jobId: string) => Promise<void>;
}

interface Followed extends PolledJob {
  pgid?: number;
  mirror: LogMirror;
  metrics: MetricsMirror;
  since: number;
  /** Launched over a connection that broke mid-call: it may never have started. */
  doubtful: boolean;
}

/** How long a doubtful launch may take to show up on the host before it counts as never started. */
const DOUBT_MS = 30_000;

function isConnectionError(e: unknown): boolean {
  return e instanceof SshError || e instanceof HostUnreachableError;
}

export class SshJobFollower {
  private readonly poller: JobPoller<Followed, PollEntry[]>;
  private jobsDirSeen = '';

  constructor(private readonly deps: SshJobFollowerDeps) {
    this.poller = new JobPoller({
      ...deps,
      what: 'job poll',
      poll: (jobs) => this.pollJobs(jobs.map((f) => offsetsOf(f.jobId, f.mirror, f.metrics)), POLL_CHUNK, METRICS_POLL_CHUNK),
      apply: (_jobs, entries) => this.apply(entries),
      isConnectionError,
      lostReason: (seconds) =>
        `${deps.hostName} was unreachable for ${seconds} s (${deps.session.health.problem ?? 'unreachable'}); the job may still run there, but TrainQ cannot follow it.`,
    });
  }

  pgidOf(jobId: string): number | undefined {
    return this.poller.get(jobId)?.pgid;
  }

  async follow(jobId: string, pgid: number | undefined, opts: { doubtful?: boolean; unreachableSince?: number } = {}): Promise<void> {
    const known = this.poller.get(jobId);
    if (known) {
      known.pgid ??= pgid;
      return;
    }
    const mirror = await LogMirror.open(this.deps.localLog(jobId), this.deps.maxLogBytes);
    const metrics = await MetricsMirror.open(this.deps.localMetrics(jobId));
    const { doubtful = false, unreachableSince } = opts;
    this.poller.add({ jobId, pgid, mirror, metrics, since: Date.now(), doubtful, unreachableSince, finishing: false });
  }

  /** Polls shortly (after a cancel), instead of waiting for the next routine poll. */
  pollSoon(): void {
    this.poller.pollSoon();
  }

  /** After a restart: alive → followed, exit code → reported with it, neither → lost with the reason. */
  async reattach(jobId: string, pgid: number | undefined): Promise<ReattachResult> {
    if (this.poller.has(jobId)) {
      return { kind: 'running' };
    }
    const mirror = await LogMirror.open(this.deps.localLog(jobId), this.deps.maxLogBytes);
    const metrics = await MetricsMirror.open(this.deps.localMetrics(jobId));
    let entry: PollEntry;
    try {
      [entry] = await this.pollJobs([offsetsOf(jobId, mirror, metrics)], POLL_CHUNK, METRICS_POLL_CHUNK);
    } catch (e) {
      if (!isConnectionError(e)) {
        throw e;
      }
      // Unknown is not lost: follow it, and give up only if the host stays away past the timeout.
      await this.follow(jobId, pgid, { unreachableSince: Date.now() });
      return { kind: 'running' };
    }
    await mirror.append(entry.data, this.remoteLog(jobId));
    await metrics.append(entry.metrics);
    if (entry.missing) {
      return { kind: 'lost', reason: `its folder ${this.jobsDirSeen}/${jobId} on ${this.deps.hostName} is gone` };
    }
    if (entry.exitCode !== undefined) {
      await this.drain(jobId, mirror, metrics, entry);
      return { kind: 'exited', exitCode: entry.exitCode };
    }
    if (entry.alive) {
      await this.follow(jobId, entry.pgid ?? pgid);
      return { kind: 'running' };
    }
    await this.drain(jobId, mirror, metrics, entry);
    await this.sweep(jobId);
    return { kind: 'lost', reason: this.diedReason() };
  }

  dispose(): void {
    this.poller.dispose();
  }

  private async apply(entries: PollEntry[]): Promise<void> {
    for (const entry of entries) {
      const f = this.poller.get(entry.jobId);
      if (!f || f.finishing) {
        continue;
      }
      f.unreachableSince = undefined;
      f.pgid = entry.pgid ?? f.pgid;
      await f.mirror.append(entry.data, this.remoteLog(f.jobId));
      await f.metrics.append(entry.metrics);
      if (entry.exitCode !== undefined) {
        await this.finish(f, entry, entry.exitCode);
      } else if (entry.alive) {
        f.doubtful = false;
      } else if (f.doubtful && Date.now() - f.since < DOUBT_MS) {
        // The interrupted start may still be on its way; look again next time.
      } else if (entry.missing) {
        await this.finish(f, undefined, undefined, f.doubtful
          ? `it never started on ${this.deps.hostName}: the connection broke while starting it`
          : `job folder removed on ${this.deps.hostName} (${this.jobsDirSeen}/${f.jobId}), so no exit code could be recorded`);
      } else {
        // The wrapper died before its sweep: end what the job left running before its GPU counts as free.
        // Not awaited, so the other jobs' polls go on during the grace period.
        f.finishing = true;
        void this.sweep(f.jobId).then(() => this.finish(f, entry, undefined, this.diedReason()));
      }
    }
  }

  private diedReason(): string {
    return `the process on ${this.deps.hostName} ended without recording an exit code (killed, or the host rebooted)`;
  }

  /** Never throws: a sweep that fails leaves the leftovers to the GPU census, which keeps their GPU from jobs. */
  private async sweep(jobId: string): Promise<void> {
    try {
      await this.deps.sweep(jobId);
    } catch (e) {
      this.deps.logger.warn(`${this.deps.hostName}: could not end what job ${jobId} left running: ${e instanceof Error ? e.message : e}`);
    }
  }

  /** `last` is the poll that saw the end: what its sizes say is left is copied before the end is reported. */
  private async finish(f: Followed, last: PollEntry | undefined, exitCode: number | undefined, reason?: string): Promise<void> {
    f.finishing = true;
    if (last !== undefined) {
      try {
        await this.drain(f.jobId, f.mirror, f.metrics, last);
      } catch (e) {
        this.deps.logger.warn(`${this.deps.hostName}: the end of job ${f.jobId}'s log or metrics could not be copied: ${e instanceof Error ? e.message : e}`);
      }
    }
    if (this.poller.end(reason === undefined ? { jobId: f.jobId, exitCode } : { jobId: f.jobId, exitCode, reason })) {
      this.deps.logger.info(`${this.deps.hostName}: job ${f.jobId} ended with ${exitCode ?? reason ?? 'no recorded exit code'}`);
    }
  }

  /** The rest of an ended job's log and metrics file, so its last lines and final values are not lost. */
  private async drain(jobId: string, mirror: LogMirror, metrics: MetricsMirror, last: PollEntry): Promise<void> {
    const fetchLog = async (offset: number, max: number) => (await this.pollJobs([[jobId, offset, -1]], max, 0))[0];
    await drainLog(mirror, last.size, fetchLog, this.remoteLog(jobId));
    const fetchMetrics = async (offset: number, max: number) => {
      const entry = (await this.pollJobs([[jobId, -1, offset]], 0, max))[0];
      return entry && { size: entry.metricsSize, data: entry.metrics };
    };
    await metrics.drain(last.metricsSize, FINAL_CHUNK, fetchMetrics);
  }

  private async pollJobs(jobs: Array<[string, number, number]>, maxChunk: number, metricsChunk: number): Promise<PollEntry[]> {
    const { session } = this.deps;
    if (session.health.inBackoff()) {
      throw new HostUnreachableError(this.deps.hostName, 'unreachable', 'backing off');
    }
    this.jobsDirSeen = await session.jobsDir();
    const args = [this.jobsDirSeen, String(maxChunk), String(metricsChunk), ...jobs.flatMap((job) => job.map(String))];
    const maxOutputBytes = (maxChunk + metricsChunk) * jobs.length + 1024 * 1024;
    return parsePoll((await session.run(POLL_SCRIPT, args, { maxOutputBytes })).stdout);
  }

  private remoteLog(jobId: string): string {
    return `${this.deps.hostName}:${this.jobsDirSeen}/${jobId}/output.log`;
  }
}

/** What a poll asks for one job: the log and metrics bytes past what the copies hold (-1: none). */
function offsetsOf(jobId: string, mirror: LogMirror, metrics: MetricsMirror): [string, number, number] {
  return [jobId, mirror.capped ? -1 : mirror.offset, metrics.offset];
}

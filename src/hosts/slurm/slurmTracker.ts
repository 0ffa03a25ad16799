/**
 * Follows the jobs a Slurm host submitted: one poll round trip for all of them (squeue, sacct when
 * accounting is on, exit files, new log and metrics bytes), a note per job while Slurm holds or runs
 * it, and each end reported exactly once. An unreachable login node or slurmctld is not the end of a job:
 * only a controller that stays away past `lostAfterMs` makes its jobs Lost.
 */
import type { Logger } from '../../core/logger';
import type { ExitReport, JobNote, ReattachResult } from '../../core/host';
import { JobPoller, type PolledJob } from '../remote/jobPoller';
import { METRICS_POLL_CHUNK, type MetricsMirror } from '../remote/metricsMirror';
import type { PollEntry } from '../remote/pollFrames';
import { drainLog, FINAL_CHUNK, POLL_CHUNK, type LogMirror } from '../remote/remoteLog';
import type { SlurmJobRow } from './slurmCommands';
import type { SlurmPoll, SlurmPollJob } from './slurmScripts';
import { verdictFor, verdictWithoutSlurm, type SlurmVerdict } from './slurmStates';

export interface SlurmTrackerDeps {
  hostName: string;
  logger: Logger;
  pollMs: number;
  lostAfterMs: number;
  /** One poll round trip: (jobId, Slurm id if known, log offset, metrics offset; -1: none)… */
  poll: (jobs: SlurmPollJob[], maxChunk: number, metricsChunk: number, useSacct: boolean) => Promise<SlurmPoll>;
  /** The local copies of a remote log and metrics file; undefined when the job folder is on this machine already (target "local"). */
  mirrorFor?: (jobId: string) => Promise<JobMirrors>;
  remoteLog: (jobId: string) => string;
  /** True for a failure of the way to Slurm (ssh), as opposed to a bug. */
  isConnectionError: (e: unknown) => boolean;
  report: (report: ExitReport) => void;
  note: (note: JobNote) => void;
}

export interface JobMirrors {
  log: LogMirror;
  metrics: MetricsMirror;
}

interface Tracked extends PolledJob {
  slurmId?: string;
  gpuIndices: number[];
  mirror?: JobMirrors;
  note?: string;
  /** When TrainQ submitted it; cleared once its queue wait has been observed. */
  submittedAtMs?: number;
}

/** How many recent queue waits the expected wait averages: recent enough to follow the cluster's load. */
const WAIT_WINDOW = 20;

export class SlurmTracker {
  private readonly poller: JobPoller<Tracked, SlurmPoll>;
  /** Turned off the first time sacct says accounting is disabled; the exit files decide then. */
  private useSacct = true;

  constructor(private readonly deps: SlurmTrackerDeps) {
    this.poller = new JobPoller({
      ...deps,
      what: 'Slurm poll',
      poll: (jobs) => this.deps.poll(jobs.map((t) => pollJob(t.jobId, t.slurmId, t.mirror)), POLL_CHUNK, METRICS_POLL_CHUNK, this.useSacct),
      apply: (jobs, poll) => this.apply(jobs, poll),
      lostReason: (seconds, why) =>
        `Slurm on ${deps.hostName} could not be asked for ${seconds} s (${why}); the job may still run there, but TrainQ cannot follow it.`,
      onOutage: (t, why) => this.setNote(t, `Slurm cannot be asked about this job right now (${why.slice(0, 200)})`),
    });
  }

  isTracked(jobId: string): boolean {
    return this.poller.has(jobId);
  }

  slurmIdOf(jobId: string): string | undefined {
    return this.poller.get(jobId)?.slurmId;
  }

  /** Queue waits seen (submission to first seen running), newest last. */
  private readonly waits: number[] = [];

  /** Records when TrainQ submitted a tracked job, so its queue wait can be observed when it starts. */
  noteSubmitted(jobId: string, atMs: number): void {
    const t = this.poller.get(jobId);
    if (t) {
      t.submittedAtMs = atMs;
    }
  }

  /** Mean of the recent observed queue waits in seconds; undefined before any was observed. */
  expectedWaitSec(): number | undefined {
    return this.waits.length === 0 ? undefined : this.waits.reduce((a, b) => a + b, 0) / this.waits.length / 1000;
  }

  /** GPU indices the tracked jobs hold (the probe offers idle GPUs beside them). */
  heldGpus(): Set<number> {
    return new Set(this.poller.all().flatMap((t) => t.gpuIndices));
  }

  async track(jobId: string, slurmId: string | undefined, gpuIndices: readonly number[], unreachableSince?: number): Promise<void> {
    const known = this.poller.get(jobId);
    if (known) {
      known.slurmId ??= slurmId;
      return;
    }
    const mirror = await this.deps.mirrorFor?.(jobId);
    this.poller.add({ jobId, slurmId, gpuIndices: [...gpuIndices], mirror, unreachableSince, finishing: false });
  }

  pollSoon(): void {
    this.poller.pollSoon();
  }

  /** Polls now and waits for it (tests, benchmarks). */
  pollNow(): Promise<void> {
    return this.poller.pollNow();
  }

  /** After a restart: by Slurm id (or by name when the id was never stored); running → tracked again. */
  async reattach(jobId: string, slurmId: string | undefined, gpuIndices: readonly number[]): Promise<ReattachResult> {
    if (this.poller.has(jobId)) {
      return { kind: 'running' };
    }
    const mirror = await this.deps.mirrorFor?.(jobId);
    let poll: SlurmPoll;
    try {
      poll = await this.deps.poll([pollJob(jobId, slurmId, mirror)], POLL_CHUNK, METRICS_POLL_CHUNK, this.useSacct);
    } catch (e) {
      if (!this.deps.isConnectionError(e)) throw e;
      await this.track(jobId, slurmId, gpuIndices, Date.now());
      return { kind: 'running' };
    }
    this.noteAccounting(poll);
    const { verdict, entry, row, outage } = this.judge(jobId, slurmId, poll);
    if (entry) await this.append(mirror, entry);
    const sid = row?.slurmId ?? (entry?.pgid !== undefined ? String(entry.pgid) : slurmId);
    if (outage !== undefined || verdict.kind === 'active') {
      await this.track(jobId, sid, gpuIndices, outage !== undefined ? Date.now() : undefined);
      if (verdict.kind === 'active') this.setNote(this.poller.get(jobId)!, verdict.note);
      return { kind: 'running' };
    }
    if (mirror) await this.drain(jobId, sid, mirror, entry);
    return verdict.exitCode !== undefined
      ? { kind: 'exited', exitCode: verdict.exitCode, ...(verdict.reason !== undefined ? { reason: verdict.reason } : {}) }
      : { kind: 'lost', reason: verdict.reason ?? 'unknown' };
  }

  dispose(): void {
    this.poller.dispose();
  }

  private async apply(jobs: Tracked[], poll: SlurmPoll): Promise<void> {
    this.noteAccounting(poll);
    for (const t of jobs) {
      const { verdict, entry, row, outage } = this.judge(t.jobId, t.slurmId, poll);
      t.slurmId ??= row?.slurmId ?? (entry?.pgid !== undefined ? String(entry.pgid) : undefined);
      if (entry) await this.append(t.mirror, entry);
      if (outage !== undefined) {
        this.poller.outage([t], outage);
      } else if (verdict.kind === 'active') {
        t.unreachableSince = undefined;
        this.setNote(t, verdict.note);
        if (t.submittedAtMs !== undefined && (row?.state === 'RUNNING' || row?.state === 'COMPLETING')) {
          // Seen running at this poll: the wait is known to within one poll interval.
          this.waits.push(Math.max(0, Date.now() - t.submittedAtMs));
          this.waits.splice(0, Math.max(0, this.waits.length - WAIT_WINDOW));
          t.submittedAtMs = undefined;
        }
      } else {
        await this.finish(t, entry, verdict);
      }
    }
  }

  /**
   * What Slurm and the job folder say about one job. `outage` is set when the answer cannot be trusted
   * for this job: squeue failed (a job's absence from its answer means nothing then), or squeue no
   * longer lists it, it left no exit file, and sacct, which would know how it ended, failed.
   */
  private judge(
    jobId: string,
    slurmId: string | undefined,
    poll: SlurmPoll,
  ): { verdict: SlurmVerdict; entry?: PollEntry; row?: SlurmJobRow; outage?: string } {
    const entry = poll.files.find((e) => e.jobId === jobId);
    const sid = slurmId ?? (entry?.pgid !== undefined ? String(entry.pgid) : undefined);
    const name = `trainq-${jobId}`;
    const match = (r: SlurmJobRow) => (sid !== undefined ? r.slurmId === sid : r.name === name);
    const row = poll.rows.find(match) ?? poll.accounting?.find(match);
    const verdict = row ? verdictFor(row, entry?.exitCode) : verdictWithoutSlurm(sid, entry?.exitCode);
    const unknownEnd = row === undefined && entry?.exitCode === undefined && poll.accountingError !== undefined;
    const outage = poll.controllerError ?? (unknownEnd ? `sacct: ${poll.accountingError}` : undefined);
    return { verdict, entry, row, outage };
  }

  private noteAccounting(poll: SlurmPoll): void {
    if (poll.accountingDisabled && this.useSacct) {
      this.useSacct = false;
      this.deps.logger.info(`${this.deps.hostName}: Slurm accounting is disabled (or sacct is missing); final states come from squeue and the jobs' exit files`);
    }
  }

  private setNote(t: Tracked, note: string): void {
    if (t.note !== note) {
      t.note = note;
      this.deps.note({ jobId: t.jobId, note });
    }
  }

  private async finish(t: Tracked, last: PollEntry | undefined, verdict: Extract<SlurmVerdict, { kind: 'ended' }>): Promise<void> {
    t.finishing = true;
    if (t.mirror) {
      await this.drain(t.jobId, t.slurmId, t.mirror, last).catch((e) =>
        this.deps.logger.warn(
          `${this.deps.hostName}: the end of job ${t.jobId}'s log or metrics could not be copied: ${e instanceof Error ? e.message : e}`,
        ),
      );
    }
    if (this.poller.end({ jobId: t.jobId, exitCode: verdict.exitCode, reason: verdict.reason })) {
      this.deps.logger.info(`${this.deps.hostName}: job ${t.jobId} (Slurm ${t.slurmId ?? '?'}) ended: ${verdict.exitCode ?? verdict.reason}`);
    }
  }

  private async append(mirror: JobMirrors | undefined, entry: PollEntry): Promise<void> {
    await mirror?.log.append(entry.data, this.deps.remoteLog(entry.jobId));
    await mirror?.metrics.append(entry.metrics);
  }

  /**
   * Copies the rest of an ended job's remote log (all of it, or for a capped copy its last part) and of
   * its metrics file (up to the cap), so its last lines and final values are not lost.
   */
  private async drain(jobId: string, slurmId: string | undefined, mirror: JobMirrors, last: PollEntry | undefined): Promise<void> {
    // One of the two offsets is -1, so the poll sends at most `max` bytes of the other file.
    const fetch = async (offset: number, metricsOffset: number, max: number) =>
      (await this.deps.poll([[jobId, slurmId, offset, metricsOffset]], max, max, false)).files[0];
    await drainLog(mirror.log, last?.size ?? 0, (offset, max) => fetch(offset, -1, max), this.deps.remoteLog(jobId));
    await mirror.metrics.drain(last?.metricsSize ?? 0, FINAL_CHUNK, async (offset, max) => {
      const entry = await fetch(-1, offset, max);
      return entry && { size: entry.metricsSize, data: entry.metrics };
    });
  }
}

function pollJob(jobId: string, slurmId: string | undefined, mirror: JobMirrors | undefined): SlurmPollJob {
  return mirror ? [jobId, slurmId, mirror.log.capped ? -1 : mirror.log.offset, mirror.metrics.offset] : [jobId, slurmId, -1, -1];
}

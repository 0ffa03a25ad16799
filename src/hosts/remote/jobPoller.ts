/**
 * The loop that follows a remote host's running jobs: one poll round trip for all of them on a timer
 * (sooner after a cancel, never two at once), each end reported exactly once, and an unreachable host
 * turned into lost jobs only after `lostAfterMs`: losing the connection is a host state, not the end
 * of a job. What a poll asks and what its answer means is the host kind's (SshJobFollower, SlurmTracker).
 */
import type { Logger } from '../../core/logger';
import type { ExitReport } from '../../core/host';

export interface PolledJob {
  readonly jobId: string;
  /** Since when every poll for this job failed; undefined while the host answers. */
  unreachableSince?: number;
  /** Its end is being reported: polls skip it. */
  finishing: boolean;
}

export interface JobPollerOptions<T extends PolledJob, A> {
  hostName: string;
  logger: Logger;
  pollMs: number;
  lostAfterMs: number;
  /** For the log line of a poll that failed ("job poll", "Slurm poll"). */
  what: string;
  /** One round trip for these jobs. */
  poll: (jobs: T[]) => Promise<A>;
  /** What follows from the answer (ends, notes); its errors are no outage. */
  apply: (jobs: T[], answer: A) => Promise<void>;
  /** True for a failure of the way to the host, as opposed to a bug. */
  isConnectionError: (e: unknown) => boolean;
  /** The reason a job is reported lost with, after `waitedSec` without an answer; `why` is the last failure. */
  lostReason: (waitedSec: number, why: string) => string;
  /** Told about each job a poll could not answer for (Slurm shows it as the job's note). */
  onOutage?: (job: T, why: string) => void;
  report: (report: ExitReport) => void;
}

export class JobPoller<T extends PolledJob, A> {
  private readonly jobs = new Map<string, T>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private disposed = false;

  constructor(private readonly opts: JobPollerOptions<T, A>) {}

  get(jobId: string): T | undefined {
    return this.jobs.get(jobId);
  }

  has(jobId: string): boolean {
    return this.jobs.has(jobId);
  }

  all(): T[] {
    return [...this.jobs.values()];
  }

  /** Starts following a job; the first poll comes after the usual interval. */
  add(job: T): void {
    this.jobs.set(job.jobId, job);
    this.schedule(this.opts.pollMs);
  }

  /** Polls shortly (after a cancel), instead of waiting for the next routine poll. */
  pollSoon(): void {
    this.schedule(100, true);
  }

  /** Polls now, or joins the poll under way, and waits for it; never throws. */
  pollNow(): Promise<void> {
    this.polling ??= this.pollOnce()
      .catch((e) => this.opts.logger.warn(`${this.opts.hostName}: ${this.opts.what} failed: ${e instanceof Error ? e.message : e}`))
      .finally(() => (this.polling = undefined));
    return this.polling;
  }

  /**
   * Reports a followed job's end and stops following it. False, and nothing reported, when it was
   * reported already (or the poller is disposed): every end is reported once.
   */
  end(report: ExitReport): boolean {
    if (this.disposed || !this.jobs.delete(report.jobId)) {
      return false;
    }
    this.opts.report(report);
    return true;
  }

  /** These jobs could not be asked about: each becomes lost once its host stayed away past lostAfterMs. */
  outage(jobs: readonly T[], why: string): void {
    const now = Date.now();
    for (const job of jobs) {
      job.unreachableSince ??= now;
      const waited = now - job.unreachableSince;
      this.opts.onOutage?.(job, why);
      if (waited >= this.opts.lostAfterMs && this.jobs.has(job.jobId)) {
        const seconds = Math.round(waited / 1000);
        this.opts.logger.warn(`${this.opts.hostName}: giving up on job ${job.jobId} after ${seconds} s without contact`);
        this.end({ jobId: job.jobId, exitCode: undefined, reason: this.opts.lostReason(seconds, why) });
      }
    }
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.timer);
    this.jobs.clear();
  }

  private schedule(delayMs: number, replace = false): void {
    if (this.disposed || this.jobs.size === 0 || (this.timer && !replace)) {
      return;
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      // Chained after each poll, so a slow round trip never overlaps the next one.
      void this.pollNow().finally(() => this.schedule(this.opts.pollMs));
    }, delayMs);
    this.timer.unref();
  }

  private async pollOnce(): Promise<void> {
    const jobs = this.all().filter((j) => !j.finishing);
    if (jobs.length === 0) {
      return;
    }
    let answer: A;
    try {
      answer = await this.opts.poll(jobs);
    } catch (e) {
      if (!this.opts.isConnectionError(e)) {
        throw e;
      }
      this.outage(jobs, e instanceof Error ? e.message : String(e));
      return;
    }
    await this.opts.apply(jobs, answer);
  }
}

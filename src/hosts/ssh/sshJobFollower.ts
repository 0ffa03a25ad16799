/**
 * Follows the running jobs of one remote host: one poll round trip covers all of them (liveness,
 * exit file, log growth), the new log bytes are appended to each job's local copy, and each end is
 * reported exactly once. A host that stays unreachable makes its jobs Lost only after a timeout:
 * losing the connection is a host state, not the end of a job.
 */
import type { Logger } from '../../core/logger';
import type { ExitReport, ReattachResult } from '../../core/host';
import { HostUnreachableError } from '../../core/hostErrors';
import { LogMirror } from '../remote/remoteLog';
import { parsePoll, POLL_SCRIPT, type PollEntry } from '../remote/remoteScripts';
import { SshError, type SshTransport } from './sshTransport';

export interface SshJobFollowerDeps {
  hostName: string;
  logger: Logger;
  pollMs: number;
  lostAfterMs: number;
  maxLogBytes: number;
  localLog: (jobId: string) => string;
  transport: SshTransport;
  /** Runs an ssh call through the host's failure bookkeeping. */
  call: <T>(fn: () => Promise<T>) => Promise<T>;
  jobsDir: () => Promise<string>;
  inBackoff: () => boolean;
  problem: () => string | undefined;
  report: (report: ExitReport) => void;
  /** Ends what a job whose wrapper died left running (the wrapper's own sweep never ran). */
  sweep: (jobId: string) => Promise<void>;
}

interface Followed {
  jobId: string;
  pgid?: number;
  mirror: LogMirror;
  since: number;
  /** Launched over a connection that broke mid-call: it may never have started. */
  doubtful: boolean;
  unreachableSince?: number;
  finishing: boolean;
}

/** Log bytes per job per routine poll; a fast-growing log catches up over several polls. */
const POLL_CHUNK = 1024 * 1024;
/** Larger pieces once the job ended, to copy the rest quickly. */
const FINAL_CHUNK = 4 * 1024 * 1024;
/** How long a doubtful launch may take to show up on the host before it counts as never started. */
const DOUBT_MS = 30_000;

function isConnectionError(e: unknown): boolean {
  return e instanceof SshError || e instanceof HostUnreachableError;
}

export class SshJobFollower {
  private readonly followed = new Map<string, Followed>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private jobsDirSeen = '';
  private disposed = false;

  constructor(private readonly deps: SshJobFollowerDeps) {}

  pgidOf(jobId: string): number | undefined {
    return this.followed.get(jobId)?.pgid;
  }

  async follow(jobId: string, pgid: number | undefined, opts: { doubtful?: boolean; unreachableSince?: number } = {}): Promise<void> {
    const known = this.followed.get(jobId);
    if (known) {
      known.pgid ??= pgid;
      return;
    }
    const mirror = await LogMirror.open(this.deps.localLog(jobId), this.deps.maxLogBytes);
    this.followed.set(jobId, {
      jobId,
      pgid,
      mirror,
      since: Date.now(),
      doubtful: opts.doubtful ?? false,
      unreachableSince: opts.unreachableSince,
      finishing: false,
    });
    this.schedule(this.deps.pollMs);
  }

  /** Polls shortly (after a cancel), instead of waiting for the next routine poll. */
  pollSoon(): void {
    this.schedule(100, true);
  }

  /** After a restart: alive → followed, exit code → reported with it, neither → lost with the reason. */
  async reattach(jobId: string, pgid: number | undefined): Promise<ReattachResult> {
    if (this.followed.has(jobId)) {
      return { kind: 'running' };
    }
    const mirror = await LogMirror.open(this.deps.localLog(jobId), this.deps.maxLogBytes);
    let entry: PollEntry;
    try {
      if (this.deps.inBackoff()) {
        throw new HostUnreachableError(this.deps.hostName, 'unreachable', 'backing off');
      }
      [entry] = await this.pollJobs([[jobId, mirror.capped ? -1 : mirror.offset]], POLL_CHUNK);
    } catch (e) {
      if (!isConnectionError(e)) {
        throw e;
      }
      // Unknown is not lost: follow it, and give up only if the host stays away past the timeout.
      await this.follow(jobId, pgid, { unreachableSince: Date.now() });
      return { kind: 'running' };
    }
    await mirror.append(entry.data, this.remoteLog(jobId));
    if (entry.missing) {
      return { kind: 'lost', reason: `its folder ${this.jobsDirSeen}/${jobId} on ${this.deps.hostName} is gone` };
    }
    if (entry.exitCode !== undefined) {
      await this.drain(jobId, mirror, entry.size);
      return { kind: 'exited', exitCode: entry.exitCode };
    }
    if (entry.alive) {
      await this.follow(jobId, entry.pgid ?? pgid);
      return { kind: 'running' };
    }
    await this.drain(jobId, mirror, entry.size);
    await this.sweep(jobId);
    return { kind: 'lost', reason: `the process on ${this.deps.hostName} ended without recording an exit code (killed, or the host rebooted)` };
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.timer);
    this.followed.clear();
  }

  private schedule(delayMs: number, replace = false): void {
    if (this.disposed || this.followed.size === 0 || (this.timer && !replace)) {
      return;
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.pollNow().finally(() => this.schedule(this.deps.pollMs));
    }, delayMs);
    this.timer.unref();
  }

  private pollNow(): Promise<void> {
    this.polling ??= this.pollOnce()
      .catch((e) => this.deps.logger.warn(`${this.deps.hostName}: job poll failed: ${e instanceof Error ? e.message : e}`))
      .finally(() => (this.polling = undefined));
    return this.polling;
  }

  private async pollOnce(): Promise<void> {
    const jobs = [...this.followed.values()].filter((f) => !f.finishing);
    if (jobs.length === 0) {
      return;
    }
    let entries: PollEntry[];
    try {
      if (this.deps.inBackoff()) {
        throw new HostUnreachableError(this.deps.hostName, 'unreachable', 'backing off');
      }
      entries = await this.pollJobs(jobs.map((f) => [f.jobId, f.mirror.capped ? -1 : f.mirror.offset]), POLL_CHUNK);
    } catch (e) {
      if (!isConnectionError(e)) {
        throw e;
      }
      this.checkLost(jobs);
      return;
    }
    for (const entry of entries) {
      const f = this.followed.get(entry.jobId);
      if (!f || f.finishing) {
        continue;
      }
      f.unreachableSince = undefined;
      f.pgid = entry.pgid ?? f.pgid;
      await f.mirror.append(entry.data, this.remoteLog(f.jobId));
      if (entry.exitCode !== undefined) {
        await this.finish(f, entry.size, entry.exitCode);
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
        const reason = `the process on ${this.deps.hostName} ended without recording an exit code (killed, or the host rebooted)`;
        void this.sweep(f.jobId).then(() => this.finish(f, entry.size, undefined, reason));
      }
    }
  }

  /** Never throws: a sweep that fails leaves the leftovers to the GPU census, which keeps their GPU from jobs. */
  private async sweep(jobId: string): Promise<void> {
    try {
      await this.deps.sweep(jobId);
    } catch (e) {
      this.deps.logger.warn(`${this.deps.hostName}: could not end what job ${jobId} left running: ${e instanceof Error ? e.message : e}`);
    }
  }

  private checkLost(jobs: Followed[]): void {
    const now = Date.now();
    for (const f of jobs) {
      f.unreachableSince ??= now;
      const waited = now - f.unreachableSince;
      if (waited >= this.deps.lostAfterMs && this.followed.delete(f.jobId)) {
        const why = this.deps.problem() ?? 'unreachable';
        this.deps.logger.warn(`${this.deps.hostName}: giving up on job ${f.jobId} after ${Math.round(waited / 1000)} s without contact`);
        this.deps.report({
          jobId: f.jobId,
          exitCode: undefined,
          reason: `${this.deps.hostName} was unreachable for ${Math.round(waited / 1000)} s (${why}); the job may still run there, but TrainQ cannot follow it.`,
        });
      }
    }
  }

  private async finish(f: Followed, remoteSize: number | undefined, exitCode: number | undefined, reason?: string): Promise<void> {
    f.finishing = true;
    if (remoteSize !== undefined) {
      try {
        await this.drain(f.jobId, f.mirror, remoteSize);
      } catch (e) {
        this.deps.logger.warn(`${this.deps.hostName}: the end of job ${f.jobId}'s log could not be copied: ${e instanceof Error ? e.message : e}`);
      }
    }
    if (this.disposed || !this.followed.delete(f.jobId)) {
      return;
    }
    this.deps.logger.info(`${this.deps.hostName}: job ${f.jobId} ended with ${exitCode ?? reason ?? 'no recorded exit code'}`);
    this.deps.report(reason === undefined ? { jobId: f.jobId, exitCode } : { jobId: f.jobId, exitCode, reason });
  }

  /** Copies the rest of a finished job's log: all of it, or for a capped copy the last part. */
  private async drain(jobId: string, mirror: LogMirror, knownSize: number): Promise<void> {
    let size = knownSize;
    while (!mirror.capped && mirror.offset < size) {
      const [entry] = await this.pollJobs([[jobId, mirror.offset]], FINAL_CHUNK);
      size = entry.size;
      if (entry.data.length === 0) {
        break;
      }
      await mirror.append(entry.data, this.remoteLog(jobId));
    }
    if (mirror.capped && !mirror.finished) {
      const tailStart = Math.max(mirror.offset, size - mirror.tailLimit);
      const [entry] = await this.pollJobs([[jobId, tailStart]], mirror.tailLimit);
      await mirror.finish(entry.size, entry.data, tailStart, this.remoteLog(jobId));
    } else {
      await mirror.finish(size, undefined, 0, this.remoteLog(jobId));
    }
  }

  private async pollJobs(jobs: Array<[string, number]>, maxChunk: number): Promise<PollEntry[]> {
    const jobsDir = await this.deps.jobsDir();
    this.jobsDirSeen = jobsDir;
    const args = [jobsDir, String(maxChunk), ...jobs.flatMap(([id, offset]) => [id, String(offset)])];
    const maxOutputBytes = maxChunk * jobs.length + 1024 * 1024;
    const result = await this.deps.call(() => this.deps.transport.runScript(POLL_SCRIPT, args, { maxOutputBytes }));
    return parsePoll(result.stdout);
  }

  private remoteLog(jobId: string): string {
    return `${this.deps.hostName}:${this.jobsDirSeen}/${jobId}/output.log`;
  }
}

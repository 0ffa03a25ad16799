/**
 * Which running jobs hold GPUs that do nothing (issue 16: the GPU idle warning), from host probes over
 * time. Pure: fed every probe result (the hosts' statuses, each stamped with its probe time), it keeps
 * per running GPU job the streak of consecutive probes in which all of the job's GPUs showed 0 %.
 *
 * Only what the probes saw counts, so a warning is never a guess: an unknown utilisation ([N/A], a GPU
 * the probe did not list, a Slurm partition, which reports none) or an offline host ends a streak, and
 * a gap between two probes longer than `maxGapMs` (the window lost focus and stopped polling) is not
 * idle time: the streak starts again at the probe after it.
 */
import type { Job } from './job';
import type { HostStatus } from './host';

interface Streak {
  /** The host the job ran on when observed (a job put back in the queue may start elsewhere). */
  host: string;
  /** Probe time of the first probe of the current idle streak; undefined while not idle. */
  since?: number;
  /** Probe time of the last probe that observed the job. */
  lastAt: number;
  /** The job was reported once by newlyIdle; it is not reported again in this run. */
  reported: boolean;
}

/** True when the host, as probed, shows each of the GPUs at exactly 0 % (unknown is not idle). */
export function gpusIdle(status: HostStatus, gpuIndices: readonly number[]): boolean {
  return (
    status.state === 'online' &&
    gpuIndices.length > 0 &&
    gpuIndices.every((index) => status.gpus.find((g) => g.index === index)?.utilizationPct === 0)
  );
}

export class GpuIdleTracker {
  private readonly streaks = new Map<string, Streak>();

  /** `maxGapMs`: the longest time between two probes that still counts as watched (a few poll intervals). */
  constructor(public maxGapMs: number) {}

  /** One round of probe results. Probes older than the job's start, or already seen, change nothing. */
  observe(jobs: readonly Job[], statuses: readonly HostStatus[]): void {
    const byHost = new Map(statuses.map((s) => [s.name, s]));
    const running = new Set<string>();
    for (const job of jobs) {
      if (job.state !== 'running' || job.host === undefined || !job.gpuIndices || job.gpuIndices.length === 0) {
        continue;
      }
      running.add(job.id);
      const status = byHost.get(job.host);
      if (!status || (job.startedAt !== undefined && status.probedAt < job.startedAt)) {
        continue;
      }
      this.record(job.id, job.host, status.probedAt, gpusIdle(status, job.gpuIndices));
    }
    for (const id of [...this.streaks.keys()]) {
      if (!running.has(id)) {
        this.streaks.delete(id);
      }
    }
  }

  private record(id: string, host: string, at: number, idle: boolean): void {
    const streak = this.streaks.get(id);
    if (!streak || streak.host !== host) {
      this.streaks.set(id, { host, lastAt: at, reported: false, ...(idle && { since: at }) });
      return;
    }
    if (at <= streak.lastAt) {
      return;
    }
    const watched = at - streak.lastAt <= this.maxGapMs;
    streak.since = !idle ? undefined : streak.since !== undefined && watched ? streak.since : at;
    streak.lastAt = at;
  }

  /** How long the job's GPUs have been seen idle without a break, or undefined while they are not. */
  idleMs(jobId: string): number | undefined {
    const streak = this.streaks.get(jobId);
    return streak?.since === undefined ? undefined : streak.lastAt - streak.since;
  }

  /** Ids of jobs idle at least `thresholdMs` that were not returned before (once per job and run). */
  newlyIdle(thresholdMs: number): string[] {
    const found: string[] = [];
    for (const [id, streak] of this.streaks) {
      if (!streak.reported && streak.since !== undefined && streak.lastAt - streak.since >= thresholdMs) {
        streak.reported = true;
        found.push(id);
      }
    }
    return found;
  }
}

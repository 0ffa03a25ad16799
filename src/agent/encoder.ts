/**
 * The agent's state and action encoding: one row of features per (job, action) pair, scored by one
 * shared network, so any number of hosts works. The actions for a job are "place on h" for each host
 * that can take it now (infeasible hosts, those a job's host constraints rule out among them, get no
 * row, so they can never be chosen) and, when allowed, "wait" (always the last row). media/agent/README.md documents the design; this file is the
 * definition. Changing a feature's meaning or order must bump FEATURE_VERSION, which makes saved
 * weights refuse to load rather than silently misread.
 *
 * A Slurm host's expected queue wait (HostCandidate.expectedWaitSec, learned from observed pending
 * times) is part of its time-to-finish features, runtimeHere and fasterHostGain.
 *
 * Everything is scale-free: times are measured in the typical job's run time (the placement's running
 * mean of runtime estimates), GPU counts as fractions of the cluster or host, speeds relative to the
 * fastest host that fits the job. That is what lets weights trained on one trace and cluster apply to
 * another. Only the user's runtime estimate is used, never a job's true duration.
 */
import type { Job } from '../core/job';
import type { HostCandidate, RoundView } from '../core/placement';

export const FEATURE_VERSION = 1;
export const FEATURE_COUNT = 22;

/** Column names, for the README, tests and debugging; index = column. */
export const FEATURE_NAMES: readonly string[] = [
  'jobsInSystemPerGpu', 'queueLength', 'freeGpuShare', 'queuedGpuDemand',
  'jobGpus', 'jobEstimate', 'estimateRank', 'shorterJobsThatFit', 'jobAge', 'heldShare', 'nextFinishIn',
  'isWait',
  'hostSpeed', 'runtimeHere', 'hostFreeShare', 'hostFreeAfter', 'hostSize', 'isFastestFeasible', 'fasterHostGain', 'hostSlotsUsed',
  'waitBestSpeed', 'waitBestGain',
];

export interface WaitOptions {
  allowWait: boolean;
  /** How long the agent has already held this job back, and the most it may. */
  heldSec: number;
  holdCapSec: number;
}

export interface EncodedDecision {
  rows: Float32Array;
  count: number;
  /** The host of each row; undefined marks the wait row. */
  hosts: Array<string | undefined>;
}

interface Release {
  endSec: number;
  gpus: number;
}

const clip = (x: number, lo: number, hi: number): number => (x < lo ? lo : x > hi ? hi : x);

function countBelow(sorted: Float64Array, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < value) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

/**
 * Per-round facts shared by every decision in the round: computed once, so a decision costs a few
 * binary searches and one row per host. Host release times are estimates (start + estimate ÷ speed);
 * a job past its estimate is assumed to end a little later, as a job that overran usually does.
 */
export class RoundSummary {
  readonly nowSec: number;
  private readonly sortedEstimates: Float64Array;
  /** Queued estimates of jobs no wider than each width present in the queue, sorted. */
  private readonly fitEstimates = new Map<number, Float64Array>();
  private readonly queuedGpus: number;
  private readonly runningCount: number;
  private releases?: Map<string, Release[]>;
  private nextFinishSec = Infinity;
  private placedGpus = 0;

  constructor(
    private readonly view: RoundView,
    readonly timeUnitSec: number,
  ) {
    this.nowSec = view.nowMs / 1000;
    this.sortedEstimates = Float64Array.from(view.queued.map((j) => j.runtimeSec)).sort();
    this.queuedGpus = view.queued.reduce((s, j) => s + j.gpus, 0);
    this.runningCount = view.running.length;
    for (const width of new Set(view.queued.map((j) => j.gpus))) {
      this.fitEstimates.set(width, Float64Array.from(view.queued.filter((j) => j.gpus <= width).map((j) => j.runtimeSec)).sort());
    }
  }

  /**
   * Whether every job still queued fits on the GPUs free now (on hosts with a job slot): then no job
   * competes for a host. Jobs placed earlier in the round leave both sides; a job wider than every
   * host can never start, so it competes for nothing.
   */
  uncontended(all: readonly HostCandidate[]): boolean {
    const largest = all.reduce((m, c) => Math.max(m, c.totalGpus), 0);
    let demand = -this.placedGpus;
    for (const j of this.view.queued) {
      demand += j.gpus <= largest ? j.gpus : 0;
    }
    const free = all.reduce((s, c) => s + (c.runningJobs < c.maxJobs ? c.freeGpus.length : 0), 0);
    return demand <= free;
  }

  /** Host speeds are only known from the candidates, so release times are built on first use. */
  private releasesFor(all: readonly HostCandidate[]): Map<string, Release[]> {
    if (!this.releases) {
      const speed = new Map(all.map((c) => [c.host, c.speed]));
      this.releases = new Map(all.map((c) => [c.host, []]));
      for (const j of this.view.running) {
        const s = speed.get(j.host ?? '');
        if (s !== undefined) {
          this.addRelease(j.host as string, (j.startedAt ?? this.view.nowMs) / 1000, j.runtimeSec / s, j.gpus);
        }
      }
      this.releases.forEach((list) => list.sort((a, b) => a.endSec - b.endSec));
    }
    return this.releases;
  }

  private addRelease(host: string, startSec: number, runSec: number, gpus: number): void {
    const endSec = Math.max(startSec + runSec, this.nowSec + 0.1 * runSec);
    this.releases?.get(host)?.push({ endSec, gpus });
    this.nextFinishSec = Math.min(this.nextFinishSec, endSec);
  }

  /** Records a placement made this round, so later decisions in the round see its GPUs as taken until it ends. */
  recordLaunch(host: string, job: Job, speed: number): void {
    this.placedGpus += job.gpus;
    if (this.releases) {
      this.addRelease(host, this.nowSec, job.runtimeSec / speed, job.gpus);
      this.releases.get(host)?.sort((a, b) => a.endSec - b.endSec);
    }
  }

  /** Estimated seconds until `host` has `gpus` free, or Infinity when its known jobs never free enough. */
  private secondsUntilFree(c: HostCandidate, gpus: number, releases: Map<string, Release[]>): number {
    let free = c.freeGpus.length;
    if (free >= gpus) {
      return 0;
    }
    for (const r of releases.get(c.host) ?? []) {
      free += r.gpus;
      if (free >= gpus) {
        return Math.max(0, r.endSec - this.nowSec);
      }
    }
    return Infinity;
  }

  encode(job: Job, feasible: readonly HostCandidate[], all: readonly HostCandidate[], wait: WaitOptions): EncodedDecision {
    const releases = this.releasesFor(all);
    const unit = this.timeUnitSec;
    const est = Math.max(1, job.runtimeSec);
    const totalGpus = Math.max(1, all.reduce((s, c) => s + c.totalGpus, 0));
    const largest = Math.max(1, ...all.map((c) => c.totalGpus));
    const fitting = all.filter((c) => c.totalGpus >= job.gpus);
    const fastest = Math.max(...fitting.map((c) => c.speed), ...feasible.map((c) => c.speed));
    const bestFeasibleSpeed = Math.max(...feasible.map((c) => c.speed));
    const freeNow = all.reduce((s, c) => s + (c.runningJobs < c.maxJobs ? c.freeGpus.length : 0), 0);
    const widestFree = all.reduce((m, c) => (c.runningJobs < c.maxJobs ? Math.max(m, c.freeGpus.length) : m), 0);
    const queueLength = this.sortedEstimates.length;

    let fitKey = 0;
    for (const w of this.fitEstimates.keys()) {
      if (w <= widestFree && w > fitKey) {
        fitKey = w;
      }
    }
    const shorterFit = fitKey > 0 ? countBelow(this.fitEstimates.get(fitKey) as Float64Array, est) : 0;
    const nextFinish = Math.max(0, this.nextFinishSec - this.nowSec);

    const shared = new Float32Array(FEATURE_COUNT);
    shared[0] = clip(Math.log1p((queueLength + this.runningCount) / totalGpus) / 3.5, 0, 1.5);
    shared[1] = clip(Math.log1p(queueLength) / 6, 0, 1.5);
    shared[2] = freeNow / totalGpus;
    shared[3] = clip(Math.log1p(this.queuedGpus / totalGpus) / 3.5, 0, 1.5);
    shared[4] = job.gpus / largest;
    shared[5] = clip(Math.log(est / unit) / 3, -2, 2);
    shared[6] = queueLength > 1 ? countBelow(this.sortedEstimates, est) / (queueLength - 1) : 0;
    shared[7] = clip(Math.log1p(shorterFit) / 4, 0, 1.5);
    shared[8] = clip(Math.log1p(Math.max(0, this.view.nowMs - job.createdAt) / 1000 / unit) / 2, 0, 2);
    shared[9] = wait.holdCapSec > 0 ? clip(wait.heldSec / wait.holdCapSec, 0, 1) : 1;
    shared[10] = Number.isFinite(nextFinish) ? clip(Math.log1p(nextFinish / unit) / 2, 0, 2) : 2;

    const count = feasible.length + (wait.allowWait ? 1 : 0);
    const rows = new Float32Array(count * FEATURE_COUNT);
    const hosts: Array<string | undefined> = [];
    let bestGain = -1;
    feasible.forEach((c, i) => {
      const row = rows.subarray(i * FEATURE_COUNT, (i + 1) * FEATURE_COUNT);
      row.set(shared);
      // For a Slurm host the time to finish includes its learned queue wait (absent elsewhere, so
      // the feature means what it always did for ordinary hosts and the shipped weights still apply).
      const here = est / c.speed + (c.expectedWaitSec ?? 0);
      // The best estimated completion on a strictly faster host, if the job waited for it.
      let faster = Infinity;
      for (const h of fitting) {
        if (h.speed > c.speed) {
          faster = Math.min(faster, this.secondsUntilFree(h, job.gpus, releases) + est / h.speed + (h.expectedWaitSec ?? 0));
        }
      }
      const gain = Number.isFinite(faster) ? clip((here - faster) / here, -1, 1) : -1;
      if (c.speed === bestFeasibleSpeed) {
        bestGain = Math.max(bestGain, gain);
      }
      row[12] = c.speed / fastest;
      row[13] = clip(Math.log(here / unit) / 3, -2, 2);
      row[14] = c.freeGpus.length / Math.max(1, c.totalGpus);
      row[15] = (c.freeGpus.length - job.gpus) / Math.max(1, c.totalGpus);
      row[16] = c.totalGpus / largest;
      row[17] = c.speed === bestFeasibleSpeed ? 1 : 0;
      row[18] = gain;
      row[19] = c.runningJobs / Math.max(1, c.maxJobs);
      hosts.push(c.host);
    });
    if (wait.allowWait) {
      const row = rows.subarray(feasible.length * FEATURE_COUNT);
      row.set(shared);
      row[11] = 1;
      row[20] = bestFeasibleSpeed / fastest;
      row[21] = bestGain;
      hosts.push(undefined);
    }
    return { rows, count, hosts };
  }
}

/**
 * Which job endings the user is told about, and how many at once (issue 16: notifications). Pure: the
 * UI feeds it each ending as the dispatcher records it and asks, on its own timer, what to show; the
 * unit tests drive it with plain numbers for the clock.
 *
 * Not spamming is the point of the design: endings are collected for a short window and shown as one
 * notice (one job: its own notice with Open Log and Re-run; several: "5 jobs ended: 1 failed, 4
 * succeeded"), notices are at least a minimum gap apart, and a sweep's trials are held until the sweep has
 * nothing queued or running any more, so a 40-trial sweep makes one notice, not 40.
 */
import type { Job } from './job';

/** `trainq.notifications.jobEnd`: which endings notify. */
export type JobEndSetting = 'failures' | 'all' | 'off';
export const JOB_END_SETTINGS: readonly JobEndSetting[] = ['failures', 'all', 'off'];

/** How a job ended, as a notice tells it. */
export type EndingKind = 'succeeded' | 'failed' | 'lost' | 'stoppedEarly';
/** The order counts are listed in a summary: what needs attention first. */
export const ENDING_KINDS: readonly EndingKind[] = ['failed', 'lost', 'succeeded', 'stoppedEarly'];

/**
 * The ending a notice would report, or undefined for one nobody is told about: a cancel the user asked
 * for (or a dependency that failed: its own failure was reported), a job that never started (the
 * could-not-start error already said so), a job that has not ended.
 */
export function endingKind(job: Job): EndingKind | undefined {
  if (job.startedAt === undefined) {
    return undefined;
  }
  switch (job.state) {
    case 'succeeded':
    case 'failed':
    case 'lost':
      return job.state;
    case 'cancelled':
      // An early-stopping rule's stop is an outcome of the sweep, not something the user did.
      return job.stoppedEarly !== undefined ? 'stoppedEarly' : undefined;
    default:
      return undefined;
  }
}

export function isFailure(kind: EndingKind): boolean {
  return kind === 'failed' || kind === 'lost';
}

/** Whether an ending of this kind notifies under the setting (focus aside). */
export function notifies(kind: EndingKind, setting: JobEndSetting): boolean {
  return setting === 'all' || (setting === 'failures' && isFailure(kind));
}

export type NoticeSeverity = 'error' | 'warning' | 'info';

/** A failure is an error, a lost job (its host went away) a warning, anything else information. */
export function severityOf(kinds: Iterable<EndingKind>): NoticeSeverity {
  let severity: NoticeSeverity = 'info';
  for (const kind of kinds) {
    if (kind === 'failed') {
      return 'error';
    }
    if (kind === 'lost') {
      severity = 'warning';
    }
  }
  return severity;
}

export type JobEndNotice =
  /** One job: told by name, with Open Log and Re-run. */
  | { kind: 'one'; job: Job; ending: EndingKind; severity: NoticeSeverity }
  /** Several: counted, with Show Job Queue; `sweepId` when they are all trials of one sweep. */
  | { kind: 'many'; jobs: Job[]; counts: Partial<Record<EndingKind, number>>; severity: NoticeSeverity; sweepId?: string };

export interface NoticeContext {
  setting: JobEndSetting;
  /** `trainq.notifications.onlyWhenUnfocused`. */
  onlyWhenUnfocused: boolean;
  /** Whether the VS Code window has focus now. */
  focused: boolean;
  /** True when trainq.retries queued the job again: its retry reports the outcome, not this attempt. */
  retried: (job: Job) => boolean;
}

/** What one batch of endings shows: at most one notice, or nothing. */
export function planJobEndNotice(ended: readonly Job[], ctx: NoticeContext): JobEndNotice | undefined {
  if (ctx.setting === 'off' || (ctx.onlyWhenUnfocused && ctx.focused)) {
    return undefined;
  }
  const told = new Map<string, { job: Job; ending: EndingKind }>();
  for (const job of ended) {
    const ending = endingKind(job);
    if (ending !== undefined && notifies(ending, ctx.setting) && !(isFailure(ending) && ctx.retried(job))) {
      told.set(job.id, { job, ending });
    }
  }
  const list = [...told.values()];
  if (list.length === 0) {
    return undefined;
  }
  const severity = severityOf(list.map((e) => e.ending));
  if (list.length === 1) {
    return { kind: 'one', job: list[0].job, ending: list[0].ending, severity };
  }
  const counts: Partial<Record<EndingKind, number>> = {};
  for (const { ending } of list) {
    counts[ending] = (counts[ending] ?? 0) + 1;
  }
  const sweeps = new Set(list.map((e) => e.job.sweep?.sweepId));
  const sweepId = sweeps.size === 1 ? [...sweeps][0] : undefined;
  return { kind: 'many', jobs: list.map((e) => e.job), counts, severity, ...(sweepId !== undefined && { sweepId }) };
}

export interface BatchTiming {
  /** How long endings are collected after the first one before they are shown together. */
  windowMs: number;
  /** The least time between two notices. */
  minGapMs: number;
}

export const DEFAULT_BATCH_TIMING: BatchTiming = { windowMs: 2_000, minGapMs: 15_000 };

/**
 * Endings waiting to be shown. `busySweep` says whether a sweep still has trials queued or running:
 * its ended trials wait for it (a sweep's record that is gone is not busy).
 */
export class JobEndBatcher {
  private pending: Array<{ job: Job; at: number }> = [];
  private lastShownAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly timing: BatchTiming = DEFAULT_BATCH_TIMING) {}

  get size(): number {
    return this.pending.length;
  }

  /** Records an ending; the same job twice counts once. */
  add(job: Job, now: number): void {
    if (!this.pending.some((p) => p.job.id === job.id)) {
      this.pending.push({ job, at: now });
    }
  }

  /** When take may next return endings; undefined while there is nothing (or only held trials) to show. */
  dueAt(busySweep: (sweepId: string) => boolean): number | undefined {
    const ready = this.pending.filter((p) => !held(p.job, busySweep));
    if (ready.length === 0) {
      return undefined;
    }
    const first = Math.min(...ready.map((p) => p.at));
    return Math.max(first + this.timing.windowMs, this.lastShownAt + this.timing.minGapMs);
  }

  /** The endings due at `now`, removed from the batch; none before dueAt. */
  take(now: number, busySweep: (sweepId: string) => boolean): Job[] {
    const due = this.dueAt(busySweep);
    if (due === undefined || due > now) {
      return [];
    }
    const taken = this.pending.filter((p) => !held(p.job, busySweep));
    this.pending = this.pending.filter((p) => held(p.job, busySweep));
    return taken.map((p) => p.job);
  }

  /** A notice was shown: the next one waits at least minGapMs. */
  noteShown(now: number): void {
    this.lastShownAt = now;
  }
}

function held(job: Job, busySweep: (sweepId: string) => boolean): boolean {
  return job.sweep !== undefined && busySweep(job.sweep.sweepId);
}

/** Sweeps that still have trials to come: those with a trial job queued or running (one pass over the jobs). */
export function busySweeps(jobs: readonly Job[]): Set<string> {
  const busy = new Set<string>();
  for (const j of jobs) {
    if (j.sweep && (j.state === 'queued' || j.state === 'running')) {
      busy.add(j.sweep.sweepId);
    }
  }
  return busy;
}

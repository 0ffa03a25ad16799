/**
 * The Job Queue's ETA plan, computed off the refresh path: a change only schedules a computation (at
 * most one a second, each a few milliseconds for hundreds of jobs), and the tree reads the last
 * result. Editor-free, with injectable timers, so the throttling is unit-tested.
 */
import type { EtaPlan } from '../core/etaPlanner';
import { Emitter, type Disposable } from '../core/emitter';

export interface EtaTimers {
  setTimeout(run: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
}

const REAL_TIMERS: EtaTimers = {
  setTimeout: (run, ms) => setTimeout(run, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  now: () => Date.now(),
};

export class EtaCache implements Disposable {
  private current: EtaPlan | undefined;
  private lastRunMs = -Infinity;
  private pending: unknown;
  private readonly updated = new Emitter<void>();
  /** Fires after each new plan, so the views redraw from it. */
  readonly onDidUpdate = this.updated.event;

  constructor(
    private readonly compute: () => EtaPlan,
    private readonly onError: (e: unknown) => void = () => undefined,
    private readonly minIntervalMs = 1000,
    private readonly timers: EtaTimers = REAL_TIMERS,
  ) {}

  /** The last plan computed; undefined before the first. */
  get plan(): EtaPlan | undefined {
    return this.current;
  }

  /** Something changed: plan again soon, but never twice within minIntervalMs; bursts make one plan. */
  invalidate(): void {
    if (this.pending !== undefined) {
      return;
    }
    const wait = Math.max(0, this.lastRunMs + this.minIntervalMs - this.timers.now());
    this.pending = this.timers.setTimeout(() => this.run(), wait);
  }

  private run(): void {
    this.pending = undefined;
    this.lastRunMs = this.timers.now();
    try {
      this.current = this.compute();
    } catch (e) {
      // An ETA is a nicety: a failure must not break the view; the plan stays as it was.
      this.onError(e);
      return;
    }
    this.updated.fire();
  }

  dispose(): void {
    if (this.pending !== undefined) {
      this.timers.clearTimeout(this.pending);
      this.pending = undefined;
    }
    this.updated.dispose();
  }
}

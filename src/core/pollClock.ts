/**
 * The dispatcher's periodic clock: runs a task every so often, more often while the window is focused
 * than in the background (or not at all there), and never two runs at once. Kept apart from the
 * dispatcher so the timing rules are tested with fake timers and no hosts.
 */
import type { Disposable } from './emitter';

export interface Timers {
  setInterval(run: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

const REAL_TIMERS: Timers = {
  setInterval: (run, ms) => setInterval(run, ms),
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
};

export class PollClock implements Disposable {
  private intervals: { focusedMs: number; backgroundMs?: number } | undefined;
  private handle: unknown;
  private focused = true;
  private running = false;

  constructor(
    /** The task; a failure is the task's to report, the clock only keeps going. */
    private readonly task: () => Promise<void>,
    private readonly timers: Timers = REAL_TIMERS,
  ) {}

  /** True while started. */
  get started(): boolean {
    return this.intervals !== undefined;
  }

  /** The interval in use now; undefined when stopped, or in the background without a background interval. */
  get intervalMs(): number | undefined {
    return this.focused ? this.intervals?.focusedMs : this.intervals?.backgroundMs;
  }

  /**
   * Every `focusedMs` while the window is focused, every `backgroundMs` while it is not (never, when
   * undefined). The first start runs the task at once; a later call only changes the intervals.
   */
  start(focusedMs: number, backgroundMs?: number): void {
    const first = !this.started;
    this.intervals = { focusedMs, backgroundMs };
    this.schedule();
    if (first && this.intervalMs !== undefined) {
      void this.run();
    }
  }

  /** Figures are stale after the window was in the background: back in focus, the task runs at once. */
  setFocused(focused: boolean): void {
    if (focused === this.focused) {
      return;
    }
    this.focused = focused;
    if (this.started) {
      this.schedule();
      if (focused) {
        void this.run();
      }
    }
  }

  stop(): void {
    this.clear();
    this.intervals = undefined;
  }

  private schedule(): void {
    this.clear();
    const ms = this.intervalMs;
    if (ms !== undefined) {
      this.handle = this.timers.setInterval(() => void this.run(), ms);
    }
  }

  private clear(): void {
    if (this.handle !== undefined) {
      this.timers.clearInterval(this.handle);
      this.handle = undefined;
    }
  }

  /** A slow run (nvidia-smi can take seconds when the driver is busy) makes the next ticks skip, not pile up. */
  private async run(): Promise<void> {
    if (this.running) {
      return;
    }
    this.running = true;
    try {
      await this.task();
    } catch {
      // The task reports its own failures; the next tick tries again.
    } finally {
      this.running = false;
    }
  }

  dispose(): void {
    this.stop();
  }
}

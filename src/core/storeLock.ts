/**
 * The dispatch lock: when two VS Code windows open the same workspace, only the window holding
 * this lock schedules jobs; the other shows the queue read-only and keeps trying, so it takes
 * over when the first window closes, crashes or hangs.
 *
 * The lock is a file created exclusively. Its holder rewrites a heartbeat into it; a lock whose
 * process is gone (same host), whose heartbeat is older than `staleMs`, or whose heartbeat has not
 * changed for `staleMs` of the observer's own monotonic clock (so a heartbeat stamped in the future by
 * a clock that stepped back cannot wedge it) may be taken over. Each holder gets the next epoch and a
 * fence folder (dispatchFence.ts): a holder that was stopped past the takeover and resumes can never
 * write again, finds out at its next write, and goes read-only.
 */
import { randomUUID } from 'node:crypto';
import { promises as fs, readFileSync, rmSync, unlinkSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { writeSynced } from './durableFile';
import { FencedError, fenceDirFor, fenceExists, highestEpoch, recordEpoch, removeFence, retireFences } from './dispatchFence';
import type { WriteFence } from './dispatchFence';
import { Emitter } from './emitter';
import type { Disposable, Event } from './emitter';
import type { Logger } from './logger';
import { parseInfo, readLock, StaleJudge, takeGuard } from './lockFile';
import type { LockFileIdentity, LockInfo } from './lockFile';


export interface DispatchLockOptions {
  /** Identifies this holder; random when not given. */
  ownerId?: string;
  /** A heartbeat older than this makes the lock stale. */
  staleMs?: number;
  heartbeatMs?: number;
  now?: () => number;
  /** A clock that never steps (ms); how long a lock has looked unchanged is measured with it. */
  monotonicNow?: () => number;
  logger: Logger;
}

const DEFAULT_STALE_MS = 30_000;
const DEFAULT_HEARTBEAT_MS = 10_000;

export class DispatchLock implements Disposable, WriteFence {
  readonly ownerId: string;
  private readonly staleMs: number;
  private readonly heartbeatMs: number;
  private readonly now: () => number;
  private readonly logger: Logger;
  /** The lock file as last seen, and when (monotonic): a lock unchanged for staleMs is stale, whatever its clock says. */
  private readonly judge: StaleJudge;
  private epochValue = 0;
  private fenceDir: string | undefined;
  private readonly heldEmitter = new Emitter<boolean>();
  /** Fires true when this window starts dispatching and false when it stops (released or lost). */
  readonly onDidChangeHeld: Event<boolean> = this.heldEmitter.event;
  private isHeld = false;
  private acquiredAt = 0;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private acquiring: Promise<boolean> | undefined;
  private refreshing: Promise<boolean> | undefined;
  private disposed = false;

  private constructor(
    readonly file: string,
    options: DispatchLockOptions,
  ) {
    this.ownerId = options.ownerId ?? randomUUID();
    this.staleMs = options.staleMs ?? DEFAULT_STALE_MS;
    this.heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
    this.now = options.now ?? Date.now;
    this.logger = options.logger;
    this.judge = new StaleJudge(this.staleMs, this.now, options.monotonicNow ?? (() => performance.now()));
  }

  static create(file: string, options: DispatchLockOptions): DispatchLock {
    return new DispatchLock(file, options);
  }

  get held(): boolean {
    return this.isHeld;
  }

  /** This holder's generation (0 before the first acquisition). */
  get epoch(): number {
    return this.epochValue;
  }

  tempDir(): string | undefined {
    return this.isHeld ? this.fenceDir : undefined;
  }

  assertCurrent(): void {
    if (!this.isHeld) {
      throw new FencedError();
    }
    if (!fenceExists(this.fenceDir)) {
      this.lost('its fence folder was retired');
      throw new FencedError();
    }
  }

  /** A writer found our fence gone: another window took over while this one was stopped. */
  lost(reason: string): void {
    if (!this.isHeld) {
      return;
    }
    this.logger.warn(`TrainQ lost the dispatch lock (${reason}); another window took over and this window is read-only.`);
    this.fenceDir = undefined;
    this.setHeld(false);
  }

  /** Takes the lock if it is free or stale; resolves false when another live holder has it. */
  tryAcquire(): Promise<boolean> {
    if (this.disposed) {
      return Promise.resolve(false);
    }
    if (this.isHeld) {
      return Promise.resolve(true);
    }
    this.acquiring ??= this.acquire().finally(() => (this.acquiring = undefined));
    return this.acquiring;
  }

  /** The current holder as recorded in the lock file, whoever it is. */
  async owner(): Promise<LockInfo | undefined> {
    const read = await readLock(this.file);
    return read.kind === 'ok' ? read.info : undefined;
  }

  /**
   * Keeps trying every `intervalMs` while not holding the lock: a read-only window uses it to take
   * over when the dispatching window goes away, and a window that lost the lock to get it back.
   */
  startRetrying(intervalMs: number): Disposable {
    this.stopRetrying();
    if (this.disposed) {
      return { dispose: () => undefined };
    }
    const timer = setInterval(() => {
      if (!this.isHeld) {
        this.tryAcquire().catch((err) => this.logger.warn(`TrainQ could not take the dispatch lock: ${err}`));
      }
    }, intervalMs);
    timer.unref();
    this.retryTimer = timer;
    return {
      dispose: () => {
        if (this.retryTimer === timer) {
          this.stopRetrying();
        }
      },
    };
  }

  /**
   * The heartbeat: confirms the file still names us and rewrites its heartbeat. Returns false,
   * and fires onDidChangeHeld(false), when someone else has taken the lock meanwhile.
   */
  refresh(): Promise<boolean> {
    // One at a time, and release() waits for it, so a late heartbeat cannot recreate a released lock.
    this.refreshing ??= this.heartbeat().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async heartbeat(): Promise<boolean> {
    if (!this.isHeld) {
      return false;
    }
    const read = await readLock(this.file);
    if (read.kind !== 'ok' || read.info.ownerId !== this.ownerId) {
      const by = read.kind === 'ok' ? `pid ${read.info.pid} on ${read.info.hostname}` : 'nobody';
      this.lost(`now held by ${by}`);
      return false;
    }
    // Written in our fence folder and renamed out: if a window took over since the read above, the
    // folder is gone and the rename fails instead of overwriting the new holder's lock.
    const fence = this.fenceDir;
    if (!fenceExists(fence)) {
      this.lost('its fence folder was retired');
      return false;
    }
    const tmp = path.join(fence!, 'lock.tmp');
    try {
      await fs.writeFile(tmp, JSON.stringify(this.info(this.now())));
      await fs.rename(tmp, this.file);
      if (this.disposed) {
        // dispose() is synchronous and could not wait for this write; undo it.
        await fs.rm(this.file, { force: true });
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !fenceExists(fence)) {
        this.lost('another window retired its fence while this one was stopped');
        return false;
      }
      await fs.rm(tmp, { force: true }).catch(() => undefined);
      this.logger.warn(`TrainQ could not refresh the dispatch lock: ${err}`);
    }
    return this.isHeld;
  }

  async release(): Promise<void> {
    if (!this.isHeld) {
      return;
    }
    this.setHeld(false);
    await this.refreshing;
    // The fence goes first: from here on no write of ours can land, even one already under way.
    if (this.fenceDir) {
      await removeFence(this.fenceDir);
      this.fenceDir = undefined;
    }
    const read = await readLock(this.file);
    if (read.kind === 'ok' && read.info.ownerId === this.ownerId) {
      await fs.rm(this.file, { force: true });
    }
  }

  /**
   * Stops every timer and releases the lock if we own it. Synchronous on purpose: VS Code does
   * not wait for async work while a window shuts down, and a lock left behind would make the
   * other window wait for staleness before it can dispatch. Listeners are dropped first: a
   * window being torn down must not react as if it had lost the lock (go read-only, retry).
   */
  dispose(): void {
    if (this.disposed) {
      return;
    }
    this.disposed = true;
    this.heldEmitter.dispose();
    this.stopRetrying();
    if (this.isHeld) {
      try {
        if (this.fenceDir) {
          rmSync(this.fenceDir, { recursive: true, force: true });
          this.fenceDir = undefined;
        }
        const info = parseInfo(readFileSync(this.file, 'utf8'));
        if (info?.ownerId === this.ownerId) {
          unlinkSync(this.file);
        }
      } catch (err) {
        this.logger.debug(`Dispatch lock not removed: ${err}`);
      }
      this.setHeld(false);
    }
  }

  private async acquire(): Promise<boolean> {
    // A few rounds cover losing a race: the file can vanish or be replaced between our steps.
    for (let round = 0; round < 3; round++) {
      const epoch = (await this.knownEpoch()) + 1;
      if (await this.createExclusive(epoch)) {
        if (this.disposed || !(await this.raiseFence(epoch))) {
          await fs.rm(this.file, { force: true });
          return false;
        }
        this.setHeld(true);
        return true;
      }
      const current = await readLock(this.file);
      if (current.kind === 'missing') {
        continue;
      }
      const staleWhy = this.judge.staleReason(current);
      if (!staleWhy) {
        return false;
      }
      if (!(await this.removeStale(current))) {
        return false;
      }
      this.logger.info(`TrainQ removed a stale dispatch lock (${staleWhy}).`);
    }
    return false;
  }

  /** The highest epoch on record: the fence folders, the epoch file and the lock file itself. */
  private async knownEpoch(): Promise<number> {
    const read = await readLock(this.file).catch(() => ({ kind: 'missing' }) as const);
    const inLock = read.kind === 'ok' ? (read.info.epoch ?? 0) : 0;
    return Math.max(inLock, await highestEpoch(this.file));
  }

  /**
   * Just created the lock: retire what earlier holders left (a crashed holder's fence) and create
   * ours. False when the lock file was replaced meanwhile (we lost a race and must not hold it).
   */
  private async raiseFence(epoch: number): Promise<boolean> {
    const fence = fenceDirFor(this.file, epoch, this.ownerId);
    await retireFences(this.file, undefined, this.logger);
    await fs.mkdir(fence);
    const read = await readLock(this.file);
    if (read.kind !== 'ok' || read.info.ownerId !== this.ownerId) {
      await removeFence(fence);
      return false;
    }
    this.epochValue = epoch;
    this.fenceDir = fence;
    await recordEpoch(this.file, epoch);
    return true;
  }

  private async createExclusive(epoch: number): Promise<boolean> {
    const now = this.now();
    this.acquiredAt = now;
    this.epochValue = epoch;
    try {
      // A write that fails removes the file it created: an empty lock file would block the other
      // window until it turns stale.
      await writeSynced(this.file, JSON.stringify(this.info(now)), 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        return false;
      }
      throw err;
    }
    return true;
  }

  /**
   * Deletes the stale lock we judged, under a short-lived guard file so that of several windows
   * recovering at once only one deletes. Under the guard the lock file is compared with what was
   * judged: if another window already recovered it and created a fresh lock, that one is kept.
   * Returns false when another window is recovering right now.
   */
  private async removeStale(judged: LockFileIdentity): Promise<boolean> {
    const guard = `${this.file}.recovering`;
    if (!(await takeGuard(guard, this.staleMs, this.now()))) {
      return false;
    }
    try {
      const now = await readLock(this.file);
      if (now.kind !== 'missing' && now.raw === judged.raw && now.mtimeMs === judged.mtimeMs && now.ino === judged.ino) {
        // Fences first: the stale holder may be stopped, not dead, and must not write once it resumes.
        const retired = await retireFences(this.file, undefined, this.logger);
        if (retired > 0) {
          this.logger.info(`TrainQ fenced off the previous dispatcher (${retired} fence folder${retired === 1 ? '' : 's'} retired).`);
        }
        if (now.kind === 'notFile') {
          const aside = `${this.file}.damaged-${new Date(this.now()).toISOString().replace(/[:.]/g, '-')}`;
          await fs.rename(this.file, aside);
          this.logger.warn(`A folder was in the way of TrainQ's dispatch lock; it was moved to ${path.basename(aside)}.`);
        } else {
          await fs.rm(this.file, { force: true });
        }
      }
      return true;
    } finally {
      await fs.rm(guard, { force: true });
    }
  }

  private info(heartbeatAt: number): LockInfo {
    return { pid: process.pid, hostname: os.hostname(), ownerId: this.ownerId, acquiredAt: this.acquiredAt, heartbeatAt, epoch: this.epochValue };
  }

  private setHeld(held: boolean): void {
    if (held === this.isHeld) {
      return;
    }
    this.isHeld = held;
    if (held) {
      const timer = setInterval(() => {
        this.refresh().catch((err) => this.logger.warn(`TrainQ could not refresh the dispatch lock: ${err}`));
      }, this.heartbeatMs);
      timer.unref();
      this.heartbeatTimer = timer;
    } else {
      clearInterval(this.heartbeatTimer);
      this.heartbeatTimer = undefined;
    }
    this.heldEmitter.fire(held);
  }

  private stopRetrying(): void {
    clearInterval(this.retryTimer);
    this.retryTimer = undefined;
  }
}


/**
 * The dispatch lock: when two VS Code windows open the same workspace, only the window holding
 * this lock schedules jobs; the other shows the queue read-only and keeps trying, so it takes
 * over when the first window closes, crashes or hangs.
 *
 * The lock is a file created exclusively. Its holder rewrites a heartbeat into it; a lock whose
 * process is gone (same host) or whose heartbeat is older than `staleMs` may be taken over.
 */
import { randomUUID } from 'node:crypto';
import { promises as fs, readFileSync, unlinkSync } from 'node:fs';
import * as os from 'node:os';
import { Emitter } from './emitter';
import type { Disposable, Event } from './emitter';
import type { Logger } from './logger';

export interface LockInfo {
  pid: number;
  hostname: string;
  ownerId: string;
  /** Epoch ms. */
  acquiredAt: number;
  /** Epoch ms of the holder's last refresh. */
  heartbeatAt: number;
}

export interface DispatchLockOptions {
  /** Identifies this holder; random when not given. */
  ownerId?: string;
  /** A heartbeat older than this makes the lock stale. */
  staleMs?: number;
  heartbeatMs?: number;
  now?: () => number;
  logger: Logger;
}

const DEFAULT_STALE_MS = 30_000;
const DEFAULT_HEARTBEAT_MS = 10_000;

let tempSeq = 0;

/** Whether a process with this pid exists on this machine. EPERM means it exists but isn't ours. */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) {
    return false;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** What a lock file held when read; together these tell one lock file from its replacement. */
interface LockFileIdentity {
  raw: string;
  mtimeMs: number;
  ino: number;
}

type LockRead =
  | { kind: 'missing' }
  | ({ kind: 'ok'; info: LockInfo } & LockFileIdentity)
  | ({ kind: 'garbage' } & LockFileIdentity);

export class DispatchLock implements Disposable {
  readonly ownerId: string;
  private readonly staleMs: number;
  private readonly heartbeatMs: number;
  private readonly now: () => number;
  private readonly logger: Logger;
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
  }

  static create(file: string, options: DispatchLockOptions): DispatchLock {
    return new DispatchLock(file, options);
  }

  get held(): boolean {
    return this.isHeld;
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
    const read = await this.read();
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
    const read = await this.read();
    if (read.kind !== 'ok' || read.info.ownerId !== this.ownerId) {
      const by = read.kind === 'ok' ? `pid ${read.info.pid} on ${read.info.hostname}` : 'nobody';
      this.logger.warn(`TrainQ lost the dispatch lock (now held by ${by}); this window is read-only.`);
      this.setHeld(false);
      return false;
    }
    const tmp = `${this.file}.tmp-${process.pid}-${++tempSeq}`;
    try {
      await fs.writeFile(tmp, JSON.stringify(this.info(this.now())));
      await fs.rename(tmp, this.file);
      if (this.disposed) {
        // dispose() is synchronous and could not wait for this write; undo it.
        await fs.rm(this.file, { force: true });
      }
    } catch (err) {
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
    const read = await this.read();
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
      if (await this.createExclusive()) {
        if (this.disposed) {
          await fs.rm(this.file, { force: true });
          return false;
        }
        this.setHeld(true);
        return true;
      }
      const current = await this.read();
      if (current.kind === 'missing') {
        continue;
      }
      const staleWhy = this.staleReason(current);
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

  private async createExclusive(): Promise<boolean> {
    const now = this.now();
    this.acquiredAt = now;
    let handle: fs.FileHandle | undefined;
    try {
      handle = await fs.open(this.file, 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        return false;
      }
      throw err;
    }
    try {
      await handle.writeFile(JSON.stringify(this.info(now)));
      await handle.close();
    } catch (err) {
      // An empty lock file would block the other window until it turns stale.
      await handle.close().catch(() => undefined);
      await fs.rm(this.file, { force: true });
      throw err;
    }
    return true;
  }

  private staleReason(read: Exclude<LockRead, { kind: 'missing' }>): string | undefined {
    const now = this.now();
    if (read.kind === 'garbage') {
      // A holder may be between creating the file and writing it; only an old unreadable file is stale.
      return now - read.mtimeMs > this.staleMs ? 'unreadable lock file' : undefined;
    }
    const { info } = read;
    if (info.hostname === os.hostname() && !isProcessAlive(info.pid)) {
      return `process ${info.pid} is gone`;
    }
    if (now - info.heartbeatAt > this.staleMs) {
      return `no heartbeat from pid ${info.pid} on ${info.hostname} for ${Math.round((now - info.heartbeatAt) / 1000)} s`;
    }
    return undefined;
  }

  /**
   * Deletes the stale lock we judged, under a short-lived guard file so that of several windows
   * recovering at once only one deletes. Under the guard the lock file is compared with what was
   * judged: if another window already recovered it and created a fresh lock, that one is kept.
   * Returns false when another window is recovering right now.
   */
  private async removeStale(judged: LockFileIdentity): Promise<boolean> {
    const guard = `${this.file}.recovering`;
    if (!(await this.takeGuard(guard))) {
      return false;
    }
    try {
      const now = await this.read();
      if (now.kind !== 'missing' && now.raw === judged.raw && now.mtimeMs === judged.mtimeMs && now.ino === judged.ino) {
        await fs.rm(this.file, { force: true });
      }
      return true;
    } finally {
      await fs.rm(guard, { force: true });
    }
  }

  private async takeGuard(guard: string): Promise<boolean> {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await (await fs.open(guard, 'wx')).close();
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw err;
        }
      }
      // A guard is held for milliseconds; an old one was left by a window that died while recovering.
      const stat = await fs.stat(guard).catch(() => undefined);
      if (stat && this.now() - stat.mtimeMs <= this.staleMs) {
        return false;
      }
      await fs.rm(guard, { force: true });
    }
    return false;
  }

  private async read(): Promise<LockRead> {
    let identity: LockFileIdentity;
    try {
      // Read through one handle so the content, mtime and inode all belong to the same file.
      const handle = await fs.open(this.file, 'r');
      try {
        const [raw, stat] = await Promise.all([handle.readFile('utf8'), handle.stat()]);
        identity = { raw, mtimeMs: stat.mtimeMs, ino: stat.ino };
      } finally {
        await handle.close();
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        return { kind: 'missing' };
      }
      throw err;
    }
    const info = parseInfo(identity.raw);
    return info ? { kind: 'ok', info, ...identity } : { kind: 'garbage', ...identity };
  }

  private info(heartbeatAt: number): LockInfo {
    return { pid: process.pid, hostname: os.hostname(), ownerId: this.ownerId, acquiredAt: this.acquiredAt, heartbeatAt };
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

function parseInfo(raw: string): LockInfo | undefined {
  try {
    const value = JSON.parse(raw) as Partial<LockInfo> | null;
    if (
      value &&
      typeof value.pid === 'number' &&
      typeof value.hostname === 'string' &&
      typeof value.ownerId === 'string' &&
      typeof value.acquiredAt === 'number' &&
      typeof value.heartbeatAt === 'number'
    ) {
      return value as LockInfo;
    }
  } catch {
    // Unparseable: the caller treats it as garbage.
  }
  return undefined;
}

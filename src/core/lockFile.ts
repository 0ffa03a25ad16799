/**
 * The dispatch lock's file: what it records, reading it as one consistent snapshot, and the guard
 * used while a stale lock is removed. storeLock.ts decides when to take, keep and give up the lock.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';

export interface LockInfo {
  pid: number;
  hostname: string;
  ownerId: string;
  /** Epoch ms. */
  acquiredAt: number;
  /** Epoch ms of the holder's last refresh. */
  heartbeatAt: number;
  /** The holder's generation: one more than any holder before it (0 in locks of older versions). */
  epoch?: number;
}

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
export interface LockFileIdentity {
  raw: string;
  mtimeMs: number;
  ino: number;
}

export type LockRead =
  | { kind: 'missing' }
  | ({ kind: 'ok'; info: LockInfo } & LockFileIdentity)
  | ({ kind: 'garbage' } & LockFileIdentity)
  /** Something that is not a file (a directory) sits at the lock's path. */
  | ({ kind: 'notFile' } & LockFileIdentity);

/** Reads the lock through one handle, so content, mtime and inode all belong to the same file. */
export async function readLock(file: string): Promise<LockRead> {
  let identity: LockFileIdentity;
  let isFile = true;
  try {
    const handle = await fs.open(file, 'r');
    try {
      const stat = await handle.stat();
      isFile = stat.isFile();
      const raw = isFile ? await handle.readFile('utf8') : '';
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
  if (!isFile) {
    return { kind: 'notFile', ...identity };
  }
  const info = parseInfo(identity.raw);
  return info ? { kind: 'ok', info, ...identity } : { kind: 'garbage', ...identity };
}

/**
 * A short-lived guard file: of several windows recovering one stale lock at once only the one holding
 * it deletes. An old guard was left by a window that died while recovering.
 */
export async function takeGuard(guard: string, staleMs: number, now: number): Promise<boolean> {
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
    if (stat && now - stat.mtimeMs <= staleMs) {
      return false;
    }
    await fs.rm(guard, { force: true });
  }
  return false;
}

/**
 * Decides whether a lock another window holds may be taken over. Besides a gone process and an old
 * heartbeat it watches the file itself: a lock unchanged for staleMs of this window's monotonic clock
 * is stale whatever its timestamp says, so a heartbeat from a clock that stepped back cannot wedge it.
 */
export class StaleJudge {
  /** The lock file as last seen, and when (monotonic ms). */
  private lastSeen: { raw: string; ino: number; at: number } | undefined;

  constructor(
    private readonly staleMs: number,
    private readonly now: () => number,
    private readonly monotonicNow: () => number,
  ) {}

  staleReason(read: Exclude<LockRead, { kind: 'missing' }>): string | undefined {
    const now = this.now();
    if (read.kind === 'notFile') {
      return 'something that is not a lock file is at its path';
    }
    const unchangedMs = this.unchangedFor(read);
    if (read.kind === 'garbage') {
      // A holder may be between creating the file and writing it; only an old unreadable file is stale.
      return now - read.mtimeMs > this.staleMs || unchangedMs > this.staleMs ? 'unreadable lock file' : undefined;
    }
    const { info } = read;
    if (info.hostname === os.hostname() && !isProcessAlive(info.pid)) {
      return `process ${info.pid} is gone`;
    }
    if (now - info.heartbeatAt > this.staleMs) {
      return `no heartbeat from pid ${info.pid} on ${info.hostname} for ${Math.round((now - info.heartbeatAt) / 1000)} s`;
    }
    if (unchangedMs > this.staleMs) {
      // Its timestamp looks fresh (or lies in the future: a clock stepped back), but nobody has touched it.
      return `the lock of pid ${info.pid} on ${info.hostname} has not changed for ${Math.round(unchangedMs / 1000)} s`;
    }
    return undefined;
  }

  /** How long (monotonic ms) the lock file has looked exactly like this to us; 0 on a first look or a change. */
  private unchangedFor(read: LockFileIdentity): number {
    const at = this.monotonicNow();
    if (!this.lastSeen || this.lastSeen.raw !== read.raw || this.lastSeen.ino !== read.ino) {
      this.lastSeen = { raw: read.raw, ino: read.ino, at };
      return 0;
    }
    return at - this.lastSeen.at;
  }

}

export function parseInfo(raw: string): LockInfo | undefined {
  try {
    const value = JSON.parse(raw) as Partial<LockInfo> | null;
    if (
      value &&
      typeof value.pid === 'number' &&
      typeof value.hostname === 'string' &&
      typeof value.ownerId === 'string' &&
      typeof value.acquiredAt === 'number' &&
      typeof value.heartbeatAt === 'number' &&
      (value.epoch === undefined || (Number.isSafeInteger(value.epoch) && value.epoch >= 0))
    ) {
      return value as LockInfo;
    }
  } catch {
    // Unparseable: the caller treats it as garbage.
  }
  return undefined;
}

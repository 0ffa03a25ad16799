/**
 * Fencing for the dispatch lock. A lock with a stale-holder takeover cannot by itself stop a holder
 * that was stopped (SIGSTOP, a debugger, a suspended laptop, a blocked event loop) and resumes after
 * another window took over: whatever it checked before it stopped, its next write would land.
 *
 * So every write the holder makes to shared files (the store, the lock's heartbeat) is prepared in
 * the holder's own fence folder, `dispatch.lock.fence-<epoch>-<owner>`, and renamed out of it. A
 * window that takes over first renames every other fence folder away. A rename is one atomic step,
 * so a resumed writer's rename either happened before the takeover (and the new holder, which loads
 * only after retiring the fences, sees it) or fails with ENOENT (and the writer learns it lost).
 * There is no moment between a check and a write for a pause to fall into.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Logger } from './logger';

/** What writers that share the dispatch lock's files need from it. */
export interface WriteFence {
  /** The holder's fence folder, where temp files are written; undefined when this window does not hold the lock. */
  tempDir(): string | undefined;
  /** Throws FencedError unless this window still holds the lock; synchronous, for just before an irreversible act. */
  assertCurrent(): void;
  /** A writer found the fence folder gone: another window took over. */
  lost(reason: string): void;
}

/** A write or a dispatch refused because this window no longer holds the dispatch lock. */
export class FencedError extends Error {
  constructor(detail = '') {
    super(
      'Another VS Code window took over the TrainQ queue of this workspace (this window was not responding for a while)' +
        `${detail ? `: ${detail}` : ''}; the change was not saved and this window now shows the queue read-only.`,
    );
    this.name = 'FencedError';
  }
}

export function isFencedError(err: unknown): err is FencedError {
  return err instanceof FencedError;
}

const FENCE_INFIX = '.fence-';
const RETIRED_INFIX = '.retired-';
/** Left by versions that wrote the heartbeat's temp file beside the lock. */
const OLD_TEMP = /\.tmp-\d+-\d+$/;

export function fenceDirFor(lockFile: string, epoch: number, ownerId: string): string {
  return `${lockFile}${FENCE_INFIX}${epoch}-${ownerId.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 12)}`;
}

/** The epoch recorded in a fence folder's name, or undefined for other names. */
export function epochOfFence(lockFile: string, name: string): number | undefined {
  const prefix = path.basename(lockFile) + FENCE_INFIX;
  if (!name.startsWith(prefix)) {
    return undefined;
  }
  const epoch = Number(name.slice(prefix.length).split('-')[0]);
  return Number.isSafeInteger(epoch) && epoch >= 0 ? epoch : undefined;
}

/** The highest epoch any holder used, from the fence folders and the epoch file; 0 when none. */
export async function highestEpoch(lockFile: string): Promise<number> {
  let highest = 0;
  for (const name of await siblings(lockFile)) {
    highest = Math.max(highest, epochOfFence(lockFile, name) ?? 0);
  }
  const recorded = Number((await fs.readFile(epochFile(lockFile), 'utf8').catch(() => '')).trim());
  return Number.isSafeInteger(recorded) && recorded > 0 ? Math.max(highest, recorded) : highest;
}

/** Remembers the epoch so the next holder counts on from it even after the lock and fences are gone. */
export async function recordEpoch(lockFile: string, epoch: number): Promise<void> {
  await fs.writeFile(epochFile(lockFile), `${epoch}\n`).catch(() => undefined);
}

/**
 * Renames every fence folder but `keep` away (the step that cuts off a stopped holder), then deletes
 * them with what is left of earlier retirements and of old heartbeat temp files. Returns how many
 * fences were retired.
 */
export async function retireFences(lockFile: string, keep: string | undefined, logger: Logger): Promise<number> {
  const dir = path.dirname(lockFile);
  const base = path.basename(lockFile);
  let retired = 0;
  for (const name of await siblings(lockFile)) {
    const full = path.join(dir, name);
    if (full === keep) {
      continue;
    }
    if (epochOfFence(lockFile, name) !== undefined) {
      const aside = path.join(dir, `${base}${RETIRED_INFIX}${randomUUID()}`);
      try {
        await fs.rename(full, aside);
        retired++;
        await fs.rm(aside, { recursive: true, force: true });
      } catch (err) {
        // ENOENT: another window retired it first, which cuts the old holder off just the same.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
          throw err;
        }
      }
    } else if (name.startsWith(base + RETIRED_INFIX) || (name.startsWith(`${base}.tmp-`) && OLD_TEMP.test(name))) {
      await fs.rm(full, { recursive: true, force: true }).catch((err) => logger.debug(`Could not remove ${name}: ${err}`));
    }
  }
  return retired;
}

/** Removes this holder's own fence folder: after this no write of ours can land. */
export async function removeFence(fenceDir: string): Promise<void> {
  const aside = `${fenceDir}.gone-${randomUUID()}`.replace(FENCE_INFIX, RETIRED_INFIX);
  try {
    await fs.rename(fenceDir, aside);
  } catch {
    return; // already retired by a window that took over
  }
  await fs.rm(aside, { recursive: true, force: true }).catch(() => undefined);
}

export function fenceExists(fenceDir: string | undefined): boolean {
  return fenceDir !== undefined && existsSync(fenceDir);
}

function epochFile(lockFile: string): string {
  return `${lockFile}.epoch`;
}

async function siblings(lockFile: string): Promise<string[]> {
  const base = path.basename(lockFile);
  const names = await fs.readdir(path.dirname(lockFile)).catch(() => [] as string[]);
  return names.filter((n) => n.startsWith(`${base}.`));
}

/**
 * The workspace side of bringing outputs back: what is at each destination (never written through a
 * symlink or over a folder), content hashes of files that may be unchanged, and moving files from the
 * staging folder into place. Files first land in a staging folder beside their destination (same file
 * system, so each move is one rename): a copy cut off half-way leaves no half-written file in the
 * workspace, and a file that appeared meanwhile is not overwritten (a hard link refuses an existing name).
 */
import { createHash } from 'node:crypto';
import { constants as fsConstants, createReadStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { LocalOutputState, Placement } from '../../core/outputPlan';

/** Staging folders start so; the project sync leaves them out (one left by a copy cut off must not travel). */
export const STAGING_PREFIX = '.trainq-incoming-';

/** A folder of this job's incoming files inside the destination folder; hidden, removed after the move. */
export function stagingDirFor(destDir: string, jobId: string): string {
  return path.join(destDir, `${STAGING_PREFIX}${jobId}`);
}

async function lstat(p: string) {
  try {
    return await fs.lstat(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw e;
  }
}

/**
 * What is at `rel` below `root`, looking at each folder on the way: a symlink or a file where a folder
 * should be blocks the path (the copy would land outside `root`, or fail half-way).
 */
type Entry = { kind: 'absent' | 'link' | 'dir' | 'other' } | { kind: 'file'; size: number };
/** What lstat said about each path seen, shared by the look-ups of one transfer. */
export type LocalStateCache = Map<string, Entry>;

export async function localStateOf(root: string, rel: string, cache: LocalStateCache = new Map()): Promise<LocalOutputState> {
  const parts = rel.split('/');
  let at = root;
  for (let i = 0; i < parts.length; i++) {
    at = path.join(at, parts[i]);
    let entry = cache.get(at);
    if (entry === undefined) {
      const st = await lstat(at);
      entry = !st ? { kind: 'absent' } : st.isSymbolicLink() ? { kind: 'link' } : st.isDirectory() ? { kind: 'dir' } : st.isFile() ? { kind: 'file', size: st.size } : { kind: 'other' };
      cache.set(at, entry);
    }
    const here = parts.slice(0, i + 1).join('/');
    const last = i === parts.length - 1;
    if (entry.kind === 'absent') return { kind: 'absent' };
    if (entry.kind === 'link') return { kind: 'blocked', why: `${here} is a symbolic link` };
    if (entry.kind === 'other') return { kind: 'blocked', why: `${here} is not a regular file` };
    if (entry.kind === 'file') return last ? { kind: 'file', size: entry.size } : { kind: 'blocked', why: `${here} is a file here` };
    if (last) return { kind: 'blocked', why: `${here} is a folder here` };
  }
  return { kind: 'absent' };
}

export function sha256Of(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (c) => hash.update(c))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

/** Bytes under a folder (the staging folder while a copy runs: its size is the progress). */
export async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += await folderBytes(p);
    else if (e.isFile()) total += (await fs.lstat(p).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

export interface PlaceResult {
  written: string[];
  /** Destinations that changed under us (a file appeared, a symlink on the way): left alone. */
  blocked: string[];
}

/** Moves staged files into the workspace as planned, then removes the staging folder. */
export async function placeStaged(staging: string, destDir: string, moves: readonly Placement[]): Promise<PlaceResult> {
  const result: PlaceResult = { written: [], blocked: [] };
  // One lstat per folder, not per file; a destination that changes meanwhile still cannot be overwritten
  // by a fresh file (linkExclusive), and the folders on the way are this transfer's own.
  const stagedSeen: LocalStateCache = new Map();
  const destSeen: LocalStateCache = new Map();
  const made = new Set<string>();
  try {
    for (const move of moves) {
      const from = path.join(staging, ...move.path.split('/'));
      // What the host sent is checked again: a regular file reached through real folders only.
      const staged = await localStateOf(staging, move.path, stagedSeen);
      const dest = await localStateOf(destDir, move.to, destSeen);
      const destOk = dest.kind === 'absent' || (move.overwrite && dest.kind === 'file');
      if (staged.kind !== 'file' || !destOk) {
        result.blocked.push(move.to);
        continue;
      }
      const to = path.join(destDir, ...move.to.split('/'));
      if (!made.has(path.dirname(to))) {
        await fs.mkdir(path.dirname(to), { recursive: true });
        made.add(path.dirname(to));
      }
      if (move.overwrite) {
        await fs.rename(from, to);
      } else {
        if (!(await linkExclusive(from, to))) {
          result.blocked.push(move.to);
          continue;
        }
        await fs.unlink(from);
      }
      result.written.push(move.to);
    }
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
  }
  return result;
}

/** Creates `to` from `from` unless `to` exists (false then): a hard link, or a copy where links are not supported. */
async function linkExclusive(from: string, to: string): Promise<boolean> {
  try {
    await fs.link(from, to);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EXDEV') throw e;
  }
  try {
    await fs.copyFile(from, to, fsConstants.COPYFILE_EXCL);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

/**
 * The one durable way TrainQ writes a file, the way Slurm saves its state: write a temp file, fsync
 * it, keep the current file as a backup if asked, rename the temp file into place, fsync the folder.
 * A crash at any instant leaves the old file or the new one, never a mix, and a complete backup.
 * The job store, the agent's weights, the remote log's sidecar and the dispatch lock write through here.
 */
import { constants as fsConstants, promises as fs } from 'node:fs';
import * as path from 'node:path';

export interface ReplaceOptions {
  /**
   * The folder for temp files, on the target's file system (default: the target's folder). Asked once
   * per temp file and allowed to throw: the job store answers with its dispatch fence folder, which is
   * renamed away when another window takes over, so a writer that was stopped meanwhile fails on ENOENT
   * instead of landing, and a writer that knows it lost the lock refuses before writing.
   */
  tempDir?: () => string;
  /** Keep the file being replaced at this path, beside it (a hard link, or a durable copy where links fail). */
  backup?: string;
}

let tempSeq = 0;

/**
 * Replaces `target` with `data` durably. On failure the temp files are removed and the error is
 * thrown as it came (callers such as the job store read ENOENT as "fence retired").
 */
export async function replaceFile(target: string, data: string | Uint8Array, options: ReplaceOptions = {}): Promise<void> {
  const tmp = tempPath(target, 'tmp', options.tempDir);
  try {
    await writeSynced(tmp, data);
    if (options.backup !== undefined) {
      await keepBackup(target, options.backup, options.tempDir);
    }
    await renamePatiently(tmp, target);
  } catch (err) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  await syncDirectory(path.dirname(target));
}

/**
 * Writes `data` to `file` and fsyncs it before resolving. `wx` creates exclusively (the dispatch
 * lock): EEXIST leaves the other file alone. A file this call created is removed when the write
 * fails, so nobody finds it empty or half written and mistakes it for the real thing.
 */
export async function writeSynced(file: string, data: string | Uint8Array, flag: 'w' | 'wx' = 'w'): Promise<void> {
  const handle = await fs.open(file, flag);
  try {
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
  } catch (err) {
    await handle.close().catch(() => undefined);
    await fs.rm(file, { force: true }).catch(() => undefined);
    throw err;
  }
}

/**
 * The pid of the writer whose temp file of `target` is called `name`, or undefined when `name` is not
 * one. A temp file whose writer is gone was left by a crash; the job store removes those on open.
 */
export function tempFileWriter(name: string, target: string): number | undefined {
  const prefix = `${path.basename(target)}.`;
  const match = name.startsWith(prefix) ? /^(?:tmp|baktmp)-(\d+)-\d+$/.exec(name.slice(prefix.length)) : null;
  return match ? Number(match[1]) : undefined;
}

/** `<target name>.<kind>-<pid>-<n>`: the pid tells a dead writer's leftovers from a live one's (tempFileWriter). */
function tempPath(target: string, kind: 'tmp' | 'baktmp', tempDir: (() => string) | undefined): string {
  const dir = tempDir ? tempDir() : path.dirname(target);
  return path.join(dir, `${path.basename(target)}.${kind}-${process.pid}-${++tempSeq}`);
}

/**
 * Makes the current file the backup without a moment where either is missing: a hard link (or a
 * copy where links are unsupported) is renamed over the old backup. No current file: nothing to keep.
 */
async function keepBackup(target: string, backup: string, tempDir: (() => string) | undefined): Promise<void> {
  const tmp = tempPath(target, 'baktmp', tempDir);
  try {
    await fs.link(target, tmp);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      return;
    }
    try {
      await copyDurably(target, tmp);
    } catch (copyErr) {
      await fs.rm(tmp, { force: true }).catch(() => undefined);
      if ((copyErr as NodeJS.ErrnoException).code === 'ENOENT') {
        return;
      }
      throw copyErr;
    }
  }
  try {
    await renamePatiently(tmp, backup);
  } finally {
    // rename(2) between two links of one file succeeds and does nothing (a crash between this rename
    // and the main one leaves target and backup one inode), so the link can outlive a good rename.
    await fs.rm(tmp, { force: true }).catch(() => undefined);
  }
}

async function copyDurably(from: string, to: string): Promise<void> {
  await fs.copyFile(from, to, fsConstants.COPYFILE_FICLONE);
  const handle = await fs.open(to, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * On Windows a rename over a file fails with EPERM/EBUSY/EACCES for a moment while another process
 * (a read-only window reading the store, a virus scanner) has it open; waiting briefly is enough.
 */
async function renamePatiently(from: string, to: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await fs.rename(from, to);
      return;
    } catch (err) {
      const transient = ['EPERM', 'EBUSY', 'EACCES'].includes((err as NodeJS.ErrnoException).code ?? '');
      if (process.platform !== 'win32' || !transient || attempt >= 10) {
        throw err;
      }
      await new Promise((resolve) => setTimeout(resolve, 10 * (attempt + 1)));
    }
  }
}

/** Makes the renames durable; Windows and some file systems cannot fsync a directory, which is fine there. */
async function syncDirectory(dir: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch {
    // Best effort by design: EISDIR, EPERM, EINVAL and EBADF all mean "not supported here".
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/**
 * One workspace's WorkspaceState on disk, kept the way Slurm keeps its state: every save writes a
 * temp file, flushes it, keeps the current file as the backup and renames the temp file into place,
 * so a crash at any instant leaves a complete store.json (old or new) and a complete backup.
 * Loading (storeReader.ts) falls back to the backup when store.json is damaged and sets aside jobs that
 * fail validation, saying so in words a user follows.
 */
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { replaceFile, tempFileWriter } from './durableFile';
import { isFinished, type Job } from './job';
import { FencedError } from './dispatchFence';
import type { WriteFence } from './dispatchFence';
import type { Logger } from './logger';
import { isProcessAlive } from './lockFile';
import { BACKUP_FILE, STORE_FILE, STORE_FORMAT, STORE_VERSION, StorePathError, StoreReader, errorCode, errorMessage, notAFile } from './storeReader';
import type { LoadResult, StoreEnvelope } from './storeReader';
import type { WorkspaceState } from './workspaceState';

// Callers keep importing the store's format, errors and load result from here, the store's one entry point.
export { BACKUP_FILE, STORE_FILE, STORE_FORMAT, STORE_VERSION, StorePathError, StoreVersionError, migrate } from './storeReader';
export type { LoadResult, StoreEnvelope } from './storeReader';

/** Small stores stay readable for anyone debugging by hand; large ones skip indentation for speed and size. */
const PRETTY_MAX_JOBS = 100;
/** A temp file this old is left over from a crash even if its pid was reused by a live process. */
const TEMP_MAX_AGE_MS = 60 * 60 * 1000;

export interface WriteInfo {
  bytes: number;
  jobs: number;
}

export interface JobStoreOptions {
  /**
   * The dispatch lock as a write fence: temp files are written in the holder's fence folder and renamed
   * out of it, so a save by a window that lost the lock while stopped fails instead of landing.
   * Without it (tests, tools) temp files are written beside the store.
   */
  fence?: WriteFence;
  /** Called after each durable write; tests count writes with it. */
  onWrite?: (info: WriteInfo) => void;
  now?: () => number;
}

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class JobStore {
  /** Absolute path of store.json, for a read-only window to watch. */
  readonly file: string;
  private readonly backupFile: string;
  private readonly now: () => number;
  /** The newest state asked for but not yet being written, with everyone waiting for it. */
  private pending: { state: WorkspaceState; waiters: Waiter[] } | undefined;
  private writing = false;
  /**
   * Whether store.json is known to be a good store. When it is damaged the next save must not
   * rotate it over the good backup: the backup is then the only good copy.
   */
  private mainIsGood = false;
  private loadedPathProblem: StorePathError | undefined;
  /** store.json as last loaded or saved by this store (inode, size, mtime); see changedSinceLoad. */
  private loadedIdentity: string | undefined;
  /** The path problem the log last reported, so a folder in the store's place is logged once, not per save. */
  private reportedPathProblem: string | undefined;
  private readonly reader: StoreReader;

  private constructor(
    private readonly dir: string,
    private readonly logger: Logger,
    private readonly options: JobStoreOptions,
  ) {
    this.file = path.join(dir, STORE_FILE);
    this.backupFile = path.join(dir, BACKUP_FILE);
    this.now = options.now ?? Date.now;
    this.reader = new StoreReader(dir, logger, this.now);
  }

  /** Opens (creating the folder) and loads the store; throws StoreVersionError for a newer format. */
  static async open(
    dir: string,
    logger: Logger,
    options: JobStoreOptions = {},
  ): Promise<{ store: JobStore } & LoadResult> {
    await fs.mkdir(dir, { recursive: true });
    const store = new JobStore(dir, logger, options);
    const loaded = await store.load();
    await store.removeStaleTemps();
    return { store, ...loaded };
  }

  /** Re-reads the store from disk with the same fallback rules as open(). */
  async load(): Promise<LoadResult> {
    // Taken before the read: a save landing in between makes the next check see a change (a reload too
    // many), never the reverse.
    const identity = await fileIdentity(this.file);
    const { mainIsGood, pathProblem, ...loaded } = await this.reader.load();
    this.mainIsGood = mainIsGood;
    this.loadedPathProblem = pathProblem;
    this.loadedIdentity = identity;
    return loaded;
  }

  /**
   * Whether store.json is another file than the one last loaded or saved here. Every save renames a new
   * file into place, so a changed inode (or size, or mtime) means someone else saved: a window that just
   * took the dispatch lock re-reads the store only then (a 5,000-job store takes ~80 ms to load).
   */
  async changedSinceLoad(): Promise<boolean> {
    return this.loadedIdentity === undefined || (await fileIdentity(this.file)) !== this.loadedIdentity;
  }

  /**
   * Set by load when store.json or its backup is not a file (a folder, say), cleared by a load that
   * finds both usable. The load's notice told the user; a save can fail with it without logging each time.
   */
  get pathProblem(): StorePathError | undefined {
    return this.loadedPathProblem;
  }

  /**
   * Saves durably. Writes never overlap; saves asked for during a write are coalesced into one
   * write of the newest state, and each promise resolves once a write holding its state (or a
   * later one) is on disk.
   */
  save(state: WorkspaceState): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.pending) {
        this.pending.state = state;
        this.pending.waiters.push({ resolve, reject });
      } else {
        this.pending = { state, waiters: [{ resolve, reject }] };
      }
      if (!this.writing) {
        void this.drain();
      }
    });
  }

  private async drain(): Promise<void> {
    this.writing = true;
    while (this.pending) {
      const batch = this.pending;
      this.pending = undefined;
      try {
        await this.write(batch.state);
        batch.waiters.forEach((w) => w.resolve());
      } catch (err) {
        // A folder in the store's place fails every save the same way: the log says it once, each caller still hears it.
        const message = errorMessage(err);
        if (!(err instanceof StorePathError && message === this.reportedPathProblem)) {
          this.logger.error(`TrainQ could not save its job store: ${message}`);
        }
        this.reportedPathProblem = err instanceof StorePathError ? message : undefined;
        batch.waiters.forEach((w) => w.reject(err));
      }
    }
    this.writing = false;
  }

  private readonly finishedJson = new WeakMap<Job, string>();

  /** Throws StorePathError when store.json or its backup is not a file; a save can then never land. */
  private async throwIfPathBlocked(): Promise<void> {
    const blocked = [];
    for (const file of [this.file, this.backupFile]) {
      if ((await notAFile(file)) !== undefined) {
        blocked.push(file);
      }
    }
    if (blocked.length > 0) {
      throw new StorePathError(blocked);
    }
  }

  private async write(state: WorkspaceState): Promise<void> {
    // A folder in the store's or the backup's place that load found: refuse without writing anything.
    if (this.loadedPathProblem) {
      await this.throwIfPathBlocked();
    }
    const envelope: StoreEnvelope = { format: STORE_FORMAT, version: STORE_VERSION, savedAt: this.now(), state };
    // Serialised here, not in save(), so a coalesced write captures the newest state in one go.
    const text = state.jobs.length <= PRETTY_MAX_JOBS ? JSON.stringify(envelope, null, 2) : this.compactJson(envelope, state);
    // Asked here as well as by replaceFile: a window without the lock refuses before writing anything.
    const tempDir = this.tempDir();
    try {
      // A damaged store.json must not be rotated over the good backup: the backup is then the only good copy.
      await replaceFile(this.file, text, { tempDir: () => this.tempDir(), backup: this.mainIsGood ? this.backupFile : undefined });
    } catch (err) {
      // One that appeared since (rare): the rename onto it failed; say so in the same words.
      await this.throwIfPathBlocked();
      throw this.fencedOr(err, tempDir);
    }
    this.mainIsGood = true;
    this.loadedIdentity = await fileIdentity(this.file);
    this.options.onWrite?.({ bytes: Buffer.byteLength(text), jobs: state.jobs.length });
  }

  /**
   * Finished jobs never change again, so their JSON is kept per job object: with a long history a save
   * stringifies only the queued and running jobs (the benchmark's 5,000-job store spent most of its
   * blocking time in JSON.stringify). The text is the same as JSON.stringify(envelope) would give.
   */
  private compactJson(envelope: StoreEnvelope, state: WorkspaceState): string {
    const jobs = state.jobs.map((job) => {
      if (!isFinished(job.state)) {
        return JSON.stringify(job);
      }
      let text = this.finishedJson.get(job);
      if (text === undefined) {
        text = JSON.stringify(job);
        this.finishedJson.set(job, text);
      }
      return text;
    });
    const { jobs: _omitted, ...rest } = state;
    const head = JSON.stringify({ ...envelope, state: undefined }).slice(0, -1);
    return `${head},"state":{"jobs":[${jobs.join(',')}],${JSON.stringify(rest).slice(1)}}`;
  }

  /** Temp files of writers that died mid-save; a live writer's own temp files are left alone. */
  private async removeStaleTemps(): Promise<void> {
    const names = await fs.readdir(this.dir).catch(() => [] as string[]);
    for (const name of names) {
      const pid = tempFileWriter(name, this.file);
      if (pid === undefined) {
        continue;
      }
      const file = path.join(this.dir, name);
      const stat = await fs.stat(file).catch(() => undefined);
      const old = stat !== undefined && this.now() - stat.mtimeMs > TEMP_MAX_AGE_MS;
      if (pid !== process.pid && (old || !isProcessAlive(pid))) {
        await fs.rm(file, { force: true }).catch(() => undefined);
        this.logger.debug(`Removed ${name}, left over from an interrupted save.`);
      }
    }
  }

  /** Where temp files go: beside the store, or inside the dispatch lock's fence folder when there is a fence. */
  private tempDir(): string {
    const fence = this.options.fence;
    const dir = fence ? fence.tempDir() : this.dir;
    if (dir === undefined) {
      throw new FencedError('this window does not hold the dispatch lock');
    }
    return dir;
  }

  /** ENOENT while the temp folder is gone means another window retired our fence and took over: say so, and tell the lock. */
  private fencedOr(err: unknown, tempDir: string): unknown {
    const fence = this.options.fence;
    if (!fence || err instanceof FencedError || errorCode(err) !== 'ENOENT' || existsSync(tempDir)) {
      return err;
    }
    fence.lost('a save found its fence folder retired');
    return new FencedError();
  }
}

/** A file's inode, size and mtime as one string; 'missing' when there is none. */
async function fileIdentity(file: string): Promise<string> {
  try {
    const stat = await fs.stat(file);
    return `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
  } catch {
    return 'missing';
  }
}

/**
 * Reading a workspace's job store: parse, migrate and validate store.json; fall back to the backup
 * when the file or its shape is damaged, keeping a copy of what was damaged; set aside the jobs (and
 * other items) that fail validation, keeping them in a file, so one bad job does not cost the queue.
 * Every outcome the user should know of comes back as one notice in words a user follows.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Logger } from './logger';
import { StoreDamagedError, checkState } from './storeValidation';
import type { CheckedState, SetAside } from './storeValidation';
import { emptyWorkspaceState } from './workspaceState';
import type { WorkspaceState } from './workspaceState';

export const STORE_FORMAT = 'trainq-store';
export const STORE_VERSION = 3;
export const STORE_FILE = 'store.json';
export const BACKUP_FILE = 'store.json.bak';

export interface StoreEnvelope {
  format: string;
  version: number;
  savedAt: number;
  state: unknown;
}

export interface LoadResult {
  state: WorkspaceState;
  /**
   * Set when the store was damaged or missing and something was restored or reset, when items were
   * set aside, or when the store's path cannot be saved to; meant for the user.
   */
  notice?: string;
  /** Jobs and other items left out because they failed validation; also kept in a file beside the store. */
  setAside?: SetAside[];
}

/** What JobStore needs beyond the LoadResult it passes on. */
export interface ReadResult extends LoadResult {
  /** store.json itself was good: the next save may rotate it into the backup. */
  mainIsGood: boolean;
  /** Set when store.json or its backup is not a file; the notice already says so. */
  pathProblem?: StorePathError;
}

/** The store was written by a newer TrainQ; this one must neither read it as garbage nor overwrite it. */
export class StoreVersionError extends Error {
  constructor(
    readonly file: string,
    readonly foundVersion: number,
  ) {
    super(
      `TrainQ's job store ${file} was written by a newer version of TrainQ (store format ${foundVersion}; ` +
        `this version understands up to ${STORE_VERSION}). Update TrainQ to use this workspace's queue; ` +
        'the file was left untouched.',
    );
    this.name = 'StoreVersionError';
  }
}

/**
 * store.json or its backup is not a file (a folder, say): every save renames a file onto those
 * paths, so none can succeed until the user moves it. Load finds it and says so in its notice
 * (once); saves can fail with it without logging the same error each time.
 */
export class StorePathError extends Error {
  constructor(readonly files: readonly string[]) {
    super(
      files.map((f) => `${f} is not a file, so TrainQ cannot save changes to the queue until it is moved or renamed.`).join(' '),
    );
    this.name = 'StorePathError';
  }
}

/**
 * MIGRATIONS[v] turns a version-v state into a version-(v + 1) state; each old format stays a test
 * fixture (test/fixtures/store-v1.json, store-v2.json). A step only reshapes what it knows and leaves the rest for
 * validation to judge, so a damaged job is still set aside with its reason, not lost in the step.
 */
const MIGRATIONS: Record<number, (state: unknown) => unknown> = {
  // v2: the host's handle on a started job is one field, `handle`, instead of `pgid` or `slurmJobId`.
  1: (state) => mapJobs(state, ({ pgid, slurmJobId, ...job }) => {
    if (slurmJobId !== undefined) {
      return { ...job, handle: { kind: 'slurm', jobId: slurmJobId } };
    }
    return pgid === undefined ? job : { ...job, handle: { kind: 'process', pgid } };
  }),
  // v3: the state may carry the learned run-time model. A v2 store has none; it is rebuilt from the
  // finished jobs when the queue opens (runtimeHistory.ts), so the step has nothing to reshape.
  2: (state) => state,
};

function mapJobs(state: unknown, step: (job: Record<string, unknown>) => Record<string, unknown>): unknown {
  const s = state as { jobs?: unknown } | null;
  if (typeof s !== 'object' || s === null || !Array.isArray(s.jobs)) {
    return state;
  }
  const isJob = (j: unknown): j is Record<string, unknown> => typeof j === 'object' && j !== null && !Array.isArray(j);
  return { ...s, jobs: s.jobs.map((j: unknown) => (isJob(j) ? step(j) : j)) };
}

export function migrate(envelope: StoreEnvelope): CheckedState {
  let state = envelope.state;
  for (let version = envelope.version; version < STORE_VERSION; version++) {
    const step = MIGRATIONS[version];
    if (!step) {
      throw new StoreDamagedError(`no migration from store format ${version}`);
    }
    state = step(state);
  }
  return checkState(state);
}

/** Parses a store file's text; throws StoreDamagedError, or StoreVersionError for a newer format. */
function parseStore(text: string, file: string): CheckedState & { savedAt: number } {
  if (text.trim() === '') {
    throw new StoreDamagedError('the file is empty');
  }
  let raw: unknown;
  try {
    // Editors on Windows save UTF-8 with a byte-order mark; it is an encoding detail, not damage.
    raw = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    throw new StoreDamagedError(errorMessage(err));
  }
  if (typeof raw !== 'object' || raw === null || (raw as { format?: unknown }).format !== STORE_FORMAT) {
    throw new StoreDamagedError('the file is not a TrainQ store');
  }
  const { version, savedAt, state } = raw as Record<string, unknown>;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    throw new StoreDamagedError('the store has no valid format version');
  }
  if (version > STORE_VERSION) {
    throw new StoreVersionError(file, version);
  }
  if (typeof savedAt !== 'number' || !Number.isFinite(savedAt)) {
    throw new StoreDamagedError('the store has no valid save time');
  }
  return { ...migrate({ format: STORE_FORMAT, version, savedAt, state }), savedAt };
}

type Candidate =
  | { kind: 'missing' }
  | ({ kind: 'ok'; savedAt: number } & CheckedState)
  /** `notAFile`: the path holds a folder or the like, so there is nothing to keep a copy of. */
  | { kind: 'damaged'; reason: string; notAFile?: boolean };

export class StoreReader {
  private readonly file: string;
  private readonly backupFile: string;
  /** A read-only window reloads on every change; the same notice is logged once, not each time. */
  private lastNotice: string | undefined;

  constructor(
    private readonly dir: string,
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {
    this.file = path.join(dir, STORE_FILE);
    this.backupFile = path.join(dir, BACKUP_FILE);
  }

  /**
   * Items that fail validation are set aside (kept in a file beside the store) and the rest loads;
   * only damage to the file or its shape falls back to the backup.
   */
  async load(): Promise<ReadResult> {
    const main = await this.readCandidate(this.file);
    let result: LoadResult;
    let used: { file: string; setAside: SetAside[] } | undefined;
    let backupNotAFile: boolean;
    if (main.kind === 'ok') {
      result = { state: main.state };
      used = { file: this.file, setAside: main.setAside };
      // The backup is not read when store.json is good, but a folder in its place blocks every save all the same.
      backupNotAFile = (await notAFile(this.backupFile).catch(() => undefined)) !== undefined;
    } else {
      const backup = await this.readCandidate(this.backupFile);
      result = await this.recover(main, backup);
      used = backup.kind === 'ok' ? { file: this.backupFile, setAside: backup.setAside } : undefined;
      backupNotAFile = backup.kind === 'damaged' && backup.notAFile === true;
    }
    const blocked = [...(main.kind === 'damaged' && main.notAFile ? [this.file] : []), ...(backupNotAFile ? [this.backupFile] : [])];
    const pathProblem = blocked.length > 0 ? new StorePathError(blocked) : undefined;
    const setAside = used?.setAside ?? [];
    const notes = [
      result.notice?.trim(),
      used && setAside.length > 0 ? await this.setAsideNotice(used.file, setAside) : undefined,
      pathProblem?.message,
    ];
    const notice = notes.filter((n) => n).join(' ') || undefined;
    if (notice !== undefined && notice !== this.lastNotice) {
      this.logger.warn(notice);
    }
    this.lastNotice = notice;
    return {
      state: result.state,
      ...(notice ? { notice } : {}),
      ...(setAside.length > 0 ? { setAside } : {}),
      mainIsGood: main.kind === 'ok',
      ...(pathProblem ? { pathProblem } : {}),
    };
  }

  /**
   * Writes the set-aside items to `<name>.setaside-<time>` beside the store, each with its reason, and
   * says so. The file holds the items as read, so a user can fix one and put it back by hand.
   */
  private async setAsideNotice(source: string, items: readonly SetAside[]): Promise<string> {
    const base = path.basename(source);
    let kept: string | undefined;
    try {
      const text = JSON.stringify(
        {
          format: 'trainq-setaside',
          from: base,
          help:
            `Entries TrainQ could not load from ${base}, each with the reason. To restore one, fix it and put it ` +
            `back into the state in ${STORE_FILE} while TrainQ is not running.`,
          entries: items,
        },
        null,
        2,
      );
      kept = path.join(this.dir, await this.keepCopy(`${base}.setaside-`, Buffer.from(text, 'utf8')));
    } catch (err) {
      this.logger.error(`TrainQ could not keep the entries set aside from ${base}: ${errorMessage(err)}`);
    }
    const n = items.length;
    const noun = items.every((i) => i.where.startsWith('jobs[')) ? (n === 1 ? 'job' : 'jobs') : n === 1 ? 'entry' : 'entries';
    const reasons = items.slice(0, 3).map((i) => i.reason).join('; ') + (n > 3 ? `; and ${n - 3} more` : '');
    const where = kept ? `kept in ${kept}` : 'a copy could not be kept; see the TrainQ log';
    const wasRunning = items.some((i) => (i.value as { state?: unknown } | null)?.state === 'running');
    return (
      `${n} ${noun} could not be loaded and ${n === 1 ? 'was' : 'were'} set aside: ${reasons} (${where}).` +
      (wasRunning ? ' A job set aside while running may still run on its host; TrainQ no longer follows it.' : '')
    );
  }

  private async recover(main: Exclude<Candidate, { kind: 'ok' }>, backup: Candidate): Promise<LoadResult> {
    const empty = emptyWorkspaceState();
    if (main.kind === 'missing') {
      if (backup.kind === 'missing') {
        return { state: empty };
      }
      if (backup.kind === 'ok') {
        return {
          state: backup.state,
          notice: `TrainQ's job store was missing; restored the previous copy from ${formatTime(backup.savedAt)}.`,
        };
      }
      const keptBackup = await this.keepAside(this.backupFile, backup);
      return {
        state: empty,
        notice:
          `TrainQ's job store was missing and its backup was damaged (${backup.reason}); starting with an empty ` +
          `queue. ${keptSentence([keptBackup])}`,
      };
    }
    const keptMain = await this.keepAside(this.file, main);
    if (backup.kind === 'ok') {
      return {
        state: backup.state,
        notice:
          `TrainQ's job store was damaged (${main.reason}); restored the previous copy from ` +
          `${formatTime(backup.savedAt)}. ${keptSentence([keptMain])}`,
      };
    }
    if (backup.kind === 'missing') {
      return {
        state: empty,
        notice:
          `TrainQ's job store was damaged (${main.reason}) and there was no previous copy; starting with an ` +
          `empty queue. ${keptSentence([keptMain])}`,
      };
    }
    const keptBackup = await this.keepAside(this.backupFile, backup);
    return {
      state: empty,
      notice:
        `TrainQ's job store and its backup were both damaged (${main.reason}; ${backup.reason}); starting with ` +
        `an empty queue. ${keptSentence([keptMain, keptBackup])}`,
    };
  }

  private async readCandidate(file: string): Promise<Candidate> {
    let text: string;
    try {
      // Checked first: reading a folder fails with a cryptic EISDIR, and reading a FIFO never returns.
      const what = await notAFile(file);
      if (what !== undefined) {
        return { kind: 'damaged', reason: `${path.basename(file)} is ${what}`, notAFile: true };
      }
      text = await fs.readFile(file, 'utf8');
    } catch (err) {
      return errorCode(err) === 'ENOENT' ? { kind: 'missing' } : { kind: 'damaged', reason: errorMessage(err) };
    }
    try {
      return { kind: 'ok', ...parseStore(text, file) };
    } catch (err) {
      if (err instanceof StoreDamagedError) {
        return { kind: 'damaged', reason: err.message };
      }
      throw err;
    }
  }

  /**
   * Copies a damaged file to `<name>.corrupt-<time>` and returns that name. It copies rather than
   * renames because another window may read the store at the same time; the next save replaces
   * the damaged file. Null for a folder in the file's place: there is nothing to copy, and it is
   * left where it is for the user to look at.
   */
  private async keepAside(file: string, candidate: Candidate): Promise<string | undefined | null> {
    const base = path.basename(file);
    if (candidate.kind === 'damaged' && candidate.notAFile) {
      return null;
    }
    try {
      return await this.keepCopy(`${base}.corrupt-`, await fs.readFile(file));
    } catch (err) {
      this.logger.error(`TrainQ could not keep a copy of the damaged ${base}: ${errorMessage(err)}`);
      return undefined;
    }
  }

  /**
   * Writes `bytes` to `<prefix><time>` beside the store and returns that name. An identical copy kept
   * earlier is reused, so repeated loads (a read-only window reloads on every change) don't pile up copies.
   */
  private async keepCopy(prefix: string, bytes: Buffer): Promise<string> {
    for (const name of await fs.readdir(this.dir)) {
      if (name.startsWith(prefix)) {
        const kept = await fs.readFile(path.join(this.dir, name)).catch(() => undefined);
        if (kept && kept.equals(bytes)) {
          return name;
        }
      }
    }
    const stamp = new Date(this.now()).toISOString().replace(/[:.]/g, '-');
    for (let attempt = 0; ; attempt++) {
      const name = `${prefix}${stamp}${attempt === 0 ? '' : `-${attempt}`}`;
      try {
        await fs.writeFile(path.join(this.dir, name), bytes, { flag: 'wx' });
        return name;
      } catch (err) {
        if (errorCode(err) !== 'EEXIST' || attempt >= 20) {
          throw err;
        }
      }
    }
  }
}

/** `null` stands for a folder in a file's place: nothing was to be copied, so nothing is said. */
function keptSentence(names: Array<string | undefined | null>): string {
  const wanted = names.filter((n) => n !== null);
  const kept = wanted.filter((n): n is string => n !== undefined);
  if (wanted.length === 0) {
    return '';
  }
  if (kept.length === 0) {
    return 'A copy of the damaged file could not be kept; see the TrainQ log.';
  }
  return kept.length === 1
    ? `The damaged file was kept as ${kept[0]}.`
    : `The damaged files were kept as ${kept.join(' and ')}.`;
}

/** How a path is not a plain file ('a folder, not a file'); undefined for a file or nothing there. */
export async function notAFile(file: string): Promise<string | undefined> {
  const stat = await fs.stat(file).catch((err: unknown) => {
    if (errorCode(err) === 'ENOENT') {
      return undefined;
    }
    throw err;
  });
  if (stat === undefined || stat.isFile()) {
    return undefined;
  }
  return stat.isDirectory() ? 'a folder, not a file' : 'not a regular file';
}

function formatTime(epochMs: number): string {
  return new Date(epochMs).toLocaleString();
}

export function errorCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

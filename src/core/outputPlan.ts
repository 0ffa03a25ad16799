/**
 * What bringing a job's outputs back will do, decided before a byte moves (issue 16, results back):
 * which of the host's files the globs select, whether their size is within the bound, and, against the
 * workspace, which are new, which are already there unchanged, and which exist locally with other
 * content (conflicts, never overwritten without an answer). Pure: the host lists, the caller looks at
 * local files, this decides.
 */
import { isSafeRelativePath, matchesAnyGlob, type OutputGlob } from './outputGlobs';

export interface RemoteOutputFile {
  /** Relative to the job's folder, POSIX separators. */
  path: string;
  size: number;
}

/** What is at a file's destination in the workspace. */
export type LocalOutputState =
  | { kind: 'absent' }
  | { kind: 'file'; size: number }
  /** A folder, a symlink, or a symlink on the way there: never written through. */
  | { kind: 'blocked'; why: string };

/** The one question a transfer with conflicts asks (on demand), or the answer given in advance. */
export type ConflictAnswer = 'overwrite' | 'keepBoth' | 'skip';

export interface OutputSelection {
  files: RemoteOutputFile[];
  totalBytes: number;
  /** Paths the host listed that are not plain relative paths (refused, reported). */
  refused: string[];
}

/** The files the globs select, each once, with unusable names set aside. */
export function selectOutputs(listing: readonly RemoteOutputFile[], globs: readonly OutputGlob[]): OutputSelection {
  const seen = new Set<string>();
  const files: RemoteOutputFile[] = [];
  const refused: string[] = [];
  for (const f of listing) {
    if (!isSafeRelativePath(f.path)) {
      refused.push(f.path);
    } else if (!seen.has(f.path) && matchesAnyGlob(globs, f.path)) {
      seen.add(f.path);
      files.push(f);
    }
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files, totalBytes: files.reduce((s, f) => s + f.size, 0), refused };
}

/** Over the bound nothing is copied: the message says how much and which setting decides. */
export function boundProblem(totalBytes: number, maxBytes: number, setting: string): string | undefined {
  if (totalBytes <= maxBytes) return undefined;
  return `the outputs are ${formatMiB(totalBytes)}, more than ${setting} (${formatMiB(maxBytes)}); nothing was copied`;
}

export function formatMiB(bytes: number): string {
  const mib = bytes / (1024 * 1024);
  return `${mib >= 10 ? Math.round(mib) : Math.round(mib * 10) / 10} MiB`;
}

/** A size as people read it: bytes, KiB or MiB. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KiB`;
  return formatMiB(bytes);
}

export interface OutputPlan {
  /** Not in the workspace yet: copied. */
  fresh: RemoteOutputFile[];
  /** In the workspace with the same content: nothing to do. */
  same: RemoteOutputFile[];
  /** In the workspace with other content: copied only with an answer. */
  conflicts: RemoteOutputFile[];
  /** Their destination is a folder or goes through a symlink: never copied. */
  blocked: Array<{ file: RemoteOutputFile; why: string }>;
}

/**
 * Sorts the selected files by what is at their destination. `sameContent` is asked only for files of
 * equal size (content hashes; undefined when unknown, which counts as different: asking once too often
 * is better than overwriting once).
 */
export function planOutputs(
  files: readonly RemoteOutputFile[],
  local: (path: string) => LocalOutputState,
  sameContent: (path: string) => boolean | undefined,
): OutputPlan {
  const plan: OutputPlan = { fresh: [], same: [], conflicts: [], blocked: [] };
  for (const file of files) {
    const at = local(file.path);
    if (at.kind === 'absent') plan.fresh.push(file);
    else if (at.kind === 'blocked') plan.blocked.push({ file, why: at.why });
    else if (at.size === file.size && sameContent(file.path) === true) plan.same.push(file);
    else plan.conflicts.push(file);
  }
  return plan;
}

/** Paths (of `files`) whose content must be compared: same size as the local file. */
export function needsContentCheck(files: readonly RemoteOutputFile[], local: (path: string) => LocalOutputState): string[] {
  return files.filter((f) => {
    const at = local(f.path);
    return at.kind === 'file' && at.size === f.size;
  }).map((f) => f.path);
}

/** One file's move from the staging folder into the workspace: `to` differs from `path` for Keep Both. */
export interface Placement {
  path: string;
  to: string;
  overwrite: boolean;
}

/**
 * Where each file goes given the answer for the conflicts. Keep Both puts the host's copy beside the
 * local one as `name (host).ext`, numbered when that name is taken too (`taken` says what exists).
 */
export function placements(plan: OutputPlan, answer: ConflictAnswer, tag: string, taken: (path: string) => boolean): Placement[] {
  const out: Placement[] = plan.fresh.map((f) => ({ path: f.path, to: f.path, overwrite: false }));
  if (answer === 'overwrite') {
    out.push(...plan.conflicts.map((f) => ({ path: f.path, to: f.path, overwrite: true })));
  } else if (answer === 'keepBoth') {
    const claimed = new Set(out.map((p) => p.to));
    for (const f of plan.conflicts) {
      const to = keepBothName(f.path, tag, (p) => claimed.has(p) || taken(p));
      claimed.add(to);
      out.push({ path: f.path, to, overwrite: false });
    }
  }
  return out;
}

/** `outputs/model.ckpt` → `outputs/model (gpu-a).ckpt`, then `… (gpu-a 2).ckpt`, …; the folder never changes. */
export function keepBothName(relPath: string, tag: string, taken: (path: string) => boolean): string {
  const slash = relPath.lastIndexOf('/');
  const dir = relPath.slice(0, slash + 1);
  const base = relPath.slice(slash + 1);
  // The extension is what follows the last dot, unless the name starts with it (`.env`).
  const dot = base.lastIndexOf('.');
  const [stem, ext] = dot > 0 ? [base.slice(0, dot), base.slice(dot)] : [base, ''];
  const safeTag = tag.replace(/[^\w.-]+/g, '-') || 'remote';
  for (let n = 1; ; n++) {
    const candidate = `${dir}${stem} (${safeTag}${n === 1 ? '' : ` ${n}`})${ext}`;
    if (!taken(candidate)) return candidate;
  }
}

/**
 * Bringing a finished job's outputs back, step by step, the same for SSH hosts and Slurm clusters reached
 * over ssh: list what the globs select on the host, stop if it is larger than the bound (copying
 * nothing), look at the workspace, compare the content of same-size files by hash, ask once about files
 * that differ, copy what is to be copied into a staging folder (rsync, or tar when rsync is missing on
 * either side), and move it into place.
 */
import { lstatSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { OutputReport, OutputRequest } from '../../core/host';
import { compileOutputGlobs, matchesAnyGlob, searchRoots } from '../../core/outputGlobs';
import { boundProblem, needsContentCheck, placements, planOutputs, selectOutputs, type ConflictAnswer, type LocalOutputState } from '../../core/outputPlan';
import { folderBytes, localStateOf, type LocalStateCache, placeStaged, sha256Of, stagingDirFor } from './localOutputs';
import { HASH_OUTPUTS_SCRIPT, LIST_OUTPUTS_SCRIPT, listArgs, parseHashes, parseOutputListing, rsyncFetch, tarFetch, type FetchOptions } from './outputTransfer';
import type { RunOptions, RunResult, SshTransport } from './sshTransport';

/** Where a job's outputs are on a host reached over ssh, and how to reach them. */
export interface OutputEndpoint {
  transport: SshTransport;
  /** The job's folder on the host (its working folder in the host's copy of the project). */
  remoteDir: string;
  /** rsync on both sides and the host entry does not ask for tar. */
  rsync: boolean;
  /** A fixed script through the host's session (its health sees failures). */
  run(script: string, args: readonly string[], opts?: RunOptions): Promise<RunResult>;
  /** Keep Both names the host's copy after this (the host's name). */
  tag: string;
  fetch: Omit<FetchOptions, 'signal' | 'timeoutMs'>;
}

const HASH_CHUNK = 200;
const LISTING_LIMIT = 64 * 1024 * 1024;
const PROGRESS_MS = 500;

function exists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/** Content hashes of the host's files and the workspace's, for files of equal size: equal or not (undefined: unknown). */
async function compareContent(ep: OutputEndpoint, destDir: string, paths: readonly string[]): Promise<Map<string, boolean | undefined>> {
  const same = new Map<string, boolean | undefined>();
  for (let i = 0; i < paths.length; i += HASH_CHUNK) {
    const chunk = paths.slice(i, i + HASH_CHUNK);
    const out = await ep.run(HASH_OUTPUTS_SCRIPT, [ep.remoteDir, ...chunk], { timeoutMs: 10 * 60_000 });
    const remote = parseHashes(out.stdout.toString('utf8'), chunk.length);
    for (const [j, p] of chunk.entries()) {
      const local = await sha256Of(path.join(destDir, ...p.split('/'))).catch(() => undefined);
      same.set(p, remote[j] === undefined || local === undefined ? undefined : remote[j] === local);
    }
  }
  return same;
}

/** A generous limit: ten minutes, plus a second per 512 KiB (a slow link, not a hung one; rsync has its own I/O timeout). */
function timeoutFor(bytes: number): number {
  return 10 * 60_000 + Math.ceil(bytes / (512 * 1024)) * 1000;
}

export async function fetchJobOutputs(ep: OutputEndpoint, req: OutputRequest): Promise<OutputReport> {
  const started = Date.now();
  const globs = compileOutputGlobs(req.globs);
  const report: Extract<OutputReport, { kind: 'copied' }> = { kind: 'copied', written: [], skipped: [], same: 0, blocked: [], bytes: 0, method: 'none', ms: 0 };
  if (globs.length === 0) {
    return report;
  }
  const listed = await ep.run(LIST_OUTPUTS_SCRIPT, listArgs(ep.remoteDir, searchRoots(globs)), { maxOutputBytes: LISTING_LIMIT, timeoutMs: 5 * 60_000 });
  const listing = parseOutputListing(listed.stdout);
  const selection = selectOutputs(listing.files, globs);
  const blocked = [
    ...selection.refused.map((p) => `${JSON.stringify(p)} (not a plain relative name)`),
    ...listing.escaping.map((r) => `${r} (a symbolic link, or outside the job's folder: not followed)`),
    ...listing.links.filter((l) => matchesAnyGlob(globs, l)).map((l) => `${l} (a symbolic link on the host: not followed)`),
  ];
  const tooBig = boundProblem(selection.totalBytes, req.maxBytes, req.maxSetting);
  if (tooBig) {
    return { kind: 'tooLarge', totalBytes: selection.totalBytes, files: selection.files.length, message: tooBig };
  }

  const cache: LocalStateCache = new Map();
  const states = new Map<string, LocalOutputState>();
  for (const f of selection.files) states.set(f.path, await localStateOf(req.destDir, f.path, cache));
  const stateOf = (p: string) => states.get(p) ?? { kind: 'absent' as const };
  const same = await compareContent(ep, req.destDir, needsContentCheck(selection.files, stateOf));
  const plan = planOutputs(selection.files, stateOf, (p) => same.get(p));
  const answer: ConflictAnswer = plan.conflicts.length > 0 ? await req.resolveConflicts(plan.conflicts) : 'skip';
  const moves = placements(plan, answer, ep.tag, (p) => exists(path.join(req.destDir, ...p.split('/'))));
  const sizes = new Map(selection.files.map((f) => [f.path, f.size]));
  const paths = [...new Set(moves.map((m) => m.path))];
  const bytes = paths.reduce((s, p) => s + (sizes.get(p) ?? 0), 0);
  const result = {
    ...report,
    skipped: answer === 'skip' ? plan.conflicts : [],
    same: plan.same.length,
    blocked: [...blocked, ...plan.blocked.map((b) => `${b.file.path} (${b.why})`)],
  };
  if (paths.length === 0) {
    return { ...result, ms: Date.now() - started };
  }

  const staging = stagingDirFor(req.destDir, req.job.id);
  // A staging folder left by a copy that was cut off is stale: start clean.
  await fs.rm(staging, { recursive: true, force: true });
  await fs.mkdir(staging, { recursive: true });
  let ticker: NodeJS.Timeout | undefined;
  const progress = req.progress && bytes >= req.progress.fromBytes ? req.progress : undefined;
  if (progress) {
    progress.report(0, bytes);
    ticker = setInterval(() => void folderBytes(staging).then((done) => progress.report(Math.min(done, bytes), bytes)), PROGRESS_MS);
  }
  const method = ep.rsync ? 'rsync' : 'tar';
  try {
    if (req.signal?.aborted) throw new Error('the copy was cancelled');
    const opts: FetchOptions = { ...ep.fetch, timeoutMs: timeoutFor(bytes), signal: req.signal };
    await (ep.rsync ? rsyncFetch : tarFetch)(ep.transport, ep.remoteDir, paths, staging, opts);
  } catch (e) {
    await fs.rm(staging, { recursive: true, force: true });
    throw e;
  } finally {
    clearInterval(ticker);
  }
  progress?.report(bytes, bytes);
  const placed = await placeStaged(staging, req.destDir, moves);
  return {
    ...result,
    written: placed.written,
    blocked: [...result.blocked, ...placed.blocked.map((p) => `${p} (changed in the workspace during the copy)`)],
    bytes,
    method,
    ms: Date.now() - started,
  };
}

/**
 * Process plumbing for local jobs: starting the wrapper that records exit codes, running the shared
 * kill scripts (jobScripts.ts), the job folder's files, and process-group liveness that survives pid
 * reuse and unreaped zombies.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { constants as fsConstants, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { graceDeciseconds, KILL_SCRIPT, WRAPPER_SCRIPT } from '../jobScripts';

// One wrapper for every host kind; re-exported here, where local jobs and Slurm's batch script find it.
export { WRAPPER_SCRIPT } from '../jobScripts';

export const JOB_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export function assertValidJobId(jobId: string): void {
  if (!JOB_ID_PATTERN.test(jobId)) {
    throw new Error(`Invalid job id '${jobId}'`);
  }
}

export interface JobFiles {
  dir: string;
  log: string;
  exit: string;
  exitTmp: string;
  pgid: string;
  /** Written by the wrapper when the script ended, before it sweeps what the script left running. */
  ended: string;
  /** TRAINQ_METRICS_FILE, the JSON lines the job may write (the wrapper names it; see jobScripts.ts). */
  metrics: string;
}

export function jobFiles(jobsRoot: string, jobId: string): JobFiles {
  assertValidJobId(jobId);
  const dir = path.join(jobsRoot, jobId);
  return {
    dir,
    log: path.join(dir, 'output.log'),
    exit: path.join(dir, 'exit'),
    exitTmp: path.join(dir, 'exit.tmp'),
    pgid: path.join(dir, 'pgid'),
    ended: path.join(dir, 'ended'),
    metrics: path.join(dir, 'metrics.jsonl'),
  };
}

async function readInt(file: string): Promise<number | undefined> {
  try {
    const text = (await fs.readFile(file, 'utf8')).trim();
    return /^-?\d+$/.test(text) ? Number(text) : undefined;
  } catch {
    return undefined;
  }
}

/** The code the wrapper recorded, or undefined when there is no (valid) exit file. */
export function readExitCode(files: JobFiles): Promise<number | undefined> {
  return readInt(files.exit);
}

export async function readPgidFile(files: JobFiles): Promise<number | undefined> {
  const pgid = await readInt(files.pgid);
  return pgid !== undefined && pgid > 1 ? pgid : undefined;
}

async function isExecutableFile(file: string): Promise<boolean> {
  try {
    await fs.access(file, fsConstants.X_OK);
    return (await fs.stat(file)).isFile();
  } catch {
    return false;
  }
}

/** Resolves argv[0] the way the wrapper's shell will: relative to cwd if it has a slash, else on PATH. */
export async function resolveExecutable(
  command: string,
  cwd: string,
  envPath: string | undefined,
): Promise<string | undefined> {
  if (command === '') {
    return undefined;
  }
  if (command.includes('/')) {
    const full = path.resolve(cwd, command);
    return (await isExecutableFile(full)) ? full : undefined;
  }
  for (const dir of (envPath ?? '').split(path.delimiter)) {
    // An empty PATH entry means the current folder.
    const candidate = path.resolve(cwd, dir, command);
    if (await isExecutableFile(candidate)) {
      return candidate;
    }
  }
  return undefined;
}

export interface SpawnWrapperOptions {
  files: JobFiles;
  command: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Last check before the spawn (the dispatch lock's fence); throwing aborts the start. */
  beforeSpawn?: () => void;
}

/** Starts the wrapper in its own process group (pgid = its pid); resolves once the OS started it. */
export async function spawnWrapper(opts: SpawnWrapperOptions): Promise<ChildProcess> {
  const log = await fs.open(opts.files.log, 'a');
  try {
    opts.beforeSpawn?.();
    const child = spawn('/bin/sh', ['-c', WRAPPER_SCRIPT, 'trainq-job', opts.files.dir, ...opts.command], {
      cwd: opts.cwd,
      env: opts.env,
      detached: true,
      stdio: ['ignore', log.fd, log.fd],
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      // Kept for the child's lifetime: an unhandled 'error' event would crash the extension host.
      child.on('error', reject);
    });
    // The job must not keep the extension host alive, nor die with it.
    child.unref();
    return child;
  } finally {
    // The child holds its own duplicate of the descriptor.
    await log.close();
  }
}

export type GroupState = 'ours' | 'foreign' | 'gone';

async function readProcStat(pid: number | string): Promise<{ state: string; pgrp: number } | undefined> {
  try {
    const text = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name in parentheses may itself contain spaces and parentheses.
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0], pgrp: Number(rest[2]) };
  } catch {
    return undefined;
  }
}

function signalZero(pgid: number): 'alive' | 'eperm' | 'gone' {
  try {
    process.kill(-pgid, 0);
    return 'alive';
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? 'eperm' : 'gone';
  }
}

/** True when some process of the group is alive and not a zombie (containers often never reap them). */
async function groupHasLiveMember(pgid: number): Promise<boolean> {
  let entries: string[];
  try {
    entries = await fs.readdir('/proc');
  } catch {
    return true;
  }
  for (const entry of entries) {
    if (/^\d+$/.test(entry)) {
      const stat = await readProcStat(entry);
      if (stat && stat.pgrp === pgid && stat.state !== 'Z') {
        return true;
      }
    }
  }
  return false;
}

/**
 * Is the job's process group still running, and is it really the job's?
 * The group leader is the wrapper, whose command line holds the job folder; a leader with
 * another command line means the pid was reused. Linux never hands out a pid still in use
 * as a group id, so members left after the leader died are necessarily the job's.
 */
export async function groupState(pgid: number, jobDir: string): Promise<GroupState> {
  if (process.platform !== 'linux') {
    const probe = signalZero(pgid);
    return probe === 'alive' ? 'ours' : probe === 'eperm' ? 'foreign' : 'gone';
  }
  const leader = await readProcStat(pgid);
  if (leader && leader.state !== 'Z') {
    let cmdline = '';
    try {
      cmdline = await fs.readFile(`/proc/${pgid}/cmdline`, 'utf8');
    } catch {
      // Vanished between the two reads: fall through to the group check.
    }
    if (cmdline !== '') {
      return cmdline.split('\0').includes(jobDir) && leader.pgrp === pgid ? 'ours' : 'foreign';
    }
  }
  const probe = signalZero(pgid);
  if (probe !== 'alive') {
    return probe === 'eperm' ? 'foreign' : 'gone';
  }
  return (await groupHasLiveMember(pgid)) ? 'ours' : 'gone';
}

/** Runs one of the shared job scripts with `sh -c`; true when it exited 0. Never rejects. */
export function runJobScript(script: string, args: readonly string[], timeoutMs: number): Promise<{ ok: boolean; stdout: string }> {
  return new Promise((resolve) => {
    const options = { timeout: timeoutMs, killSignal: 'SIGKILL' as const, maxBuffer: 4 * 1024 * 1024 };
    execFile('/bin/sh', ['-c', script, 'trainq-script', ...args], options, (error, stdout) => resolve({ ok: !error, stdout: String(stdout) }));
  });
}

/** Seconds a kill script may take beyond its grace: the SIGKILL rounds and /proc scans. */
const KILL_SLACK_MS = 15_000;

/**
 * Cancels a job: SIGTERM to its process group and to every process it started (found by TRAINQ_JOB_ID,
 * also those that left the group), SIGKILL to all of them after the grace. Resolves when they are gone.
 */
export function terminateJob(files: JobFiles, jobId: string, pgid: number | undefined, graceSec: number): Promise<boolean> {
  const args = ['terminate', pgid === undefined ? '-' : String(pgid), files.dir, jobId, String(graceDeciseconds(graceSec))];
  return runJobScript(KILL_SCRIPT, args, graceSec * 1000 + KILL_SLACK_MS).then((r) => r.ok);
}

/** Ends what a job whose wrapper died left running (the wrapper's own sweep never ran): SIGTERM, grace, SIGKILL. */
export function sweepJob(jobId: string, graceSec: number): Promise<boolean> {
  return runJobScript(KILL_SCRIPT, ['sweep', jobId, String(graceDeciseconds(graceSec))], graceSec * 1000 + KILL_SLACK_MS).then((r) => r.ok);
}

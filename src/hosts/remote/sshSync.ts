/**
 * Copies a project folder to a remote host before its jobs start: rsync over the same ssh options
 * and shared connection, or a tar stream through ssh when rsync is missing on either side.
 * Neither deletes remote files: checkpoints and outputs the jobs wrote there must survive a sync.
 */
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { STAGING_PREFIX } from './localOutputs';
import { TAR_RECEIVE_SCRIPT } from './remoteScripts';
import { classifySshFailure, SshError, type SshTransport } from './sshTransport';

/** Folders never worth copying: version control, dependencies, virtualenvs, caches. */
export const DEFAULT_SYNC_EXCLUDES: readonly string[] = [
  '.git/',
  'node_modules/',
  '.venv/',
  'venv/',
  '.env/',
  '__pycache__/',
  '.mypy_cache/',
  '.pytest_cache/',
  '.tox/',
  '.ipynb_checkpoints/',
  `${STAGING_PREFIX}*/`,
];

export type SyncMethod = 'rsync' | 'tar';

export interface SyncOptions {
  /** rsync patterns; tar gets them without the trailing '/' (which rsync reads as "folders only"). */
  excludes: readonly string[];
  timeoutMs: number;
  rsyncCommand?: string;
  tarCommand?: string;
}

interface Exit {
  code: number | null;
  stderr: string;
  spawnError?: NodeJS.ErrnoException;
}

function startLocal(command: string, args: string[], timeoutMs: number, stdout: 'pipe' | 'ignore'): { out: Readable | null; kill: () => void; done: Promise<Exit> } {
  const child = spawn(command, args, { stdio: ['ignore', stdout, 'pipe'], windowsHide: true });
  const done = new Promise<Exit>((resolve) => {
    let stderr = '';
    let spawnError: NodeJS.ErrnoException | undefined;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString('utf8')).slice(-8192)));
    child.once('error', (e) => (spawnError = e));
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, spawnError });
    });
  });
  return { out: child.stdout, kill: () => child.kill('SIGKILL'), done };
}

function runLocal(command: string, args: string[], timeoutMs: number): Promise<Exit> {
  return startLocal(command, args, timeoutMs, 'ignore').done;
}

const availability = new Map<string, Promise<boolean>>();

/** Whether a local command can be started (cached per command for the extension's lifetime). */
export function hasLocalCommand(command: string): Promise<boolean> {
  let known = availability.get(command);
  if (!known) {
    known = runLocal(command, ['--version'], 10_000).then((r) => r.spawnError === undefined);
    availability.set(command, known);
  }
  return known;
}

function lastLine(text: string): string {
  return text.trim().split(/\r?\n/).pop() ?? '';
}

/** rsync exits 255 when its ssh did, with ssh's message in stderr: a host problem, not a sync bug. */
function failure(tool: string, exit: Exit): Error {
  if (exit.spawnError) {
    return new Error(`${tool} could not start: ${exit.spawnError.message}`);
  }
  if (exit.code === 255) {
    const ssh = classifySshFailure(exit.stderr);
    return new SshError(ssh.kind, ssh.message, exit.stderr, false);
  }
  return new Error(`${tool} failed${exit.code === null ? ' (timed out)' : ` with code ${exit.code}`}: ${lastLine(exit.stderr) || 'no message'}`);
}

export async function rsyncProject(transport: SshTransport, localRoot: string, remoteDir: string, opts: SyncOptions): Promise<void> {
  const shell = await transport.rsyncShell();
  const args = (precise: boolean) => [
    '-rlpt',
    // Paths reach the remote rsync unsplit: folders with spaces need no remote quoting.
    '-s',
    // Nanosecond mtimes: a same-size edit within the second of the last sync must not be skipped
    // (the job would run stale code). Receivers older than rsync 3.1.3 refuse it; they get seconds.
    ...(precise ? ['--modify-window=-1'] : []),
    '--timeout=60',
    ...opts.excludes.map((p) => `--exclude=${p}`),
    '-e',
    shell,
    `${localRoot.replace(/\/+$/, '')}/`,
    transport.rsyncTarget(`${remoteDir}/`),
  ];
  let exit = await runLocal(opts.rsyncCommand ?? 'rsync', args(true), opts.timeoutMs);
  if (exit.code !== 0 && exit.code !== 255 && /modify-window/i.test(exit.stderr)) {
    exit = await runLocal(opts.rsyncCommand ?? 'rsync', args(false), opts.timeoutMs);
  }
  if (exit.code !== 0) {
    throw failure('rsync', exit);
  }
}

export async function tarProject(transport: SshTransport, localRoot: string, remoteDir: string, opts: SyncOptions): Promise<void> {
  const excludes = opts.excludes.map((p) => `--exclude=${p.replace(/^\/+|\/+$/g, '')}`);
  const tar = startLocal(opts.tarCommand ?? 'tar', ['-c', '-f', '-', ...excludes, '-C', localRoot, '.'], opts.timeoutMs, 'pipe');
  const upload = transport.runScriptWithInput(TAR_RECEIVE_SCRIPT, [remoteDir], tar.out!, { timeoutMs: opts.timeoutMs });
  // A failed upload must not leave tar blocked on a full pipe.
  upload.catch(() => tar.kill());
  const tarExit = await tar.done;
  // GNU tar exits 1 when a file changed while it was read: the copy is still usable.
  if (tarExit.spawnError || (tarExit.code !== 0 && tarExit.code !== 1)) {
    await upload.catch(() => undefined);
    throw failure('tar', tarExit);
  }
  const result = await upload;
  if (result.code !== 0 || !result.stdout.toString('utf8').includes('TRAINQ-SYNCED')) {
    throw new Error(`unpacking on the host failed with code ${result.code}: ${lastLine(result.stderr) || 'no message'}`);
  }
}

export interface ProjectSyncSettings {
  /** What the host entry asks for. */
  method: SyncMethod;
  /** Whether the remote end has rsync (EnsureFacts.rsync). */
  remoteHasRsync: boolean;
  /** Patterns excluded besides DEFAULT_SYNC_EXCLUDES. */
  extraExcludes?: readonly string[];
  timeoutMs?: number;
  rsyncCommand?: string;
  tarCommand?: string;
}

/**
 * How a project is copied to a host: rsync when the entry asks for it and both ends have it, else
 * tar. SSH hosts and Slurm login nodes both sync through this, so they fall back the same way.
 */
export async function planProjectSync(s: ProjectSyncSettings): Promise<{ method: SyncMethod; run: (transport: SshTransport, localRoot: string, remoteDir: string) => Promise<void> }> {
  const opts: SyncOptions = {
    excludes: [...DEFAULT_SYNC_EXCLUDES, ...(s.extraExcludes ?? [])],
    timeoutMs: s.timeoutMs ?? 10 * 60_000,
    rsyncCommand: s.rsyncCommand,
    tarCommand: s.tarCommand,
  };
  const useRsync = s.method === 'rsync' && s.remoteHasRsync && (await hasLocalCommand(s.rsyncCommand ?? 'rsync'));
  return {
    method: useRsync ? 'rsync' : 'tar',
    run: (transport, localRoot, remoteDir) => (useRsync ? rsyncProject : tarProject)(transport, localRoot, remoteDir, opts),
  };
}


/**
 * Moving a job's output files from a remote host to this machine (issue 16, results back): the remote
 * listing of what the globs could reach, content hashes of files that may already be here, and the copy
 * itself, with rsync over the shared ssh connection or, when rsync is missing on either side, a tar
 * stream through ssh. The reverse of sshSync.ts, over the same transport. File names never pass through
 * a shell: the listing comes back NUL-separated, and the copy reads its file list NUL-separated on stdin
 * (rsync --from0 --files-from=-, tar --null -T -). Only regular files are listed, symlinks are never
 * followed, and a search root whose real place is outside the job's folder is refused by the host.
 */
import { spawn } from 'node:child_process';
import type { SearchRoot } from '../../core/outputGlobs';
import type { RemoteOutputFile } from '../../core/outputPlan';
import { main } from './remoteScripts';
import { classifySshFailure, shQuote, SshError, type SshTransport } from './sshTransport';

/**
 * Lists the regular files under each search root of the job folder, NUL-separated `F<size> <path>`
 * records, `L<path>` for symlinks (never followed, reported) and `E<root>` for a root that is a symlink
 * or leads out of the folder. GNU find prints sizes itself; elsewhere `wc -c` does. Every root is searched as `./root`, so a name starting with '-' is no find option.
 * Args: jobFolder (root depth)… with depth '-' for unbounded.
 */
export const LIST_OUTPUTS_SCRIPT = main(`dir=$1
shift
cd "$dir" 2>/dev/null || { printf 'TRAINQ-ERROR the job folder %s does not exist on the host\\n' "$dir"; exit 3; }
top=$(pwd -P)
printf 'TRAINQ-OUTPUTS\\n'
gnu=0
if find . -maxdepth 0 -printf '' >/dev/null 2>&1; then gnu=1; fi
while [ $# -ge 2 ]; do
  root=$1 depth=$2
  shift 2
  case $depth in -) lim= ;; [0-9]|[0-9][0-9]) lim="-maxdepth $depth" ;; *) continue ;; esac
  if [ -z "$root" ]; then start=.; else start=./$root; fi
  if [ -L "$start" ]; then printf 'E%s\\000' "$root"; continue; fi
  [ -e "$start" ] || continue
  # Where the root really is, every symlink on the way resolved: it must lie inside the job folder.
  if [ -d "$start" ]; then real=$(cd "$start" 2>/dev/null && pwd -P); else real=$(cd "$(dirname "$start")" 2>/dev/null && pwd -P); fi
  case $real in "$top"|"$top"/*) ;; *) printf 'E%s\\000' "$root"; continue ;; esac
  if [ "$gnu" = 1 ]; then
    find "$start" $lim \\( -type f -printf 'F%s %p\\000' \\) -o \\( -type l -printf 'L%p\\000' \\)
  else
    find "$start" $lim -type l -exec printf 'L%s\\000' {} +
    find "$start" $lim -type f -exec sh -c 'for f do printf "F%s %s\\000" "$(wc -c < "$f" | tr -d " ")" "$f"; done' trainq-size {} +
  fi
done`);

/** One line per path, in order: the file's SHA-256, or '-' when unknown. Args: jobFolder path… */
export const HASH_OUTPUTS_SCRIPT = main(`cd "$1" 2>/dev/null || exit 3
shift
printf 'TRAINQ-HASHES\\n'
if command -v sha256sum >/dev/null 2>&1; then h=sha256sum; elif command -v shasum >/dev/null 2>&1; then h='shasum -a 256'; else h=; fi
for f do
  v=
  if [ -n "$h" ] && [ -f "./$f" ] && [ ! -L "./$f" ]; then v=$($h < "./$f" 2>/dev/null | cut -c1-64); fi
  printf '%s\\n' "\${v:--}"
done`);

/** Packs the NUL-separated relative paths on stdin (run with `sh -c`: stdin is the list). Args: jobFolder. */
export const TAR_SEND_SCRIPT = `cd "$1" && exec tar -cf - --no-recursion --null -T -`;

export interface OutputListing {
  files: RemoteOutputFile[];
  /** Search roots that are a symlink or lead out of the job folder through one. */
  escaping: string[];
  /** Symlinks found below the roots: not followed, not copied. */
  links: string[];
}

/** Reads LIST_OUTPUTS_SCRIPT's answer; records are NUL-terminated, so any byte but NUL may be in a name. */
export function parseOutputListing(stdout: Buffer): OutputListing {
  const marker = Buffer.from('TRAINQ-OUTPUTS\n');
  const at = stdout.indexOf(marker);
  if (at < 0) {
    throw new Error(/^TRAINQ-ERROR (.*)$/m.exec(stdout.toString('utf8'))?.[1] ?? 'the host did not list the outputs');
  }
  const files: RemoteOutputFile[] = [];
  const escaping: string[] = [];
  const links: string[] = [];
  for (const record of stdout.subarray(at + marker.length).toString('utf8').split('\0')) {
    if (record.startsWith('E')) {
      escaping.push(record.slice(1));
      continue;
    }
    if (record.startsWith('L')) {
      links.push(record.slice(1).replace(/^(\.\/)+/, ''));
      continue;
    }
    const m = /^F(\d+) ([\s\S]+)$/.exec(record);
    if (m) {
      files.push({ path: m[2].replace(/^(\.\/)+/, ''), size: Number(m[1]) });
    }
  }
  return { files, escaping, links };
}

/** The listing's arguments: the job folder, then each root with its depth ('-': unbounded). */
export function listArgs(remoteDir: string, roots: readonly SearchRoot[]): string[] {
  return [remoteDir, ...roots.flatMap((r) => [r.root, r.depth === undefined ? '-' : String(r.depth)])];
}

export function parseHashes(stdout: string, count: number): Array<string | undefined> {
  const at = stdout.indexOf('TRAINQ-HASHES\n');
  const lines = at < 0 ? [] : stdout.slice(at + 'TRAINQ-HASHES\n'.length).split('\n');
  return Array.from({ length: count }, (_, i) => (/^[0-9a-f]{64}$/.test(lines[i] ?? '') ? lines[i] : undefined));
}

/** NUL-separated list for --from0 / --null: names with spaces, quotes or newlines stay whole. */
export function nulList(paths: readonly string[]): Buffer {
  return Buffer.from(paths.map((p) => `${p}\0`).join(''), 'utf8');
}

/** rsync's arguments for fetching listed files (read from stdin) from the host's job folder into `into`. */
export function rsyncFetchArgs(shell: string, source: string, into: string): string[] {
  return [
    // Times kept (a checkpoint's mtime means something), permissions and owners left to this side.
    '-t',
    // Paths reach the remote rsync unsplit; the list arrives in rsync's own protocol, not a shell.
    '-s',
    '--from0',
    '--files-from=-',
    '--timeout=60',
    '-e',
    shell,
    source,
    `${into.replace(/\/+$/, '')}/`,
  ];
}

/** The ssh and local tar command lines of the fallback: the remote side packs the list, this side unpacks. */
export function tarFetchCommands(sshArgs: readonly string[], destination: string, remoteDir: string, into: string): { ssh: string[]; tar: string[] } {
  const remote = ['sh', '-c', shQuote(TAR_SEND_SCRIPT), 'trainq', shQuote(remoteDir)].join(' ');
  // -o: files belong to this user; GNU tar also refuses members that name '..' or start with '/'.
  return { ssh: [...sshArgs, '--', destination, remote], tar: ['-x', '-o', '-f', '-', '-C', into] };
}

interface Exit {
  code: number | null;
  stderr: string;
  spawnError?: NodeJS.ErrnoException;
}

/** A local command with its stdin fed `input` (or left open for the caller to pipe into). */
function run(command: string, args: readonly string[], opts: { input: Buffer | 'open'; signal?: AbortSignal; timeoutMs: number }) {
  const child = spawn(command, args, { stdio: ['pipe', 'ignore', 'pipe'], windowsHide: true });
  const done = new Promise<Exit>((resolve) => {
    let stderr = '';
    let spawnError: NodeJS.ErrnoException | undefined;
    const kill = () => child.kill('SIGKILL');
    const timer = setTimeout(kill, opts.timeoutMs);
    opts.signal?.addEventListener('abort', kill, { once: true });
    if (opts.signal?.aborted) kill();
    child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString('utf8')).slice(-8192)));
    child.once('error', (e) => (spawnError = e));
    child.once('close', (code) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', kill);
      resolve({ code, stderr, spawnError });
    });
  });
  child.stdin!.on('error', () => undefined);
  if (opts.input !== 'open') child.stdin!.end(opts.input);
  return { child, done };
}

function lastLine(text: string): string {
  return text.trim().split(/\r?\n/).pop() ?? '';
}

function failure(tool: string, exit: Exit, signal?: AbortSignal): Error {
  if (signal?.aborted) return new Error('the copy was cancelled');
  if (exit.spawnError) return new Error(`${tool} could not start: ${exit.spawnError.message}`);
  if (exit.code === 255) {
    const ssh = classifySshFailure(exit.stderr);
    return new SshError(ssh.kind, ssh.message, exit.stderr, false);
  }
  return new Error(`${tool} failed${exit.code === null ? ' (timed out)' : ` with code ${exit.code}`}: ${lastLine(exit.stderr) || 'no message'}`);
}

export interface FetchOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  rsyncCommand?: string;
  tarCommand?: string;
  sshCommand?: string;
}

/** Copies the listed files (relative to remoteDir) into the local folder `into`, keeping their paths. */
export async function rsyncFetch(transport: SshTransport, remoteDir: string, paths: readonly string[], into: string, opts: FetchOptions): Promise<void> {
  const args = rsyncFetchArgs(await transport.rsyncShell(), transport.rsyncTarget(`${remoteDir}/`), into);
  const { done } = run(opts.rsyncCommand ?? 'rsync', args, { input: nulList(paths), timeoutMs: opts.timeoutMs, signal: opts.signal });
  const exit = await done;
  if (exit.code !== 0) throw failure('rsync', exit, opts.signal);
}

/** The same through `tar` at both ends: remote tar writes the stream to ssh's stdout, local tar unpacks it. */
export async function tarFetch(transport: SshTransport, remoteDir: string, paths: readonly string[], into: string, opts: FetchOptions): Promise<void> {
  const cmds = tarFetchCommands(await transport.optionArgs(), transport.sshDestination, remoteDir, into);
  const unpack = run(opts.tarCommand ?? 'tar', cmds.tar, { input: 'open', timeoutMs: opts.timeoutMs, signal: opts.signal });
  const ssh = spawn(opts.sshCommand ?? 'ssh', cmds.ssh, { stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
  ssh.stdout.pipe(unpack.child.stdin!);
  const sshDone = new Promise<Exit>((resolve) => {
    let stderr = '';
    let spawnError: NodeJS.ErrnoException | undefined;
    const kill = () => ssh.kill('SIGKILL');
    const timer = setTimeout(kill, opts.timeoutMs);
    opts.signal?.addEventListener('abort', kill, { once: true });
    if (opts.signal?.aborted) kill();
    ssh.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString('utf8')).slice(-8192)));
    ssh.once('error', (e) => (spawnError = e));
    ssh.once('close', (code) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', kill);
      resolve({ code, stderr, spawnError });
    });
  });
  ssh.stdin.on('error', () => undefined);
  ssh.stdin.end(nulList(paths));
  const sent = await sshDone;
  if (sent.code !== 0) {
    unpack.child.kill('SIGKILL');
    await unpack.done;
    throw failure('tar on the host', sent, opts.signal);
  }
  const unpacked = await unpack.done;
  if (unpacked.code !== 0) throw failure('tar', unpacked, opts.signal);
}

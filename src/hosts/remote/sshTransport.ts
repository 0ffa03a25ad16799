/**
 * The system OpenSSH client as TrainQ's only way to a remote host. It is spawned with an argument
 * array (no local shell), so the user's ~/.ssh/config, agent, keys, ProxyJump and known_hosts work
 * as in their terminal. Host-key checking is never weakened; connections are shared through a
 * ControlMaster socket in a private folder so that each call after the first costs one round trip.
 * Every remote command is a fixed script read by `sh -s` with POSIX-quoted arguments, which assumes a
 * POSIX-compatible login shell on the host (sh, bash, dash, zsh, ksh; not csh or fish).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import type { HostProblem } from '../../core/host';
import type { SshDestination } from '../hostConfig';

/** An ssh-level failure: the remote command did not (or may not have) run to completion. */
export class SshError extends Error {
  readonly kind: HostProblem;
  readonly stderr: string;
  /** False when ssh failed before the remote command could start (refused, auth, host key). */
  readonly mayHaveRun: boolean;

  constructor(kind: HostProblem, message: string, stderr: string, mayHaveRun: boolean) {
    super(message);
    this.name = 'SshError';
    this.kind = kind;
    this.stderr = stderr;
    this.mayHaveRun = mayHaveRun;
  }
}

/** POSIX single-quoting: the remote shell passes the value through byte for byte. */
export function shQuote(value: string): string {
  if (value.includes('\0')) {
    throw new Error('Arguments cannot contain NUL characters');
  }
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

function meaningfulLines(stderr: string): string[] {
  return stderr
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('@') && !/^Warning: Permanently added/i.test(l));
}

/** Turns ssh's exit-255 stderr into a host problem and a message in words for the hosts view. */
export function classifySshFailure(stderr: string): { kind: HostProblem; message: string; mayHaveRun: boolean } {
  const lines = meaningfulLines(stderr);
  const text = lines.join('\n');
  const detail = (text === '' ? 'ssh exited with code 255 and no message' : lines.slice(-3).join(' ')).slice(0, 600);
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for .* has changed/i.test(text)) {
    // The fingerprint and the offending known_hosts line are what the user needs to decide.
    const keep = lines.filter((l) => /fingerprint|^SHA256:|^Offending|has changed|ssh-keygen -f/i.test(l));
    return { kind: 'hostKeyChanged', message: `host key changed: ${keep.join(' ').slice(0, 800)}`, mayHaveRun: false };
  }
  if (/host key is known for|Host key verification failed/i.test(text)) {
    return {
      kind: 'hostKeyUnknown',
      message: `unknown host key: ${detail} (connect once with ssh in a terminal to check and accept the key)`,
      mayHaveRun: false,
    };
  }
  if (/Permission denied|Too many authentication failures|No more authentication methods|Authentication failed/i.test(text)) {
    return { kind: 'auth', message: `authentication failed: ${detail}`, mayHaveRun: false };
  }
  if (/timed out|Operation timed out/i.test(text)) {
    const beforeCommand = /connect to host|banner exchange|Connection timed out|Connection to \S+ port \d+ timed out/i.test(text);
    return { kind: 'timeout', message: `timed out: ${detail}`, mayHaveRun: !beforeCommand };
  }
  if (/Connection refused|Could not resolve hostname|No route to host|Network is unreachable|Name or service not known|Temporary failure in name resolution|Connection closed by \S+ port|kex_exchange_identification|Host is down|proxy/i.test(text)) {
    return { kind: 'unreachable', message: `unreachable: ${detail}`, mayHaveRun: false };
  }
  if (/closed by remote host|client_loop|Broken pipe|Connection reset|Timeout, server .* not responding/i.test(text)) {
    // The session existed: the command may have started before the connection broke.
    return { kind: 'unreachable', message: `connection lost: ${detail}`, mayHaveRun: true };
  }
  return { kind: 'other', message: `ssh failed: ${detail}`, mayHaveRun: true };
}

/**
 * Unix socket paths are limited to 104 bytes on macOS (108 on Linux), and ssh first binds to the
 * path plus a 17-character random suffix, so the control path itself must stay below this.
 */
export const MAX_CONTROL_PATH = 86;

/** A short, stable socket name per destination: a hash, because aliases and paths can be long. */
export function controlPathFor(dir: string, key: string): string | undefined {
  const candidate = path.join(dir, createHash('sha256').update(key).digest('hex').slice(0, 16));
  return candidate.length <= MAX_CONTROL_PATH ? candidate : undefined;
}

/** Creates (or checks) a folder only this user can enter; another user's folder in /tmp is refused. */
async function privateDir(dir: string): Promise<boolean> {
  try {
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    const stat = await fs.stat(dir);
    if (typeof process.getuid === 'function' && stat.uid !== process.getuid()) {
      return false;
    }
    if ((stat.mode & 0o077) !== 0) {
      await fs.chmod(dir, 0o700);
    }
    return true;
  } catch {
    return false;
  }
}

export interface SshTransportOptions {
  destination: SshDestination;
  /** Folder for ControlMaster sockets (the extension's storage); undefined disables sharing. */
  controlDir?: string;
  /** An ssh_config passed with -F instead of the user's (tests). */
  configFile?: string;
  connectTimeoutSec?: number;
  serverAliveIntervalSec?: number;
  controlPersistSec?: number;
  /** Per-call limit when the call gives none. */
  defaultTimeoutMs?: number;
  sshCommand?: string;
}

export interface RunOptions {
  timeoutMs?: number;
  /** Data for the remote command's stdin (only with runScriptWithInput). */
  input?: Readable;
  maxOutputBytes?: number;
}

export interface RunResult {
  /** The remote command's exit code (never 255: that is an SshError). */
  code: number;
  stdout: Buffer;
  stderr: string;
}

const DEFAULT_MAX_OUTPUT = 32 * 1024 * 1024;

export class SshTransport {
  readonly destination: SshDestination;
  private readonly opts: SshTransportOptions;
  private controlPath: Promise<string | undefined> | undefined;

  constructor(opts: SshTransportOptions) {
    this.destination = opts.destination;
    this.opts = opts;
  }

  /** user@host as ssh takes it after `--`; the port travels as -p. */
  get sshDestination(): string {
    const { user, host } = this.destination;
    return user ? `${user}@${host}` : host;
  }

  /** The ControlPath in use, or undefined when sharing is off (Windows, no private folder short enough). */
  resolveControlPath(): Promise<string | undefined> {
    this.controlPath ??= (async () => {
      if (process.platform === 'win32' || this.opts.controlDir === undefined) {
        return undefined;
      }
      const key = JSON.stringify([this.destination, this.opts.configFile ?? '']);
      const uid = typeof process.getuid === 'function' ? process.getuid() : 'user';
      for (const dir of [this.opts.controlDir, path.join(os.tmpdir(), `trainq-ssh-${uid}`)]) {
        const candidate = controlPathFor(dir, key);
        if (candidate && (await privateDir(dir))) {
          return candidate;
        }
      }
      return undefined;
    })();
    return this.controlPath;
  }

  /** Options shared by every ssh call, the rsync -e command included. */
  async optionArgs(): Promise<string[]> {
    const o = this.opts;
    const args: string[] = [];
    if (o.configFile) {
      args.push('-F', o.configFile);
    }
    args.push(
      '-o', 'BatchMode=yes',
      '-o', `ConnectTimeout=${o.connectTimeoutSec ?? 10}`,
      '-o', `ServerAliveInterval=${o.serverAliveIntervalSec ?? 15}`,
      '-o', 'ServerAliveCountMax=3',
    );
    const controlPath = await this.resolveControlPath();
    if (controlPath) {
      args.push('-o', 'ControlMaster=auto', '-o', `ControlPath=${controlPath}`, '-o', `ControlPersist=${o.controlPersistSec ?? 300}`);
    }
    if (this.destination.port !== undefined) {
      args.push('-p', String(this.destination.port));
    }
    return args;
  }

  /** Runs a fixed script with `sh -s -- args…`: the script arrives on stdin, the values as quoted words. */
  async runScript(script: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    const command = ['sh', '-s', '--', ...args.map(shQuote)].join(' ');
    return this.exec(command, Buffer.from(script), opts);
  }

  /** Like runScript, for scripts whose stdin carries data (a tar stream): the script goes as `sh -c`. */
  async runScriptWithInput(script: string, args: readonly string[], input: Readable, opts: RunOptions = {}): Promise<RunResult> {
    const command = ['sh', '-c', shQuote(script), 'trainq', ...args.map(shQuote)].join(' ');
    return this.exec(command, input, opts);
  }

  /** The value of rsync's -e: the same ssh with the same options, so rsync rides the shared connection. */
  async rsyncShell(): Promise<string> {
    return [this.opts.sshCommand ?? 'ssh', ...(await this.optionArgs())].map(rsyncWord).join(' ');
  }

  /** `[user@]host:path` for rsync; IPv6 hosts in brackets. */
  rsyncTarget(remotePath: string): string {
    const { user, host } = this.destination;
    const h = host.includes(':') ? `[${host}]` : host;
    return `${user ? `${user}@` : ''}${h}:${remotePath}`;
  }

  /**
   * Asks the master to accept no new sessions, so the next call builds a fresh connection; used after
   * a timeout, when the shared connection may be wedged. Sessions in flight (other windows') finish.
   */
  async stopMaster(): Promise<void> {
    await this.control('stop');
  }

  /** Ends the shared connection (tests and benchmarks; the extension lets ControlPersist expire it). */
  async closeMaster(): Promise<void> {
    await this.control('exit');
  }

  private async control(op: 'stop' | 'exit'): Promise<void> {
    if (!(await this.resolveControlPath())) {
      return;
    }
    const args = [...(await this.optionArgs()), '-O', op, '--', this.sshDestination];
    await new Promise<void>((resolve) => {
      const child = spawn(this.opts.sshCommand ?? 'ssh', args, { stdio: 'ignore', windowsHide: true });
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('error', () => resolve());
      child.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private async exec(remoteCommand: string, input: Buffer | Readable, opts: RunOptions): Promise<RunResult> {
    const args = [...(await this.optionArgs()), '--', this.sshDestination, remoteCommand];
    const timeoutMs = opts.timeoutMs ?? this.opts.defaultTimeoutMs ?? 30_000;
    const maxOutput = opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
    return new Promise<RunResult>((resolve, reject) => {
      const child = spawn(this.opts.sshCommand ?? 'ssh', args, { stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
      const out: Buffer[] = [];
      let outBytes = 0;
      let stderr = '';
      let failure: Error | undefined;
      const timer = setTimeout(() => {
        failure = new SshError('timeout', `timed out: no answer within ${Math.round(timeoutMs / 1000)} s`, stderr, true);
        child.kill('SIGKILL');
      }, timeoutMs);
      child.stdout.on('data', (chunk: Buffer) => {
        outBytes += chunk.length;
        if (outBytes > maxOutput && !failure) {
          failure = new Error(`the host sent more than ${maxOutput} bytes`);
          child.kill('SIGKILL');
        }
        out.push(chunk);
      });
      child.stderr.on('data', (chunk: Buffer) => {
        // Only the tail matters for classification; a chatty ProxyCommand must not grow it forever.
        stderr = (stderr + chunk.toString('utf8')).slice(-16_384);
      });
      // EPIPE when ssh exits before reading all of stdin (e.g. it could not connect) is reported by exit code.
      child.stdin.on('error', () => undefined);
      child.once('error', (err: NodeJS.ErrnoException) => {
        failure ??= new SshError('other', err.code === 'ENOENT' ? 'the ssh client was not found; install OpenSSH' : `ssh could not start: ${err.message}`, '', false);
      });
      child.once('close', (code) => {
        clearTimeout(timer);
        if (failure) {
          reject(failure);
        } else if (code === 255 || code === null) {
          const c = classifySshFailure(stderr);
          reject(new SshError(c.kind, c.message, stderr, c.mayHaveRun));
        } else {
          resolve({ code, stdout: Buffer.concat(out), stderr });
        }
      });
      if (Buffer.isBuffer(input)) {
        child.stdin.end(input);
      } else {
        input.on('error', (err) => {
          failure ??= new Error(`local input failed: ${err.message}`);
          child.kill('SIGKILL');
        });
        input.pipe(child.stdin);
      }
    });
  }
}

/** Quotes one word for rsync's own -e splitter, which knows '…' and "…" but no backslashes. */
function rsyncWord(word: string): string {
  if (!/[\s'"]/.test(word)) {
    return word;
  }
  if (!word.includes("'")) {
    return `'${word}'`;
  }
  if (!word.includes('"')) {
    return `"${word}"`;
  }
  throw new Error(`Cannot pass '${word}' to rsync's -e (it has both kinds of quotes)`);
}

/**
 * Real OpenSSH servers on loopback for the remote-host integration tests and the ssh benchmark.
 * Each test host has its own port, host key, HOME and PATH, with a fixture nvidia-smi first on the
 * PATH that fakes its own GPU set. The client side gets an ssh_config (for -F) with the test key and
 * a known_hosts holding the servers' real keys: host-key checking stays on, as in production.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, promises as fs, readdirSync, readFileSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseTarget, type SshHostConfig } from '../../src/hosts/hostConfig';
import { freePort } from './net';

const SSHD = '/usr/sbin/sshd';
const FIXTURE_SMI = path.resolve(__dirname, '..', 'fixtures', 'bin', 'nvidia-smi');

export interface TestHostSpec {
  name: string;
  /** TRAINQ_FAKE_GPUS for the fixture nvidia-smi; undefined keeps its default 4-GPU set. */
  gpus?: number;
  /** Leaves rsync off the host's PATH (for the tar fallback). */
  withoutRsync?: boolean;
  /** Leaves nvidia-smi off the host's PATH. */
  withoutNvidiaSmi?: boolean;
}

/**
 * Why the tests cannot run, or undefined when sshd is there. Installs openssh-server when missing
 * and running as root (the test setup's job on a fresh Debian; scripts/test.sh does the same).
 */
export function ensureOpenSsh(): string | undefined {
  if (process.platform !== 'linux') {
    return 'the sshd fixtures need Linux';
  }
  if (!existsSync(SSHD) && process.getuid?.() === 0) {
    try {
      execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'openssh-server', 'openssh-client', 'rsync'], {
        stdio: 'ignore',
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
        timeout: 300_000,
      });
    } catch {
      // Reported below.
    }
  }
  if (!existsSync(SSHD) || !existsSync('/usr/bin/ssh')) {
    return 'OpenSSH (openssh-server, openssh-client) is not installed';
  }
  if (process.getuid?.() === 0) {
    execFileSync('mkdir', ['-p', '/run/sshd']);
  }
  return undefined;
}

/** Resolves once the port answers with an SSH banner. */
async function waitForBanner(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.setTimeout(1000);
      socket.once('data', (d) => {
        socket.destroy();
        resolve(d.toString().startsWith('SSH-'));
      });
      socket.once('error', () => resolve(false));
      socket.once('timeout', () => {
        socket.destroy();
        resolve(false);
      });
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`sshd on port ${port} did not come up`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Runs sshd and ends it (with its connections) when the test process is gone, so a run killed
 * before its after-hooks (a timeout, a closed pipe) leaves no servers behind. Args: parentPid sshd config.
 */
const WATCHDOG = `"$2" -D -e -f "$3" &
sshd=$!
while kill -0 "$1" 2>/dev/null && kill -0 "$sshd" 2>/dev/null; do sleep 1; done
pkill -KILL -P "$sshd" 2>/dev/null
kill -KILL "$sshd" 2>/dev/null`;

function procEntries(): number[] {
  try {
    return readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map(Number);
  } catch {
    return [];
  }
}

function groupOf(stat: string): number {
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
}

async function readProc(pid: number, file: string): Promise<string> {
  return fs.readFile(`/proc/${pid}/${file}`, 'utf8').catch(() => '');
}

/** Pids of `root` and everything below it, by parent links. */
async function descendants(root: number): Promise<number[]> {
  const parents = new Map<number, number>();
  for (const pid of procEntries()) {
    const stat = await readProc(pid, 'stat');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (stat !== '') parents.set(pid, Number(fields[1]));
  }
  const out = [root];
  for (let i = 0; i < out.length; i++) {
    for (const [pid, ppid] of parents) {
      if (ppid === out[i]) out.push(pid);
    }
  }
  return out;
}

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

export class TestSshd {
  port = 0;
  private child: ChildProcess | undefined;

  constructor(
    readonly spec: TestHostSpec,
    readonly dir: string,
  ) {}

  /** First on the host's PATH: tests may drop wrappers of remote tools here. */
  get binDir(): string {
    return path.join(this.dir, 'bin');
  }
  get home(): string {
    return path.join(this.dir, 'home');
  }
  get hostKey(): string {
    return path.join(this.dir, 'ssh_host_ed25519_key');
  }
  /** Lines `GPU-uuid, pid` the fixture nvidia-smi prints for --query-compute-apps. */
  get computeAppsFile(): string {
    return path.join(this.dir, 'compute-apps.csv');
  }
  get running(): boolean {
    return this.child !== undefined;
  }

  async prepare(authorizedKeys: string): Promise<void> {
    const bin = this.binDir;
    await fs.mkdir(bin, { recursive: true });
    await fs.mkdir(this.home, { recursive: true });
    await fs.writeFile(path.join(this.dir, 'authorized_keys'), authorizedKeys);
    await fs.writeFile(this.computeAppsFile, '');
    if (!this.spec.withoutNvidiaSmi) {
      await fs.writeFile(
        path.join(bin, 'nvidia-smi'),
        `#!/bin/sh\ncase " $* " in *--query-compute-apps*) cat '${this.computeAppsFile}'; exit 0 ;; esac\nexec '${FIXTURE_SMI}' "$@"\n`,
        { mode: 0o755 },
      );
    }
    let pathDirs = `${bin}:/usr/local/bin:/usr/bin:/bin`;
    if (this.spec.withoutRsync) {
      // /bin is /usr/bin on Debian, so a PATH without rsync needs a folder of everything else.
      const nobin = path.join(this.dir, 'nobin');
      await fs.mkdir(nobin, { recursive: true });
      for (const d of ['/usr/local/bin', '/usr/bin', '/usr/sbin']) {
        for (const name of await fs.readdir(d).catch(() => [] as string[])) {
          if (name !== 'rsync' && !existsSync(path.join(nobin, name))) {
            await fs.symlink(path.join(d, name), path.join(nobin, name)).catch(() => undefined);
          }
        }
      }
      pathDirs = `${bin}:${nobin}`;
    }
    await this.newHostKey();
    this.port = await freePort();
    const env = [`PATH=${pathDirs}`, `HOME=${this.home}`];
    if (this.spec.gpus !== undefined) env.push(`TRAINQ_FAKE_GPUS=${this.spec.gpus}`);
    await fs.writeFile(
      path.join(this.dir, 'sshd_config'),
      [
        `Port ${this.port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${this.hostKey}`,
        `AuthorizedKeysFile ${path.join(this.dir, 'authorized_keys')}`,
        `PidFile ${path.join(this.dir, 'sshd.pid')}`,
        'StrictModes no',
        'UsePAM no',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PermitRootLogin prohibit-password',
        // The fixture nvidia-smi first on PATH; a private HOME keeps the user's rc files out.
        `SetEnv ${env.join(' ')}`,
        'MaxStartups 100:30:200',
        'MaxSessions 100',
        'LogLevel ERROR',
        '',
      ].join('\n'),
    );
  }

  async newHostKey(): Promise<void> {
    await fs.rm(this.hostKey, { force: true });
    await fs.rm(`${this.hostKey}.pub`, { force: true });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', this.spec.name, '-f', this.hostKey]);
  }

  async knownHostsLine(): Promise<string> {
    const [type, key] = (await fs.readFile(`${this.hostKey}.pub`, 'utf8')).trim().split(' ');
    return `[127.0.0.1]:${this.port} ${type} ${key}\n`;
  }

  async start(): Promise<void> {
    if (this.child) return;
    const log = openSync(path.join(this.dir, 'sshd.log'), 'a');
    this.child = spawn('/bin/sh', ['-c', WATCHDOG, 'trainq-sshd-watchdog', String(process.pid), SSHD, path.join(this.dir, 'sshd_config')], {
      detached: true,
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    this.child.once('exit', () => (this.child = undefined));
    await waitForBanner(this.port);
  }

  /** Kills the listener and every session it forked (and the watchdog), like a host dropping off the network. Jobs live on. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child?.pid) return;
    const pids = await descendants(child.pid);
    const exited = new Promise((r) => child.once('exit', r));
    for (const pid of pids) kill(pid, 'SIGKILL');
    await exited;
  }
}

export class SshdFixture {
  private constructor(
    readonly root: string,
    readonly servers: TestSshd[],
    readonly sshConfig: string,
    readonly knownHosts: string,
  ) {}

  static async start(specs: TestHostSpec[]): Promise<SshdFixture> {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'trainq-sshd-'));
    const clientKey = path.join(root, 'client_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'trainq-test', '-f', clientKey]);
    const authorized = await fs.readFile(`${clientKey}.pub`, 'utf8');
    const servers = specs.map((s) => new TestSshd(s, path.join(root, s.name)));
    const fixture = new SshdFixture(root, servers, path.join(root, 'ssh_config'), path.join(root, 'known_hosts'));
    try {
      for (const server of servers) {
        await server.prepare(authorized);
      }
      await fixture.writeKnownHosts();
      const user = os.userInfo().username;
      const aliases = servers.map((s) => `Host ${s.spec.name}\n  HostName 127.0.0.1\n  Port ${s.port}\n`);
      await fs.writeFile(
        fixture.sshConfig,
        [
          ...aliases,
          'Host *',
          `  User ${user}`,
          `  IdentityFile ${clientKey}`,
          '  IdentitiesOnly yes',
          `  UserKnownHostsFile ${fixture.knownHosts}`,
          '  GlobalKnownHostsFile /dev/null',
          '  StrictHostKeyChecking yes',
          '  PasswordAuthentication no',
          '',
        ].join('\n'),
      );
      await Promise.all(servers.map((s) => s.start()));
    } catch (e) {
      await fixture.stop();
      throw e;
    }
    return fixture;
  }

  server(name: string): TestSshd {
    const found = this.servers.find((s) => s.spec.name === name);
    if (!found) throw new Error(`no test host ${name}`);
    return found;
  }

  /** known_hosts with every server's current key (call again after a key rotation to accept it). */
  async writeKnownHosts(): Promise<void> {
    const lines = await Promise.all(this.servers.map((s) => s.knownHostsLine()));
    await fs.writeFile(this.knownHosts, lines.join(''));
  }

  /** A host entry as the setting would give it, pointing at the test server by its alias. */
  hostConfig(name: string, over: Partial<SshHostConfig> = {}): SshHostConfig {
    return {
      name,
      type: 'ssh',
      target: name,
      destination: parseTarget(over.target ?? name),
      workdir: '~/trainq',
      python: 'python3',
      sync: 'rsync',
      maxJobs: 4,
      speed: 1,
      env: {},
      labels: [],
      ...over,
    };
  }

  /** Stops every server and kills what jobs the tests left running (their command lines name this root). */
  async stop(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.stop()));
    // Our own process group holds the test runner: its members are killed one by one, never as a group.
    const ownGroup = groupOf(readFileSync('/proc/self/stat', 'utf8'));
    for (const pid of procEntries()) {
      if (pid !== process.pid && (await readProc(pid, 'cmdline')).includes(this.root)) {
        const group = groupOf(await readProc(pid, 'stat'));
        kill(group > 1 && group !== ownGroup ? -group : pid, 'SIGKILL');
      }
    }
    await fs.rm(this.root, { recursive: true, force: true });
  }
}

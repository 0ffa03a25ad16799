// Starts and stops code-server instances for the end-to-end tests: a real VS Code workbench and Node
// extension host, served to a browser. scripts/setupCodeServer.sh installs it into the cache used here.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from '../support/net';

export const repoRoot = path.resolve(__dirname, '..', '..');
export const outputDir = path.join(repoRoot, 'test-output', 'e2e');

const cacheRoot = process.env.TRAINQ_CACHE ?? path.join(os.homedir(), '.cache', 'trainq');
/** The wrapper that setupCodeServer.sh writes; it puts the Node that code-server was built for on PATH. */
export const codeServerBin = path.join(cacheRoot, 'code-server', 'code-server');

export interface CodeServerOptions {
  /** The folder the workbench opens. */
  workspace: string;
  /** VSIX files installed into the instance's fresh extensions folder before it starts. */
  install?: string[];
  /** Folders put first on the server's PATH, which the extension host and the jobs it starts inherit. */
  pathPrefix?: string[];
  env?: Record<string, string>;
  /** Merged over the defaults in the fresh user-data-dir's settings.json. */
  settings?: Record<string, unknown>;
  /**
   * "disabled" (default) turns workspace trust off in the user settings, so every folder is trusted; a
   * test about restricted mode passes "enabled" and sees the untrusted workspace as a user would.
   */
  workspaceTrust?: 'disabled' | 'enabled';
  /** Appended to, with a header per instance. */
  logFile?: string;
}

export interface CodeServer {
  readonly port: number;
  readonly baseUrl: string;
  /** The workbench URL with the workspace open. */
  readonly workbenchUrl: string;
  readonly userDataDir: string;
  readonly extensionsDir: string;
  readonly workspace: string;
  /**
   * Ends the server's process group and any process it started elsewhere (jobs in their own groups),
   * copies the editor's logs (extension host, window) to test-output/e2e/logs-PORT and deletes the
   * instance's temporary folders.
   */
  stop(): Promise<void>;
}

const defaultSettings: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'chat.disableAIFeatures': true,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'git.enabled': false,
  'security.workspace.trust.startupPrompt': 'never',
};

/** Throws the message a contributor needs when code-server is not installed; tests fail on it, never skip. */
export function assertCodeServerInstalled(): void {
  const hint = 'run `bash scripts/setupCodeServer.sh` (it installs Node 24 and code-server into the cache)';
  if (!fs.existsSync(codeServerBin)) {
    throw new Error(`code-server is not installed at ${codeServerBin}: ${hint}`);
  }
  const probe = spawnSync(codeServerBin, ['--version'], { encoding: 'utf8', timeout: 60_000 });
  if (probe.status !== 0) {
    throw new Error(`${codeServerBin} --version failed (${probe.stderr || probe.error}): ${hint}`);
  }
}

/**
 * The packaged extension, rebuilt with `npm run build && npm run package` when it is missing or older than
 * its sources, so that running the e2e tier alone never tests a stale VSIX.
 */
export function packagedExtension(): string {
  const vsix = path.join(repoRoot, 'dist', 'trainq.vsix');
  const sources = ['src', 'media', 'package.json', path.join('scripts', 'build.mjs')].map((p) => path.join(repoRoot, p));
  const built = fs.existsSync(vsix) ? fs.statSync(vsix).mtimeMs : 0;
  if (sources.some((source) => newestMtime(source) > built)) {
    for (const script of ['build', 'package']) {
      const result = spawnSync('npm', ['run', script], { cwd: repoRoot, encoding: 'utf8', timeout: 300_000 });
      if (result.status !== 0) {
        const output = `${result.stdout}\n${result.stderr}`.trim().slice(-3_000);
        throw new Error(`npm run ${script} failed (exit ${result.status}):\n${output}`);
      }
    }
  }
  return vsix;
}

function newestMtime(file: string): number {
  if (!fs.existsSync(file)) return 0;
  const stat = fs.statSync(file);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return fs.readdirSync(file).reduce((newest, name) => Math.max(newest, newestMtime(path.join(file, name))), stat.mtimeMs);
}

/** Installs a VSIX the way a user would, which also checks that the package is well formed. */
export function installExtension(vsixPath: string, extensionsDir: string): void {
  fs.mkdirSync(extensionsDir, { recursive: true });
  const result = spawnSync(codeServerBin, ['--extensions-dir', extensionsDir, '--install-extension', vsixPath], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (result.status !== 0 || !/successfully installed/i.test(result.stdout)) {
    throw new Error(`installing ${vsixPath} failed (exit ${result.status}):\n${result.stdout}\n${result.stderr}`);
  }
}

export async function startCodeServer(options: CodeServerOptions): Promise<CodeServer> {
  const instanceDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trainq-e2e-'));
  const userDataDir = path.join(instanceDir, 'user-data');
  const extensionsDir = path.join(instanceDir, 'extensions');
  const settingsFile = path.join(userDataDir, 'User', 'settings.json');
  const settings: Record<string, unknown> = {
    ...defaultSettings,
    'security.workspace.trust.enabled': options.workspaceTrust === 'enabled',
    ...options.settings,
  };
  fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  try {
    for (const vsix of options.install ?? []) installExtension(vsix, extensionsDir);
  } catch (error) {
    fs.rmSync(instanceDir, { recursive: true, force: true });
    throw error;
  }
  fs.writeFileSync(settingsFile, JSON.stringify(settings, null, 2));
  // code-server is a remote window to VS Code: settings of `machine-overridable` scope (trainq.hosts,
  // trainq.local.maxJobs, trainq.python…) are read from the machine's settings, not the user's, as in a
  // Remote-SSH window. The same values go there too, so a test's settings mean what they say.
  fs.mkdirSync(path.join(userDataDir, 'Machine'), { recursive: true });
  fs.writeFileSync(path.join(userDataDir, 'Machine', 'settings.json'), JSON.stringify(settings, null, 2));
  // Its own config file, so the server never reads or writes ~/.config/code-server.
  const configFile = path.join(instanceDir, 'config.yaml');
  fs.writeFileSync(configFile, 'auth: none\ncert: false\n');

  const port = await freePort();
  const logFile = options.logFile ?? path.join(outputDir, 'code-server.log');
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const log = fs.openSync(logFile, 'a');
  fs.writeSync(log, `\n===== code-server on port ${port}, ${new Date().toISOString()}, workspace ${options.workspace}\n`);

  // Every process started under this server inherits the marker, including jobs that the extension
  // detaches into process groups of their own; stop() finds them by it.
  const marker = randomUUID();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...options.env,
    TRAINQ_E2E_INSTANCE: marker,
    PATH: [...(options.pathPrefix ?? []), process.env.PATH ?? ''].join(path.delimiter),
  };
  // Inherited test-runner settings would leak into the extension host's Node.
  delete env.NODE_OPTIONS;
  delete env.NODE_TEST_CONTEXT;

  const args = [
    '--config',
    configFile,
    '--auth',
    'none',
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    // The extension host of a reloaded window otherwise waits hours for its old window to come back, and
    // two hosts would run TrainQ side by side; in the desktop editor a reload ends the old host at once.
    '--reconnection-grace-time',
    '30',
    // The server otherwise builds the extension host's environment from a login shell, whose profile
    // resets PATH and drops pathPrefix (the fake nvidia-smi).
    '--vscode-option',
    'force-disable-user-env',
    '--user-data-dir',
    userDataDir,
    '--extensions-dir',
    extensionsDir,
    options.workspace,
  ];
  const child = spawn(codeServerBin, args, { env, detached: true, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const baseUrl = `http://127.0.0.1:${port}`;
  const server: CodeServer = {
    port,
    baseUrl,
    workbenchUrl: `${baseUrl}/?folder=${encodeURIComponent(options.workspace)}`,
    userDataDir,
    extensionsDir,
    workspace: options.workspace,
    stop: async () => {
      await killGroup(child, exited);
      killMarked(marker);
      const logs = path.join(userDataDir, 'logs');
      if (fs.existsSync(logs)) fs.cpSync(logs, path.join(outputDir, `logs-${port}`), { recursive: true });
      fs.rmSync(instanceDir, { recursive: true, force: true });
    },
  };
  try {
    await waitForHttp(`${baseUrl}/healthz`, child, 60_000);
  } catch (error) {
    await server.stop();
    throw new Error(`${(error as Error).message}; see ${logFile}`);
  }
  return server;
}

async function waitForHttp(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`code-server exited early (${child.exitCode ?? child.signalCode})`);
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await delay(250);
  }
  throw new Error(`code-server did not answer ${url} within ${timeoutMs / 1000} s`);
}

async function killGroup(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // The group is already gone.
    }
  };
  signalGroup('SIGTERM');
  const graceful = await Promise.race([exited.then(() => true), delay(5_000).then(() => false)]);
  // Children that outlive the leader still hold the group; SIGKILL reaches them either way.
  signalGroup('SIGKILL');
  if (!graceful) await Promise.race([exited, delay(2_000)]);
}

/** SIGKILLs every process whose environment carries this instance's marker (Linux /proc only). */
function killMarked(marker: string): void {
  if (process.platform !== 'linux') return;
  const needle = `TRAINQ_E2E_INSTANCE=${marker}`;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const environ = fs.readFileSync(`/proc/${entry}/environ`, 'latin1');
      if (environ.split('\0').includes(needle)) process.kill(Number(entry), 'SIGKILL');
    } catch {
      // Exited meanwhile, or not ours to read.
    }
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * One simulated extension host: loads dist/extension.js under the vscode stub in a fresh Node
 * process, activates it, and either reports the timings at once (`activate`) or stays up and
 * measures its CPU while the status bar polls (`poll`). benchExtension.ts compiles this file to
 * plain CommonJS and runs it with bare `node`, so no TypeScript loader hook sits between Node and
 * the bundle. The request arrives as JSON in argv[2]; the result is written as JSON to `out`.
 */
import * as fs from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createVscodeStub, installVscodeStub } from '../../test/support/vscodeStub';

export interface ChildRequest {
  mode: 'activate' | 'poll';
  bundle: string;
  extensionDir: string;
  storageDir: string;
  globalStorageDir: string;
  focused: boolean;
  /** poll: time after activation before measuring (first probe, first dispatch round). */
  warmupMs?: number;
  /** poll: length of the measured window. */
  windowMs?: number;
  out: string;
}

export interface CpuSnapshot {
  wallMs: number;
  /** process.cpuUsage(), microseconds: this process, all its threads. */
  userUs: number;
  systemUs: number;
  /** /proc/self/stat utime+stime and cutime+cstime, in clock ticks (children reaped by this process). */
  selfTicks: number;
  childTicks: number;
}

export interface ChildResult {
  loadMs: number;
  activateMs: number;
  /** What activate() logs about itself ("TrainQ activated in N ms"), as a cross-check. */
  selfReportedMs?: number;
  error?: string;
  misses: string[];
  undeclaredSettings: string[];
  messages: string[];
  warnings: string[];
  /** Node built-ins loaded before timing (see preloadBuiltins). */
  preloaded: string[];
  /** Child processes started during activate(). */
  spawnsDuringActivate: SpawnCounts;
  poll?: {
    before: CpuSnapshot;
    after: CpuSnapshot;
    spawns: SpawnCounts;
    statusBarUpdates: number;
  };
}

export interface SpawnCounts {
  /** Processes started, by command name. */
  started: Record<string, number>;
  /** Synchronous calls (execSync and friends) block the extension host: their count and wall time. */
  blocking: { calls: number; totalMs: number; maxMs: number; commands: string[] };
}

const emptyCounts = (): SpawnCounts => ({ started: {}, blocking: { calls: 0, totalMs: 0, maxMs: 0, commands: [] } });

/**
 * Counts processes the extension starts, by command name, without changing what they do. Wrapped
 * before the bundle loads because systeminformation keeps its own references to these functions.
 * Timing the synchronous calls adds no timer or wakeup, so it does not disturb the CPU figures.
 */
function countSpawns(): { reset(): SpawnCounts } {
  let counts = emptyCounts();
  // The module object itself: an `import * as` namespace is a read-only copy.
  const cp = createRequire(__filename)('node:child_process') as Record<string, (...args: unknown[]) => unknown>;
  for (const name of ['spawn', 'execFile', 'exec', 'fork', 'spawnSync', 'execFileSync', 'execSync']) {
    const original = cp[name];
    cp[name] = function (this: unknown, ...args: unknown[]) {
      // exec and execSync take a shell line: its first word is the command.
      const first = String(args[0]);
      const key = path.basename(name === 'exec' || name === 'execSync' ? first.trim().split(/\s+/)[0] : first);
      counts.started[key] = (counts.started[key] ?? 0) + 1;
      if (!name.endsWith('Sync')) {
        return original.apply(this, args);
      }
      const t0 = performance.now();
      try {
        return original.apply(this, args);
      } finally {
        const ms = performance.now() - t0;
        const b = counts.blocking;
        b.calls += 1;
        b.totalMs += ms;
        b.maxMs = Math.max(b.maxMs, ms);
        if (b.commands.length < 5 && !b.commands.includes(`${name}(${first})`)) {
          b.commands.push(`${name}(${first})`);
        }
      }
    };
  }
  return {
    reset() {
      const before = counts;
      counts = emptyCounts();
      return before;
    },
  };
}

/**
 * Loads the Node built-ins the bundle requires, before the clock starts: VS Code's extension host
 * has them loaded already, so counting them would charge the extension for Node's own start-up.
 */
function preloadBuiltins(bundle: string): string[] {
  const load = createRequire(__filename);
  const names = new Set([...fs.readFileSync(bundle, 'utf8').matchAll(/require\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]));
  const builtins = [...names].filter((n) => isBuiltin(n));
  builtins.forEach((n) => load(n));
  return builtins;
}

function cpuSnapshot(): CpuSnapshot {
  const usage = process.cpuUsage();
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  // Fields after "(comm) ": [0] is field 3 (state), so utime..cstime (14..17) are [11..14].
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
  return { wallMs: performance.now(), userUs: usage.user, systemUs: usage.system, selfTicks: f[11] + f[12], childTicks: f[13] + f[14] };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const req = JSON.parse(process.argv[2]) as ChildRequest;
  const stub = createVscodeStub({ packageJsonPath: `${req.extensionDir}/package.json`, focused: req.focused, keepLog: true });
  installVscodeStub(stub);
  const spawns = countSpawns();
  const errors: string[] = [];
  process.on('unhandledRejection', (e) => errors.push(`unhandled rejection: ${e instanceof Error ? e.stack : String(e)}`));

  const result: ChildResult = { loadMs: NaN, activateMs: NaN, misses: stub.misses, undeclaredSettings: [], messages: stub.messages, warnings: [], preloaded: [], spawnsDuringActivate: emptyCounts() };
  const context = stub.extensionContext({ storageDir: req.storageDir, globalStorageDir: req.globalStorageDir, extensionDir: req.extensionDir });
  try {
    result.preloaded = preloadBuiltins(req.bundle);
    const t0 = performance.now();
    const extension = createRequire(__filename)(req.bundle) as { activate(ctx: unknown): Promise<void>; deactivate?(): void };
    const t1 = performance.now();
    await extension.activate(context);
    const t2 = performance.now();
    result.loadMs = t1 - t0;
    result.activateMs = t2 - t1;
    result.spawnsDuringActivate = spawns.reset();

    if (req.mode === 'poll') {
      await sleep(req.warmupMs ?? 2000);
      spawns.reset();
      const item = stub.statusBarItems[0];
      const setsBefore = item?.textSets ?? 0;
      const before = cpuSnapshot();
      await sleep(req.windowMs ?? 60_000);
      const after = cpuSnapshot();
      result.poll = { before, after, spawns: spawns.reset(), statusBarUpdates: (item?.textSets ?? 0) - setsBefore };
    }
    for (const d of [...(context.subscriptions as Array<{ dispose(): unknown }>)].reverse()) {
      d.dispose();
    }
    extension.deactivate?.();
  } catch (e) {
    errors.push(e instanceof Error ? (e.stack ?? e.message) : String(e));
  }
  const activated = stub.log.map((l) => /activated in (\d+) ms/.exec(l.message)).find((m) => m !== null);
  result.selfReportedMs = activated ? Number(activated[1]) : undefined;
  result.warnings = stub.log.filter((l) => l.level === 'warn' || l.level === 'error').map((l) => `${l.level}: ${l.message}`);
  result.undeclaredSettings = [...stub.undeclaredSettings];
  if (errors.length > 0) {
    result.error = errors.join('\n');
  }
  fs.writeFileSync(req.out, JSON.stringify(result));
  // Timers the extension leaves (lock retries, jobs' pollers) must not keep a finished sample alive.
  process.exit(0);
}

void main();

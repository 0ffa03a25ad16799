/**
 * The only reader of `workspace.getConfiguration`: typed settings, read once per change,
 * handed inward as plain values (core never sees the VS Code configuration API).
 */
import * as vscode from 'vscode';
import { isBackendPreference, type BackendPreference } from '../agent/backendPreference';

export interface TrainQConfig {
  scriptGlobs: string[];
  scriptExcludes: string[];
  /** Empty string: ask the Python extension, else python3. */
  python: string;
  nvidiaSmiPath: string;
  agingMinutes: number;
  cancelGraceSeconds: number;
  finishedHistory: number;
  statusBarPollSeconds: number;
  localMaxJobs: number;
  retries: number;
  /** The raw `trainq.hosts` value; hosts/hostConfig.ts validates it. */
  hosts: unknown;
  sshSyncExcludes: string[];
  sshMaxLogBytes: number;
  sshLostAfterMs: number;
  agentBackend: BackendPreference;
  agentLearning: boolean;
  /** Points kept per dashboard chart. */
  agentStatsHistory: number;
}

const SECTION = 'trainq';

export function readConfig(): TrainQConfig {
  const c = vscode.workspace.getConfiguration(SECTION);
  return {
    scriptGlobs: stringArray(c.get('scriptGlobs'), ['**/train*.py', '**/*train*.sh']),
    scriptExcludes: stringArray(c.get('scriptExcludes'), ['**/node_modules/**', '**/.venv/**', '**/venv/**']),
    python: String(c.get('python') ?? '').trim(),
    nvidiaSmiPath: String(c.get('nvidiaSmiPath') ?? 'nvidia-smi').trim() || 'nvidia-smi',
    agingMinutes: clamp(c.get('agingMinutes'), 0, 100_000, 60),
    cancelGraceSeconds: clamp(c.get('cancelGraceSeconds'), 0, 3600, 10),
    finishedHistory: Math.round(clamp(c.get('finishedHistory'), 1, 5000, 50)),
    statusBarPollSeconds: clamp(c.get('statusBar.pollSeconds'), 1, 300, 3),
    localMaxJobs: Math.round(clamp(c.get('local.maxJobs'), 1, 256, 4)),
    retries: Math.round(clamp(c.get('retries'), 0, 100, 0)),
    hosts: c.get('hosts'),
    sshSyncExcludes: stringArray(c.get('ssh.syncExcludes'), []),
    sshMaxLogBytes: clamp(c.get('ssh.maxLogMiB'), 1, 4096, 50) * 1024 * 1024,
    sshLostAfterMs: clamp(c.get('ssh.lostAfterMinutes'), 1, 1440, 10) * 60_000,
    agentBackend: isBackendPreference(c.get('agent.backend')) ? (c.get('agent.backend') as BackendPreference) : 'auto',
    agentLearning: c.get('agent.learning') !== false,
    agentStatsHistory: Math.round(clamp(c.get('agent.statsHistory'), 100, 200_000, 10_000)),
  };
}

/** Keeps an up-to-date config and tells listeners which TrainQ settings changed. */
export class ConfigWatcher implements vscode.Disposable {
  private current = readConfig();
  private readonly emitter = new vscode.EventEmitter<TrainQConfig>();
  readonly onDidChange = this.emitter.event;
  private readonly subscription = vscode.workspace.onDidChangeConfiguration((e) => {
    if (e.affectsConfiguration(SECTION)) {
      this.current = readConfig();
      this.emitter.fire(this.current);
    }
  });

  get value(): TrainQConfig {
    return this.current;
  }

  dispose(): void {
    this.subscription.dispose();
    this.emitter.dispose();
  }
}

function stringArray(value: unknown, fallback: string[]): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string' && v.trim() !== '') : fallback;
}

/** Settings edited by hand can hold anything; out-of-range numbers fall back rather than break scheduling. */
function clamp(value: unknown, min: number, max: number, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? Math.min(max, Math.max(min, value)) : fallback;
}

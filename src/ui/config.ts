/**
 * The only reader (and writer) of `workspace.getConfiguration`: typed settings, read once per change,
 * handed inward as plain values (core never sees the VS Code configuration API). Defaults and bounds
 * are the manifest's (settingReaders.ts); nothing here repeats them.
 */
import * as vscode from 'vscode';
import type { BackendPreference } from '../agent/backendPreference';
import type { JobEndSetting } from '../core/jobEndNotices';
import { readSetting, readSettings, SECTION } from './settingReaders';

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
  /** trainq.local.labels: what host constraints match this machine by, beside its name. */
  localLabels: string[];
  retries: number;
  /** Ask before cancelling a running job (trainq.confirm.cancel). */
  confirmCancel: boolean;
  /** Ask before removing finished jobs from the history (trainq.confirm.clearFinished). */
  confirmClearFinished: boolean;
  /** The raw `trainq.hosts` value; hosts/hostConfig.ts validates it. */
  hosts: unknown;
  sshSyncExcludes: string[];
  sshMaxLogBytes: number;
  sshLostAfterMs: number;
  /** Output patterns copied back from remote hosts when a job ends (besides each job's own). */
  outputsGlobs: string[];
  /** Where they land, relative to the job's folder ('' is the job's folder). */
  outputsFolder: string;
  /** Over this, an output copy copies nothing. */
  outputsMaxBytes: number;
  agentBackend: BackendPreference;
  agentLearning: boolean;
  /** Points kept per dashboard chart. */
  agentStatsHistory: number;
  /** Which ended jobs notify (trainq.notifications.jobEnd). */
  notifyJobEnd: JobEndSetting;
  /** Notify only while the window is not focused. */
  notifyOnlyWhenUnfocused: boolean;
  /** GPU idle warning after this long at 0 %; 0: off. */
  gpuIdleWarnMs: number;
}

const HOSTS = 'hosts';

/** The configured value of a key without the `trainq.` prefix, as VS Code merges it (default, user, workspace). */
function configured(key: string): unknown {
  return vscode.workspace.getConfiguration(SECTION).get(key);
}

export function readConfig(): TrainQConfig {
  const s = readSettings(configured);
  return {
    scriptGlobs: s.scriptGlobs,
    scriptExcludes: s.scriptExcludes,
    python: s.python,
    nvidiaSmiPath: s.nvidiaSmiPath,
    agingMinutes: s.agingMinutes,
    cancelGraceSeconds: s.cancelGraceSeconds,
    finishedHistory: s.finishedHistory,
    statusBarPollSeconds: s['statusBar.pollSeconds'],
    localMaxJobs: s['local.maxJobs'],
    localLabels: s['local.labels'],
    retries: s.retries,
    confirmCancel: s['confirm.cancel'],
    confirmClearFinished: s['confirm.clearFinished'],
    hosts: s.hosts,
    sshSyncExcludes: s['ssh.syncExcludes'],
    sshMaxLogBytes: s['ssh.maxLogMiB'] * 1024 * 1024,
    sshLostAfterMs: s['ssh.lostAfterMinutes'] * 60_000,
    outputsGlobs: s['outputs.globs'],
    outputsFolder: s['outputs.folder'],
    outputsMaxBytes: s['outputs.maxMiB'] * 1024 * 1024,
    agentBackend: s['agent.backend'],
    agentLearning: s['agent.learning'],
    agentStatsHistory: s['agent.statsHistory'],
    notifyJobEnd: s['notifications.jobEnd'],
    notifyOnlyWhenUnfocused: s['notifications.onlyWhenUnfocused'],
    gpuIdleWarnMs: s['gpuIdle.warnMinutes'] * 60_000,
  };
}

/** The `trainq.hosts` entries in effect, unvalidated (hosts/hostConfig.ts validates them); not a list: none. */
export function hostEntries(): unknown[] {
  const value = readSetting(HOSTS, configured);
  return Array.isArray(value) ? value : [];
}

/**
 * Appends a host entry where the list in effect is defined: a workspace that sets `trainq.hosts`
 * shadows the user setting, so adding to the user setting there would change nothing visible.
 * Otherwise user settings, so every workspace sees the same boxes.
 */
export async function addHostEntry(entry: object): Promise<void> {
  const c = vscode.workspace.getConfiguration(SECTION);
  const target = c.inspect<unknown[]>(HOSTS)?.workspaceValue !== undefined ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  await c.update(HOSTS, [...hostEntries(), entry], target);
}

/** Removes the host entry called `name` from user and workspace settings, wherever it is. */
export async function removeHostEntry(name: string): Promise<void> {
  const c = vscode.workspace.getConfiguration(SECTION);
  const inspect = c.inspect<unknown[]>(HOSTS);
  const named = (e: unknown) => (e as { name?: unknown } | null)?.name === name;
  const scopes = [
    [inspect?.globalValue, vscode.ConfigurationTarget.Global],
    [inspect?.workspaceValue, vscode.ConfigurationTarget.Workspace],
  ] as const;
  for (const [list, target] of scopes) {
    if (Array.isArray(list) && list.some(named)) {
      await c.update(HOSTS, list.filter((e) => !named(e)), target);
    }
  }
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

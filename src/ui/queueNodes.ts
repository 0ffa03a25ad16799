/**
 * The Job Queue's nodes and how each becomes a TreeItem: priority and state groups, sweeps (with their
 * trials as children) and jobs. Kept apart from the view's refresh and drag-and-drop logic.
 */
import * as vscode from 'vscode';
import type { Job, Priority } from '../core/job';
import { latestText } from '../core/metricsProtocol';
import { sweepProgressText, type SweepRecord } from '../core/sweep/sweepRecord';
import { jobDescription, type JobContext } from './jobFormat';

export type GroupKey = 'sweeps' | Priority | 'running' | 'finished';

export interface GroupNode {
  readonly kind: 'group';
  readonly key: GroupKey;
}

export interface JobNode {
  readonly kind: 'job';
  readonly job: Job;
  /** Its priority or state group, or the sweep it is a trial of. */
  readonly group: GroupNode | SweepNode;
  readonly ctx: JobContext;
  /** "starts ~14:20 on lab-2 · ends ~16:05", from the cached ETA plan; absent without one. */
  readonly eta?: string;
}

/** A sweep under the Sweeps group; its trials' jobs are its children. */
export interface SweepNode {
  readonly kind: 'sweep';
  readonly sweep: SweepRecord;
}

export type QueueNode = GroupNode | SweepNode | JobNode;

// One instance per state: getTreeItem runs for thousands of jobs per refresh.
const STATE_ICONS: Record<Job['state'], vscode.ThemeIcon> = {
  queued: new vscode.ThemeIcon('clock'),
  running: new vscode.ThemeIcon('sync~spin'),
  succeeded: new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed')),
  failed: new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed')),
  cancelled: new vscode.ThemeIcon('circle-slash'),
  lost: new vscode.ThemeIcon('question', new vscode.ThemeColor('list.warningForeground')),
};
const STOPPED_EARLY_ICON = new vscode.ThemeIcon('debug-step-out', new vscode.ThemeColor('list.warningForeground'));
const GPU_IDLE_ICON = new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground'));
const SWEEP_ICONS: Record<SweepRecord['status'], vscode.ThemeIcon> = {
  running: new vscode.ThemeIcon('beaker'),
  paused: new vscode.ThemeIcon('debug-pause'),
  stopped: new vscode.ThemeIcon('circle-slash'),
  finished: new vscode.ThemeIcon('pass'),
};

export function jobItem(node: JobNode): vscode.TreeItem {
  const { job } = node;
  const item = new vscode.TreeItem(job.name, vscode.TreeItemCollapsibleState.None);
  item.id = job.id;
  const trial = job.sweep ? vscode.l10n.t('trial {0} · ', job.sweep.trial) : '';
  const metrics = job.metrics ? latestText(job.metrics) : '';
  const parts = [jobDescription(job, node.ctx), metrics, node.eta].filter((p) => p);
  item.label = `${trial}${job.name}`;
  item.description = parts.join(' · ');
  item.iconPath = job.stoppedEarly !== undefined && job.state === 'cancelled' ? STOPPED_EARLY_ICON : STATE_ICONS[job.state];
  if (job.state === 'running' && node.ctx.gpuIdleMs !== undefined) {
    item.iconPath = GPU_IDLE_ICON;
  }
  // `.remote`: the job ran on an SSH host or Slurm cluster, so Download Outputs applies; `.after`: it waits for others (Clear Dependencies).
  item.contextValue = job.state === 'queued' ? (job.after ? 'job.queued.after' : 'job.queued') : job.state === 'running' ? 'job.running' : job.host !== undefined && job.host !== 'local' ? 'job.finished.remote' : 'job.finished';
  item.accessibilityInformation = { label: `${job.name}, ${item.description}` };
  return item;
}

export function isJobNode(value: unknown): value is JobNode {
  return typeof value === 'object' && value !== null && (value as JobNode).kind === 'job' && typeof (value as JobNode).job?.id === 'string';
}

/**
 * Job ids from a command's arguments. A tree item command gets (clicked node, selected nodes) when
 * several are selected; a palette or keybinding invocation gets none, and then `fallback` (the
 * view's selection) is used. Plain id strings are accepted for commands run programmatically.
 */
export function jobsFromArgs(args: readonly unknown[], fallback: readonly string[] = []): string[] {
  const ids = new Set<string>();
  const visit = (arg: unknown) => {
    if (Array.isArray(arg)) {
      arg.forEach(visit);
    } else if (isJobNode(arg)) {
      ids.add(arg.job.id);
    } else if (typeof arg === 'string' && arg !== '') {
      ids.add(arg);
    }
  };
  args.forEach(visit);
  return ids.size > 0 ? [...ids] : [...fallback];
}

export function parseIds(text: string | undefined): string[] {
  try {
    const value: unknown = JSON.parse(text ?? '[]');
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  } catch {
    return [];
  }
}

/** "lr sweep · 12/40 trials · best val_acc 0.981 (trial 7)", with its status when it is not running. */
export function sweepItem(node: SweepNode, trialCount: number): vscode.TreeItem {
  const { sweep } = node;
  const item = new vscode.TreeItem(sweep.spec.name, trialCount > 0 ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None);
  item.id = `sweep:${sweep.id}`;
  const status = sweep.status === 'running' ? '' : `${sweep.status} · `;
  item.description = `${status}${sweepProgressText(sweep)}`;
  item.iconPath = SWEEP_ICONS[sweep.status];
  item.contextValue = `sweep.${sweep.status}`;
  item.tooltip = [sweep.spec.script, vscode.l10n.t('{0} search · {1} ({2})', sweep.spec.strategy, sweep.spec.metric, sweep.spec.goal), sweep.reason ?? ''].filter((l) => l).join('\n');
  item.command = { command: 'trainq.sweep.show', title: vscode.l10n.t('Show Sweep'), arguments: [node] };
  item.accessibilityInformation = { label: vscode.l10n.t('Sweep {0}, {1}', sweep.spec.name, item.description) };
  return item;
}

export function isSweepNode(value: unknown): value is SweepNode {
  return typeof value === 'object' && value !== null && (value as SweepNode).kind === 'sweep' && typeof (value as SweepNode).sweep?.id === 'string';
}

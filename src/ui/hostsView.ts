/**
 * The Hosts view: each host TrainQ can dispatch to, with its GPUs, CPU load and memory as last
 * probed, and which TrainQ job holds each GPU. Probing itself is the status bar's and the
 * Refresh Hosts command's job; this view only shows the manager's latest statuses.
 */
import * as vscode from 'vscode';
import type { Job } from '../core/job';
import { gpuDescription, gpuLabel, hostDescription, hostLabelsText, hostTooltipMarkdown, noGpuLabel } from './hostFormat';
import { speedText } from './etaFormat';
import type { JobManager } from '../core/jobManager';
import type { GpuInfo, HostStatus } from '../core/host';

const VIEW_ID = 'trainq.hosts';
const REFRESH_DEBOUNCE_MS = 100;

type HostNode = { readonly kind: 'host'; readonly status: HostStatus };
type GpuNode = { readonly kind: 'gpu'; readonly status: HostStatus; readonly gpu: GpuInfo; readonly heldBy: string[] };
type NoGpuNode = { readonly kind: 'noGpu'; readonly status: HostStatus };
export type HostsNode = HostNode | GpuNode | NoGpuNode;

export type HostsViewManager = Pick<JobManager, 'jobs' | 'onDidChangeJobs' | 'onDidChangeHosts' | 'hostStatuses' | 'refreshHosts'> &
  /** For each host's declared speed beside what the run-time model learned of it, and its labels; left out without them. */
  Partial<Pick<JobManager, 'runtimeModel' | 'host'>>;

export class HostsView implements vscode.TreeDataProvider<HostsNode>, vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<HostsNode | undefined>();
  readonly onDidChangeTreeData = this.changeEmitter.event;
  private readonly treeView: vscode.TreeView<HostsNode>;
  private readonly disposables: vscode.Disposable[] = [];
  private refreshTimer: NodeJS.Timeout | undefined;

  constructor(private readonly manager: HostsViewManager) {
    this.treeView = vscode.window.createTreeView(VIEW_ID, { treeDataProvider: this, showCollapseAll: false });
    this.disposables.push(
      this.treeView,
      this.changeEmitter,
      manager.onDidChangeJobs(() => this.scheduleRefresh()),
      manager.onDidChangeHosts(() => this.scheduleRefresh()),
      // The status bar probes only while the window is focused; opening this view should not show an empty list.
      this.treeView.onDidChangeVisibility((e) => {
        if (e.visible && manager.hostStatuses().length === 0) {
          void manager.refreshHosts();
        }
      }),
    );
  }

  getTreeItem(node: HostsNode): vscode.TreeItem {
    switch (node.kind) {
      case 'host':
        return hostItem(
          node.status,
          this.manager.jobs.filter((j) => j.state === 'running' && j.host === node.status.name).length,
          this.speedOf(node.status.name),
          this.manager.host?.(node.status.name)?.labels,
        );
      case 'gpu': {
        const item = new vscode.TreeItem(gpuLabel(node.gpu), vscode.TreeItemCollapsibleState.None);
        item.id = `gpu:${node.status.name}:${node.gpu.index}`;
        item.description = gpuDescription(node.gpu, node.heldBy);
        item.iconPath = new vscode.ThemeIcon('circuit-board');
        const use = node.heldBy.length > 0 ? vscode.l10n.t('Held by {0}', node.heldBy.join(', ')) : vscode.l10n.t('Not used by TrainQ');
        item.tooltip = `${gpuLabel(node.gpu)}\n${vscode.l10n.t('UUID {0}', node.gpu.uuid)}\n${use}`;
        item.contextValue = 'gpu';
        return item;
      }
      case 'noGpu': {
        const item = new vscode.TreeItem(noGpuLabel(node.status), vscode.TreeItemCollapsibleState.None);
        item.id = `nogpu:${node.status.name}`;
        item.iconPath = new vscode.ThemeIcon('info');
        item.tooltip = vscode.l10n.t('TrainQ runs only CPU jobs (0 GPUs) on this host.');
        return item;
      }
    }
  }

  getChildren(node?: HostsNode): HostsNode[] {
    if (!node) {
      return this.manager.hostStatuses().map((status) => ({ kind: 'host', status }));
    }
    if (node.kind !== 'host' || node.status.state !== 'online') {
      return [];
    }
    const { status } = node;
    if (status.gpus.length === 0) {
      return [{ kind: 'noGpu', status }];
    }
    const running = this.manager.jobs.filter((j) => j.state === 'running' && j.host === status.name);
    return status.gpus.map((gpu) => ({ kind: 'gpu', status, gpu, heldBy: holders(running, gpu.index) }));
  }

  /** "speed 1.0 declared · 1.6 learned (12 runs)"; undefined when the host or the model is unknown here. */
  private speedOf(name: string): string | undefined {
    const declared = this.manager.host?.(name)?.speed;
    const model = this.manager.runtimeModel;
    return declared === undefined || !model ? undefined : speedText(declared, model.learnedSpeed({ name, declaredSpeed: declared }));
  }

  /** Host probes and job changes come in bursts; one refresh per burst is enough. */
  private scheduleRefresh(): void {
    if (this.refreshTimer) {
      return;
    }
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      this.changeEmitter.fire(undefined);
    }, REFRESH_DEBOUNCE_MS);
  }

  dispose(): void {
    clearTimeout(this.refreshTimer);
    this.disposables.forEach((d) => d.dispose());
  }
}

function hostItem(status: HostStatus, runningJobs: number, speed?: string, labels?: readonly string[]): vscode.TreeItem {
  const expandable = status.state === 'online';
  const { Expanded, None } = vscode.TreeItemCollapsibleState;
  const item = new vscode.TreeItem(status.name, expandable ? Expanded : None);
  item.id = `host:${status.name}`;
  item.description = [hostDescription(status), speed, hostLabelsText(labels), runningJobs > 0 ? vscode.l10n.t('{0} running', runningJobs) : undefined].filter((p) => p).join(' · ');
  const icon = status.kind === 'local' ? 'vm' : 'server';
  item.iconPath =
    status.state === 'online'
      ? new vscode.ThemeIcon(icon)
      : status.state === 'connecting'
        ? new vscode.ThemeIcon('loading~spin')
        : new vscode.ThemeIcon(icon, new vscode.ThemeColor('errorForeground'));
  const md = new vscode.MarkdownString(hostTooltipMarkdown(status, labels), true);
  md.isTrusted = false;
  item.tooltip = md;
  item.contextValue = `host.${status.kind}.${status.state}`;
  return item;
}

function holders(running: readonly Job[], index: number): string[] {
  return running.filter((j) => j.gpuIndices?.includes(index)).map((j) => j.name);
}

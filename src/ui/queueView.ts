/**
 * The Job Queue view: maps the groups computed in core (jobQueues.ts) to TreeItems, lets a queued job
 * be dragged into another priority group or onto another job (queueDragAndDrop.ts), and keeps
 * elapsed times ticking while jobs run.
 */
import * as vscode from 'vscode';
import type { Job } from '../core/job';
import { groupCount, jobTooltipMarkdown, type JobContext } from './jobFormat';
import { metricsTooltip } from '../core/metricsProtocol';
import { isJobNode, jobItem, sweepItem, type GroupKey, type GroupNode, type QueueNode, type SweepNode } from './queueNodes';
import type { JobManager } from '../core/jobManager';
import { groupJobs, type QueueGroups } from '../core/jobQueues';
import type { ConfigWatcher } from './config';
import type { EtaCache } from './etaCache';
import { jobEtaText } from './etaFormat';
import { QueueDragAndDrop } from './queueDragAndDrop';
import { runsAfterText } from '../core/dependencies';
import type { GpuIdleWarnings } from './gpuIdleWarnings';

const VIEW_ID = 'trainq.jobQueue';
const REFRESH_DEBOUNCE_MS = 100;
const TICK_MS = 1000;
/** Aging moves queued jobs between groups with no event to say so; a periodic regroup catches it. */
const REGROUP_EVERY_TICKS = 30;


/** What the view needs from the manager; a narrow slice so it can be driven by a fake. */
export type QueueViewManager = Pick<
  JobManager,
  'jobs' | 'onDidChangeJobs' | 'waitingReason' | 'canDispatch' | 'paused' | 'dispatchBlockedReason' | 'setPriority' | 'job' | 'setDependencies'
> &
  /** Sweeps, shown in their own group with their trials under them; none without. */
  Partial<Pick<JobManager, 'sweeps'>> &
  /** The learned run time the view orders each level by, as the dispatcher does; the estimate without it. */
  Partial<Pick<JobManager, 'predictedBaseSec'>>;
export type QueueViewConfig = Pick<ConfigWatcher, 'value' | 'onDidChange'>;
/** Where the view reads ETAs: a plan computed elsewhere on its own schedule, never on a refresh. */
export type QueueViewEtas = Pick<EtaCache, 'plan' | 'onDidUpdate'>;
/** Running jobs whose GPUs sit idle past the warning threshold (ui/gpuIdleWarnings.ts). */
export type QueueViewGpuIdle = Pick<GpuIdleWarnings, 'warningMs' | 'onDidChange'>;

function groupLabel(key: GroupKey): string {
  const labels: Record<GroupKey, () => string> = {
    sweeps: () => vscode.l10n.t('Sweeps'),
    high: () => vscode.l10n.t('High'),
    medium: () => vscode.l10n.t('Medium'),
    low: () => vscode.l10n.t('Low'),
    running: () => vscode.l10n.t('Running'),
    finished: () => vscode.l10n.t('Finished'),
  };
  return labels[key]();
}
const GROUP_ICONS: Record<GroupKey, vscode.ThemeIcon> = {
  sweeps: new vscode.ThemeIcon('beaker'),
  high: new vscode.ThemeIcon('arrow-up'),
  medium: new vscode.ThemeIcon('arrow-right'),
  low: new vscode.ThemeIcon('arrow-down'),
  running: new vscode.ThemeIcon('play'),
  finished: new vscode.ThemeIcon('history'),
};

export class JobQueueView implements vscode.TreeDataProvider<QueueNode>, vscode.Disposable {
  /** Moving queued jobs between priority groups, and making one wait for another (queueDragAndDrop.ts). */
  readonly dragAndDrop: QueueDragAndDrop;

  private readonly changeEmitter = new vscode.EventEmitter<QueueNode | undefined>();
  readonly onDidChangeTreeData = this.changeEmitter.event;

  // Group nodes live as long as the view, so a tick can refresh just the Running group by identity.
  private readonly groupNodes = new Map<GroupKey, GroupNode>(
    (['sweeps', 'high', 'medium', 'low', 'running', 'finished'] as const).map((key) => [key, { kind: 'group', key }]),
  );
  private readonly treeView: vscode.TreeView<QueueNode>;
  private readonly disposables: vscode.Disposable[] = [];
  /** Computed at most once per refresh, on the first getChildren/getTreeItem that needs it. */
  private groups: QueueGroups | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  private ticks = 0;
  /** The ETA text each drawn job got, so a new plan that reads the same redraws nothing. */
  private readonly drawnEtas = new Map<string, { job: Job; eta: string | undefined }>();

  constructor(
    private readonly manager: QueueViewManager,
    private readonly config: QueueViewConfig,
    private readonly etas?: QueueViewEtas,
    private readonly gpuIdle?: QueueViewGpuIdle,
  ) {
    this.treeView = vscode.window.createTreeView(VIEW_ID, {
      treeDataProvider: this,
      dragAndDropController: (this.dragAndDrop = new QueueDragAndDrop(manager)),
      showCollapseAll: false,
      canSelectMany: true,
    });
    this.disposables.push(
      this.treeView,
      this.changeEmitter,
      manager.onDidChangeJobs(() => this.scheduleRefresh()),
      config.onDidChange(() => this.scheduleRefresh()),
      this.treeView.onDidChangeVisibility(() => this.updateTicking()),
    );
    if (etas) {
      // Plans come after every host poll and every few seconds; redrawing the tree for a plan that
      // reads the same would drop an open context menu's element (the e2e menu test counts that).
      this.disposables.push(etas.onDidUpdate(() => this.etasChanged() && this.scheduleRefresh()));
    }
    if (gpuIdle) {
      this.disposables.push(gpuIdle.onDidChange(() => this.scheduleRefresh()));
    }
    this.updateChrome();
  }

  /** Job ids selected in the view, for commands run from a keybinding or the palette. */
  selection(): string[] {
    return this.treeView.selection.filter(isJobNode).map((n) => n.job.id);
  }

  getTreeItem(node: QueueNode): vscode.TreeItem {
    if (node.kind === 'sweep') {
      return sweepItem(node, this.trialsOf(node.sweep.id).length);
    }
    return node.kind === 'group' ? this.groupItem(node) : jobItem(node);
  }

  private sweeps() {
    return this.manager.sweeps ?? [];
  }

  /** A sweep's trial jobs still in the history, in trial order. */
  private trialsOf(sweepId: string): Job[] {
    return this.manager.jobs.filter((j) => j.sweep?.sweepId === sweepId).sort((a, b) => a.sweep!.trial - b.sweep!.trial);
  }

  getChildren(node?: QueueNode): QueueNode[] {
    if (!node) {
      // No jobs at all: an empty root lets the view's welcome content (how to queue a script) show.
      if (this.manager.jobs.length === 0 && this.sweeps().length === 0) {
        return [];
      }
      // The Sweeps group shows only while there is a sweep: most queues have none.
      return [...this.groupNodes.values()].filter((g) => g.key !== 'sweeps' || this.sweeps().length > 0);
    }
    if (node.kind === 'job') {
      return [];
    }
    const now = Date.now();
    const plan = this.etas?.plan;
    const etaOf = (job: Job) => {
      const eta = jobEtaText(job, plan, now);
      this.drawnEtas.set(job.id, { job, eta });
      return eta;
    };
    if (node.kind === 'sweep') {
      return this.trialsOf(node.sweep.id).map((job) => ({ kind: 'job', job, group: node, ctx: this.startedCtx(job, now), eta: etaOf(job) }));
    }
    if (node.key === 'sweeps') {
      return [...this.sweeps()].reverse().map((sweep): SweepNode => ({ kind: 'sweep', sweep }));
    }
    const groups = this.currentGroups();
    if (node.key === 'running' || node.key === 'finished') {
      return groups[node.key].map((job) => ({ kind: 'job', job, group: node, ctx: this.startedCtx(job, now), eta: etaOf(job) }));
    }
    return groups.queued[node.key].map((e) => ({
      kind: 'job',
      job: e.job,
      group: node,
      ctx: {
        now,
        effective: e.effective,
        promotedLevels: e.promotedLevels,
        waitingReason: this.manager.waitingReason(e.job.id),
        ...(e.job.after && { runsAfter: runsAfterText(e.job.after, this.manager.jobs) }),
      },
      eta: etaOf(e.job),
    }));
  }

  /** A running or finished job's context: its GPU idle warning, if any. */
  private startedCtx(job: Job, now: number): JobContext {
    const gpuIdleMs = job.state === 'running' ? this.gpuIdle?.warningMs(job.id) : undefined;
    return gpuIdleMs === undefined ? { now } : { now, gpuIdleMs };
  }

  /** Whether the new plan changes the text of any job drawn since the last refresh. */
  private etasChanged(): boolean {
    const plan = this.etas?.plan;
    const now = Date.now();
    for (const { job, eta } of this.drawnEtas.values()) {
      if (jobEtaText(job, plan, now) !== eta) {
        return true;
      }
    }
    return false;
  }

  getParent(node: QueueNode): QueueNode | undefined {
    return node.kind === 'job' ? node.group : node.kind === 'sweep' ? this.groupNodes.get('sweeps') : undefined;
  }

  /** The tooltip is built on hover only: building Markdown for thousands of jobs per refresh would be waste. */
  resolveTreeItem(item: vscode.TreeItem, node: QueueNode): vscode.TreeItem {
    if (node.kind === 'job') {
      const scriptDisplay = vscode.workspace.asRelativePath(node.job.script, true);
      const metrics = node.job.metrics ? `\n\n${metricsTooltip(node.job.metrics)}` : '';
      const md = new vscode.MarkdownString(jobTooltipMarkdown(node.job, node.ctx, { scriptDisplay }) + metrics, true);
      md.isTrusted = false;
      item.tooltip = md;
    }
    return item;
  }

  private groupItem(node: GroupNode): vscode.TreeItem {
    if (node.key === 'sweeps') {
      const item = new vscode.TreeItem(groupLabel('sweeps'), vscode.TreeItemCollapsibleState.Expanded);
      item.id = 'group:sweeps';
      item.description = String(this.sweeps().length);
      item.iconPath = GROUP_ICONS.sweeps;
      item.contextValue = 'group.sweeps';
      return item;
    }
    const groups = this.currentGroups();
    const shown = node.key === 'running' || node.key === 'finished' ? groups[node.key].length : groups.queued[node.key].length;
    const total = node.key === 'finished' ? groups.finishedTotal : shown;
    // An empty group stays as a drop target but cannot expand; a different id when it fills up makes
    // VS Code apply Expanded instead of the state it remembered for the empty node.
    const { Expanded, None } = vscode.TreeItemCollapsibleState;
    const item = new vscode.TreeItem(groupLabel(node.key), shown > 0 ? Expanded : None);
    item.id = shown > 0 ? `group:${node.key}` : `group:${node.key}:empty`;
    item.description = groupCount(shown, total);
    item.iconPath = GROUP_ICONS[node.key];
    item.contextValue = `group.${node.key}`;
    if (node.key === 'finished' && total > shown) {
      item.tooltip = vscode.l10n.t('Showing the newest {0} of {1} finished jobs (setting trainq.finishedHistory).', shown, total);
    }
    return item;
  }

  private currentGroups(): QueueGroups {
    if (!this.groups) {
      const { agingMinutes, finishedHistory } = this.config.value;
      const manager = this.manager;
      const runSecOf = manager.predictedBaseSec ? (job: Job) => manager.predictedBaseSec!(job) : undefined;
      // A sweep's trials are shown under their sweep, not in the priority and state groups.
      const jobs = manager.jobs.filter((j) => !j.sweep || !this.sweeps().some((s) => s.id === j.sweep!.sweepId));
      this.groups = groupJobs(jobs, Date.now(), agingMinutes * 60_000, finishedHistory, runSecOf);
    }
    return this.groups;
  }

  /** Bursts of changes (a dispatch round saves and fires several times) make one refresh. */
  private scheduleRefresh(): void {
    if (this.refreshTimer) {
      return;
    }
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      this.refresh();
    }, REFRESH_DEBOUNCE_MS);
  }

  private refresh(): void {
    this.groups = undefined;
    this.drawnEtas.clear();
    this.changeEmitter.fire(undefined);
    this.updateChrome();
  }

  private updateChrome(): void {
    const m = this.manager;
    this.treeView.message = !m.canDispatch
      ? vscode.l10n.t('Read-only: another window on this workspace runs the queue.')
      : // Nothing queued: the untrusted welcome view says why, with a Manage Workspace Trust button
        // (VS Code shows a view's welcome only while the view has no message).
        m.dispatchBlockedReason && (m.jobs.length > 0 || this.sweeps().length > 0)
        ? m.dispatchBlockedReason
        : m.paused
          ? vscode.l10n.t('Dispatching is paused.')
          : // '' rather than undefined: some VS Code builds keep the old message when given undefined.
            '';
    const running = m.jobs.reduce((n, j) => n + (j.state === 'running' ? 1 : 0), 0);
    this.treeView.badge = running > 0 ? { value: running, tooltip: running === 1 ? vscode.l10n.t('{0} TrainQ job running', running) : vscode.l10n.t('{0} TrainQ jobs running', running) } : undefined;
    this.updateTicking(running);
  }

  /** Elapsed times tick once a second, but only while someone can see them. */
  private updateTicking(running = this.manager.jobs.filter((j) => j.state === 'running').length): void {
    const wanted = running > 0 && this.treeView.visible;
    if (wanted && !this.tickTimer) {
      this.ticks = 0;
      this.tickTimer = setInterval(() => this.tick(), TICK_MS);
    } else if (!wanted && this.tickTimer) {
      clearInterval(this.tickTimer);
      this.tickTimer = undefined;
    }
  }

  private tick(): void {
    this.ticks += 1;
    if (this.ticks % REGROUP_EVERY_TICKS === 0) {
      this.refresh();
    } else {
      // Only running jobs' times change between events; refreshing just that group keeps the tick cheap.
      this.changeEmitter.fire(this.groupNodes.get('running'));
    }
  }

  dispose(): void {
    clearTimeout(this.refreshTimer);
    clearInterval(this.tickTimer);
    this.disposables.forEach((d) => d.dispose());
  }
}


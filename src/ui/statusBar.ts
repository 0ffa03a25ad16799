/**
 * One status-bar item with the queue counts and the machine's load. It only draws: the dispatcher's
 * clock probes the hosts (more often while the window is focused), and each probe redraws it.
 */
import * as vscode from 'vscode';
import { statusBarAccessibilityLabel, statusBarText, statusBarTooltipMarkdown, type QueueCounts } from './hostFormat';
import type { JobManager } from '../core/jobManager';
import type { EtaCache } from './etaCache';
import { drainText } from './etaFormat';

export type StatusBarManager = Pick<JobManager, 'jobs' | 'onDidChangeJobs' | 'onDidChangeHosts' | 'hostStatuses'>;

export class ResourceStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly manager: StatusBarManager,
    /** The queue's ETA plan, for "Queue drains ~18:40" in the tooltip. */
    private readonly etas?: Pick<EtaCache, 'plan' | 'onDidUpdate'>,
  ) {
    this.item = vscode.window.createStatusBarItem('trainq.resources', vscode.StatusBarAlignment.Left, 10);
    this.item.name = 'TrainQ';
    this.item.command = 'trainq.showQueue';
    this.disposables.push(
      this.item,
      // Counts change with the queue, not with the poll: update them at once.
      manager.onDidChangeJobs(() => this.render()),
      manager.onDidChangeHosts(() => this.render()),
    );
    if (etas) {
      this.disposables.push(etas.onDidUpdate(() => this.render()));
    }
    this.render();
    this.item.show();
  }

  private render(): void {
    const counts = countJobs(this.manager);
    const statuses = this.manager.hostStatuses();
    this.item.text = statusBarText(counts, statuses);
    const drain = drainText(this.etas?.plan, Date.now());
    const md = new vscode.MarkdownString(statusBarTooltipMarkdown(counts, statuses) + (drain ? `\n\n${drain}` : ''), true);
    md.isTrusted = false;
    this.item.tooltip = md;
    this.item.accessibilityInformation = { label: statusBarAccessibilityLabel(counts, statuses), role: 'button' };
  }

  dispose(): void {
    this.disposables.forEach((d) => d.dispose());
  }
}

function countJobs(manager: Pick<JobManager, 'jobs'>): QueueCounts {
  const counts: QueueCounts = { running: 0, queued: 0 };
  for (const job of manager.jobs) {
    if (job.state === 'running') {
      counts.running += 1;
    } else if (job.state === 'queued') {
      counts.queued += 1;
    }
  }
  return counts;
}

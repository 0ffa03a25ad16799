/**
 * One status-bar item with the queue counts and the machine's load. Probing runs nvidia-smi and
 * reads /proc, so it happens only while this window is focused, and never twice at once.
 */
import * as vscode from 'vscode';
import { statusBarAccessibilityLabel, statusBarText, statusBarTooltipMarkdown, type QueueCounts } from './jobFormat';
import type { JobManager } from '../core/jobManager';
import type { ConfigWatcher } from './config';

export type StatusBarManager = Pick<JobManager, 'jobs' | 'onDidChangeJobs' | 'onDidChangeHosts' | 'hostStatuses' | 'refreshHosts'>;
export type StatusBarConfig = Pick<ConfigWatcher, 'value' | 'onDidChange'>;

export class ResourceStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly disposables: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;
  private intervalSec: number;
  private probing = false;

  constructor(
    private readonly manager: StatusBarManager,
    private readonly config: StatusBarConfig,
  ) {
    this.item = vscode.window.createStatusBarItem('trainq.resources', vscode.StatusBarAlignment.Left, 10);
    this.item.name = 'TrainQ';
    this.item.command = 'trainq.showQueue';
    this.intervalSec = config.value.statusBarPollSeconds;
    this.disposables.push(
      this.item,
      // Counts change with the queue, not with the poll: update them at once.
      manager.onDidChangeJobs(() => this.render()),
      manager.onDidChangeHosts(() => this.render()),
      vscode.window.onDidChangeWindowState((state) => this.setPolling(state.focused)),
      config.onDidChange((c) => {
        if (c.statusBarPollSeconds !== this.intervalSec) {
          this.intervalSec = c.statusBarPollSeconds;
          this.restartTimer();
        }
      }),
    );
    this.render();
    this.item.show();
    this.setPolling(vscode.window.state.focused);
  }

  private setPolling(on: boolean): void {
    if (on && !this.timer) {
      // Figures are stale after the window was in the background: probe now, not one interval later.
      void this.poll();
      this.timer = setInterval(() => void this.poll(), this.intervalSec * 1000);
    } else if (!on && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private restartTimer(): void {
    if (this.timer) {
      clearInterval(this.timer);
      this.timer = setInterval(() => void this.poll(), this.intervalSec * 1000);
    }
  }

  /** A slow probe (nvidia-smi can take seconds when the driver is busy) makes the next ticks skip, not pile up. */
  private async poll(): Promise<void> {
    if (this.probing) {
      return;
    }
    this.probing = true;
    try {
      // refreshHosts fires onDidChangeHosts, which renders.
      await this.manager.refreshHosts();
    } catch {
      // refreshHosts reports failing hosts as offline; anything else will show on the next poll.
    } finally {
      this.probing = false;
    }
  }

  private render(): void {
    const counts = countJobs(this.manager);
    const statuses = this.manager.hostStatuses();
    this.item.text = statusBarText(counts, statuses);
    const md = new vscode.MarkdownString(statusBarTooltipMarkdown(counts, statuses), true);
    md.isTrusted = false;
    this.item.tooltip = md;
    this.item.accessibilityInformation = { label: statusBarAccessibilityLabel(counts, statuses), role: 'button' };
  }

  dispose(): void {
    clearInterval(this.timer);
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

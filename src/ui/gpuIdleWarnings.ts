/**
 * The GPU idle warning (issue 16): feeds every host probe to the tracker (core/gpuIdle.ts), tells the
 * Job Queue which running jobs to mark ("GPU idle 12 min", a warning icon), and notifies once when a
 * job first crosses `trainq.gpuIdle.warnMinutes`, several jobs crossing together in one notification.
 */
import * as vscode from 'vscode';
import type { JobManager } from '../core/jobManager';
import { GpuIdleTracker } from '../core/gpuIdle';
import type { TrainQConfig } from './config';
import { noticeName, showBySeverity } from './jobNotifications';
import { idleMinutesText } from './jobFormat';

export type GpuIdleManager = Pick<JobManager, 'jobs' | 'job' | 'hostStatuses' | 'onDidChangeHosts' | 'canDispatch'>;

/** Probes a few poll intervals apart still count as watched; longer gaps (an unfocused window polls not at all) do not. */
function maxGapMs(config: TrainQConfig): number {
  return Math.max(60_000, 3 * config.statusBarPollSeconds * 1000);
}

export class GpuIdleWarnings implements vscode.Disposable {
  private readonly tracker: GpuIdleTracker;
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when the set of warned jobs changes. */
  readonly onDidChange = this.changed.event;
  private warned = '';
  private readonly disposables: vscode.Disposable[];

  constructor(
    private readonly manager: GpuIdleManager,
    private readonly config: () => TrainQConfig,
  ) {
    this.tracker = new GpuIdleTracker(maxGapMs(config()));
    this.disposables = [this.changed, manager.onDidChangeHosts(() => this.probed())];
  }

  /** How long the job's GPUs have been idle, once that reaches the warning threshold; undefined otherwise or when off. */
  warningMs(jobId: string): number | undefined {
    const threshold = this.config().gpuIdleWarnMs;
    const idle = this.tracker.idleMs(jobId);
    return threshold > 0 && idle !== undefined && idle >= threshold ? idle : undefined;
  }

  private probed(): void {
    const config = this.config();
    this.tracker.maxGapMs = maxGapMs(config);
    this.tracker.observe(this.manager.jobs, this.manager.hostStatuses());
    if (config.gpuIdleWarnMs <= 0) {
      return;
    }
    const warned = this.manager.jobs
      .filter((j) => this.warningMs(j.id) !== undefined)
      .map((j) => j.id)
      .join(',');
    if (warned !== this.warned) {
      this.warned = warned;
      this.changed.fire();
    }
    const crossed = this.tracker.newlyIdle(config.gpuIdleWarnMs);
    // One window notifies: the one that runs the queue (a read-only window shows the row only).
    if (crossed.length > 0 && this.manager.canDispatch && !(config.notifyOnlyWhenUnfocused && vscode.window.state.focused)) {
      void this.notify(crossed, config.gpuIdleWarnMs);
    }
  }

  private async notify(ids: string[], thresholdMs: number): Promise<void> {
    const jobs = ids.map((id) => this.manager.job(id)).filter((j) => j !== undefined);
    if (jobs.length === 0) {
      return;
    }
    const openLog = vscode.l10n.t('Open Log');
    const showQueue = vscode.l10n.t('Show Job Queue');
    const idle = idleMinutesText(thresholdMs);
    const [job] = jobs;
    const message =
      jobs.length === 1
        ? vscode.l10n.t('The GPUs of {0} ({1}, GPU {2}) have shown 0 % for {3}.', noticeName(job), job.host ?? '?', (job.gpuIndices ?? []).join(','), idle)
        : vscode.l10n.t('The GPUs of {0} running jobs have shown 0 % for {1} or more.', jobs.length, idle);
    const picked = await showBySeverity('warning', vscode.l10n.t('TrainQ: {0}', message), jobs.length === 1 ? [openLog, showQueue] : [showQueue]);
    if (picked === openLog) {
      await vscode.commands.executeCommand('trainq.job.openLog', job.id);
    } else if (picked === showQueue) {
      await vscode.commands.executeCommand('trainq.showQueue');
    }
  }

  dispose(): void {
    this.disposables.forEach((d) => d.dispose());
  }
}

/**
 * Notifications when jobs end (issue 16): which endings, how they are coalesced and when they show is
 * core/jobEndNotices.ts; this file listens to the dispatcher, runs the batch's timer, words the notice
 * and runs its actions through the existing commands (Open Log, Retry as Re-run, Show Job Queue), so a
 * Re-run gets the same trust check and error message as the Job Queue's Retry.
 */
import * as vscode from 'vscode';
import type { Job } from '../core/job';
import type { JobManager } from '../core/jobManager';
import {
  DEFAULT_BATCH_TIMING,
  ENDING_KINDS,
  endingKind,
  JobEndBatcher,
  notifies,
  planJobEndNotice,
  busySweeps,
  type BatchTiming,
  type EndingKind,
  type JobEndNotice,
  type NoticeSeverity,
} from '../core/jobEndNotices';
import type { TrainQConfig } from './config';
import { jobRunTime } from './jobFormat';

export type NotificationsManager = Pick<JobManager, 'jobs' | 'sweeps' | 'onDidChangeJobs'> & {
  dispatcher: Pick<JobManager['dispatcher'], 'onDidEndJob'>;
};

export class JobEndNotifications implements vscode.Disposable {
  private readonly batcher: JobEndBatcher;
  private timer: NodeJS.Timeout | undefined;
  private readonly disposables: vscode.Disposable[];

  constructor(
    private readonly manager: NotificationsManager,
    private readonly config: () => TrainQConfig,
    /** The batch window and the gap between notices; tests shorten them. */
    timing: BatchTiming = DEFAULT_BATCH_TIMING,
  ) {
    this.batcher = new JobEndBatcher(timing);
    this.disposables = [
      manager.dispatcher.onDidEndJob((job) => this.ended(job)),
      // A sweep whose last trial ended releases its held trials.
      manager.onDidChangeJobs(() => this.schedule()),
    ];
  }

  private ended(job: Job): void {
    const kind = endingKind(job);
    // Endings the setting leaves out are not kept: a long sweep under "failures" holds only its failures.
    if (kind !== undefined && notifies(kind, this.config().notifyJobEnd)) {
      this.batcher.add(job, Date.now());
      this.schedule();
    }
  }

  /** Which sweeps hold their ended trials back, from one pass over the jobs (asked on every change of them). */
  private busy(): (sweepId: string) => boolean {
    const busy = busySweeps(this.manager.jobs);
    return (sweepId) => busy.has(sweepId);
  }

  private schedule(): void {
    if (this.timer !== undefined || this.batcher.size === 0) {
      return;
    }
    const due = this.batcher.dueAt(this.busy());
    if (due !== undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.flush();
      }, Math.max(0, due - Date.now()));
    }
  }

  private flush(): void {
    const now = Date.now();
    const ended = this.batcher.take(now, this.busy());
    const { notifyJobEnd, notifyOnlyWhenUnfocused } = this.config();
    const notice = planJobEndNotice(ended, {
      setting: notifyJobEnd,
      onlyWhenUnfocused: notifyOnlyWhenUnfocused,
      focused: vscode.window.state.focused,
      retried: (job) => this.manager.jobs.some((j) => j.retryOf === job.id),
    });
    if (notice) {
      this.batcher.noteShown(now);
      void this.show(notice);
    }
    this.schedule();
  }

  private async show(notice: JobEndNotice): Promise<void> {
    const openLog = vscode.l10n.t('Open Log');
    const reRun = vscode.l10n.t('Re-run');
    const showQueue = vscode.l10n.t('Show Job Queue');
    const sweepName = notice.kind === 'many' && notice.sweepId !== undefined ? this.manager.sweeps.find((s) => s.id === notice.sweepId)?.spec.name : undefined;
    const message = notice.kind === 'one' ? oneEndingText(notice.job, notice.ending) : manyEndingsText(notice, sweepName);
    const actions = notice.kind === 'one' ? [openLog, reRun] : [showQueue];
    const picked = await showBySeverity(notice.severity, vscode.l10n.t('TrainQ: {0}', message), actions);
    if (picked === openLog && notice.kind === 'one') {
      await vscode.commands.executeCommand('trainq.job.openLog', notice.job.id);
    } else if (picked === reRun && notice.kind === 'one') {
      await vscode.commands.executeCommand('trainq.job.retry', notice.job.id);
    } else if (picked === showQueue) {
      await vscode.commands.executeCommand('trainq.showQueue');
    }
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.disposables.forEach((d) => d.dispose());
  }
}

export function showBySeverity(severity: NoticeSeverity, message: string, actions: string[]): Thenable<string | undefined> {
  const show =
    severity === 'error' ? vscode.window.showErrorMessage : severity === 'warning' ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
  return show(message, ...actions);
}

/** The job as a notice names it: its file name, and its trial number for a sweep's trial. */
export function noticeName(job: Job): string {
  return job.sweep ? vscode.l10n.t('{0} (trial {1})', job.name, job.sweep.trial) : job.name;
}

/** `train.py failed with exit code 3 on local after 0:05.`, with the host's reason when it gave one. */
function oneEndingText(job: Job, ending: EndingKind): string {
  const name = noticeName(job);
  const host = job.host ?? '?';
  const time = jobRunTime(job, Date.now()) ?? '0:00';
  const reason = job.reason ? ` ${job.reason}` : '';
  switch (ending) {
    case 'failed':
      return job.exitCode === undefined
        ? vscode.l10n.t('{0} failed on {1} after {2}.', name, host, time) + reason
        : vscode.l10n.t('{0} failed with exit code {1} on {2} after {3}.', name, job.exitCode, host, time) + reason;
    case 'lost':
      return vscode.l10n.t('{0} was lost on {1} after {2}.', name, host, time) + reason;
    case 'stoppedEarly':
      return vscode.l10n.t('{0} was stopped early on {1} after {2}.', name, host, time) + reason;
    case 'succeeded':
      return vscode.l10n.t('{0} succeeded on {1} after {2}.', name, host, time);
  }
}

/** `5 jobs ended: 4 succeeded, 1 failed.`; for one sweep's trials, `lr sweep: 5 trials ended: …`. */
function manyEndingsText(notice: Extract<JobEndNotice, { kind: 'many' }>, sweepName: string | undefined): string {
  const parts = ENDING_KINDS.filter((k) => (notice.counts[k] ?? 0) > 0).map((k) => countText(k, notice.counts[k]!));
  const n = notice.jobs.length;
  if (notice.sweepId !== undefined) {
    return vscode.l10n.t('{0}: {1} trials ended: {2}.', sweepName ?? vscode.l10n.t('a sweep'), n, parts.join(', '));
  }
  return vscode.l10n.t('{0} jobs ended: {1}.', n, parts.join(', '));
}

function countText(kind: EndingKind, n: number): string {
  switch (kind) {
    case 'failed':
      return vscode.l10n.t('{0} failed', n);
    case 'lost':
      return vscode.l10n.t('{0} lost', n);
    case 'succeeded':
      return vscode.l10n.t('{0} succeeded', n);
    case 'stoppedEarly':
      return vscode.l10n.t('{0} stopped early', n);
  }
}

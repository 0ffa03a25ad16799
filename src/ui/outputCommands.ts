/**
 * Results back from remote hosts (issue 16), the editor's part: copying a job's outputs when it ends,
 * the Download Outputs command, the progress notification of a large copy, and the one question about
 * files that differ from the workspace's. The mechanism is the host's (hosts/remote/outputFetch.ts).
 *
 * At a job's end nothing blocks: the files without a conflict are copied, and a notification offers
 * Overwrite / Keep Both for the rest (dismissing it keeps the workspace's files). Download Outputs asks
 * first, in a modal dialog, since the user is there and waiting for it.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { OutputReport, OutputRequest } from '../core/host';
import type { Job } from '../core/job';
import type { JobManager } from '../core/jobManager';
import type { Logger } from '../core/logger';
import { formatMiB, formatSize, type ConflictAnswer, type RemoteOutputFile } from '../core/outputPlan';
import { relativeInside } from '../core/pathInside';
import type { TrainQConfig } from './config';
import { InputCancelled } from './stepInput';

/** Copies this large or larger show a progress notification (smaller ones end before it could be read). */
const PROGRESS_FROM_BYTES = 16 * 1024 * 1024;
/** States whose end brings outputs back: a failed or cancelled run's checkpoints are what one resumes from. */
const COPIED_AT_END: ReadonlySet<Job['state']> = new Set(['succeeded', 'failed', 'cancelled']);
const MAX_SETTING = 'trainq.outputs.maxMiB';

export type OutputsManager = Pick<JobManager, 'job' | 'host' | 'canDispatch'> & { dispatcher: Pick<JobManager['dispatcher'], 'onDidEndJob'> };

/** The job's patterns: the setting's and its own, each once. */
export function outputGlobsOf(job: Job, config: TrainQConfig): string[] {
  return [...new Set([...config.outputsGlobs, ...(job.outputs ?? [])])];
}

/** Where the files land: `trainq.outputs.folder` below the job's folder, never outside it. */
export function outputFolderOf(job: Job, config: TrainQConfig): string {
  const folder = config.outputsFolder;
  const dest = path.resolve(job.cwd, folder);
  if (path.isAbsolute(folder) || relativeInside(job.cwd, dest) === undefined) {
    throw new Error(vscode.l10n.t("The setting trainq.outputs.folder ('{0}') must be a folder inside the job's folder, written relative to it.", folder));
  }
  return dest;
}

function remoteHostOf(manager: OutputsManager, job: Job) {
  const host = manager.host(job.host);
  return host && host.kind !== 'local' && host.fetchOutputs ? host : undefined;
}

/** Shows progress once a copy turns out to be large; its Cancel aborts the copy. */
class LazyProgress {
  private bar: { report(v: { increment: number; message: string }): void; done: () => void } | undefined;
  private shown = 0;
  constructor(
    private readonly title: string,
    private readonly abort: AbortController,
  ) {}

  report(done: number, total: number): void {
    if (!this.bar) {
      let finish = () => undefined as void;
      const ended = new Promise<void>((resolve) => (finish = resolve));
      void vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: this.title, cancellable: true }, (progress, token) => {
        token.onCancellationRequested(() => this.abort.abort());
        this.bar = { report: (v) => progress.report(v), done: finish };
        return ended;
      });
    }
    const pct = total > 0 ? Math.floor((done / total) * 100) : 100;
    this.bar?.report({ increment: pct - this.shown, message: vscode.l10n.t('{0} of {1}', formatMiB(done), formatMiB(total)) });
    this.shown = pct;
  }

  end(): void {
    this.bar?.done();
  }
}

function describeFiles(files: readonly RemoteOutputFile[]): string {
  const names = files.slice(0, 3).map((f) => f.path);
  return files.length > 3 ? vscode.l10n.t('{0} and {1} more', names.join(', '), files.length - 3) : names.join(', ');
}

async function askModal(job: Job, conflicts: readonly RemoteOutputFile[]): Promise<ConflictAnswer> {
  const overwrite = vscode.l10n.t('Overwrite');
  const keepBoth = vscode.l10n.t('Keep Both');
  const skip = vscode.l10n.t('Skip');
  const question =
    conflicts.length === 1
      ? vscode.l10n.t('An output file of {0} differs from the one in the workspace: {1}', job.name, conflicts[0].path)
      : vscode.l10n.t('{0} output files of {1} differ from the ones in the workspace: {2}', conflicts.length, job.name, describeFiles(conflicts));
  // Keep Both first: the button Enter presses loses nothing.
  const picked = await vscode.window.showWarningMessage(
    question,
    { modal: true, detail: vscode.l10n.t("Keep Both puts the host's copies beside them, with the host's name added; Overwrite replaces the workspace's files; Skip leaves them as they are.") },
    keepBoth,
    overwrite,
    skip,
  );
  if (picked === undefined) throw new InputCancelled();
  return picked === overwrite ? 'overwrite' : picked === keepBoth ? 'keepBoth' : 'skip';
}

/** Jobs whose outputs are being copied: two copies of one job would share its staging folder. */
const inFlight = new Set<string>();

/** Runs one transfer for a job, with progress; `answer` decides conflicts (or asks). */
async function transfer(manager: OutputsManager, config: TrainQConfig, job: Job, answer: (c: readonly RemoteOutputFile[]) => Promise<ConflictAnswer>): Promise<OutputReport> {
  const host = remoteHostOf(manager, job);
  if (!host) {
    throw new Error(vscode.l10n.t('{0} ran on this machine (or on a host no longer configured): its outputs are where it wrote them.', job.name));
  }
  if (inFlight.has(job.id)) {
    throw new Error(vscode.l10n.t('The outputs of {0} are being copied already.', job.name));
  }
  inFlight.add(job.id);
  try {
    return await transferFrom(host, config, job, answer);
  } finally {
    inFlight.delete(job.id);
  }
}

async function transferFrom(
  host: NonNullable<ReturnType<typeof remoteHostOf>>,
  config: TrainQConfig,
  job: Job,
  answer: (c: readonly RemoteOutputFile[]) => Promise<ConflictAnswer>,
): Promise<OutputReport> {
  const abort = new AbortController();
  const progress = new LazyProgress(vscode.l10n.t('TrainQ: bringing back the outputs of {0} from {1}', job.name, host.name), abort);
  const request: OutputRequest = {
    job,
    globs: outputGlobsOf(job, config),
    destDir: outputFolderOf(job, config),
    maxBytes: config.outputsMaxBytes,
    maxSetting: MAX_SETTING,
    resolveConflicts: answer,
    progress: { fromBytes: PROGRESS_FROM_BYTES, report: (done, total) => progress.report(done, total) },
    signal: abort.signal,
  };
  try {
    return await host.fetchOutputs!(request);
  } finally {
    progress.end();
  }
}

function summary(job: Job, report: Extract<OutputReport, { kind: 'copied' }>): string {
  const parts = [
    report.written.length === 0
      ? vscode.l10n.t('no output file of {0} copied', job.name)
      : report.written.length === 1
        ? vscode.l10n.t('{0} output file of {1} back from {2} ({3}, {4})', report.written.length, job.name, job.host ?? '', formatSize(report.bytes), report.method)
        : vscode.l10n.t('{0} output files of {1} back from {2} ({3}, {4})', report.written.length, job.name, job.host ?? '', formatSize(report.bytes), report.method),
  ];
  if (report.same > 0) parts.push(vscode.l10n.t('{0} already there', report.same));
  if (report.skipped.length > 0) parts.push(vscode.l10n.t('{0} skipped', report.skipped.length));
  if (report.blocked.length > 0) parts.push(vscode.l10n.t('not copied: {0}', report.blocked.join(', ')));
  return parts.join('; ');
}

async function tellTooLarge(report: Extract<OutputReport, { kind: 'tooLarge' }>, job: Job): Promise<void> {
  const open = vscode.l10n.t('Open Setting');
  const picked = await vscode.window.showWarningMessage(vscode.l10n.t('TrainQ: {0}: {1} files; {2}', job.name, report.files, report.message), open);
  if (picked === open) await vscode.commands.executeCommand('workbench.action.openSettings', MAX_SETTING);
}

/** Download Outputs: asks for patterns when none are set, and once about conflicts. */
export async function downloadOutputs(manager: OutputsManager, config: TrainQConfig, logger: Logger, jobId: string): Promise<void> {
  let job = manager.job(jobId);
  if (!job) throw new Error(vscode.l10n.t('That job is no longer in the queue.'));
  if (outputGlobsOf(job, config).length === 0) {
    const typed = await vscode.window.showInputBox({
      title: vscode.l10n.t('Download Outputs of {0}', job.name),
      prompt: vscode.l10n.t("Patterns relative to the job's folder, separated by spaces (set trainq.outputs.globs to skip this question)"),
      value: 'outputs/**',
    });
    if (typed === undefined || typed.trim() === '') return;
    job = { ...job, outputs: typed.trim().split(/\s+/) };
  }
  const target = job;
  const report = await transfer(manager, config, target, (c) => askModal(target, c));
  logger.info(`${target.name}: Download Outputs: ${JSON.stringify({ ...report, written: undefined })}`);
  if (report.kind === 'inPlace') {
    void vscode.window.showInformationMessage(vscode.l10n.t('TrainQ: {0} ran in {1} itself (a shared file system): its outputs are already there.', target.name, report.folder));
  } else if (report.kind === 'tooLarge') {
    await tellTooLarge(report, target);
  } else {
    void vscode.window.showInformationMessage(vscode.l10n.t('TrainQ: {0}.', summary(target, report)));
  }
}

/** At a job's end: copy what has no conflict; offer the rest in a notification that waits for nobody. */
async function copyAtEnd(manager: OutputsManager, config: () => TrainQConfig, logger: Logger, job: Job): Promise<void> {
  const report = await transfer(manager, config(), job, async () => 'skip');
  if (report.kind === 'inPlace') {
    logger.info(`${job.name}: ran in ${report.folder} itself; its outputs are already there`);
    return;
  }
  if (report.kind === 'tooLarge') {
    logger.warn(`${job.name}: ${report.message}`);
    await tellTooLarge(report, job);
    return;
  }
  logger.info(`${job.name}: outputs back: ${summary(job, report)}`);
  if (report.skipped.length === 0) {
    if (report.written.length > 0) vscode.window.setStatusBarMessage(vscode.l10n.t('TrainQ: {0}', summary(job, report)), 8000);
    return;
  }
  const overwrite = vscode.l10n.t('Overwrite');
  const keepBoth = vscode.l10n.t('Keep Both');
  const picked = await vscode.window.showWarningMessage(
    vscode.l10n.t('TrainQ: the outputs of {0} are back, except what differs from the workspace: {1}. Dismiss to keep the workspace files.', job.name, describeFiles(report.skipped)),
    keepBoth,
    overwrite,
  );
  if (picked) {
    const answer: ConflictAnswer = picked === overwrite ? 'overwrite' : 'keepBoth';
    const again = await transfer(manager, config(), job, async () => answer);
    if (again.kind === 'copied') vscode.window.setStatusBarMessage(vscode.l10n.t('TrainQ: {0}', summary(job, again)), 8000);
  }
}

/** Copies outputs back when a remote job ends in the window that dispatches (one window copies, not each). */
export function registerOutputCopyBack(manager: OutputsManager, config: () => TrainQConfig, logger: Logger): vscode.Disposable {
  return manager.dispatcher.onDidEndJob((ended) => {
    if (!COPIED_AT_END.has(ended.state) || ended.startedAt === undefined || !manager.canDispatch || !remoteHostOf(manager, ended)) return;
    if (outputGlobsOf(ended, config()).length === 0) return;
    // The end is saved right after this event; the copy starts once it is.
    setTimeout(() => {
      const job = manager.job(ended.id) ?? ended;
      copyAtEnd(manager, config, logger, job).catch((e) => {
        const message = e instanceof Error ? e.message : String(e);
        logger.warn(`${job.name}: could not bring back its outputs: ${message}`);
        void vscode.window.showWarningMessage(vscode.l10n.t('TrainQ could not bring back the outputs of {0}: {1}', job.name, message));
      });
    }, 0);
  });
}

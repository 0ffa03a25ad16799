/**
 * Wires sweeps into the window: the metrics follower (every job's reports, also outside sweeps), the
 * sweep manager on top of the job manager, and the sweep panels with their actions. Kept out of
 * extension.ts so the composition root stays a list of parts.
 */
import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import type { JobManager } from '../core/jobManager';
import type { Logger } from '../core/logger';
import { MetricsFollower } from '../core/metricsFollower';
import { SweepManager } from '../core/sweep/sweepManager';
import { exportSweep, queueBestConfiguration } from './sweepCommands';
import { SWEEP_VIEW_TYPE, SweepPanel, sweepIdOfState } from './sweepPanel';
import { sweepCsv, sweepJson } from './sweepViewModel';
import type { Job } from '../core/job';

/** How often running jobs' logs are read for metrics: within a second of a remote poll bringing them. */
const METRICS_POLL_MS = 1000;

export interface SweepParts {
  sweeps: SweepManager;
  showSweep(id: string): void;
  sweepExport: { csv: typeof sweepCsv; json: typeof sweepJson };
  disposables: vscode.Disposable[];
}

export function createSweeps(extensionUri: vscode.Uri, manager: JobManager, logger: Logger, openLog: (job: Job) => Promise<void>): SweepParts {
  const follower = new MetricsFollower({
    jobs: () => manager.jobs,
    host: (name) => manager.host(name),
    // Only the window that runs the queue saves; a read-only one shows what that window saved.
    save: async (durable) => {
      if (manager.canDispatch) {
        await manager.update(() => undefined, durable);
      }
    },
    onError: (e) => logger.warn(`TrainQ could not read a job's metrics: ${e instanceof Error ? e.message : String(e)}`),
  });
  const sweeps = new SweepManager({
    jobs: manager,
    onDidReport: follower.onDidReport,
    newId: randomUUID,
    onError: (e) => logger.warn(`Sweep: ${e instanceof Error ? e.message : String(e)}`),
  });
  follower.start(METRICS_POLL_MS);
  follower.setFocused(vscode.window.state.focused);
  const showSweep = (id: string, revived?: vscode.WebviewPanel) => {
    const record = () => sweeps.sweep(id);
    const existing = () => {
      const r = record();
      if (!r) {
        throw new Error(vscode.l10n.t('That sweep is no longer there.'));
      }
      return r;
    };
    SweepPanel.show(
      extensionUri,
      id,
      record,
      {
        pause: () => sweeps.pause(id),
        resume: () => sweeps.resume(id),
        stop: () => sweeps.stop(id),
        stopTrial: (trial) => sweeps.stopTrial(id, trial),
        queueBest: (trial) => queueBestConfiguration({ manager, sweeps, showSweep }, existing(), trial),
        exportData: (format) => exportSweep(existing(), format, format === 'csv' ? sweepCsv : sweepJson),
        openLog: async (trial) => {
          const job = manager.job(record()?.trials.find((t) => t.trial === trial)?.jobId ?? '');
          if (!job) {
            throw new Error(vscode.l10n.t("Trial {0}'s job is no longer in the history.", trial));
          }
          await openLog(job);
        },
      },
      logger,
      revived,
    );
  };
  // The palette offers the sweep commands only once there is a sweep to act on.
  let hasSweepsKey: boolean | undefined;
  const updateContext = () => {
    const has = sweeps.sweeps.length > 0;
    if (has !== hasSweepsKey) {
      hasSweepsKey = has;
      void vscode.commands.executeCommand('setContext', 'trainq.hasSweeps', has);
    }
  };
  updateContext();
  // After a reload: trials that were running are followed again by the dispatcher; this queues what
  // the sweeps may start now.
  void sweeps.step();
  return {
    sweeps,
    showSweep,
    sweepExport: { csv: sweepCsv, json: sweepJson },
    disposables: [
      follower,
      sweeps,
      sweeps.onDidChange(() => SweepPanel.refreshAll()),
      manager.onDidChangeJobs(() => {
        updateContext();
        follower.pollIfEnded();
        SweepPanel.refreshAll();
      }),
      vscode.window.onDidChangeWindowState((s) => follower.setFocused(s.focused)),
      { dispose: () => SweepPanel.disposeAll() },
      // A sweep panel left open is restored by a reload, from the sweep id its page saved.
      vscode.window.registerWebviewPanelSerializer(SWEEP_VIEW_TYPE, {
        deserializeWebviewPanel: async (panel, state) => {
          const id = sweepIdOfState(state);
          if (id === undefined) {
            panel.dispose();
          } else {
            showSweep(id, panel);
          }
        },
      }),
    ],
  };
}

/**
 * "Evaluate Agent in Simulator": runs the benchmark's policies on the bundled trace slice in a worker,
 * with a cancellable progress notification, and keeps the last result for the dashboard (it outlives
 * the panel: closing and reopening the dashboard shows it again).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Logger } from '../core/logger';
import { Emitter } from '../core/emitter';
import type { BenchReport } from '../sim/bench';
import { startEvaluation, type EvaluationRun } from '../sim/evaluationRunner';
import type { EvaluationView } from '../shared/dashboardProtocol';

export interface EvaluationDeps {
  extensionUri: vscode.Uri;
  logger: Logger;
  /** Saves the agent's learning and returns the weights file the dqn policy should start from. */
  currentWeights(): Promise<string>;
  agingMinutes(): number;
}

const TRACE = 'philly-103959-500.csv';
const CLUSTER = 'hetero-24.json';

export class AgentEvaluation implements vscode.Disposable {
  private current: EvaluationView = { state: 'idle', rows: [] };
  private run: EvaluationRun | undefined;
  private readonly changed = new Emitter<EvaluationView>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly deps: EvaluationDeps) {}

  get view(): EvaluationView {
    return this.current;
  }

  get running(): boolean {
    return this.run !== undefined;
  }

  private set(view: EvaluationView): void {
    this.current = view;
    this.changed.fire(view);
  }

  cancel(): void {
    this.run?.cancel();
  }

  /** Runs the check (or returns when one is already running). */
  async start(): Promise<void> {
    if (this.run) {
      return;
    }
    const media = (...p: string[]) => vscode.Uri.joinPath(this.deps.extensionUri, ...p).fsPath;
    const started = Date.now();
    this.set({ state: 'running', message: vscode.l10n.t('Starting the simulator…'), trace: TRACE, cluster: 'hetero-24', rows: [] });
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('TrainQ: evaluating the agent in the simulator'), cancellable: true },
      async (progress, token) => {
        const weights = await this.deps.currentWeights();
        const run = startEvaluation({
          workerScript: media('dist', 'evaluationWorker.js'),
          request: {
            trace: media('media', 'sim', TRACE),
            cluster: media('media', 'sim', CLUSTER),
            traceLabel: TRACE,
            weights,
            wasmDir: media('dist'),
            seed: 1,
            agingMinutes: this.deps.agingMinutes(),
          },
          onProgress: (policy, done, total) => {
            progress.report({ message: vscode.l10n.t('{0} done ({1} of {2})', policy, done, total), increment: 100 / total });
            this.set({ ...this.current, message: vscode.l10n.t('{0} done ({1} of {2} policies)', policy, done, total) });
          },
        });
        this.run = run;
        const sub = token.onCancellationRequested(() => run.cancel());
        try {
          const report = await run.result;
          if (!report) {
            this.set({ state: 'cancelled', message: vscode.l10n.t('Cancelled.'), rows: [] });
            return;
          }
          this.set(viewOf(report));
          this.deps.logger.info(`Simulator check: ${describe(report)} (${((Date.now() - started) / 1000).toFixed(1)} s).`);
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          this.set({ state: 'failed', message, rows: [] });
          this.deps.logger.warn(`Simulator check failed: ${message}`);
          void vscode.window.showErrorMessage(vscode.l10n.t('TrainQ: the simulator check failed: {0}', message));
        } finally {
          sub.dispose();
          this.run = undefined;
        }
      },
    );
  }

  dispose(): void {
    this.run?.cancel();
    this.changed.dispose();
  }
}

function viewOf(report: BenchReport): EvaluationView {
  return {
    state: 'done',
    trace: path.basename(report.trace),
    cluster: report.cluster,
    jobs: report.jobs,
    lowerBoundSec: report.lowerBound.avgJct,
    rows: Object.entries(report.policies).map(([policy, m]) => ({
      policy,
      avgJctSec: m.avgJct,
      p95JctSec: m.p95Jct,
      avgSlowdown: m.avgSlowdown,
      makespanSec: m.makespan,
      gpuUtil: m.gpuUtil,
    })),
    finishedAtMs: Date.now(),
  };
}

function describe(report: BenchReport): string {
  const rows = Object.entries(report.policies).map(([name, m]) => `${name} ${(m.avgJct / 3600).toFixed(2)} h`);
  return `${report.jobs} jobs on ${report.cluster}, avg JCT ${rows.join(', ')}`;
}

/**
 * Every TrainQ command in one table: id → factory taking the services. Registered in one loop,
 * each handler wrapped so an error becomes one clear message instead of an unhandled rejection.
 */
import * as vscode from 'vscode';
import { PRIORITIES, isFinished, priorityLabel, type Job, type Priority } from '../core/job';
import type { JobManager } from '../core/jobManager';
import type { Logger } from '../core/logger';
import type { ConfigWatcher } from './config';
import type { AgentStats } from '../agent/agentStats';
import { exportAgentStats, resetAgent } from './agentCommands';
import { addSlurmCluster, addSshHost, removeHost, testConnection, type HostCommandServices } from './hostCommands';
import { InputCancelled } from './stepInput';
import { downloadOutputs } from './outputCommands';
import { askJobSpec, pickTrainingScript, prefillFor, validateScript } from './queueInput';
import { headerDependency } from './dependencyPick';
import { editAndRerunJob, editJob } from './jobEditInput';
import { runtimeHint } from './runtimeHint';
import { requireTrust } from './trust';
import { cancelQuestion, clearQuestion, deleteActions, removeQuestion } from './confirmPolicy';
import { confirm } from './confirmations';
import { exportSweep, queueBestConfiguration, queueSweep, sweepOf, type SweepCommandServices } from './sweepCommands';
import type { SweepRecord } from '../core/sweep/sweepRecord';

export interface CommandServices extends SweepCommandServices {
  manager: JobManager;
  /** The sweep's trials as CSV or JSON text, for Export. */
  sweepExport: Record<'csv' | 'json', (sweep: SweepRecord) => string>;
  config: ConfigWatcher;
  logger: Logger;
  channel: vscode.LogOutputChannel;
  openLog(job: Job): Promise<void>;
  /** Job ids from a command's arguments (tree item, multi-selection) or the view's selection. */
  jobIds(args: unknown[]): string[];
  hosts: HostCommandServices;
  agent: {
    reset(): Promise<void>;
    stats: AgentStats;
    dashboard: { show(): void };
    evaluate(): Promise<void>;
  };
}

type Handler = (...args: unknown[]) => unknown;
type CommandFactory = (s: CommandServices) => Handler;

export const COMMANDS: Record<string, CommandFactory> = {
  'trainq.queueScript': (s) => async () => {
    if (!(await requireTrust(vscode.l10n.t('queue a training script')))) {
      return;
    }
    const { scriptGlobs, scriptExcludes } = s.config.value;
    const uri = await pickTrainingScript(scriptGlobs, scriptExcludes);
    if (uri) {
      await queueScript(s, uri);
    }
  },
  'trainq.queueFile': (s) => async (arg?: unknown) => {
    if (!(await requireTrust(vscode.l10n.t('queue a training script')))) {
      return;
    }
    const uri = arg instanceof vscode.Uri ? arg : activeFile();
    if (!uri) {
      throw new Error(vscode.l10n.t('Open a .py or .sh file, or right-click one in the Explorer, to queue it.'));
    }
    await queueScript(s, uri);
  },
  'trainq.queueSweep': (s) => async (arg?: unknown) => {
    if (!(await requireTrust(vscode.l10n.t('queue a sweep')))) {
      return;
    }
    const { scriptGlobs, scriptExcludes } = s.config.value;
    const uri = arg instanceof vscode.Uri ? arg : (activeFile() ?? (await pickTrainingScript(scriptGlobs, scriptExcludes)));
    if (uri) {
      await queueSweep(s, uri);
    }
  },
  'trainq.sweep.show': (s) => (arg) => s.showSweep(sweepOf(s, arg).id),
  'trainq.sweep.pause': (s) => (arg) => s.sweeps.pause(sweepOf(s, arg).id),
  'trainq.sweep.resume': (s) => async (arg) => {
    if (await requireTrust(vscode.l10n.t('resume a sweep'))) {
      await s.sweeps.resume(sweepOf(s, arg).id);
    }
  },
  'trainq.sweep.stop': (s) => (arg) => s.sweeps.stop(sweepOf(s, arg).id),
  'trainq.sweep.remove': (s) => (arg) => s.sweeps.remove(sweepOf(s, arg).id),
  'trainq.sweep.queueBest': (s) => async (arg) => {
    if (await requireTrust(vscode.l10n.t('queue a job'))) {
      await queueBestConfiguration(s, sweepOf(s, arg));
    }
  },
  'trainq.sweep.exportCsv': (s) => (arg) => exportSweep(sweepOf(s, arg), 'csv', s.sweepExport.csv),
  'trainq.sweep.exportJson': (s) => (arg) => exportSweep(sweepOf(s, arg), 'json', s.sweepExport.json),
  'trainq.pauseDispatching': (s) => async () => {
    await s.manager.setPaused(true);
    vscode.window.setStatusBarMessage(vscode.l10n.t('TrainQ: dispatching paused; running jobs continue.'), 4000);
  },
  'trainq.resumeDispatching': (s) => async () => {
    if (await requireTrust(vscode.l10n.t('start jobs'))) {
      await s.manager.setPaused(false);
    }
  },
  'trainq.clearFinished': (s) => async () => {
    if (!(await confirm(clearQuestion(s.manager.jobs, s.config.value)))) {
      return;
    }
    const n = await s.manager.clearFinished();
    vscode.window.setStatusBarMessage(
      n === 1 ? vscode.l10n.t('TrainQ: removed 1 finished job from the history.') : vscode.l10n.t('TrainQ: removed {0} finished jobs from the history.', n),
      4000,
    );
  },
  'trainq.refreshHosts': (s) => () => s.manager.refreshHosts(true),
  'trainq.addSshHost': (s) => () => addSshHost(s.hosts),
  'trainq.addSlurmCluster': (s) => () => addSlurmCluster(s.hosts),
  'trainq.removeHost': () => (arg) => removeHost(arg),
  'trainq.testConnection': (s) => (arg) => testConnection(s.hosts, arg),
  'trainq.resetAgent': (s) => () => resetAgent(s.agent),
  'trainq.showAgentDashboard': (s) => () => s.agent.dashboard.show(),
  'trainq.evaluateAgent': (s) => () => s.agent.evaluate(),
  'trainq.exportAgentStats': (s) => (arg) => exportAgentStats(s.agent.stats, arg),
  'trainq.showQueue': () => () => vscode.commands.executeCommand('trainq.jobQueue.focus'),
  'trainq.showLog': (s) => () => s.channel.show(true),
  'trainq.job.cancel': (s) => async (...args) => {
    const ids = jobIdsOrExplain(s, args);
    if (await confirm(cancelQuestion(jobsOf(s, ids), s.config.value))) {
      for (const id of ids) {
        await s.manager.cancel(id);
      }
    }
  },
  'trainq.job.retry': (s) => async (...args) => {
    if (!(await requireTrust(vscode.l10n.t('retry a job')))) {
      return;
    }
    for (const id of jobIdsOrExplain(s, args)) {
      const job = s.manager.job(id);
      if (job && !isFinished(job.state)) {
        throw new Error(vscode.l10n.t('{0} is {1}; Retry is for finished jobs (Edit… changes a queued job).', job.name, job.state));
      }
      await s.manager.retry(id);
    }
  },
  'trainq.job.edit': (s) => (...args) => editJob(s.manager, jobIdsOrExplain(s, args)[0]),
  'trainq.job.editRerun': (s) => async (...args) => {
    if (await requireTrust(vscode.l10n.t('re-run a job'))) {
      await editAndRerunJob(s.manager, jobIdsOrExplain(s, args)[0]);
    }
  },
  'trainq.job.clearDependencies': (s) => async (...args) => {
    for (const id of jobIdsOrExplain(s, args)) {
      await s.manager.setDependencies(id, undefined);
    }
  },
  'trainq.job.setPriority': (s) => async (...args) => {
    const ids = jobIdsOrExplain(s, args);
    const current = s.manager.job(ids[0])?.priority;
    const picked = await vscode.window.showQuickPick(
      PRIORITIES.map((p) => ({ label: priorityLabel(p), description: p === current ? vscode.l10n.t('current') : undefined, value: p as Priority })),
      { title: vscode.l10n.t('Set Priority'), placeHolder: vscode.l10n.t('TrainQ learns from this choice for similar jobs') },
    );
    for (const id of picked ? ids : []) {
      await s.manager.setPriority(id, picked!.value);
    }
  },
  'trainq.job.openLog': (s) => async (...args) => {
    if (isKeyboard(args[0]) && s.jobIds([]).length === 0) {
      // Nothing selected: the focused row is selected as Enter does in any tree (a group expands, a sweep
      // opens); when it is a job (focus survives a redraw, selection may not), its log opens too.
      await vscode.commands.executeCommand('list.select');
      if (s.jobIds([]).length === 0) {
        return;
      }
    }
    const job = s.manager.job(jobIdsOrExplain(s, args)[0]);
    if (job) {
      await s.openLog(job);
    }
  },
  'trainq.job.revealScript': (s) => async (...args) => {
    const job = s.manager.job(jobIdsOrExplain(s, args)[0]);
    if (job) {
      const uri = vscode.Uri.file(job.script);
      await vscode.window.showTextDocument(uri, { preview: true }).then(undefined, () => {
        throw new Error(vscode.l10n.t('{0} no longer exists.', vscode.workspace.asRelativePath(uri)));
      });
      await vscode.commands.executeCommand('revealInExplorer', uri);
    }
  },
  'trainq.job.downloadOutputs': (s) => async (...args) => {
    for (const id of jobIdsOrExplain(s, args)) {
      await downloadOutputs(s.manager, s.config.value, s.logger, id);
    }
  },
  'trainq.job.remove': (s) => async (...args) => {
    const ids = jobIdsOrExplain(s, args);
    if (await confirm(removeQuestion(jobsOf(s, ids), s.config.value))) {
      for (const id of ids) {
        await s.manager.remove(id);
      }
    }
  },
  // The Delete key in the Job Queue: cancel what has not finished, remove what has, each asked about once.
  'trainq.job.delete': (s) => async (...args) => {
    const { cancel, remove } = deleteActions(jobsOf(s, s.jobIds(args)));
    if (cancel.length > 0 && (await confirm(cancelQuestion(cancel, s.config.value)))) {
      for (const job of cancel) {
        await s.manager.cancel(job.id);
      }
    }
    if (remove.length > 0 && (await confirm(removeQuestion(remove, s.config.value)))) {
      for (const job of remove) {
        await s.manager.remove(job.id);
      }
    }
  },
};

/** The keybinding of Enter passes `{ via: 'keyboard' }` (package.json), so the handler knows no row was clicked. */
function isKeyboard(arg: unknown): boolean {
  return (arg as { via?: unknown } | undefined)?.via === 'keyboard';
}

/** The jobs of `ids` still known (one may have been removed while a dialog was open). */
function jobsOf(s: CommandServices, ids: readonly string[]): Job[] {
  return ids.map((id) => s.manager.job(id)).filter((j): j is Job => j !== undefined);
}

/** The file of the active editor, also when it is not a text editor (a notebook, a diff, a deleted file). */
function activeFile(): vscode.Uri | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if (input instanceof vscode.TabInputText) {
    return input.uri;
  }
  return vscode.window.activeTextEditor?.document.uri;
}

/** A job action with no job (the tree redrew under the menu, or nothing selected) says so instead of doing nothing. */
function jobIdsOrExplain(s: CommandServices, args: unknown[]): string[] {
  const ids = s.jobIds(args);
  if (ids.length === 0) {
    throw new Error(vscode.l10n.t('Select a job in the Job Queue first.'));
  }
  return ids;
}

async function queueScript(s: CommandServices, uri: vscode.Uri): Promise<void> {
  const script = await validateScript(uri);
  const { values, warnings, after, environment, constraints } = await prefillFor(script, s.manager.lastInputs(script.key));
  warnings.forEach((w) => s.logger.warn(`${script.key}: ${w}`));
  const dependency = await headerDependency(after, s.manager.jobs, script.key);
  const model = s.manager.runtimeModel;
  const hosts = s.manager.hosts.map((h) => ({ name: h.name, declaredSpeed: h.speed }));
  const cwd = script.folder.uri.fsPath;
  const spec = await askJobSpec(
    script,
    values,
    (args, gpus) => runtimeHint(model, { script: script.uri.fsPath, cwd, args, gpus, runtimeSec: values.runtimeSec }, hosts),
    { jobs: () => s.manager.jobs, options: { ...environment, ...(dependency && { after: dependency }), ...(constraints && { constraints }) } },
  );
  const job = await s.manager.queue(spec, script.key);
  vscode.window.setStatusBarMessage(vscode.l10n.t('TrainQ: queued {0} as {1}.', job.name, priorityLabel(job.priority)), 5000);
}

export function registerCommands(s: CommandServices): vscode.Disposable[] {
  return Object.entries(COMMANDS).map(([id, factory]) => {
    const handler = factory(s);
    return vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        return await handler(...args);
      } catch (e) {
        if (e instanceof InputCancelled) {
          return undefined;
        }
        const message = e instanceof Error ? e.message : String(e);
        s.logger.warn(`${id} failed: ${message}`);
        void vscode.window.showErrorMessage(vscode.l10n.t('TrainQ: {0}', message));
        return undefined;
      }
    });
  });
}

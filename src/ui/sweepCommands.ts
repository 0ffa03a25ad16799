/**
 * Queue Sweep… and the sweep actions (pause, resume, stop, Queue Best Configuration, export). Where a
 * sweep's definition comes from, in order: a `*.sweep.json` the command was run on, the script's own
 * `<stem>.sweep.json` (or a sibling whose `script` names it), the script's `# trainq-sweep:` header.
 * Without any, it offers to write a commented starting file beside the script. A bad definition is one
 * error message naming the field, and nothing is queued.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { priorityLabel } from '../core/job';
import type { JobManager } from '../core/jobManager';
import { bestTrial, type SweepRecord } from '../core/sweep/sweepRecord';
import type { SweepManager } from '../core/sweep/sweepManager';
import { hasSweepHeader, parseSweepHeader } from '../core/sweep/sweepHeader';
import { isSweepFileName, parseSweepFile, parseSweepJson, sweepFileCandidates, sweepFileFor, sweepFileNamesScript } from '../core/sweep/sweepFiles';
import type { SweepSpec } from '../core/sweep/sweepTypes';
import { prefillFor, validateScript } from './queueInput';
import { isSweepNode } from './queueNodes';

export interface SweepCommandServices {
  manager: JobManager;
  sweeps: SweepManager;
  showSweep(id: string): void;
}

/** Queue Sweep… on a script or a sweep file (or the active editor's). */
export async function queueSweep(s: SweepCommandServices, uri: vscode.Uri): Promise<void> {
  const spec = await sweepSpecFor(s, uri);
  if (!spec) {
    return;
  }
  const sweep = await s.sweeps.start(spec);
  vscode.window.setStatusBarMessage(vscode.l10n.t("TrainQ: sweep '{0}' started ({1}, {2} at a time).", spec.name, spec.strategy, spec.parallel), 5000);
  s.showSweep(sweep.id);
}

async function sweepSpecFor(s: SweepCommandServices, uri: vscode.Uri): Promise<SweepSpec | undefined> {
  if (isSweepFileName(uri.fsPath)) {
    const text = await fs.readFile(uri.fsPath, 'utf8');
    const raw = parseSweepJson(text, uri.fsPath);
    const named = typeof (raw as { script?: unknown }).script === 'string' ? path.resolve(path.dirname(uri.fsPath), (raw as { script: string }).script) : undefined;
    if (!named) {
      throw new Error(vscode.l10n.t('{0}: script: required in a sweep file (the script to run, relative to the file).', path.basename(uri.fsPath)));
    }
    const script = await validateScript(vscode.Uri.file(named));
    return parseSweepFile(text, uri.fsPath, await contextFor(s, script));
  }
  const script = await validateScript(uri);
  const ctx = await contextFor(s, script);
  const dir = path.dirname(script.uri.fsPath);
  const siblings = await fs.readdir(dir).catch(() => [] as string[]);
  for (const file of sweepFileCandidates(script.uri.fsPath, siblings)) {
    const text = await fs.readFile(file, 'utf8').catch(() => undefined);
    if (text === undefined) {
      continue;
    }
    // The script's own file is used whatever it names; a sibling only when it names this script.
    if (file === sweepFileFor(script.uri.fsPath) || sweepFileNamesScript(parseSweepJson(text, file), file, script.uri.fsPath)) {
      return parseSweepFile(text, file, ctx);
    }
  }
  const text = await fs.readFile(script.uri.fsPath, 'utf8');
  if (hasSweepHeader(text)) {
    return parseSweepHeader(text, ctx);
  }
  await offerTemplate(script.uri.fsPath, ctx.defaults.gpus);
  return undefined;
}

async function contextFor(s: SweepCommandServices, script: Awaited<ReturnType<typeof validateScript>>) {
  const { values } = await prefillFor(script, s.manager.lastInputs(script.key));
  return {
    scriptPath: script.uri.fsPath,
    cwd: script.folder.uri.fsPath,
    defaults: { gpus: values.gpus, importance: values.importance, runtimeSec: values.runtimeSec, expectedGain: values.expectedGain },
  };
}

/** No definition yet: write a starting `<stem>.sweep.json` (the schema completes the rest) and open it. */
async function offerTemplate(scriptPath: string, gpus: number): Promise<void> {
  const file = sweepFileFor(scriptPath);
  const create = vscode.l10n.t('Create {0}', path.basename(file));
  const answer = await vscode.window.showInformationMessage(
    vscode.l10n.t("{0} has no sweep definition: add {1} beside it or a '# trainq-sweep:' header.", path.basename(scriptPath), path.basename(file)),
    create,
  );
  if (answer !== create) {
    return;
  }
  const template = {
    script: path.basename(scriptPath),
    parameters: { lr: { type: 'float', min: 1e-5, max: 1e-1, log: true }, batch_size: { type: 'choice', values: [32, 64, 128] } },
    metric: 'val_loss',
    goal: 'min',
    budget: { trials: 20 },
    parallel: 2,
    earlyStopping: 'median',
    strategy: 'adaptive',
    gpus,
  };
  await fs.writeFile(file, `${JSON.stringify(template, null, 2)}\n`, { flag: 'wx' }).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'EEXIST') {
      throw e;
    }
  });
  await vscode.window.showTextDocument(vscode.Uri.file(file));
}

/** The sweep a command was run on: a Job Queue sweep node, or an id (from the sweep view). */
export function sweepOf(s: SweepCommandServices, arg: unknown): SweepRecord {
  const id = isSweepNode(arg) ? arg.sweep.id : typeof arg === 'string' ? arg : undefined;
  const sweep = id !== undefined ? s.sweeps.sweep(id) : s.sweeps.sweeps[s.sweeps.sweeps.length - 1];
  if (!sweep) {
    throw new Error(vscode.l10n.t('Select a sweep in the Job Queue first.'));
  }
  return sweep;
}

/** Queues the best trial's configuration (or `trial`'s) as a normal job, with no sweep around it. */
export async function queueBestConfiguration(s: SweepCommandServices, sweep: SweepRecord, trial?: number): Promise<void> {
  const chosen = trial ?? bestTrial(sweep)?.trial.trial;
  if (chosen === undefined) {
    throw new Error(vscode.l10n.t("Sweep '{0}' has no trial with a {1} yet.", sweep.spec.name, sweep.spec.metric));
  }
  const job = await s.manager.queue(s.sweeps.bestConfigurationSpec(sweep.id, chosen));
  vscode.window.setStatusBarMessage(vscode.l10n.t("TrainQ: queued trial {0}'s configuration of '{1}' as {2}: {3}", chosen, sweep.spec.name, priorityLabel(job.priority), job.args.join(' ')), 8000);
}

/** Writes the sweep's trials as CSV or JSON where the user picks. */
export async function exportSweep(sweep: SweepRecord, format: 'csv' | 'json', render: (sweep: SweepRecord) => string): Promise<void> {
  const target = await vscode.window.showSaveDialog({
    defaultUri: vscode.Uri.file(path.join(path.dirname(sweep.spec.script), `${sweep.spec.name.replace(/[^\w.-]+/g, '_')}.trials.${format}`)),
    filters: format === 'csv' ? { CSV: ['csv'] } : { JSON: ['json'] },
  });
  if (target) {
    await fs.writeFile(target.fsPath, render(sweep));
    vscode.window.setStatusBarMessage(vscode.l10n.t('TrainQ: wrote {0} trials to {1}.', sweep.trials.length, path.basename(target.fsPath)), 5000);
  }
}

/**
 * Choosing what a job waits for (core/dependencies.ts holds the rules): the queue input's "Run
 * after…" option, a multi-select pick of queued and running jobs followed by the mode; the mode pick
 * a drop in the Job Queue asks (queueDragAndDrop.ts); and the script header's `after=` names.
 */
import * as vscode from 'vscode';
import { checkDependency, labeller, resolveByName } from '../core/dependencies';
import type { DependencyMode, Job, JobDependency } from '../core/job';
import { InputCancelled } from './stepInput';

/** The queue input's draft and context, as far as this step reads them (queueInput.ts JobOptionFields, JobOptionContext). */
export interface RunAfterDraft {
  after?: JobDependency;
}
export interface RunAfterContext {
  title: string;
  jobs(): readonly Job[];
  /** The queued job being edited: it cannot wait for itself. */
  editing?: string;
}

type ModeItem = vscode.QuickPickItem & { mode: DependencyMode };

/** The two modes, `after-ok` first: waiting for a failed run is rarely what a pipeline wants. */
function modeItems(current: DependencyMode | undefined): ModeItem[] {
  return [
    {
      label: vscode.l10n.t('When they succeed'),
      description: 'after-ok',
      detail: vscode.l10n.t('If one fails, is cancelled or lost, this job does not run (dependency failed).'),
      mode: 'after-ok',
    },
    { label: vscode.l10n.t('When they end'), description: 'after', detail: vscode.l10n.t('Whatever their outcome.'), mode: 'after' },
  ].map((item) => (item.mode === current ? { ...item, picked: true } : item)) as ModeItem[];
}

/** Asks for the mode; `undefined` when dismissed. */
export async function askMode(title: string, placeHolder: string, current?: DependencyMode): Promise<DependencyMode | undefined> {
  const items = modeItems(current);
  const picked = await vscode.window.showQuickPick(current === 'after' ? [items[1], items[0]] : items, { title, placeHolder, ignoreFocusOut: true });
  return picked?.mode;
}

/** `waits for 2 jobs (after-ok)`, or `none`: the Options… menu's summary. */
export function runAfterSummary(after: JobDependency | undefined): string {
  if (!after || after.jobs.length === 0) {
    return vscode.l10n.t('none');
  }
  return after.jobs.length === 1
    ? vscode.l10n.t('waits for 1 job ({0})', after.mode)
    : vscode.l10n.t('waits for {0} jobs ({1})', after.jobs.length, after.mode);
}

/**
 * "Run after…": check the queued and running jobs this one waits for (none clears it), then the
 * mode. Escape at either pick leaves the draft as it was; a choice that would close a cycle is
 * refused with the cycle named (DependencyError), the draft unchanged.
 */
export async function askRunAfter(draft: RunAfterDraft, ctx: RunAfterContext): Promise<void> {
  const jobs = ctx.jobs();
  const current = new Set(draft.after?.jobs ?? []);
  // A dependency chosen earlier that has ended since stays listed, so it is not dropped unseen.
  const candidates = jobs
    .filter((j) => j.id !== ctx.editing && (j.state === 'queued' || j.state === 'running' || current.has(j.id)))
    .sort((a, b) => b.createdAt - a.createdAt);
  if (candidates.length === 0) {
    void vscode.window.showInformationMessage(vscode.l10n.t('TrainQ: no job is queued or running, so there is nothing to run after.'));
    return;
  }
  type JobItem = vscode.QuickPickItem & { job: Job };
  const label = labeller(jobs);
  const items: JobItem[] = candidates.map((job) => ({
    label: label(job),
    description: job.args.length > 0 ? `${job.state} · ${job.args.join(' ')}` : job.state,
    job,
  }));
  const chosen = await new Promise<JobItem[] | undefined>((resolve) => {
    const pick = vscode.window.createQuickPick<JobItem>();
    Object.assign(pick, {
      title: ctx.title,
      placeholder: vscode.l10n.t('Run after… check the jobs this one waits for (none: it does not wait), then press Enter'),
      canSelectMany: true,
      matchOnDescription: true,
      ignoreFocusOut: true,
      items,
    });
    pick.selectedItems = items.filter((i) => current.has(i.job.id));
    let accepted = false;
    pick.onDidAccept(() => {
      accepted = true;
      resolve([...pick.selectedItems]);
      pick.hide();
    });
    pick.onDidHide(() => {
      if (!accepted) {
        resolve(undefined);
      }
      pick.dispose();
    });
    pick.show();
  });
  if (!chosen) {
    throw new InputCancelled();
  }
  if (chosen.length === 0) {
    draft.after = undefined;
    return;
  }
  const mode = await askMode(ctx.title, vscode.l10n.t('Run this job when the jobs it waits for…'), draft.after?.mode);
  if (!mode) {
    throw new InputCancelled();
  }
  const after: JobDependency = { mode, jobs: chosen.map((i) => i.job.id) };
  checkDependency(jobs, after, ctx.editing);
  draft.after = after;
}

/**
 * The script header's `after=`/`after-ok=` names as a dependency. A name that matches no queued or
 * running job is never guessed: the user is asked (modal) whether to queue without it, and Cancel
 * queues nothing.
 */
export async function headerDependency(after: { mode: DependencyMode; names: string[] } | undefined, jobs: readonly Job[], script: string): Promise<JobDependency | undefined> {
  if (!after) {
    return undefined;
  }
  const { ids, unresolved } = resolveByName(jobs, after.names);
  if (unresolved.length > 0) {
    const go = vscode.l10n.t('Queue Without It');
    const answer = await vscode.window.showWarningMessage(
      vscode.l10n.t(
        "{0}'s header says {1}={2}, but no queued or running job is named {3}.",
        script,
        after.mode,
        after.names.join(','),
        unresolved.join(', '),
      ),
      { modal: true, detail: vscode.l10n.t('Queue that job first, or queue this one without waiting for it.') },
      go,
    );
    if (answer !== go) {
      throw new InputCancelled();
    }
  }
  return ids.length > 0 ? { mode: after.mode, jobs: ids } : undefined;
}

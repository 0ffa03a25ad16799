/**
 * Drag and drop in the Job Queue. Queued jobs are what can be dragged (only they can still change):
 * dropped on a priority group they take its priority (a labelled example for the classifier);
 * dropped on another job they wait for it (a dependency, mode asked, after-ok first), or, from the
 * same pick, only take that job's priority group as before.
 */
import * as vscode from 'vscode';
import { priorityLabel, type DependencyMode, type Job, type Priority } from '../core/job';
import type { JobManager } from '../core/jobManager';
import { askMode } from './dependencyPick';
import { isJobNode, parseIds, type QueueNode } from './queueNodes';

const MIME = 'application/vnd.code.tree.trainq.jobqueue';

export type DragAndDropManager = Pick<JobManager, 'job' | 'setPriority' | 'setDependencies'>;

/** What a drop on a job does: wait for it in a mode, or move to its priority group. */
export type DropChoice = { kind: 'wait'; mode: DependencyMode } | { kind: 'priority' };

/** Asks what a drop of `dragged` on `target` means; undefined when dismissed. Tests pass their own. */
export type AskDropChoice = (dragged: readonly Job[], target: Job, group: Priority | undefined) => Promise<DropChoice | undefined>;

export class QueueDragAndDrop implements vscode.TreeDragAndDropController<QueueNode> {
  readonly dragMimeTypes = [MIME];
  readonly dropMimeTypes = [MIME];

  constructor(
    private readonly manager: DragAndDropManager,
    private readonly askChoice: AskDropChoice = askDropChoice,
  ) {}

  handleDrag(source: readonly QueueNode[], data: vscode.DataTransfer): void {
    const ids = source.filter((n) => isJobNode(n) && n.job.state === 'queued').map((n) => (n as { job: Job }).job.id);
    if (ids.length > 0) {
      data.set(MIME, new vscode.DataTransferItem(JSON.stringify(ids)));
    }
  }

  async handleDrop(target: QueueNode | undefined, data: vscode.DataTransfer): Promise<void> {
    const ids = parseIds(await data.get(MIME)?.asString());
    try {
      if (target?.kind === 'job') {
        await this.dropOnJob(ids, target.job, target.group.kind === 'group' ? priorityOf(target.group.key) : undefined);
      } else if (target?.kind === 'group' && priorityOf(target.key)) {
        await this.moveTo(ids, priorityOf(target.key)!);
      }
    } catch (e) {
      void vscode.window.showErrorMessage(vscode.l10n.t('TrainQ: {0}', e instanceof Error ? e.message : String(e)));
    }
  }

  private async dropOnJob(ids: readonly string[], target: Job, group: Priority | undefined): Promise<void> {
    const dragged = ids.map((id) => this.manager.job(id)).filter((j): j is Job => j?.state === 'queued' && j.id !== target.id);
    if (dragged.length === 0) {
      return;
    }
    const choice = await this.askChoice(dragged, target, group);
    if (choice?.kind === 'priority' && group) {
      await this.moveTo(dragged.map((j) => j.id), group);
    } else if (choice?.kind === 'wait') {
      for (const job of dragged) {
        // Added to what the job already waits for; the chosen mode then applies to all of them.
        const jobs = [...(job.after?.jobs ?? []).filter((id) => id !== target.id), target.id];
        await this.manager.setDependencies(job.id, { mode: choice.mode, jobs });
      }
    }
  }

  private async moveTo(ids: readonly string[], key: Priority): Promise<void> {
    for (const id of ids) {
      const job = this.manager.job(id);
      // Dropping a job where the user already put it would only add a duplicate training example.
      if (job?.state === 'queued' && !(job.priority === key && job.priorityOverridden)) {
        await this.manager.setPriority(id, key);
      }
    }
  }
}

function priorityOf(key: string): Priority | undefined {
  return key === 'high' || key === 'medium' || key === 'low' ? key : undefined;
}

/** The pick a drop on a job shows: the two waiting modes, and moving to the target's group when it is a priority group. */
async function askDropChoice(dragged: readonly Job[], target: Job, group: Priority | undefined): Promise<DropChoice | undefined> {
  const who = dragged.length === 1 ? dragged[0].name : vscode.l10n.t('{0} jobs', dragged.length);
  const title = vscode.l10n.t('Run {0} after {1}', who, target.name);
  if (!group) {
    const mode = await askMode(title, vscode.l10n.t('Start {0} when {1}…', who, target.name), dragged[0].after?.mode);
    return mode && { kind: 'wait', mode };
  }
  type Item = vscode.QuickPickItem & { choice: DropChoice };
  const items: Item[] = [
    { label: vscode.l10n.t('Run after {0} succeeds', target.name), description: 'after-ok', detail: vscode.l10n.t('If it fails or is cancelled, {0} does not run (dependency failed).', who), choice: { kind: 'wait', mode: 'after-ok' } },
    { label: vscode.l10n.t('Run after {0} ends', target.name), description: 'after', detail: vscode.l10n.t('Whatever its outcome.'), choice: { kind: 'wait', mode: 'after' } },
    { label: vscode.l10n.t('Only move to {0} priority', priorityLabel(group)), choice: { kind: 'priority' } },
  ];
  return (await vscode.window.showQuickPick(items, { title, ignoreFocusOut: true }))?.choice;
}

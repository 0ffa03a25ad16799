/**
 * The Priority… item of the Options… menu in Edit and Edit and Re-run (issue 16: the specification
 * opened for editing includes the priority). It only picks; core/jobEdits.ts applies the choice with
 * Set Priority…'s own code (a level set by hand) or drops the override (the classifier decides).
 */
import * as vscode from 'vscode';
import { PRIORITIES, priorityLabel, type Priority } from '../core/job';
import type { PriorityChoice } from '../core/jobEdits';

/** What the edit chose so far, and the job's priority now (what the classifier gave it, when it decides). */
export interface PriorityDraft {
  choice: PriorityChoice;
  current: Priority;
}

export function prioritySummary(draft: PriorityDraft): string {
  return draft.choice === 'classifier'
    ? vscode.l10n.t('the classifier decides (now {0})', priorityLabel(draft.current))
    : vscode.l10n.t('{0}, set by you', priorityLabel(draft.choice));
}

/** Picks High, Medium, Low or the classifier, starting on the current choice; Escape leaves it as it was. */
export async function askPriority(draft: PriorityDraft, title: string): Promise<void> {
  type Item = vscode.QuickPickItem & { value: PriorityChoice };
  const current = (value: PriorityChoice): string | undefined => (value === draft.choice ? vscode.l10n.t('current') : undefined);
  const items: Item[] = [
    ...PRIORITIES.map((p) => ({ label: priorityLabel(p), description: current(p), value: p as PriorityChoice })),
    { label: vscode.l10n.t('$(sparkle) Let the classifier decide'), description: current('classifier'), value: 'classifier' },
  ];
  // The current choice first, so Enter keeps it (the pick starts on it).
  items.sort((a, b) => Number(b.value === draft.choice) - Number(a.value === draft.choice));
  const picked = await vscode.window.showQuickPick(items, {
    title,
    placeHolder: vscode.l10n.t('Priority: a level set here is kept, and TrainQ learns from it as from Set Priority'),
    ignoreFocusOut: true,
  });
  if (picked) {
    draft.choice = picked.value;
  }
}

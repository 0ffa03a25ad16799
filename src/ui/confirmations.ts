/**
 * Asks the questions confirmPolicy.ts decides on, as modal dialogs (the UX guidelines keep modals for
 * destructive actions that need an answer now). The dialog's own Cancel, Escape and closing it all
 * answer "no": nothing happens then.
 */
import * as vscode from 'vscode';
import { jobList, type Question } from './confirmPolicy';

/** True when there is nothing to ask or the user chose the action. */
export async function confirm(question: Question | undefined): Promise<boolean> {
  if (!question) {
    return true;
  }
  const { message, detail, action } = wording(question);
  const setting = question.kind === 'cancelRunning' ? 'trainq.confirm.cancel' : 'trainq.confirm.clearFinished';
  const answer = await vscode.window.showWarningMessage(
    message,
    { modal: true, detail: `${detail}\n\n${vscode.l10n.t('Turn off the setting {0} to stop asking.', setting)}` },
    action,
  );
  return answer === action;
}

function wording(q: Question): { message: string; detail: string; action: string } {
  const names = q.kind === 'clearFinished' ? '' : jobList(q.names, (n) => vscode.l10n.t('{0} more', n), vscode.l10n.t('and'));
  switch (q.kind) {
    case 'cancelRunning':
      return {
        message: q.count === 1 ? vscode.l10n.t('Cancel the running job {0}?', names) : vscode.l10n.t('Cancel {0} running jobs ({1})?', q.count, names),
        detail: vscode.l10n.t('The job is stopped (SIGTERM, then SIGKILL after the grace period); the work it has not saved is lost.'),
        action: q.count === 1 ? vscode.l10n.t('Cancel Job') : vscode.l10n.t('Cancel Jobs'),
      };
    case 'removeFinished':
      return {
        message: q.count === 1 ? vscode.l10n.t('Remove {0} from the history?', names) : vscode.l10n.t('Remove {0} finished jobs ({1}) from the history?', q.count, names),
        detail: vscode.l10n.t('Their logs are deleted too.'),
        action: vscode.l10n.t('Remove'),
      };
    case 'clearFinished':
      return {
        message:
          q.count === 1 ? vscode.l10n.t('Remove the finished job from the history?') : vscode.l10n.t('Remove all {0} finished jobs from the history?', q.count),
        detail: vscode.l10n.t('Their logs are deleted too. Queued and running jobs stay.'),
        action: vscode.l10n.t('Clear Finished Jobs'),
      };
  }
}

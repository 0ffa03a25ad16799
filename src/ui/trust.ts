/**
 * Workspace Trust gate. `when` clauses hide commands in untrusted workspaces, but commands can
 * still be invoked by id or keybinding, so every handler that would run code checks here too.
 */
import * as vscode from 'vscode';

export const UNTRUSTED_REASON = vscode.l10n.t('This workspace is not trusted, so TrainQ runs none of its scripts.');

/** True when the workspace is trusted; otherwise explains the refusal and offers to manage trust. `action` is localised by the caller. */
export async function requireTrust(action: string): Promise<boolean> {
  if (vscode.workspace.isTrusted) {
    return true;
  }
  const manage = vscode.l10n.t('Manage Workspace Trust');
  const answer = await vscode.window.showWarningMessage(
    vscode.l10n.t("TrainQ cannot {0} in an untrusted workspace: that would run the workspace's code. The queue stays visible; trust the workspace to run jobs.", action),
    manage,
  );
  if (answer === manage) {
    await vscode.commands.executeCommand('workbench.trust.manage');
  }
  return false;
}

/**
 * Workspace Trust gate. `when` clauses hide commands in untrusted workspaces, but commands can
 * still be invoked by id or keybinding, so every handler that would run code checks here too.
 */
import * as vscode from 'vscode';

export const UNTRUSTED_REASON = 'This workspace is not trusted, so TrainQ runs none of its scripts.';

/** True when the workspace is trusted; otherwise explains the refusal and offers to manage trust. */
export async function requireTrust(action: string): Promise<boolean> {
  if (vscode.workspace.isTrusted) {
    return true;
  }
  const manage = 'Manage Workspace Trust';
  const answer = await vscode.window.showWarningMessage(
    `TrainQ cannot ${action} in an untrusted workspace: that would run the workspace's code. The queue stays visible; trust the workspace to run jobs.`,
    manage,
  );
  if (answer === manage) {
    await vscode.commands.executeCommand('workbench.trust.manage');
  }
  return false;
}

/**
 * Handlers of the agent's commands that do more than call a service: Reset Agent (asks first) and
 * Export Agent Stats (asks where, then writes the JSON document and two CSV files beside it).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { AgentStats } from '../agent/agentStats';
import { decisionsCsv, statsJson, trainingCsv } from '../agent/statsExport';

export async function resetAgent(agent: { reset(): Promise<void> }): Promise<void> {
  const reset = vscode.l10n.t('Reset Agent');
  const answer = await vscode.window.showWarningMessage(
    vscode.l10n.t('Reset the placement agent to the weights shipped with TrainQ? What it learned from your jobs is deleted.'),
    { modal: true },
    reset,
  );
  if (answer === reset) {
    await agent.reset();
    vscode.window.setStatusBarMessage(vscode.l10n.t('TrainQ: the placement agent starts again from the shipped weights.'), 4000);
  }
}

/**
 * Writes `<name>.json` (everything), `<name>-decisions.csv` and `<name>-training.csv`. `target` skips
 * the dialog (for automation: `executeCommand('trainq.exportAgentStats', uri)`).
 */
export async function exportAgentStats(stats: AgentStats, target?: unknown): Promise<void> {
  let uri = target instanceof vscode.Uri ? target : undefined;
  if (!uri) {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    uri = await vscode.window.showSaveDialog({
      title: vscode.l10n.t('Export Agent Stats'),
      saveLabel: vscode.l10n.t('Export'),
      filters: { JSON: ['json'] },
      ...(folder ? { defaultUri: vscode.Uri.joinPath(folder, 'trainq-agent-stats.json') } : {}),
    });
  }
  if (!uri) {
    return;
  }
  const file = uri.fsPath.endsWith('.json') ? uri.fsPath : `${uri.fsPath}.json`;
  const base = file.slice(0, -'.json'.length);
  const files = [
    { path: file, text: statsJson(stats) },
    { path: `${base}-decisions.csv`, text: decisionsCsv(stats.decisions.toArray()) },
    { path: `${base}-training.csv`, text: trainingCsv(stats) },
  ];
  await fs.mkdir(path.dirname(file), { recursive: true });
  for (const f of files) {
    await fs.writeFile(f.path, f.text, 'utf8');
  }
  void vscode.window.showInformationMessage(
    vscode.l10n.t('TrainQ: exported {0} decisions and the training curves to {1}.', stats.decisions.size, files.map((f) => path.basename(f.path)).join(', ')),
  );
}

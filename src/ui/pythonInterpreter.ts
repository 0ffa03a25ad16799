/**
 * Which interpreter runs `.py` jobs on this machine: the `trainq.python` setting, else the environment selected in
 * the Python extension (so jobs use the same venv as the user's terminal and debugger), else python3.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Logger } from '../core/logger';

/** The slice of the Python extension's public API we use (ms-python.python `environments`). */
interface PythonEnvironmentsApi {
  environments?: {
    getActiveEnvironmentPath(resource?: vscode.Uri): { path: string } | undefined;
    resolveEnvironment(env: { path: string } | string): Promise<{ executable?: { uri?: vscode.Uri } } | undefined>;
  };
}

export async function resolvePython(setting: string, script: vscode.Uri, logger: Logger): Promise<string> {
  if (setting) {
    return expandSetting(setting, script);
  }
  const ext = vscode.extensions.getExtension<PythonEnvironmentsApi>('ms-python.python');
  if (ext) {
    try {
      const api = ext.isActive ? ext.exports : await ext.activate();
      const active = api.environments?.getActiveEnvironmentPath(script);
      if (active) {
        const resolved = await api.environments?.resolveEnvironment(active);
        const exe = resolved?.executable?.uri?.fsPath;
        if (exe) {
          return exe;
        }
      }
    } catch (e) {
      logger.warn(`The Python extension did not give an interpreter (${e}); using python3.`);
    }
  }
  return 'python3';
}

function expandSetting(setting: string, script: vscode.Uri): string {
  const folder = vscode.workspace.getWorkspaceFolder(script)?.uri.fsPath ?? path.dirname(script.fsPath);
  return setting.replace(/^~(?=$|\/)/, os.homedir()).replace(/\$\{workspaceFolder\}/g, folder);
}

/**
 * The local host's interpreter resolver for `.py` scripts (the host builds the argv): the setting is
 * read on each launch, so a changed `trainq.python` applies to the next job without a reload.
 */
export function pythonResolver(setting: () => string, logger: Logger): (script: string) => Promise<string> {
  return (script) => resolvePython(setting(), vscode.Uri.file(script), logger);
}

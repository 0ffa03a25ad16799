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
    /** The environments the extension found (venvs, conda, pyenv, system); absent in old versions. */
    known?: ReadonlyArray<KnownEnvironment>;
  };
}

interface KnownEnvironment {
  path: string;
  executable?: { uri?: vscode.Uri };
  environment?: { name?: string; type?: string };
  version?: { major?: number; minor?: number; micro?: number };
  tools?: readonly string[];
}

/** An interpreter the user may pick for a job. */
export interface PythonChoice {
  label: string;
  description: string;
  executable: string;
}

/**
 * The environments the Python extension knows, for a job's interpreter pick; none without the
 * extension (a typed interpreter works anyway). Never throws: the pick must not fail over a list.
 */
export async function knownPythonEnvironments(script: vscode.Uri): Promise<PythonChoice[]> {
  const ext = vscode.extensions.getExtension<PythonEnvironmentsApi>('ms-python.python');
  if (!ext) {
    return [];
  }
  try {
    const api = ext.isActive ? ext.exports : await ext.activate();
    const active = api.environments?.getActiveEnvironmentPath(script)?.path;
    const choices: PythonChoice[] = [];
    for (const env of api.environments?.known ?? []) {
      const executable = env.executable?.uri?.fsPath ?? env.path;
      const v = env.version;
      const version = v?.major !== undefined ? `Python ${v.major}.${v.minor ?? 0}${v.micro !== undefined ? `.${v.micro}` : ''}` : '';
      const kind = env.environment?.type ?? env.tools?.[0] ?? '';
      const name = env.environment?.name ?? path.basename(path.dirname(path.dirname(executable)));
      choices.push({
        label: `${name}${env.path === active ? ' ★' : ''}`,
        description: [version, kind].filter(Boolean).join(' · '),
        executable,
      });
    }
    return choices;
  } catch {
    return [];
  }
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

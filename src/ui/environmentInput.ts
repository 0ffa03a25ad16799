/**
 * The Environment items of a job's Options… menu (queueInput.ts): variables typed as `A=1 B="x y"`,
 * a `.env` file, and the interpreter of a `.py` script picked from the Python extension's
 * environments or typed. Values stay literal on every host kind; the `.env` file is only checked
 * here (it is read again when the job is dispatched, see core/jobEnvironment.ts).
 */
import * as vscode from 'vscode';
import { validationMessage } from './stepInput';
import { displayEnv, formatEnvAssignments, parseEnvAssignments } from '../core/envNames';
import { readEnvFile } from '../core/jobEnvironment';
import type { JobSpec } from '../core/job';
import { jobInterpreterProblem } from '../hosts/interpreterName';
import { knownPythonEnvironments } from './pythonInterpreter';

/** The optional fields of a job the Options… menu edits; absent means not set. */
export type JobOptionFields = Partial<Pick<JobSpec, 'env' | 'envFile' | 'interpreter' | 'after' | 'constraints' | 'outputs'>>;

/** One-line summary for the menu: names always, values of secret-looking names masked. */
export function envSummary(env: Readonly<Record<string, string>> | undefined): string {
  const shown = displayEnv(env ?? {});
  return shown.length === 0 ? vscode.l10n.t('none') : literalText(shown.join(' '));
}

/**
 * A quick pick renders `$(name)` in a label or description as an icon, so a value such as
 * `$(whoami)` would vanish from the menu; `\$(` shows it as typed.
 */
function literalText(text: string): string {
  return text.replace(/\$\(/g, '\\$(');
}

/** Edits `draft.env` in an input box; undefined (Escape) keeps it. */
export async function askVariables(draft: JobOptionFields, title: string): Promise<void> {
  const value = await vscode.window.showInputBox({
    title,
    prompt: vscode.l10n.t('Environment variables as NAME=value, quoted like a shell: A=1 B="x y" (no $ expansion; empty for none)'),
    value: formatEnvAssignments(draft.env ?? {}),
    ignoreFocusOut: true,
    validateInput: (text) => validationMessage(() => parseEnvAssignments(text)),
  });
  if (value !== undefined) {
    const env = parseEnvAssignments(value);
    draft.env = Object.keys(env).length > 0 ? env : undefined;
  }
}

/** Picks the `.env` file among the workspace's, or any file, or none; checks it parses (without showing a value). */
export async function askEnvFile(draft: JobOptionFields, title: string, folder: vscode.Uri): Promise<void> {
  const found = await vscode.workspace.findFiles(new vscode.RelativePattern(folder, '**/{.env,.env.*,*.env}'), '**/node_modules/**', 50);
  type Item = vscode.QuickPickItem & { file?: string; browse?: boolean };
  const items: Item[] = [
    ...found.map((uri) => ({ label: vscode.workspace.asRelativePath(uri), file: uri.fsPath })),
    { label: vscode.l10n.t('$(folder-opened) Choose a file…'), browse: true },
    ...(draft.envFile ? [{ label: vscode.l10n.t('$(close) No .env file'), file: '' }] : []),
  ];
  const picked = await vscode.window.showQuickPick(items, {
    title,
    placeHolder: vscode.l10n.t('A .env file for this job; it is read when the job starts, so later edits apply'),
    ignoreFocusOut: true,
  });
  let file = picked?.file;
  if (picked?.browse) {
    const chosen = await vscode.window.showOpenDialog({ defaultUri: folder, canSelectMany: false, openLabel: vscode.l10n.t('Use as .env file') });
    file = chosen?.[0]?.fsPath;
  }
  if (file === undefined) {
    return;
  }
  if (file === '') {
    draft.envFile = undefined;
    return;
  }
  try {
    // Checked now for an early message; the values are not kept (the job reads the file at dispatch).
    await readEnvFile(file);
    draft.envFile = file;
  } catch (e) {
    void vscode.window.showErrorMessage(vscode.l10n.t('TrainQ: {0}', (e as Error).message));
  }
}

/** Picks the interpreter of a `.py` job: the default, an environment the Python extension knows, or a typed one. */
export async function askInterpreter(draft: JobOptionFields, title: string, script: vscode.Uri): Promise<void> {
  type Item = vscode.QuickPickItem & { value?: string; type?: boolean };
  const known = await knownPythonEnvironments(script);
  const items: Item[] = [
    { label: vscode.l10n.t('Default'), description: vscode.l10n.t("trainq.python, else the Python extension's (here) or the host's python setting"), value: '' },
    ...known.map((env) => ({ label: env.label, description: env.description, detail: env.executable, value: env.executable })),
    { label: vscode.l10n.t('$(edit) Type a path or program…'), description: vscode.l10n.t('e.g. .venv/bin/python, relative to the job folder (on a remote host: its copy of the project)'), type: true },
  ];
  const picked = await vscode.window.showQuickPick(items, {
    title,
    placeHolder: draft.interpreter ? vscode.l10n.t('Now: {0}', draft.interpreter) : vscode.l10n.t('The interpreter this job runs with (overrides trainq.python and the host setting)'),
    matchOnDetail: true,
    ignoreFocusOut: true,
  });
  let value = picked?.value;
  if (picked?.type) {
    value = await vscode.window.showInputBox({
      title,
      prompt: vscode.l10n.t('Interpreter: an absolute path, ~/path, a program on the PATH, or a path relative to the job folder'),
      value: draft.interpreter ?? '',
      ignoreFocusOut: true,
      validateInput: (text) => (text.trim() === '' ? undefined : jobInterpreterProblem(text.trim())),
    });
    value = value?.trim();
  }
  if (value === undefined) {
    return;
  }
  const problem = value === '' ? undefined : jobInterpreterProblem(value);
  if (problem) {
    void vscode.window.showErrorMessage(vscode.l10n.t('TrainQ: the interpreter {0} {1}.', value, problem));
    return;
  }
  draft.interpreter = value === '' ? undefined : value;
}

/** How the menu shows the current `.env` file: workspace-relative when it is inside the workspace. */
export function envFileSummary(file: string | undefined): string {
  return file ? literalText(vscode.workspace.asRelativePath(file)) : vscode.l10n.t('none');
}

export function interpreterSummary(interpreter: string | undefined): string {
  return interpreter === undefined ? vscode.l10n.t('default') : literalText(interpreter);
}


/**
 * A job's own output patterns (issue 16, results back) as an item of the queue input's Options… menu:
 * copied back from a remote host when the job ends, besides `trainq.outputs.globs`. Patterns are
 * written like arguments (quotes group a pattern with spaces) and checked as they are typed.
 */
import * as vscode from 'vscode';
import { formatArgs, parseArgs } from '../core/argv';
import { outputGlobProblem } from '../core/outputGlobs';
import type { JobOptionFields } from './environmentInput';

export function outputsSummary(outputs: readonly string[] | undefined): string {
  return outputs && outputs.length > 0 ? outputs.join(' ') : vscode.l10n.t('trainq.outputs.globs only');
}

/** Parses the typed patterns, or throws the first problem in words. */
export function parseOutputPatterns(text: string): string[] {
  const patterns = parseArgs(text);
  for (const p of patterns) {
    const problem = outputGlobProblem(p);
    if (problem) throw new Error(problem.charAt(0).toUpperCase() + problem.slice(1));
  }
  return patterns;
}

/** Edits `draft.outputs` in an input box; Escape keeps it, an empty answer clears it. */
export async function askOutputs(draft: JobOptionFields, title: string): Promise<void> {
  const value = await vscode.window.showInputBox({
    title,
    prompt: vscode.l10n.t("Files to copy back from a remote host when the job ends, relative to the job's folder: outputs/** *.ckpt (empty: only trainq.outputs.globs)"),
    value: formatArgs(draft.outputs ?? []),
    ignoreFocusOut: true,
    validateInput: (text) => {
      try {
        parseOutputPatterns(text);
        return undefined;
      } catch (e) {
        return e instanceof Error ? e.message : String(e);
      }
    },
  });
  if (value !== undefined) {
    const outputs = parseOutputPatterns(value);
    draft.outputs = outputs.length > 0 ? outputs : undefined;
  }
}

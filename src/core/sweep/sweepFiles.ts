/**
 * Sweep definition files: which `*.sweep.json` files belong to a script, and reading one. Pure, no
 * file system: the caller lists the folder and reads the text, so the rules test without disks.
 *
 * A script's own file is `<stem>.sweep.json` beside it (`train.py` → `train.sweep.json`); any other
 * `*.sweep.json` in the folder belongs to it too when its `script` field names it, which lets several
 * sweeps of one script live side by side (`train.lr.sweep.json`, `train.arch.sweep.json`).
 */
import * as path from 'node:path';
import { SweepDefinitionError, isObject, own } from './definitionChecks';
import { type SweepDefinitionContext, parseSweepDefinition } from './sweepDefinition';
import type { SweepSpec } from './sweepTypes';

export const SWEEP_FILE_SUFFIX = '.sweep.json';

export function isSweepFileName(fileName: string): boolean {
  const base = path.basename(fileName);
  return base.length > SWEEP_FILE_SUFFIX.length && base.toLowerCase().endsWith(SWEEP_FILE_SUFFIX);
}

/** `dir/train.py` → `dir/train.sweep.json`: the file looked for first. */
export function sweepFileFor(scriptPath: string): string {
  const parsed = path.parse(scriptPath);
  return path.join(parsed.dir, `${parsed.name}${SWEEP_FILE_SUFFIX}`);
}

/**
 * The sweep files to try for a script, in order: its own `<stem>.sweep.json`, then the other
 * `*.sweep.json` among `siblings` (names in the script's folder), sorted so the choice is stable. A
 * sibling counts only if its `script` names this script: check each with sweepFileNamesScript.
 */
export function sweepFileCandidates(scriptPath: string, siblings: readonly string[] = []): string[] {
  const first = sweepFileFor(scriptPath);
  const dir = path.dirname(scriptPath);
  const others = siblings
    .map((name) => path.join(dir, path.basename(name)))
    .filter((file) => isSweepFileName(file) && file !== first)
    .sort();
  return [first, ...new Set(others)];
}

/** Whether a definition read from filePath is for scriptPath (its `script` resolved beside the file). */
export function sweepFileNamesScript(raw: unknown, filePath: string, scriptPath: string): boolean {
  if (!isObject(raw)) {
    return false;
  }
  const script = own(raw, 'script');
  if (typeof script !== 'string' || script.includes('\u0000')) {
    return false;
  }
  return path.resolve(path.dirname(filePath), script) === path.resolve(scriptPath);
}

/** Line and column (1-based) of a character index, for pointing at a JSON syntax error. */
function lineColumn(text: string, index: number): string {
  const before = text.slice(0, index);
  const line = before.split('\n').length;
  return `line ${line}, column ${index - before.lastIndexOf('\n')}`;
}

/** Where JSON.parse stopped: V8 says "at position N" for most errors, nothing for "Unexpected end". */
function syntaxErrorAt(text: string, error: SyntaxError): number {
  const match = /position (\d+)/.exec(error.message);
  return match ? Number(match[1]) : text.length;
}

/** The JSON of a sweep file, a syntax error thrown as SweepDefinitionError with its line and column. */
export function parseSweepJson(text: string, filePath: string): unknown {
  // Editors on Windows may save a UTF-8 byte order mark, which JSON.parse refuses.
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  try {
    return JSON.parse(body) as unknown;
  } catch (error) {
    if (!(error instanceof SyntaxError)) {
      throw error;
    }
    const at = lineColumn(body, syntaxErrorAt(body, error));
    const reason = error.message.replace(/\s*in JSON at position \d+.*$/s, '').replace(/\s*\(line \d+ column \d+\)$/, '');
    throw new SweepDefinitionError('', `${reason} (${at}).`, `${path.basename(filePath)} is not valid JSON`);
  }
}

/**
 * Reads and validates a sweep file. A relative `script` in it is resolved against the file's folder;
 * the error message starts with the file's name so it reads on its own in a notification.
 */
export function parseSweepFile(text: string, filePath: string, ctx: Omit<SweepDefinitionContext, 'baseDir'>): SweepSpec {
  const raw = parseSweepJson(text, filePath);
  try {
    return parseSweepDefinition(raw, { ...ctx, baseDir: path.dirname(filePath) });
  } catch (error) {
    if (error instanceof SweepDefinitionError) {
      const label = error.label === '' ? path.basename(filePath) : `${path.basename(filePath)}: ${error.label}`;
      throw new SweepDefinitionError(error.field, error.detail, label);
    }
    throw error;
  }
}

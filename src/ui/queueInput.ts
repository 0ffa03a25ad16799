/**
 * Queueing a script: find or validate the script, then a short multi-step input prefilled from
 * the values last used for that script and from its `# trainq:` header comment. The same input
 * edits a queued job and re-runs any job with changes (jobEditInput.ts): one flow for all three.
 *
 * The common path stays five steps: everything optional (environment, dependencies, host
 * constraints) is behind the Options… button (a gear) on every step, which opens a menu of
 * optional steps and comes back to the step it left.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { formatArgs, parseArgs } from '../core/argv';
import { formatDuration, parseDuration } from '../core/duration';
import { FeatureError, checkExpectedGain, checkGpus, checkRuntimeSec } from '../core/features';
import type { Importance, Job, JobSpec } from '../core/job';
import { parseScriptHeader, type ScriptHeader } from '../core/scriptHeader';
import type { LastInputs } from '../core/workspaceState';
import { InputCancelled, StepInput, validationMessage, type TextStep } from './stepInput';
import { askEnvFile, askInterpreter, askVariables, envFileSummary, envSummary, interpreterSummary, type JobOptionFields } from './environmentInput';
import { isPythonScript } from '../hosts/jobCommand';
import { jobInterpreterProblem } from '../hosts/interpreterName';
import type { RuntimeHint } from './runtimeHint';
import { askRunAfter, runAfterSummary } from './dependencyPick';
import { askConstraints, constraintsSummary } from './constraintsInput';
import { askOutputs, outputsSummary } from './outputOptions';
import { askPriority, prioritySummary, type PriorityDraft } from './priorityOption';

const DEFAULTS: LastInputs = { args: [], gpus: 1, importance: 'normal', runtimeSec: 3600 };
const RUNNABLE = new Set(['.py', '.sh']);

export interface ScriptChoice {
  uri: vscode.Uri;
  /** Workspace-relative path: the key of the script's remembered inputs. */
  key: string;
  folder: vscode.WorkspaceFolder;
}

/** Lists the workspace's training scripts for the quick pick (settings trainq.scriptGlobs / scriptExcludes). */
export async function findTrainingScripts(globs: string[], excludes: string[]): Promise<vscode.Uri[]> {
  if (globs.length === 0) {
    return [];
  }
  const include = globs.length === 1 ? globs[0] : `{${globs.join(',')}}`;
  const exclude = excludes.length === 0 ? undefined : excludes.length === 1 ? excludes[0] : `{${excludes.join(',')}}`;
  const found = await vscode.workspace.findFiles(include, exclude, 2000);
  return found.sort((a, b) => a.fsPath.localeCompare(b.fsPath));
}

export async function pickTrainingScript(globs: string[], excludes: string[]): Promise<vscode.Uri | undefined> {
  const scripts = await findTrainingScripts(globs, excludes);
  if (scripts.length === 0) {
    const open = vscode.l10n.t('Open Settings');
    const answer = await vscode.window.showInformationMessage(
      vscode.l10n.t(
        "No training scripts match trainq.scriptGlobs ({0}). Queue any .py or .sh file from the Explorer's context menu, or change the setting.",
        globs.join(', ') || vscode.l10n.t('empty'),
      ),
      open,
    );
    if (answer === open) {
      await vscode.commands.executeCommand('workbench.action.openSettings', 'trainq.scriptGlobs');
    }
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    scripts.map((uri) => ({ label: vscode.workspace.asRelativePath(uri), uri })),
    { title: vscode.l10n.t('Queue Training Script'), placeHolder: vscode.l10n.t('Pick the script to queue'), matchOnDescription: true },
  );
  return picked?.uri;
}

/** Refuses anything TrainQ must not run: gone, not a file, outside the workspace, wrong type. */
export async function validateScript(uri: vscode.Uri): Promise<ScriptChoice> {
  if (uri.scheme !== 'file') {
    throw new Error(vscode.l10n.t('TrainQ runs scripts from local files; {0} is not one.', uri.toString()));
  }
  const folder = vscode.workspace.getWorkspaceFolder(uri);
  if (!folder) {
    throw new Error(vscode.l10n.t("{0} is outside the workspace; TrainQ only runs the workspace's own scripts.", path.basename(uri.fsPath)));
  }
  const stat = await fs.stat(uri.fsPath).catch(() => undefined);
  if (!stat) {
    throw new Error(vscode.l10n.t('{0} no longer exists.', vscode.workspace.asRelativePath(uri)));
  }
  if (!stat.isFile()) {
    throw new Error(vscode.l10n.t('{0} is not a file.', vscode.workspace.asRelativePath(uri)));
  }
  if (!RUNNABLE.has(path.extname(uri.fsPath).toLowerCase())) {
    throw new Error(vscode.l10n.t('TrainQ runs .py and .sh scripts; {0} is neither.', path.basename(uri.fsPath)));
  }
  return { uri, key: vscode.workspace.asRelativePath(uri, true), folder };
}

/** The starting values: remembered inputs win over the header comment, which wins over defaults. */
export async function prefillFor(
  script: ScriptChoice,
  remembered: LastInputs | undefined,
): Promise<{ values: LastInputs; warnings: string[]; after?: ScriptHeader['after']; environment: JobOptionFields; constraints?: ScriptHeader['constraints'] }> {
  const text = await fs.readFile(script.uri.fsPath, 'utf8').catch(() => '');
  const header = parseScriptHeader(text.slice(0, 16_384));
  const environment = headerEnvironment(header, script, header.warnings);
  return { values: { ...DEFAULTS, ...header.values, ...(remembered ?? {}) }, warnings: header.warnings, after: header.after, environment, constraints: header.constraints };
}

/** `env-file=` (relative to the workspace folder) and `python=` of the header; a bad interpreter is a warning. */
function headerEnvironment(header: ScriptHeader, script: ScriptChoice, warnings: string[]): JobOptionFields {
  const fields: JobOptionFields = {};
  if (header.envFile !== undefined) {
    fields.envFile = path.resolve(script.folder.uri.fsPath, header.envFile);
  }
  if (header.outputs !== undefined) {
    fields.outputs = header.outputs;
  }
  if (header.interpreter !== undefined) {
    const problem = jobInterpreterProblem(header.interpreter);
    if (problem) {
      warnings.push(vscode.l10n.t('python={0} {1}; the default interpreter is used.', header.interpreter, problem));
    } else {
      fields.interpreter = header.interpreter;
    }
  }
  return fields;
}

function importanceItems(): Array<vscode.QuickPickItem & { value: Importance }> {
  return [
    { label: vscode.l10n.t('High'), description: vscode.l10n.t('results needed soon'), value: 'high' },
    { label: vscode.l10n.t('Normal'), value: 'normal' },
    { label: vscode.l10n.t('Low'), description: vscode.l10n.t('run when GPUs are idle'), value: 'low' },
  ];
}

/** What an optional step may look at: the script, the jobs (for Run after…), the job being edited. */
export interface JobOptionContext {
  script: ScriptChoice;
  title: string;
  jobs(): readonly Job[];
  /** The id of the queued job being edited in place; undefined when queueing a new job. */
  editing?: string;
  /** The priority an edit or re-run chooses (the Priority… item); undefined when queueing a new job. */
  priority?: PriorityDraft;
}

/**
 * One item of the Options… menu: what it sets now, and an optional step that changes `draft`
 * (Escape inside it leaves `draft` as it was). Other optional steps add themselves to JOB_OPTIONS.
 */
export interface JobOption {
  label: string;
  /** False hides the item (an interpreter for a .sh script). */
  applies?(ctx: JobOptionContext): boolean;
  describe(draft: JobOptionFields, ctx: JobOptionContext): string;
  edit(draft: JobOptionFields, ctx: JobOptionContext): Promise<void>;
}

export const JOB_OPTIONS: JobOption[] = [
  { label: vscode.l10n.t('$(symbol-variable) Environment variables…'), describe: (d) => envSummary(d.env), edit: (d, c) => askVariables(d, c.title) },
  { label: vscode.l10n.t('$(file) .env file…'), describe: (d) => envFileSummary(d.envFile), edit: (d, c) => askEnvFile(d, c.title, c.script.folder.uri) },
  {
    label: vscode.l10n.t('$(symbol-namespace) Python interpreter…'),
    applies: (c) => isPythonScript(c.script.uri.fsPath),
    describe: (d) => interpreterSummary(d.interpreter),
    edit: (d, c) => askInterpreter(d, c.title, c.script.uri),
  },
  { label: vscode.l10n.t('$(debug-step-over) Run after…'), describe: (d) => runAfterSummary(d.after), edit: (d, c) => askRunAfter(d, c) },
  { label: vscode.l10n.t('$(server) Host constraints…'), describe: (d) => constraintsSummary(d.constraints), edit: (d, c) => askConstraints(d, c.title) },
  { label: vscode.l10n.t('$(cloud-download) Output files…'), describe: (d) => outputsSummary(d.outputs), edit: (d, c) => askOutputs(d, c.title) },
  {
    label: vscode.l10n.t('$(arrow-up) Priority…'),
    applies: (c) => c.priority !== undefined,
    describe: (_d, c) => prioritySummary(c.priority!),
    edit: (_d, c) => askPriority(c.priority!, c.title),
  },
];

/** The menu behind the Options… button: pick an item, change it, come back; Done (or Escape) returns to the step. */
async function runOptionsMenu(draft: JobOptionFields, ctx: JobOptionContext): Promise<void> {
  for (;;) {
    type Item = vscode.QuickPickItem & { option?: JobOption };
    const items: Item[] = [
      { label: vscode.l10n.t('$(check) Done'), description: vscode.l10n.t('back to the queue input') },
      ...JOB_OPTIONS.filter((o) => o.applies?.(ctx) ?? true).map((option) => ({ label: option.label, description: option.describe(draft, ctx), option })),
    ];
    const picked = await vscode.window.showQuickPick(items, { title: ctx.title, placeHolder: vscode.l10n.t('Options for this job'), ignoreFocusOut: true });
    if (!picked?.option) {
      return;
    }
    try {
      await picked.option.edit(draft, ctx);
    } catch (e) {
      if (!(e instanceof InputCancelled)) {
        void vscode.window.showErrorMessage(vscode.l10n.t('TrainQ: {0}', e instanceof Error ? e.message : String(e)));
      }
    }
  }
}

export interface AskJobSpecOptions {
  /** The input's title; "Queue <script>" by default. */
  title?: string;
  /** The optional fields to start from (a job being edited or re-run). */
  options?: JobOptionFields;
  jobs?: () => readonly Job[];
  editing?: string;
  /** Shows the Priority… item, which changes this draft in place (an edit or re-run reads it back). */
  priority?: PriorityDraft;
}

/**
 * Asks for arguments, GPUs, importance, expected gain and runtime, and (behind Options…) the
 * optional fields; throws InputCancelled when cancelled. `hint` gives the runtime step's value and
 * prompt from the script's history, for the arguments and GPUs just entered (see runtimeHint.ts).
 */
export async function askJobSpec(
  script: ScriptChoice,
  prefill: LastInputs,
  hint?: (args: string[], gpus: number) => RuntimeHint | undefined,
  opts: AskJobSpecOptions = {},
): Promise<JobSpec> {
  const name = path.basename(script.uri.fsPath);
  const title = opts.title ?? vscode.l10n.t('Queue {0}', name);
  const draft: JobOptionFields = structuredClone(opts.options ?? {});
  const ctx: JobOptionContext = { script, title, jobs: opts.jobs ?? (() => []), editing: opts.editing, priority: opts.priority };
  const input = new StepInput(title, 5, { tooltip: vscode.l10n.t('Options… (environment, interpreter, dependencies, hosts)'), run: () => runOptionsMenu(draft, ctx) });
  const answers = await input.run((sofar) => [
    {
      kind: 'text',
      prompt: vscode.l10n.t('Arguments for the script (quoted like a shell, but never run through one)'),
      placeholder: vscode.l10n.t('e.g. --lr 3e-4 --name "baseline run"'),
      value: formatArgs(prefill.args),
      validate: (v) => validationMessage(() => parseArgs(v)),
    },
    {
      kind: 'text',
      prompt: vscode.l10n.t('GPUs needed on one host (0 for a CPU job)'),
      value: String(prefill.gpus),
      validate: (v) => validationMessage(() => checkGpus(toNumber(v, 'gpus'))),
    },
    { kind: 'pick', placeholder: vscode.l10n.t('Importance'), items: importanceItems(), active: prefill.importance },
    {
      kind: 'text',
      prompt: vscode.l10n.t('Expected gain in % (optional): how much this run should improve your metric'),
      placeholder: vscode.l10n.t('leave empty if unknown'),
      value: prefill.expectedGain === undefined ? '' : String(prefill.expectedGain),
      validate: (v) => (v.trim() === '' ? undefined : validationMessage(() => checkExpectedGain(toNumber(v.replace(/%$/, ''), 'expectedGain')))),
    },
    runtimeStep(prefill, hintFor(hint, sofar)),
  ]);
  const [argsText, gpusText, importance, gainText, runtimeText] = answers as [string, string, Importance, string, string];
  return {
    script: script.uri.fsPath,
    cwd: script.folder.uri.fsPath,
    args: parseArgs(argsText),
    gpus: toNumber(gpusText, 'gpus'),
    importance,
    expectedGain: gainText.trim() === '' ? undefined : toNumber(gainText.replace(/%$/, ''), 'expectedGain'),
    runtimeSec: parseDuration(runtimeText),
    ...definedFields(draft),
  };
}

/** The draft's set fields only: an unset option is absent from the spec, not `undefined`. */
function definedFields(draft: JobOptionFields): JobOptionFields {
  return Object.fromEntries(Object.entries(draft).filter(([, v]) => v !== undefined)) as JobOptionFields;
}

function runtimeStep(prefill: LastInputs, hint: RuntimeHint | undefined): TextStep {
  return {
    kind: 'text',
    prompt: hint ? vscode.l10n.t('Runtime on a speed-1.0 host: {0} (e.g. 45m, 3h)', hint.prompt) : vscode.l10n.t('Runtime estimate (e.g. 45m, 3h, 1h30m, 2d)'),
    value: formatDuration(hint?.valueSec ?? prefill.runtimeSec).replace(/\s+/g, ''),
    validate: (v) => validationMessage(() => checkRuntimeSec(parseDuration(v))),
  };
}

/** The hint for the arguments and GPUs answered so far; none while they do not parse. */
function hintFor(hint: ((args: string[], gpus: number) => RuntimeHint | undefined) | undefined, sofar: unknown[]): RuntimeHint | undefined {
  if (!hint || sofar.length < 2) {
    return undefined;
  }
  try {
    return hint(parseArgs(String(sofar[0])), toNumber(String(sofar[1]), 'gpus'));
  } catch {
    return undefined;
  }
}

const FIELD_NAMES = { gpus: () => vscode.l10n.t('GPUs'), expectedGain: () => vscode.l10n.t('Expected gain') } as const;

function toNumber(text: string, field: keyof typeof FIELD_NAMES): number {
  const trimmed = text.trim();
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(trimmed)) {
    throw new FeatureError(field, vscode.l10n.t('{0} must be a number (got "{1}").', FIELD_NAMES[field](), trimmed));
  }
  return Number(trimmed);
}


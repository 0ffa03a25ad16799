/**
 * Edit (a queued job, in place) and Edit and Re-run (any job, as a new one): the queue input
 * (queueInput.ts) prefilled from the job's specification, so the keys and steps are the ones the
 * user queued it with. The change itself is core's (jobEdits.ts), which refuses an in-place edit of
 * a job dispatched while the input was open.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Job } from '../core/job';
import type { JobManager } from '../core/jobManager';
import { EDITABLE_FIELDS, editQueuedJob, priorityChoiceOf, rerunJob, type JobChanges } from '../core/jobEdits';
import { priorityLabel } from '../core/job';
import { askJobSpec, validateScript, type ScriptChoice } from './queueInput';
import type { JobOptionFields } from './environmentInput';
import type { PriorityDraft } from './priorityOption';

/** TrainQ's own variables a job carries (a sweep trial's TRAINQ_PARAM_*): kept, not shown for editing. */
const OWN_NAME = /^TRAINQ_/i;

/** Edit…: changes a queued job in place. */
export async function editJob(manager: JobManager, id: string): Promise<void> {
  const job = requireJob(manager, id);
  if (job.state !== 'queued') {
    throw new Error(vscode.l10n.t('{0} is {1}; only a queued job can be edited in place. Use Edit and Re-run to queue a changed copy.', job.name, job.state));
  }
  const changes = await askChanges(manager, job, scriptOf(job), vscode.l10n.t('Edit {0} (queued job {1})', job.name, job.id), job.id);
  const edited = await editQueuedJob(manager, job.id, changes);
  vscode.window.setStatusBarMessage(vscode.l10n.t('TrainQ: {0} changed; it keeps its place ({1}).', edited.name, priorityLabel(edited.priority)), 5000);
}

/** Edit and Re-run…: queues a changed copy of any job; the job itself is not touched. */
export async function editAndRerunJob(manager: JobManager, id: string): Promise<void> {
  const job = requireJob(manager, id);
  // The script must still be there and in the workspace, as for queueing it.
  const script = await validateScript(vscode.Uri.file(job.script));
  const changes = await askChanges(manager, job, script, vscode.l10n.t('Re-run {0} with changes', job.name));
  const copy = await rerunJob(manager, job.id, changes);
  vscode.window.setStatusBarMessage(vscode.l10n.t('TrainQ: queued {0} as {1}.', copy.name, priorityLabel(copy.priority)), 5000);
}

function requireJob(manager: JobManager, id: string): Job {
  const job = manager.job(id);
  if (!job) {
    throw new Error(vscode.l10n.t('That job is no longer in the queue.'));
  }
  return job;
}

/** The job's script as the input needs it, without requiring the file (an in-place edit does not run it now). */
function scriptOf(job: Job): ScriptChoice {
  const uri = vscode.Uri.file(job.script);
  const folder = vscode.workspace.getWorkspaceFolder(uri) ?? { uri: vscode.Uri.file(job.cwd), name: path.basename(job.cwd), index: 0 };
  return { uri, key: vscode.workspace.asRelativePath(uri, true), folder };
}

/** Runs the prefilled input and returns every editable field as the user left it. */
async function askChanges(manager: JobManager, job: Job, script: ScriptChoice, title: string, editing?: string): Promise<JobChanges> {
  const own = Object.fromEntries(Object.entries(job.env ?? {}).filter(([k]) => OWN_NAME.test(k)));
  const userEnv = Object.fromEntries(Object.entries(job.env ?? {}).filter(([k]) => !OWN_NAME.test(k)));
  const options: JobOptionFields = {
    ...(Object.keys(userEnv).length > 0 && { env: userEnv }),
    envFile: job.envFile,
    interpreter: job.interpreter,
    after: job.after,
    constraints: job.constraints,
    outputs: job.outputs,
  };
  const prefill = { args: job.args, gpus: job.gpus, importance: job.importance, expectedGain: job.expectedGain, runtimeSec: job.runtimeSec };
  const priority: PriorityDraft = { choice: priorityChoiceOf(job), current: job.priority };
  const spec = await askJobSpec(script, prefill, undefined, { title, options, jobs: () => manager.jobs, editing, priority });
  const changes: JobChanges = { priority: priority.choice };
  for (const key of EDITABLE_FIELDS) {
    // Every field is given, so one the user cleared (no .env file any more) is cleared on the job too.
    Object.assign(changes, { [key]: spec[key] });
  }
  const env = { ...own, ...(spec.env ?? {}) };
  changes.env = Object.keys(env).length > 0 ? env : undefined;
  return changes;
}

/**
 * The user overrides a job's priority: the job takes it, the choice becomes a labelled example, and
 * the classifier retrained on the examples classifies again every queued job the user has not set.
 * Kept apart from the JobManager facade, which only saves the result and asks for a round.
 */
import type { Job, JobFeatures, JobSpec, Priority } from './job';
import type { PriorityExample, WorkspaceState } from './workspaceState';

export interface Classifier {
  classify(features: JobFeatures): { priority: Priority; path: string };
  retrain(examples: readonly PriorityExample[]): void;
}

/** How many re-prioritisations the classifier keeps learning from (most recent first). */
const MAX_EXAMPLES = 500;

export function overridePriority(
  state: WorkspaceState,
  job: Job,
  priority: Priority,
  classifier: Classifier,
  /** The classifier's features of a spec (its runtime the learned median once the script has history). */
  featuresOf: (spec: JobSpec) => JobFeatures,
  now: number,
): void {
  job.priority = priority;
  job.priorityOverridden = true;
  job.priorityReason = 'Set by you.';
  job.prioritySetAt = now;
  const example: PriorityExample = { features: featuresOf(job), label: priority, at: now };
  state.priorityExamples = [...state.priorityExamples, example].slice(-MAX_EXAMPLES);
  classifier.retrain(state.priorityExamples);
  for (const other of state.jobs) {
    if (other.state === 'queued' && !other.priorityOverridden) {
      const verdict = classifier.classify(featuresOf(other));
      other.priority = verdict.priority;
      other.priorityReason = verdict.path;
    }
  }
}

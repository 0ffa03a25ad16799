/**
 * The extra environment a job gets: a host's `env` setting and the job's own variables. Both are
 * passed literally (no `$VAR` expansion) on every host kind, so both obey one rule for names and values.
 */

import { ENV_NAME } from '../core/job';

/** Set by TrainQ for each job; a host-wide or job value would hand a job GPUs or an id that are not its own. */
export const RESERVED_ENV: ReadonlySet<string> = new Set(['CUDA_VISIBLE_DEVICES', 'TRAINQ_JOB_ID', 'TRAINQ_METRICS_FILE']);

/** Why NAME=value cannot be part of a job's environment, or undefined when it can. */
export function envEntryProblem(key: string, value: unknown): string | undefined {
  if (!ENV_NAME.test(key)) {
    return `env name '${key}' is not a valid variable name (letters, digits, _; not starting with a digit).`;
  }
  if (RESERVED_ENV.has(key)) {
    return `env '${key}' is set by TrainQ for each job and cannot be configured.`;
  }
  if (typeof value !== 'string' || value.includes('\0')) {
    return `env '${key}' must be a string without NUL characters.`;
  }
  return undefined;
}

/** Throws for a job's variable that a host setting with the same name would be refused for. */
export function assertJobEnv(env: Readonly<Record<string, string>>): void {
  for (const [key, value] of Object.entries(env)) {
    const problem = envEntryProblem(key, value);
    if (problem) {
      throw new Error(`The job's ${problem}`);
    }
  }
}

/** A host's env, then the job's (the job's value wins for a name both set), as NAME=value entries. */
export function envEntries(hostEnv: Readonly<Record<string, string>>, jobEnv: Readonly<Record<string, string>>): string[] {
  assertJobEnv(jobEnv);
  return Object.entries({ ...hostEnv, ...jobEnv }).map(([k, v]) => `${k}=${v}`);
}

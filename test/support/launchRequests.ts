/** Launch requests as the job manager makes them, and the handles hosts answer with, for host tests. */
import assert from 'node:assert/strict';
import type { LaunchRequest, LaunchResult } from '../../src/core/host';
import type { Job } from '../../src/core/job';

/** The job's own script, arguments and folder, no extra variables unless given. */
export function request(job: Job, gpuIndices: number[], extra: Partial<LaunchRequest> = {}): LaunchRequest {
  return { job, script: job.script, args: job.args, cwd: job.cwd, gpuIndices, env: {}, ...extra };
}

export function pgidOf(result: LaunchResult): number {
  assert.equal(result.kind, 'process', `a process handle, not ${JSON.stringify(result)}`);
  return (result as Extract<LaunchResult, { kind: 'process' }>).pgid;
}

export function slurmIdOf(result: LaunchResult): string {
  assert.equal(result.kind, 'slurm', `a Slurm handle, not ${JSON.stringify(result)}`);
  return (result as Extract<LaunchResult, { kind: 'slurm' }>).jobId;
}

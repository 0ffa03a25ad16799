/**
 * Reading a job's stored handle on the host that started it. A handle of the other kind means the job
 * was started elsewhere (a host entry changed its type): the host refuses it rather than signal a
 * process group by a Slurm id or scancel a process group's number.
 */
import type { Job } from '../core/job';

/** The job's process group (local and SSH hosts); undefined when none was stored. */
export function processGroupOf(job: Job, hostName: string): number | undefined {
  const handle = job.handle;
  if (handle?.kind === 'slurm') {
    throw new Error(`Job ${job.id} was submitted to Slurm (job ${handle.jobId}); ${hostName} runs jobs as processes and cannot follow or cancel it.`);
  }
  return handle?.pgid;
}

/** The job's Slurm id (Slurm hosts); undefined when none was stored. */
export function slurmIdOf(job: Job, hostName: string): string | undefined {
  const handle = job.handle;
  if (handle?.kind === 'process') {
    throw new Error(`Job ${job.id} was started as a process (group ${handle.pgid}), not by Slurm; ${hostName} cannot follow or cancel it.`);
  }
  return handle?.jobId;
}

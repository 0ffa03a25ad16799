/**
 * Deleting the job folders TrainQ left on a remote host (`<workdir>/.trainq/jobs/<id>/`: pgid, exit,
 * the log, a Slurm job id) once their jobs are removed from the history, so a host's disk does not
 * collect every job ever run. SSH hosts and Slurm clusters share the script; each decides which of
 * its jobs may go (see `forgettable`).
 */
import type { ForgetOutcome } from '../../core/host';
import type { Job } from '../../core/job';
import { assertValidJobId } from '../local/localProcess';
import { ALIVE_FN, main } from './remoteScripts';

/**
 * Removes the named job folders under jobsDir, except one whose process group still runs (a job
 * TrainQ lost track of may not be over). Args: jobsDir jobId…  Prints `TRAINQ-FORGET removed kept`.
 * Ids are checked locally too; the script refuses anything that is not a single path component.
 */
export const FORGET_SCRIPT = main(`${ALIVE_FN}
jobs=$1; shift
removed=0 kept=0
for id in "$@"; do
  case $id in ''|.|..|*/*) kept=$((kept + 1)); continue ;; esac
  dir=$jobs/$id
  [ -d "$dir" ] || continue
  if [ -s "$dir/pgid" ]; then
    read -r pg < "$dir/pgid"
    case $pg in ''|*[!0-9]*|0|1) ;; *) if trainq_alive "$pg" "$dir"; then kept=$((kept + 1)); continue; fi ;; esac
  fi
  if rm -rf -- "$dir"; then removed=$((removed + 1)); else kept=$((kept + 1)); fi
done
printf 'TRAINQ-FORGET %s %s\\n' "$removed" "$kept"`);

/** Job ids per call: well under any remote shell's argument limit (ids are at most 64 characters). */
export const FORGET_CHUNK = 200;


export function parseForget(stdout: string): ForgetOutcome {
  const m = /^TRAINQ-FORGET (\d+) (\d+)$/m.exec(stdout);
  if (!m) {
    throw new Error(`unexpected reply to the clean-up script: ${JSON.stringify(stdout.slice(0, 200))}`);
  }
  return { removed: Number(m[1]), kept: Number(m[2]) };
}

/**
 * Which removed jobs a host may delete the folder of: finished ones it ran, except lost ones on a
 * Slurm cluster, which Slurm may still be running (an SSH host checks the process itself).
 */
export function forgettable(jobs: readonly Job[], host: string, kind: 'ssh' | 'slurm'): string[] {
  return jobs
    .filter((j) => j.host === host && j.state !== 'queued' && j.state !== 'running' && !(kind === 'slurm' && j.state === 'lost'))
    .map((j) => {
      assertValidJobId(j.id);
      return j.id;
    });
}

/** Runs the script over the ids in chunks and adds up what it did. */
export async function forgetJobFolders(run: (args: string[]) => Promise<string>, jobsDir: string, ids: readonly string[]): Promise<ForgetOutcome> {
  const total: ForgetOutcome = { removed: 0, kept: 0 };
  for (let i = 0; i < ids.length; i += FORGET_CHUNK) {
    const outcome = parseForget(await run([jobsDir, ...ids.slice(i, i + FORGET_CHUNK)]));
    total.removed += outcome.removed;
    total.kept += outcome.kept;
  }
  return total;
}

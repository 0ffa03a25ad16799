/**
 * How Slurm's job states map onto TrainQ's. A job TrainQ tracks is either still active in Slurm
 * (pending, running, re-queued: TrainQ shows it as running with a note saying which) or it ended,
 * with an exit code (succeeded or failed) or without one (Lost, which `trainq.retries` may retry).
 */
import type { SlurmJobRow } from './slurmCommands';

export type SlurmVerdict = { kind: 'active'; note: string } | { kind: 'ended'; exitCode?: number; reason?: string };

/** Still Slurm's to run: TrainQ keeps following. PREEMPTED and REQUEUED jobs come back on their own. */
const ACTIVE = new Set([
  'PENDING',
  'CONFIGURING',
  'RUNNING',
  'COMPLETING',
  'SUSPENDED',
  'STOPPED',
  'RESIZING',
  'SIGNALING',
  'STAGE_OUT',
  'REQUEUED',
  'REQUEUE_HOLD',
  'REQUEUE_FED',
  'RESV_DEL_HOLD',
  'PREEMPTED',
  'SPECIAL_EXIT',
]);

/** Ended without the script deciding its exit: no exit code to report, so the job is Lost. */
const LOST = new Map([
  ['NODE_FAIL', 'a node of the job failed'],
  ['BOOT_FAIL', 'the node failed to boot'],
  ['REVOKED', 'the job was revoked (moved to another cluster)'],
]);

/** Ended because Slurm stopped the script: failed, with the reason shown. */
const STOPPED_BY_SLURM = new Map([
  ['TIMEOUT', 'Slurm time limit'],
  ['OUT_OF_MEMORY', 'Slurm: out of memory'],
  ['DEADLINE', 'Slurm: deadline reached'],
]);

function jobRef(row: SlurmJobRow): string {
  return `Slurm job ${row.slurmId}`;
}

/** The note shown while a job is active, e.g. "Pending in Slurm (job 12): Resources". */
export function activeNote(row: SlurmJobRow): string {
  const id = `job ${row.slurmId}`;
  switch (row.state) {
    case 'PENDING':
      return `Pending in Slurm (${id})${row.reason ? `: ${row.reason}` : ''}`;
    case 'RUNNING':
    case 'COMPLETING':
      return `Running in Slurm on ${row.nodes ?? 'its node'} (${id})`;
    case 'PREEMPTED':
    case 'REQUEUED':
    case 'REQUEUE_HOLD':
      return `${row.state === 'PREEMPTED' ? 'Preempted' : 'Re-queued'} in Slurm (${id}); Slurm runs it again${row.reason ? ` (${row.reason})` : ''}`;
    default:
      return `${row.state.charAt(0)}${row.state.slice(1).toLowerCase().replace(/_/g, ' ')} in Slurm (${id})${row.reason ? `: ${row.reason}` : ''}`;
  }
}

/**
 * The verdict for a job Slurm still knows. `recorded` is the code the wrapper wrote into the job
 * folder (the script's own code, so it wins over Slurm's view of the batch shell).
 */
export function verdictFor(row: SlurmJobRow, recorded: number | undefined): SlurmVerdict {
  if (ACTIVE.has(row.state)) {
    return { kind: 'active', note: activeNote(row) };
  }
  const lost = LOST.get(row.state);
  if (lost) {
    return {
      kind: 'ended',
      reason: `${jobRef(row)} ended with ${row.state}: ${lost}${row.nodes ? ` (${row.nodes})` : ''}${row.reason ? `, ${row.reason}` : ''}.`,
    };
  }
  const code = recorded ?? row.exitCode;
  const stopped = STOPPED_BY_SLURM.get(row.state);
  if (stopped) {
    // A job stopped by Slurm failed even if its script caught the signal and exited 0.
    return { kind: 'ended', exitCode: code !== undefined && code !== 0 ? code : row.signal ? 128 + row.signal : 1, reason: stopped };
  }
  if (row.state === 'CANCELLED') {
    // Cancelled by TrainQ: JobManager knows and records it so. Cancelled by someone else: the
    // wrapper's code when it got to write one, else Lost with the reason. Slurm's own exit status
    // of a cancelled job is 0 even when it never ran, so it is not used.
    return recorded !== undefined
      ? { kind: 'ended', exitCode: recorded, reason: 'Cancelled in Slurm' }
      : { kind: 'ended', reason: `${jobRef(row)} was cancelled in Slurm.` };
  }
  if (row.state === 'COMPLETED') {
    return { kind: 'ended', exitCode: code ?? 0 };
  }
  if (row.state === 'FAILED') {
    return { kind: 'ended', exitCode: code !== undefined && code !== 0 ? code : row.signal ? 128 + row.signal : 1 };
  }
  // A state this version does not know: end it honestly rather than follow it forever.
  return code !== undefined ? { kind: 'ended', exitCode: code } : { kind: 'ended', reason: `${jobRef(row)} ended in state ${row.state}.` };
}

/** Slurm no longer lists the job (purged after MinJobAge, no accounting): only the exit file can tell. */
export function verdictWithoutSlurm(slurmId: string | undefined, recorded: number | undefined): SlurmVerdict {
  if (recorded !== undefined) {
    return { kind: 'ended', exitCode: recorded };
  }
  return {
    kind: 'ended',
    reason: slurmId
      ? `Slurm no longer lists job ${slurmId} and it left no exit code (ended while TrainQ was away, or killed with its node).`
      : 'The job was never submitted to Slurm (no job of that name is known).',
  };
}

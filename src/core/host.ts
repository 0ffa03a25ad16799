/**
 * The host seam: everything the scheduler needs from a machine that runs jobs.
 * The local machine implements it first; SSH and Slurm hosts implement it later,
 * so nothing here may assume the job's processes are on this machine.
 */
import type { Disposable, Event } from './emitter';
import type { Job, JobHandle } from './job';
import type { ConflictAnswer, RemoteOutputFile } from './outputPlan';

export type HostKind = 'local' | 'ssh' | 'slurm';

export interface GpuInfo {
  index: number;
  uuid: string;
  name: string;
  /** Percent 0–100; undefined when nvidia-smi reported [N/A]. */
  utilizationPct?: number;
  memoryUsedMiB?: number;
  memoryTotalMiB?: number;
  /**
   * Compute processes on this GPU that this TrainQ did not start: no TRAINQ_JOB_ID (or one we may not
   * read), or the marker of a job this host's job folder does not hold; undefined when unknown.
   */
  foreignProcesses?: number;
  /** Ids of this host's jobs that ended while a process they started still uses this GPU (leftovers). */
  leftoverJobs?: string[];
}

export type HostState = 'online' | 'connecting' | 'offline';

/** Why a remote host is offline, so the UI can say what the user has to fix. */
export type HostProblem = 'unreachable' | 'auth' | 'hostKeyChanged' | 'hostKeyUnknown' | 'timeout' | 'other';

export interface HostStatus {
  name: string;
  kind: HostKind;
  state: HostState;
  gpus: GpuInfo[];
  /** Why the host has no GPUs listed ("nvidia-smi not found", "timed out", …), if it has none. */
  gpuNote?: string;
  cpuCount?: number;
  cpuLoadPct?: number;
  memUsedBytes?: number;
  memTotalBytes?: number;
  /** Last error, for offline hosts. */
  error?: string;
  /** Kind of the last error, for offline remote hosts. */
  problem?: HostProblem;
  /** Epoch ms of the next automatic connection attempt while an offline host backs off. */
  retryAt?: number;
  /** Epoch ms when the host went offline (the first failure since it was last reachable). */
  offlineSince?: number;
  /** Epoch ms of the probe. */
  probedAt: number;
  /** A Slurm host's partition as sinfo reports it; `gpus` then lists its idle GPUs (plus those TrainQ's jobs hold). */
  slurm?: SlurmCapacity;
}

export interface SlurmCapacity {
  partition: string;
  nodes: number;
  gpusTotal: number;
  gpusAllocated: number;
  gpusIdle: number;
  /** Mean queue wait of this host's recent TrainQ jobs (submission to running), seconds; learned. */
  expectedWaitSec?: number;
}

/**
 * What a host needs to start a job. The host makes its own command line from it: the local host asks
 * its interpreter resolver (the Python extension's interpreter) for `.py` scripts, a remote host uses
 * its own `python` setting, so nobody resolves an interpreter that is then thrown away.
 */
export interface LaunchRequest {
  /** The job as queued (id, name, gpus, runtimeSec for a Slurm time limit); hosts do not change it. */
  job: Job;
  /** Absolute path of the script on this machine; remote hosts map it into their copy of the project. */
  script: string;
  /** Passed to the script verbatim, never through a shell. */
  args: readonly string[];
  /** Folder the job runs in, on this machine (remote hosts map it too). */
  cwd: string;
  /** GPU indices chosen by the scheduler; the job sees exactly these via CUDA_VISIBLE_DEVICES. */
  gpuIndices: number[];
  /** The job's own variables; CUDA_VISIBLE_DEVICES and TRAINQ_JOB_ID are the host's to set. */
  env: Readonly<Record<string, string>>;
  /**
   * Throws when this window may no longer start jobs (another window took over the queue). A host calls
   * it synchronously as the last step before the one that starts the job (spawn, the remote start, sbatch),
   * so a window stopped during a slow launch (a project sync) finds out before it starts anything.
   */
  assertCurrent?: () => void;
  /**
   * The learned 80th percentile of the job's run time on this host, when the run-time model has one:
   * a Slurm host sizes the job's time limit from it rather than from the user's estimate.
   */
  predictedP80Sec?: number;
}

export type LaunchResult = JobHandle;

/** A change in how a tracked job is doing that is no state change, e.g. Slurm's pending reason. */
export interface JobNote {
  jobId: string;
  /** Shown as the job's reason; undefined clears it. */
  note: string | undefined;
}

export interface ExitReport {
  jobId: string;
  /** Exit code of the script; undefined when the process died without the wrapper recording one. */
  exitCode?: number;
  /** Why no exit code is known (e.g. the host stayed unreachable), when the host can tell. */
  reason?: string;
}

export interface ProbeOptions {
  /** Contact the host even while it backs off after failures (the user asked to refresh). */
  force?: boolean;
}

export type ReattachResult =
  | { kind: 'running' }
  /** `reason`: what the host knows beyond the code (Slurm: "Slurm time limit"). */
  | { kind: 'exited'; exitCode: number; reason?: string }
  | { kind: 'lost'; reason: string };

export interface Host extends Disposable {
  readonly name: string;
  readonly kind: HostKind;
  /** Relative speed of this host's GPUs (1.0 = reference). */
  readonly speed: number;
  /** Most jobs this host runs at once, GPU or not. */
  readonly maxJobs: number;
  /** The host's `labels` setting: names that jobs' host constraints may require or exclude. */
  readonly labels?: readonly string[];
  /** Fires when a job launched or reattached on this host ends. */
  readonly onDidExit: Event<ExitReport>;
  /** Fires when a host goes offline or comes back on its own (remote hosts); absent for hosts that cannot. */
  readonly onDidChangeStatus?: Event<HostStatus>;
  /** Fires when a running job's note changes (Slurm: "Pending in Slurm (job 12): Resources"); absent where there is none. */
  readonly onDidUpdateJob?: Event<JobNote>;

  probe(options?: ProbeOptions): Promise<HostStatus>;
  /** Starts the job detached from the extension host; resolves once it is running. */
  launch(request: LaunchRequest): Promise<LaunchResult>;
  /** SIGTERM to the job's process group, SIGKILL after graceSec if it is still alive. */
  cancel(job: Job, graceSec: number): Promise<void>;
  /** After a restart: is the job still alive, did it record an exit code, or is it lost? Follows it if alive. */
  reattach(job: Job): Promise<ReattachResult>;
  /** Path on this machine of the job's log (for remote hosts, the local copy). */
  logPath(jobId: string): string;
  /**
   * Path on this machine of the JSON-lines file the job was told to write metrics to
   * (TRAINQ_METRICS_FILE); absent where that file stays on another machine (metrics then come
   * through the log's `trainq:metric` lines only).
   */
  metricsPath?(jobId: string): string;
  /**
   * The jobs were removed from the history: deletes what this host keeps of those it ran (a remote
   * job folder), except what may still run. Absent where a job leaves nothing beyond its local files.
   */
  forget?(jobs: readonly Job[]): Promise<ForgetOutcome>;
  /**
   * Copies the job's output files (its globs) from the host into a local folder. Absent where jobs run
   * on this machine; a host whose jobs ran in the workspace itself (a shared file system) says so.
   */
  fetchOutputs?(request: OutputRequest): Promise<OutputReport>;
}

/** What to bring back of a finished job, and how to ask about it (issue 16, results back). */
export interface OutputRequest {
  job: Job;
  /** Patterns relative to the job's folder (outputGlobs.ts). */
  globs: readonly string[];
  /** Absolute local folder the files land in, keeping their paths below the job's folder. */
  destDir: string;
  maxBytes: number;
  /** The setting that sets maxBytes, named in the message when the outputs are larger. */
  maxSetting: string;
  /** Called once when files exist locally with other content; not called when there are none. */
  resolveConflicts(conflicts: readonly RemoteOutputFile[]): Promise<ConflictAnswer>;
  /** Called before the copy when it is this large or more (bytes), then with progress until it ends. */
  progress?: { fromBytes: number; report(doneBytes: number, totalBytes: number): void };
  signal?: AbortSignal;
}

export type OutputReport =
  /** The job ran in the workspace itself (Slurm target "local", sync "none"): nothing to copy. */
  | { kind: 'inPlace'; folder: string }
  | { kind: 'tooLarge'; totalBytes: number; files: number; message: string }
  | {
      kind: 'copied';
      /** Workspace paths written (relative to destDir). */
      written: string[];
      /** Conflicting files left as they were (the answer was Skip). */
      skipped: RemoteOutputFile[];
      /** Already there with the same content. */
      same: number;
      /** Never copied: a folder or a symlink at their destination, or a name the host should not send. */
      blocked: string[];
      bytes: number;
      method: 'rsync' | 'tar' | 'none';
      ms: number;
    };

/** What a host did when told to forget jobs that left the history. */
export interface ForgetOutcome {
  removed: number;
  /** Folders left in place: their process still runs, or they could not be deleted. */
  kept: number;
}

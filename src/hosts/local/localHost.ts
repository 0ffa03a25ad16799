/**
 * The local machine as a TrainQ host. Jobs run detached, in their own process group, under a
 * small shell wrapper that writes the exit code into the job's folder, so a job outlives a
 * window reload and its result is known even if it ended while VS Code was closed. The wrapper,
 * the sweep of what a job leaves running and the GPU census are the SSH hosts' too (jobScripts.ts).
 */
import { forgetMarkedJobIds, markedJobIds } from './markedProcesses';
import type { ChildProcess } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { Emitter } from '../../core/emitter';
import type { Job } from '../../core/job';
import type { Logger } from '../../core/logger';
import type { ExitReport, Host, HostStatus, LaunchRequest, LaunchResult, ReattachResult } from '../../core/host';
import { assertJobEnv } from '../jobEnv';
import { isPythonScript, jobCommand } from '../jobCommand';
import { interpreterFor } from '../interpreterName';
import { processGroupOf } from '../jobHandle';
import { wrapperSettings } from '../jobScripts';
import {
  groupState,
  jobFiles,
  readExitCode,
  readPgidFile,
  resolveExecutable,
  spawnWrapper,
  sweepJob,
  terminateJob,
  type JobFiles,
} from './localProcess';
import { queryGpuApps, queryGpus, withGpuApps } from '../nvidiaSmi';
import { CpuLoadMeter, probeResources } from './resourceProbe';

export interface LocalHostOptions {
  name?: string;
  /** Folder under the extension's storage; each job gets <jobsRoot>/<jobId>/. */
  jobsRoot: string;
  maxJobs: number;
  speed?: number;
  /** `trainq.local.labels`: names jobs' host constraints may require or exclude. */
  labels?: readonly string[];
  /** nvidia-smi command (path or name on PATH). */
  nvidiaSmi?: string;
  logger: Logger;
  /** How often reattached jobs are checked, in ms. */
  pollMs?: number;
  /** Cap of each job's log (trainq.ssh.maxLogMiB, the cap of remote log copies); 0: none. */
  maxLogBytes?: number;
  /** SIGTERM → SIGKILL delay for processes a job left running when it ended (trainq.cancelGraceSeconds). */
  sweepGraceSec?: number;
  /** The interpreter of a `.py` script (the Python extension's, or the trainq.python setting); default python3. */
  resolvePython?: (script: string) => Promise<string>;
}

const DEFAULT_MAX_LOG_BYTES = 50 * 1024 * 1024;
const DEFAULT_SWEEP_GRACE_SEC = 10;

export class LocalHost implements Host {
  readonly name: string;
  readonly kind = 'local' as const;
  readonly speed: number;
  /** Settings can change while jobs run; the scheduler reads these on every round. */
  maxJobs: number;
  labels: readonly string[];

  private readonly exitEmitter = new Emitter<ExitReport>();
  readonly onDidExit = this.exitEmitter.event;

  private readonly jobsRoot: string;
  nvidiaSmi: string;
  maxLogBytes: number;
  sweepGraceSec: number;
  private readonly logger: Logger;
  private readonly pollMs: number;
  private readonly resolvePython: (script: string) => Promise<string>;
  /** Jobs whose end this instance will report, each exactly once. */
  private readonly followed = new Set<string>();
  private readonly pollTimers = new Map<string, NodeJS.Timeout>();
  private disposed = false;
  private readonly cpuMeter = new CpuLoadMeter();

  constructor(opts: LocalHostOptions) {
    this.name = opts.name ?? 'local';
    this.jobsRoot = opts.jobsRoot;
    this.maxJobs = opts.maxJobs;
    this.labels = opts.labels ?? [];
    this.speed = opts.speed ?? 1;
    this.nvidiaSmi = opts.nvidiaSmi ?? 'nvidia-smi';
    this.logger = opts.logger;
    this.pollMs = opts.pollMs ?? 1000;
    this.maxLogBytes = opts.maxLogBytes ?? DEFAULT_MAX_LOG_BYTES;
    this.sweepGraceSec = opts.sweepGraceSec ?? DEFAULT_SWEEP_GRACE_SEC;
    this.resolvePython = opts.resolvePython ?? (async () => 'python3');
  }

  async probe(): Promise<HostStatus> {
    const [gpuResult, resources] = await Promise.all([
      queryGpus({ command: this.nvidiaSmi }),
      probeResources(this.logger, this.cpuMeter),
    ]);
    if (gpuResult.note) {
      this.logger.debug(`${this.name}: ${gpuResult.note}`);
    }
    let gpus = gpuResult.gpus;
    if (gpus.length > 0) {
      // Which job each GPU process belongs to: a GPU held by another program or by what an ended job left is not offered.
      const apps = await queryGpuApps({ command: this.nvidiaSmi, jobsDir: this.jobsRoot });
      gpus = apps ? withGpuApps(gpus, apps) : gpus;
    }
    return {
      name: this.name,
      kind: this.kind,
      state: 'online',
      gpus,
      gpuNote: gpuResult.note,
      ...resources,
      probedAt: Date.now(),
    };
  }

  logPath(jobId: string): string {
    return jobFiles(this.jobsRoot, jobId).log;
  }

  /** The wrapper tells every job to write metrics to metrics.jsonl in its folder (jobScripts.ts). */
  metricsPath(jobId: string): string {
    return jobFiles(this.jobsRoot, jobId).metrics;
  }

  async launch(request: LaunchRequest): Promise<LaunchResult> {
    const { job, gpuIndices, cwd } = request;
    const files = jobFiles(this.jobsRoot, job.id);
    const python = !isPythonScript(request.script) ? '' : job.interpreter !== undefined ? homePath(interpreterFor(job, '')) : await this.resolvePython(request.script);
    const command = jobCommand(request.script, request.args, cwd, python);
    assertJobEnv(request.env);
    await this.checkCwd(cwd);
    if (!(await resolveExecutable(command[0], cwd, process.env.PATH))) {
      const where = command[0].includes('/') ? `relative to ${cwd}` : 'on PATH';
      throw new Error(`Interpreter '${command[0]}' was not found ${where}`);
    }
    await fs.mkdir(files.dir, { recursive: true });
    // A leftover exit file (a retry reusing the folder) would end the new job at once.
    await Promise.all([files.exit, files.exitTmp, files.pgid, files.ended].map((f) => fs.rm(f, { force: true })));

    const env: NodeJS.ProcessEnv = {
      ...jobEnvironment(process.env),
      // Literally, like a host's env: no expansion, and the names were checked as for host settings.
      ...request.env,
      // The wrapper gives the job CUDA_VISIBLE_DEVICES (empty for CPU jobs, so frameworks see no GPU rather
      // than all of them) and TRAINQ_JOB_ID; the wrapper itself carries neither, so it is no process of the job.
      ...wrapperSettings({ cudaVisibleDevices: gpuIndices.join(','), graceSec: this.sweepGraceSec, logCapBytes: this.maxLogBytes }),
      PYTHONUNBUFFERED: '1',
    };
    delete env.CUDA_VISIBLE_DEVICES;
    delete env.TRAINQ_JOB_ID;
    const child = await spawnWrapper({ files, command, cwd, env, beforeSpawn: request.assertCurrent });
    const pgid = child.pid;
    if (pgid === undefined) {
      throw new Error(`Job ${job.id} did not start`);
    }
    this.followChild(job.id, files, child);
    this.logger.info(`${this.name}: started job ${job.id} (pgid ${pgid}, GPUs [${gpuIndices.join(',')}])`);
    return { kind: 'process', pgid };
  }

  /**
   * SIGTERM to the job's process group and to every process it started (also those that left the
   * group), SIGKILL after graceSec. A group whose leader is no longer the job's wrapper (a reused pid)
   * is not signalled; the job's own processes are found by their TRAINQ_JOB_ID, whatever their group.
   */
  async cancel(job: Job, graceSec: number): Promise<void> {
    const files = jobFiles(this.jobsRoot, job.id);
    const pgid = processGroupOf(job, this.name) ?? (await readPgidFile(files));
    if (!(await terminateJob(files, job.id, pgid !== undefined && pgid > 1 ? pgid : undefined, graceSec))) {
      this.logger.warn(`${this.name}: processes of job ${job.id} survived SIGKILL`);
    }
  }

  async reattach(job: Job): Promise<ReattachResult> {
    const files = jobFiles(this.jobsRoot, job.id);
    if (this.followed.has(job.id)) {
      return { kind: 'running' };
    }
    const recorded = await readExitCode(files);
    if (recorded !== undefined) {
      return { kind: 'exited', exitCode: recorded };
    }
    const pgid = processGroupOf(job, this.name) ?? (await readPgidFile(files));
    if (pgid === undefined || pgid <= 1) {
      return { kind: 'lost', reason: 'no process id was recorded for the job, so it cannot be followed' };
    }
    const state = await groupState(pgid, files.dir);
    if (state === 'ours') {
      this.followPolling(job.id, files, pgid);
      return { kind: 'running' };
    }
    // The wrapper may have written its code between the first read and the liveness check.
    const late = await readExitCode(files);
    if (late !== undefined) {
      return { kind: 'exited', exitCode: late };
    }
    // The wrapper died before its sweep: what the job started may still hold its GPU.
    if ((await markedJobIds()).has(job.id)) {
      await sweepJob(job.id, this.sweepGraceSec);
      forgetMarkedJobIds();
    }
    if (!(await fs.stat(files.dir).catch(() => undefined))) {
      return { kind: 'lost', reason: `job folder removed (${files.dir}), so no exit code could be recorded` };
    }
    return { kind: 'lost', reason: 'the process ended while VS Code was closed without recording an exit code' };
  }

  /** Stops following jobs; the jobs themselves keep running, so a window reload does not kill them. */
  dispose(): void {
    this.disposed = true;
    for (const timer of this.pollTimers.values()) {
      clearTimeout(timer);
    }
    this.pollTimers.clear();
    this.followed.clear();
    this.exitEmitter.dispose();
  }

  private async checkCwd(cwd: string): Promise<void> {
    // spawn reports a missing cwd as ENOENT of /bin/sh, which would be misleading.
    const stat = await fs.stat(cwd).catch(() => undefined);
    if (!stat?.isDirectory()) {
      throw new Error(`Working folder '${cwd}' does not exist`);
    }
  }

  private followChild(jobId: string, files: JobFiles, child: ChildProcess): void {
    this.followed.add(jobId);
    child.once('exit', () => {
      void readExitCode(files).then((exitCode) => this.ended(jobId, files, exitCode));
    });
  }

  /**
   * The wrapper is gone. Without an exit code it died before its own sweep (SIGKILL, the OOM killer):
   * what the job started may still run, so it is swept here before the end is reported, and its GPU is
   * not handed to the next job meanwhile. A job folder that vanished explains a missing code.
   */
  private async ended(jobId: string, files: JobFiles, exitCode: number | undefined): Promise<void> {
    if (exitCode !== undefined) {
      this.report(jobId, exitCode);
      return;
    }
    if (!(await sweepJob(jobId, this.sweepGraceSec))) {
      this.logger.warn(`${this.name}: processes of job ${jobId} survived SIGKILL`);
    }
    const folderGone = !(await fs.stat(files.dir).catch(() => undefined));
    this.report(jobId, undefined, folderGone ? `job folder removed (${files.dir}), so no exit code could be recorded` : undefined);
  }

  private followPolling(jobId: string, files: JobFiles, pgid: number): void {
    this.followed.add(jobId);
    const check = async (): Promise<void> => {
      this.pollTimers.delete(jobId);
      if (this.disposed) {
        return;
      }
      let exitCode = await readExitCode(files);
      if (exitCode === undefined && (await groupState(pgid, files.dir)) === 'ours') {
        schedule();
        return;
      }
      // Re-read: the wrapper writes the file just before it exits.
      exitCode ??= await readExitCode(files);
      await this.ended(jobId, files, exitCode);
    };
    const schedule = (): void => {
      // setTimeout chained after each check, so a slow /proc scan never overlaps the next one.
      const timer = setTimeout(() => void check().catch((err) => this.logger.error(err)), this.pollMs);
      timer.unref();
      this.pollTimers.set(jobId, timer);
    };
    schedule();
  }

  private report(jobId: string, exitCode: number | undefined, reason?: string): void {
    if (this.disposed || !this.followed.delete(jobId)) {
      return;
    }
    this.logger.info(`${this.name}: job ${jobId} ended with ${exitCode ?? reason ?? 'no recorded exit code'}`);
    this.exitEmitter.fire(reason === undefined ? { jobId, exitCode } : { jobId, exitCode, reason });
  }
}

/**
 * The extension host's environment minus what only makes sense inside it: ELECTRON_RUN_AS_NODE would
 * turn any Electron app the job starts into plain Node, and the VSCODE_* variables point at this
 * window's IPC handles, which are gone once the window reloads while the job keeps running.
 */
export function jobEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const clean: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(env)) {
    if (key !== 'ELECTRON_RUN_AS_NODE' && !key.startsWith('VSCODE_')) {
      clean[key] = value;
    }
  }
  return clean;
}

/** `~/x` as a shell would read it: the job's own interpreter may be written so for every host kind. */
function homePath(file: string): string {
  return file.startsWith('~/') ? path.join(os.homedir(), file.slice(2)) : file;
}

/**
 * What an SSH host and a Slurm cluster are alike in as hosts: their name and capacity, the exit and
 * status events, and a RemoteSession that owns the connection, the host's health, the project copy
 * and the clean-up of forgotten jobs. Each kind adds its probe, launch, cancel and job following.
 */
import { Emitter } from '../../core/emitter';
import type { Job } from '../../core/job';
import type { Logger } from '../../core/logger';
import type { ExitReport, ForgetOutcome, HostStatus, OutputReport, OutputRequest, ProbeOptions } from '../../core/host';
import { DEFAULT_WORKDIR, type SshDestination, type SyncMode } from '../hostConfig';
import { fetchJobOutputs } from './outputFetch';
import { RemoteSession, type RemoteHostOptions, type ScriptRunner } from './session';

/** The parts of an SSH or Slurm host entry the shared half reads. */
export interface RemoteHostConfig {
  name: string;
  speed: number;
  maxJobs: number;
  labels?: readonly string[];
  destination?: SshDestination;
  workdir?: string;
  sync: SyncMode;
  python: string;
}

export abstract class RemoteHostBase {
  readonly name: string;
  readonly speed: number;
  readonly maxJobs: number;
  readonly labels: readonly string[];

  protected readonly exitEmitter = new Emitter<ExitReport>();
  readonly onDidExit = this.exitEmitter.event;
  protected readonly statusEmitter = new Emitter<HostStatus>();
  readonly onDidChangeStatus = this.statusEmitter.event;

  protected readonly logger: Logger;
  protected readonly session: RemoteSession;

  /** `local`: the runner and job folder root when the host's scripts run on this machine (no destination). */
  constructor(
    kind: 'ssh' | 'slurm',
    config: RemoteHostConfig,
    options: RemoteHostOptions,
    local?: { runner: ScriptRunner; jobsDir: string },
  ) {
    this.name = config.name;
    this.speed = config.speed;
    this.maxJobs = config.maxJobs;
    this.labels = config.labels ?? [];
    this.logger = options.logger;
    this.session = new RemoteSession({
      name: config.name,
      kind,
      host: options,
      destination: config.destination,
      localRunner: local?.runner,
      localJobsDir: local?.jobsDir,
      workdir: config.workdir ?? DEFAULT_WORKDIR,
      sync: config.sync,
      python: config.python,
      reprobe: () => this.probe({ force: true }),
      onOffline: (status) => this.statusEmitter.fire(status),
    });
  }

  abstract probe(options?: ProbeOptions): Promise<HostStatus>;

  /** Deletes the folders this host kept of jobs that left the history (not those that may still run). */
  forget(jobs: readonly Job[]): Promise<ForgetOutcome> {
    return this.session.forget(jobs);
  }

  /** Copies a finished job's output files back (outputFetch.ts); nothing to copy where it ran in place. */
  async fetchOutputs(request: OutputRequest): Promise<OutputReport> {
    const endpoint = await this.session.outputEndpoint(request.job);
    if ('inPlace' in endpoint) {
      return { kind: 'inPlace', folder: endpoint.inPlace };
    }
    return fetchJobOutputs(endpoint, request);
  }

  /** Ends the shared ssh connection (tests, benchmarks); the extension lets ControlPersist expire it. */
  closeConnection(): Promise<void> {
    return this.session.closeConnection();
  }

  /** Stops following; the jobs keep running and the next instance reattaches them. */
  dispose(): void {
    this.session.dispose();
    this.exitEmitter.dispose();
    this.statusEmitter.dispose();
  }
}

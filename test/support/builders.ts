/** Small builders and fakes shared by unit tests: jobs, hosts and an in-memory store. */
import { Emitter } from '../../src/core/emitter';
import type { Job } from '../../src/core/job';
import type { ExitReport, Host, HostStatus, LaunchRequest, LaunchResult, ReattachResult } from '../../src/core/host';
import type { WorkspaceState } from '../../src/core/workspaceState';
import type { ForgetOutcome } from '../../src/core/host';

let seq = 0;

export function makeJob(over: Partial<Job> = {}): Job {
  seq += 1;
  return {
    id: `job-${seq}`,
    name: 'train.py',
    script: '/ws/train.py',
    args: [],
    cwd: '/ws',
    gpus: 1,
    importance: 'normal',
    runtimeSec: 3600,
    priority: 'medium',
    priorityReason: 'test',
    priorityOverridden: false,
    state: 'queued',
    createdAt: 0,
    ...over,
  };
}

/** A host whose processes are imaginary: launches are recorded and exits are fired by the test. */
export class FakeHost implements Host {
  readonly kind = 'local' as const;
  readonly launches: LaunchRequest[] = [];
  readonly cancelled: string[] = [];
  failLaunchWith: string | undefined;
  reattachResult: ReattachResult = { kind: 'running' };
  /** Set by a test that checks what removing jobs from the history asks of their host. */
  forget?: (jobs: readonly Job[]) => Promise<ForgetOutcome>;
  private readonly exits = new Emitter<ExitReport>();
  readonly onDidExit = this.exits.event;

  constructor(
    readonly name: string,
    readonly gpuCount: number,
    readonly maxJobs = 8,
    readonly speed = 1,
  ) {}

  async probe(): Promise<HostStatus> {
    const gpus = Array.from({ length: this.gpuCount }, (_, index) => ({ index, uuid: `GPU-${this.name}-${index}`, name: 'Fake GPU' }));
    return { name: this.name, kind: 'local', state: 'online', gpus, probedAt: 0 };
  }
  async launch(request: LaunchRequest): Promise<LaunchResult> {
    if (this.failLaunchWith) {
      throw new Error(this.failLaunchWith);
    }
    this.launches.push(request);
    return { kind: 'process', pgid: 1000 + this.launches.length };
  }
  async cancel(job: Job): Promise<void> {
    this.cancelled.push(job.id);
    this.exit(job.id, 143);
  }
  async reattach(): Promise<ReattachResult> {
    return this.reattachResult;
  }
  logPath(jobId: string): string {
    return `/tmp/${jobId}.log`;
  }
  exit(jobId: string, exitCode?: number, reason?: string): void {
    this.exits.fire({ jobId, exitCode, reason });
  }
  dispose(): void {
    this.exits.dispose();
  }
}

/** Keeps every saved state as JSON, so tests can check what was durable at each step. */
export class MemoryPersistence {
  readonly saves: string[] = [];
  async save(state: WorkspaceState): Promise<void> {
    this.saves.push(JSON.stringify(state));
  }
  last(): WorkspaceState {
    return JSON.parse(this.saves[this.saves.length - 1]);
  }
}

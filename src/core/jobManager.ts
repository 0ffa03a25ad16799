/**
 * The application service behind every command and view: owns the workspace state, turns user
 * actions into state changes that are saved before they are acknowledged, and runs dispatch rounds.
 * Editor-free: the UI calls it and listens to its events; tests drive it with fakes.
 */
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { isFencedError } from './dispatchFence';
import { Emitter, type Disposable } from './emitter';
import { featuresOf, isFinished, type Job, type JobFeatures, type JobSpec, type Priority } from './job';
import { dispatchOrder } from './jobQueues';
import type { Logger } from './logger';
import type { Placement } from './placement';
import { HostRoster } from './hostRoster';
import { launchByHost, launchOne } from './jobLaunch';
import { buildCandidates, planDispatch, type PlannedLaunch } from './scheduler';
import type { LastInputs, PriorityExample, WorkspaceState } from './workspaceState';
import type { ExitReport, Host, HostStatus } from './host';

export interface Classifier {
  classify(features: JobFeatures): { priority: Priority; path: string };
  retrain(examples: readonly PriorityExample[]): void;
}

export interface StatePersistence {
  save(state: WorkspaceState): Promise<void>;
}

export interface JobManagerSettings {
  agingMinutes: number;
  cancelGraceSeconds: number;
  /** How many times a job that failed or was lost is queued again by itself (0: never). */
  retries: number;
}

export interface JobManagerDeps {
  persistence: StatePersistence;
  state: WorkspaceState;
  hosts: readonly Host[];
  placement: Placement;
  /** Already trained on `state.priorityExamples`; retrained here on each override. */
  classifier: Classifier;
  logger: Logger;
  settings: () => JobManagerSettings;
  /** argv for a job: interpreter, script, arguments. Throws with a user-facing message if it cannot. */
  commandFor: (job: Job) => Promise<string[]>;
  /** Deletes a job's log and bookkeeping files when it leaves the history. */
  removeJobFiles: (jobId: string) => Promise<void>;
  /**
   * Confirms just before starting jobs that this window still holds the dispatch lock (a window that
   * slept past the lock's staleness may have been replaced). Defaults to always true.
   */
  confirmDispatch?: () => Promise<boolean>;
  /**
   * The dispatch lock's fence, checked synchronously just before each job starts: a window stopped past
   * the lock's staleness and resumed mid-round must not start jobs the new dispatcher already owns.
   */
  fence?: { assertCurrent(): void };
  now?: () => number;
  newId?: () => string;
}

/** Thrown by changes attempted in a window that does not hold the dispatch lock. */
export class ReadOnlyError extends Error {
  constructor() {
    super('Another VS Code window on this workspace is running the TrainQ queue; make changes there (this window shows it read-only).');
  }
}

/** How many re-prioritisations the classifier keeps learning from (most recent first). */
const MAX_EXAMPLES = 500;

export class JobManager implements Disposable {
  private state: WorkspaceState;
  private readonly roster: HostRoster;
  private waiting = new Map<string, string>();
  private readonly cancelling = new Set<string>();
  private writable = false;
  private blockedReason: string | undefined;
  private round: Promise<void> = Promise.resolve();
  private roundQueued = false;
  private readonly now: () => number;
  private readonly newId: () => string;

  private readonly changed = new Emitter<void>();
  /** Fires after a change to jobs, waiting reasons or the queue's mode (paused, read-only, blocked). */
  readonly onDidChangeJobs = this.changed.event;
  private readonly hostsChanged = new Emitter<void>();
  /** Fires after host probes; kept apart so resource polling does not redraw the Job Queue. */
  readonly onDidChangeHosts = this.hostsChanged.event;
  private readonly failed = new Emitter<{ job: Job; message: string }>();
  /** Fires when a job could not be started, so the UI can tell the user once. */
  readonly onDidFailToStart = this.failed.event;

  constructor(private readonly deps: JobManagerDeps) {
    this.state = deps.state;
    this.now = deps.now ?? Date.now;
    this.newId = deps.newId ?? randomUUID;
    this.roster = new HostRoster(
      {
        exited: (host, report) => void this.onExit(host, report).catch((e) => this.logBackgroundError(e)),
        // A remote host that comes back from its backoff says so itself; its queue can move at once.
        statusChanged: () => {
          this.hostsChanged.fire();
          this.kick();
        },
        // Slurm's pending reason and the like: shown as the running job's reason, saved with the next commit.
        noted: (host, { jobId, note }) => {
          const job = this.job(jobId);
          if (job?.state === 'running' && job.host === host.name && job.reason !== note) {
            job.reason = note;
            this.changed.fire();
          }
        },
      },
      this.now,
      deps.logger,
    );
    // The classifier comes trained on state.priorityExamples (training twice would cost activation time).
    this.setHosts(deps.hosts);
  }

  /**
   * Adopts a new host set (the hosts setting changed). Jobs running on a host that left stay as they
   * are: they were not cancelled, and reconcile marks them Lost if the host does not come back.
   */
  setHosts(hosts: readonly Host[]): void {
    const added = this.roster.set(hosts);
    this.hostsChanged.fire();
    // A host object rebuilt for an edited entry must follow the jobs its predecessor followed.
    if (this.writable && added.length > 0) {
      void this.reconcile(added)
        .then(() => this.refreshHosts())
        .catch((e) => this.logBackgroundError(e));
    }
  }

  get jobs(): readonly Job[] {
    return this.state.jobs;
  }
  get paused(): boolean {
    return this.state.paused;
  }
  /** False in a window that does not hold the dispatch lock: it shows the queue but changes nothing. */
  get canDispatch(): boolean {
    return this.writable;
  }
  /** Why nothing starts although this window could dispatch (e.g. the workspace is not trusted). */
  get dispatchBlockedReason(): string | undefined {
    return this.blockedReason;
  }
  job(id: string): Job | undefined {
    return this.state.jobs.find((j) => j.id === id);
  }
  waitingReason(id: string): string | undefined {
    return this.waiting.get(id);
  }
  hostStatuses(): HostStatus[] {
    return this.roster.statusList();
  }
  host(name: string | undefined): Host | undefined {
    return this.roster.host(name);
  }
  lastInputs(key: string): LastInputs | undefined {
    return this.state.lastInputs[key];
  }
  /** The classifier's verdict for features the user is still editing (validates them). */
  classify(features: JobFeatures): { priority: Priority; path: string } {
    return this.deps.classifier.classify(features);
  }

  async queue(spec: JobSpec, inputsKey: string): Promise<Job> {
    this.assertWritable();
    const job = this.createJob(spec);
    this.state.lastInputs[inputsKey] = {
      args: [...spec.args],
      gpus: spec.gpus,
      importance: spec.importance,
      expectedGain: spec.expectedGain,
      runtimeSec: spec.runtimeSec,
    };
    await this.commit();
    this.kick();
    return job;
  }

  /** Classifies (and so validates) the spec and appends a queued job. */
  private createJob(spec: JobSpec): Job {
    const { priority, path: reason } = this.deps.classifier.classify(featuresOf(spec));
    const job: Job = {
      ...spec,
      args: [...spec.args],
      id: this.newId(),
      name: path.basename(spec.script),
      priority,
      priorityReason: reason,
      priorityOverridden: false,
      state: 'queued',
      createdAt: this.now(),
    };
    this.state.jobs.push(job);
    this.deps.placement.noteSubmitted?.(job);
    return job;
  }

  async cancel(id: string): Promise<void> {
    this.assertWritable();
    const job = this.require(id);
    if (job.state === 'queued') {
      this.finish(job, 'cancelled', undefined, 'Cancelled before it started.');
      await this.commit();
      return;
    }
    if (job.state !== 'running') {
      throw new Error(`${job.name} is already ${job.state}.`);
    }
    const host = this.host(job.host);
    if (!host) {
      throw new Error(`${job.name} runs on host '${job.host}', which is not configured any more.`);
    }
    this.cancelling.add(job.id);
    try {
      await host.cancel(job, this.deps.settings().cancelGraceSeconds);
    } catch (e) {
      // The job runs on: it must not be recorded as cancelled when its end is reported later.
      this.cancelling.delete(job.id);
      throw e;
    }
  }

  async retry(id: string): Promise<Job> {
    this.assertWritable();
    const job = this.queueCopyOf(this.require(id));
    await this.commit();
    this.kick();
    return job;
  }

  /** A new queued job with the same spec; a priority the user set by hand carries over. */
  private queueCopyOf(old: Job): Job {
    const { script, args, cwd, gpus, importance, expectedGain, runtimeSec } = old;
    const job = this.createJob({ script, args, cwd, gpus, importance, expectedGain, runtimeSec });
    job.retryOf = old.id;
    job.attempt = (old.attempt ?? 1) + 1;
    if (old.priorityOverridden) {
      Object.assign(job, { priority: old.priority, priorityReason: old.priorityReason, priorityOverridden: true });
    }
    return job;
  }

  /**
   * trainq.retries: a job that ran and failed, or was lost (its host vanished), goes back to the queue,
   * on any host, until it has run 1 + retries times. Jobs that could not start are not retried: the
   * cause (a missing interpreter, say) would fail the copy too.
   */
  private retryAutomatically(job: Job): void {
    const { retries } = this.deps.settings();
    if ((job.state === 'failed' || job.state === 'lost') && job.startedAt !== undefined && (job.attempt ?? 1) <= retries) {
      const copy = this.queueCopyOf(job);
      this.deps.logger.info(`${job.name} (${job.id}) ${job.state}; queued again as ${copy.id} (attempt ${copy.attempt} of ${retries + 1}).`);
    }
  }

  /**
   * The user knows better than the tree: the job takes the new priority, the choice becomes a
   * labelled example, and jobs the user has not overridden are classified again by the retrained tree.
   */
  async setPriority(id: string, priority: Priority): Promise<void> {
    this.assertWritable();
    const job = this.require(id);
    job.priority = priority;
    job.priorityOverridden = true;
    job.priorityReason = 'Set by you.';
    job.prioritySetAt = this.now();
    const example: PriorityExample = { features: featuresOf(job), label: priority, at: this.now() };
    this.state.priorityExamples = [...this.state.priorityExamples, example].slice(-MAX_EXAMPLES);
    this.deps.classifier.retrain(this.state.priorityExamples);
    for (const other of this.state.jobs) {
      if (other.state === 'queued' && !other.priorityOverridden) {
        const verdict = this.deps.classifier.classify(featuresOf(other));
        other.priority = verdict.priority;
        other.priorityReason = verdict.path;
      }
    }
    await this.commit();
    this.kick();
  }

  async remove(id: string): Promise<void> {
    this.assertWritable();
    const job = this.require(id);
    if (!isFinished(job.state)) {
      throw new Error(`${job.name} is ${job.state}; cancel it before removing it from the history.`);
    }
    this.state.jobs = this.state.jobs.filter((j) => j.id !== id);
    await this.commit();
    await this.deps.removeJobFiles(id).catch((e) => this.deps.logger.warn(`Could not delete files of job ${id}: ${e}`));
    await this.roster.forget([job]);
  }

  async clearFinished(): Promise<number> {
    this.assertWritable();
    const gone = this.state.jobs.filter((j) => isFinished(j.state));
    this.state.jobs = this.state.jobs.filter((j) => !isFinished(j.state));
    await this.commit();
    await Promise.all(gone.map((j) => this.deps.removeJobFiles(j.id).catch(() => undefined)));
    await this.roster.forget(gone);
    return gone.length;
  }

  async setPaused(paused: boolean): Promise<void> {
    this.assertWritable();
    this.state.paused = paused;
    await this.commit();
    this.kick();
  }

  /**
   * Probes every host in parallel; a host that fails its probe is shown offline, never thrown.
   * `force` skips a remote host's backoff (the user asked); periodic polls respect it.
   */
  async refreshHosts(force = false): Promise<HostStatus[]> {
    await this.roster.probeAll(force);
    this.hostsChanged.fire();
    this.kick();
    return this.hostStatuses();
  }

  /**
   * After a window reload or crash: follow running jobs that are alive, record exit codes that were
   * written while nobody watched, and mark the rest Lost. Never starts anything again by itself.
   */
  async reconcile(onlyHosts?: readonly Host[]): Promise<void> {
    const running = this.state.jobs.filter((j) => j.state === 'running' && (!onlyHosts || onlyHosts.some((h) => h.name === j.host)));
    if (running.length === 0) {
      return; // nothing to follow: no need to rewrite the store on every window load
    }
    for (const job of running) {
      const host = this.host(job.host);
      if (!host) {
        this.finish(job, 'lost', undefined, `Host '${job.host}' is no longer configured.`);
        continue;
      }
      const result = await host.reattach(job).catch((e) => ({ kind: 'lost' as const, reason: String(e) }));
      if (result.kind === 'exited') {
        this.finish(job, result.exitCode === 0 ? 'succeeded' : 'failed', result.exitCode, result.reason);
      } else if (result.kind === 'lost') {
        this.finish(job, 'lost', undefined, result.reason);
      }
      this.retryAutomatically(job);
    }
    await this.commit();
  }

  /** Called when this window gains or loses the dispatch lock. */
  setWritable(writable: boolean): void {
    this.writable = writable;
    this.changed.fire();
    this.kick();
  }

  /** Stops (reason given) or allows (undefined) starting jobs; the queue stays editable. */
  blockDispatch(reason: string | undefined): void {
    this.blockedReason = reason;
    this.changed.fire();
    this.kick();
  }

  /** A read-only window adopts the state another window saved. */
  replaceState(state: WorkspaceState): void {
    this.state = state;
    this.deps.classifier.retrain(state.priorityExamples);
    this.changed.fire();
  }

  /** Runs a dispatch round soon; rounds never overlap and requests during a round coalesce into one more. */
  kick(): Promise<void> {
    if (this.roundQueued) {
      return this.round;
    }
    this.roundQueued = true;
    this.round = this.round.then(async () => {
      this.roundQueued = false;
      try {
        await this.dispatchRound();
      } catch (e) {
        this.logBackgroundError(e);
      }
    });
    return this.round;
  }

  private async dispatchRound(): Promise<void> {
    const { agingMinutes } = this.deps.settings();
    const order = dispatchOrder(this.state.jobs, this.now(), agingMinutes * 60_000);
    const holdBack = !this.writable
      ? 'Another VS Code window on this workspace dispatches jobs.'
      : (this.blockedReason ?? (this.state.paused ? 'Dispatching is paused.' : undefined));
    if (holdBack || order.length === 0) {
      const why = holdBack ?? '';
      this.setWaiting(new Map(order.map((e) => [e.job.id, why])));
      return;
    }
    if (!this.roster.probed) {
      await this.refreshHosts();
    }
    const offers = this.roster.offers();
    const now = this.now();
    const running = this.state.jobs.filter((j) => j.state === 'running');
    this.deps.placement.beginRound?.({ nowMs: now, queued: order.map((e) => e.job), running });
    const plan = planDispatch(order, buildCandidates(offers, this.state.jobs), this.deps.placement);
    if (plan.launches.length === 0) {
      this.setWaiting(plan.waiting);
      return;
    }
    this.waiting = plan.waiting;
    if (this.deps.confirmDispatch && !(await this.deps.confirmDispatch())) {
      this.deps.logger.warn('Lost the dispatch lock before starting jobs; another window dispatches now.');
      return;
    }
    // Recorded as running before anything starts: a crash in between leaves a job that reconcile
    // marks Lost, which is visible, instead of a queued job that would run a second time.
    for (const { job, host, gpuIndices } of plan.launches) {
      Object.assign(job, { state: 'running', host, gpuIndices, startedAt: this.now(), reason: undefined });
    }
    await this.commit();
    await launchByHost(plan.launches, (launch) => this.launch(launch));
    await this.commit();
  }

  private async launch(launch: PlannedLaunch): Promise<void> {
    const { job, host: name, gpuIndices } = launch;
    const host = this.roster.host(name)!;
    const outcome = await launchOne(launch, host, this.deps.commandFor, () => this.deps.fence?.assertCurrent());
    switch (outcome.kind) {
      case 'fenced':
        // Not ours any more: the window that took over loaded this job and decides what becomes of it.
        this.deps.logger.warn(`Did not start ${job.name} (${job.id}): ${outcome.message}`);
        break;
      case 'started': {
        // A Slurm job has no process group of ours; its Slurm id is what finds it again.
        const { pgid, slurmJobId } = outcome.result;
        Object.assign(job, slurmJobId === undefined ? { pgid } : { slurmJobId });
        const id = slurmJobId === undefined ? `pgid ${pgid}` : `Slurm job ${slurmJobId}`;
        this.deps.logger.info(`Started ${job.name} (${job.id}) on ${name}, GPUs [${gpuIndices.join(',')}], ${id}.`);
        break;
      }
      case 'unreachable':
        // The host is the problem, not the job: back to the queue, and the host sits out its backoff.
        Object.assign(job, { state: 'queued', host: undefined, gpuIndices: undefined, startedAt: undefined, pgid: undefined, reason: outcome.message });
        this.deps.logger.warn(`${name} was unreachable when starting ${job.name} (${job.id}); it goes back to the queue: ${outcome.message}`);
        void this.roster.probe(host);
        break;
      case 'uncertain':
        job.reason = `The connection broke while starting; TrainQ follows the job on ${name}. ${outcome.message}`;
        break;
      case 'failed':
        // It never ran: no start time or GPUs, so the views and Open Log say so rather than "ran for 0:00".
        Object.assign(job, { startedAt: undefined, gpuIndices: undefined });
        this.finish(job, 'failed', undefined, `Could not start: ${outcome.message}`);
        this.deps.logger.warn(`Could not start ${job.name} (${job.id}) on ${name}: ${outcome.message}`);
        this.failed.fire({ job, message: outcome.message });
        break;
    }
  }

  private async onExit(host: Host, report: ExitReport): Promise<void> {
    const job = this.job(report.jobId);
    if (!job || job.state !== 'running' || job.host !== host.name) {
      return;
    }
    const cancelled = this.cancelling.delete(job.id);
    if (cancelled) {
      this.finish(job, 'cancelled', report.exitCode, 'Cancelled by you.');
    } else if (report.exitCode === undefined) {
      this.finish(job, 'lost', undefined, report.reason ?? 'The process ended without recording an exit code (killed from outside TrainQ?).');
    } else {
      // A host may say why a job with an exit code failed (Slurm: "Slurm time limit").
      this.finish(job, report.exitCode === 0 ? 'succeeded' : 'failed', report.exitCode, report.reason);
    }
    this.deps.logger.info(`${job.name} (${job.id}) ${job.state}${report.exitCode === undefined ? '' : `, exit code ${report.exitCode}`}.`);
    this.retryAutomatically(job);
    await this.commit();
    this.kick();
  }

  /** Polls run a dispatch round every few seconds; only a real change in the reasons redraws the queue. */
  private setWaiting(waiting: Map<string, string>): void {
    const same = waiting.size === this.waiting.size && [...waiting].every(([id, why]) => this.waiting.get(id) === why);
    this.waiting = waiting;
    if (!same) {
      this.changed.fire();
    }
  }

  private finish(job: Job, state: Job['state'], exitCode: number | undefined, reason?: string): void {
    job.state = state;
    job.exitCode = exitCode;
    job.endedAt = this.now();
    job.reason = reason;
    // A learning placement settles its estimate against the real run time. A cancelled run says
    // nothing about the host, only about the user, so it is not reported.
    if (state !== 'cancelled' && job.startedAt !== undefined) {
      this.deps.placement.noteFinished?.(job, Math.max(0, job.endedAt - job.startedAt) / 1000);
    }
  }

  /** Work nobody awaits (rounds, exits): a window that lost the lock says so once, as a warning. */
  private logBackgroundError(e: unknown): void {
    if (isFencedError(e)) {
      this.deps.logger.warn(e.message);
    } else {
      this.deps.logger.error(e instanceof Error ? e : String(e));
    }
  }

  private assertWritable(): void {
    if (!this.writable) {
      throw new ReadOnlyError();
    }
  }

  private require(id: string): Job {
    const job = this.job(id);
    if (!job) {
      throw new Error('That job is no longer in the queue.');
    }
    return job;
  }

  private async commit(): Promise<void> {
    if (this.deps.placement.observe) {
      this.deps.placement.observe(this.now(), this.state.jobs.reduce((n, j) => (j.state === 'queued' ? n + 1 : n), 0));
    }
    this.changed.fire();
    await this.deps.persistence.save(this.state);
  }

  dispose(): void {
    this.roster.dispose();
    this.changed.dispose();
    this.hostsChanged.dispose();
    this.failed.dispose();
  }
}

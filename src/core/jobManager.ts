/**
 * The command facade behind every command and view: owns the workspace state and turns user actions
 * into state changes that are saved before they are acknowledged. What starts, and what a host's report
 * does to a job, is the Dispatcher's (dispatcher.ts); this asks it for a round after each change.
 * Editor-free: the UI calls it and listens to its events; tests drive it with fakes.
 */
import { constraintsProblem } from './hostConstraints';
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { Dispatcher, type DispatchSettings } from './dispatcher';
import { Emitter, type Disposable } from './emitter';
import { checkDependency, setDependency } from './dependencies';
import { isFinished, type Job, type JobDependency, type JobFeatures, type JobSpec, type Priority } from './job';
import { finish, markRetryOf, specOf } from './jobTransitions';
import type { Logger } from './logger';
import type { Placement } from './placement';
import type { Timers } from './pollClock';
import { RuntimeLearning } from './runtimeHistory';
import type { RuntimeModel } from './runtimeModel';
import type { LastInputs, WorkspaceState } from './workspaceState';
import { overridePriority, type Classifier } from './priorityOverride';
import { takeFromHistory } from './jobHistory';
import type { SweepRecord } from './sweep/sweepRecord';
import type { Host, HostStatus } from './host';
import type { HostOffer } from './scheduler';

export interface StatePersistence {
  save(state: WorkspaceState): Promise<void>;
}

export type JobManagerSettings = DispatchSettings;
export type { Classifier };

export interface JobManagerDeps {
  persistence: StatePersistence;
  state: WorkspaceState;
  hosts: readonly Host[];
  placement: Placement;
  /** Already trained on `state.priorityExamples`; retrained here on each override. */
  classifier: Classifier;
  logger: Logger;
  settings: () => JobManagerSettings;
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
  /** Timers of the dispatcher's periodic clock; tests pass fakes. */
  timers?: Timers;
}

/** Thrown by changes attempted in a window that does not hold the dispatch lock. */
export class ReadOnlyError extends Error {
  constructor() {
    super('Another VS Code window on this workspace is running the TrainQ queue; make changes there (this window shows it read-only).');
  }
}

export class JobManager implements Disposable {
  private state: WorkspaceState;
  /** Runs the queue: rounds, host reports, the periodic probe. The extension starts its clock. */
  readonly dispatcher: Dispatcher;
  private readonly now: () => number;
  private readonly newId: () => string;

  /** What finished jobs taught about run times; saved with the state, rebuilt from the history when it was not. */
  private readonly learning: RuntimeLearning;

  private readonly changed = new Emitter<void>();
  /** Fires after a change to jobs, waiting reasons or the queue's mode (paused, read-only, blocked). */
  readonly onDidChangeJobs = this.changed.event;
  /** Fires after host probes; kept apart so resource polling does not redraw the Job Queue. */
  readonly onDidChangeHosts: Dispatcher['onDidChangeHosts'];
  /** Fires when a job could not be started, so the UI can tell the user once. */
  readonly onDidFailToStart: Dispatcher['onDidFailToStart'];

  constructor(private readonly deps: JobManagerDeps) {
    this.state = deps.state;
    this.now = deps.now ?? Date.now;
    this.newId = deps.newId ?? randomUUID;
    this.dispatcher = new Dispatcher({
      jobs: () => this.state.jobs,
      paused: () => this.state.paused,
      placement: deps.placement,
      logger: deps.logger,
      settings: deps.settings,
      commit: () => this.commit(),
      queueCopy: (old) => this.queueCopyOf(old),
      changed: () => this.changed.fire(),
      confirmDispatch: deps.confirmDispatch,
      fence: deps.fence,
      now: this.now,
      timers: deps.timers,
      runSecOf: (job) => this.predictedBaseSec(job),
      ended: (job) => this.learning.learn(job),
      model: () => this.learning.model,
    });
    const speedOf = (name: string) => (this.dispatcher.roster.host(name) ?? deps.hosts.find((h) => h.name === name))?.speed;
    this.learning = new RuntimeLearning(deps.state, speedOf, deps.logger);
    this.onDidChangeHosts = this.dispatcher.onDidChangeHosts;
    this.onDidFailToStart = this.dispatcher.onDidFailToStart;
    // The classifier comes trained on state.priorityExamples (training twice would cost activation time).
    this.dispatcher.setHosts(deps.hosts);
  }

  /** The hosts in use (the dispatcher's roster: the one host list). */
  get hosts(): readonly Host[] {
    return this.dispatcher.roster.list();
  }

  /** Adopts a new host set (the hosts setting changed); see Dispatcher.setHosts. */
  setHosts(hosts: readonly Host[]): void {
    this.dispatcher.setHosts(hosts);
  }

  get jobs(): readonly Job[] {
    return this.state.jobs;
  }
  /** The learned run-time model (read-only use: views and the ETA planner ask it; this feeds it). */
  get runtimeModel(): RuntimeModel {
    return this.learning.model;
  }
  /** A job's predicted run time on a speed-1.0 host (its estimate until the script has history); see BasePredictions. */
  predictedBaseSec(job: Job): number {
    return this.learning.baseSec(job);
  }
  get paused(): boolean {
    return this.state.paused;
  }
  /** False in a window that does not hold the dispatch lock: it shows the queue but changes nothing. */
  get canDispatch(): boolean {
    return this.dispatcher.canDispatch;
  }
  /** Why nothing starts although this window could dispatch (e.g. the workspace is not trusted). */
  get dispatchBlockedReason(): string | undefined {
    return this.dispatcher.dispatchBlockedReason;
  }
  job(id: string): Job | undefined {
    return this.state.jobs.find((j) => j.id === id);
  }
  waitingReason(id: string): string | undefined {
    return this.dispatcher.waitingReason(id);
  }
  hostStatuses(): HostStatus[] {
    return this.dispatcher.roster.statusList();
  }
  /** What each online host offers a dispatch round now, for playing the queue forward (ETAs). */
  hostOffers(): HostOffer[] {
    return this.dispatcher.roster.offers();
  }
  host(name: string | undefined): Host | undefined {
    return this.dispatcher.roster.host(name);
  }
  lastInputs(key: string): LastInputs | undefined {
    return this.state.lastInputs[key];
  }
  /** The classifier's verdict for features the user is still editing (validates them). */
  classify(features: JobFeatures): { priority: Priority; path: string } {
    return this.deps.classifier.classify(features);
  }

  /** Queues a job; `inputsKey` (the script's workspace path) remembers the inputs for next time (not for a sweep's trials). */
  async queue(spec: JobSpec, inputsKey?: string): Promise<Job> {
    this.assertWritable();
    checkDependency(this.state.jobs, spec.after);
    const limits = spec.constraints === undefined ? undefined : constraintsProblem(spec.constraints);
    if (limits) {
      throw new Error(`Host constraints: ${limits}.`);
    }
    const job = this.createJob(spec);
    if (inputsKey !== undefined) {
      const { args, gpus, importance, expectedGain, runtimeSec } = spec;
      this.state.lastInputs[inputsKey] = { args: [...args], gpus, importance, expectedGain, runtimeSec };
    }
    await this.commit();
    void this.kick();
    return job;
  }

  /** Classifies (and so validates) the spec and appends a queued job. */
  private createJob(spec: JobSpec): Job {
    const { priority, path: reason } = this.deps.classifier.classify(this.learning.features(spec));
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
      finish(job, { state: 'cancelled', reason: 'Cancelled before it started.' }, this.now());
      await this.commit();
      void this.kick(); // its `after` dependents may start, its `after-ok` ones end
      return;
    }
    if (job.state !== 'running') {
      throw new Error(`${job.name} is already ${job.state}.`);
    }
    await this.dispatcher.cancelRunning(job);
  }

  /** Cancels a running trial for an early-stopping rule: it ends Cancelled, shown "stopped early" with `why`. */
  async stopEarly(id: string, why: string): Promise<void> {
    this.assertWritable();
    const job = this.require(id);
    if (job.state === 'running') {
      job.stoppedEarly = why;
      await this.commit();
      await this.dispatcher.cancelRunning(job);
    }
  }

  /** Saved state of collaborators that keep their part of it here (sweeps); read it, change it through update. */
  get sweeps(): readonly SweepRecord[] {
    return this.state.sweeps ?? [];
  }

  /** Applies a collaborator's change (a sweep's progress, metrics read) and saves it, or with `save` false only redraws. */
  async update(change: (state: WorkspaceState) => void, save = true): Promise<void> {
    this.assertWritable();
    change(this.state);
    await (save ? this.commit() : this.changed.fire());
  }

  /** Makes a queued job wait for others (undefined: for none); a cycle or an unknown job is refused (dependencies.ts). */
  async setDependencies(id: string, after: JobDependency | undefined): Promise<void> {
    this.assertWritable();
    setDependency(this.state.jobs, this.require(id), after);
    await this.commit();
    void this.kick();
  }

  async retry(id: string): Promise<Job> {
    this.assertWritable();
    const job = this.queueCopyOf(this.require(id));
    await this.commit();
    void this.kick();
    return job;
  }

  /** A new queued job with the same spec; a priority the user set by hand carries over. */
  private queueCopyOf(old: Job): Job {
    const job = this.createJob(specOf(old));
    markRetryOf(job, old);
    return job;
  }

  /**
   * The user knows better than the tree: the job takes the new priority, the choice becomes a
   * labelled example, and jobs the user has not overridden are classified again by the retrained tree.
   */
  async setPriority(id: string, priority: Priority): Promise<void> {
    this.assertWritable();
    this.overridePriorityOf(this.require(id), priority);
    await this.commit();
    void this.kick();
  }

  /** setPriority's change without the save, for a caller already inside update (an edit that sets the priority). */
  overridePriorityOf(job: Job, priority: Priority): void {
    overridePriority(this.state, job, priority, this.deps.classifier, (spec) => this.learning.features(spec), this.now());
  }

  async remove(id: string): Promise<void> {
    this.assertWritable();
    const job = this.require(id);
    if (!isFinished(job.state)) {
      throw new Error(`${job.name} is ${job.state}; cancel it before removing it from the history.`);
    }
    await this.dropFromHistory(takeFromHistory(this.state, (j) => j === job, this.now()));
  }

  async clearFinished(): Promise<number> {
    this.assertWritable();
    const gone = takeFromHistory(this.state, () => true, this.now());
    await this.dropFromHistory(gone);
    return gone.length;
  }

  /** Saves the state without the jobs taken out, then deletes their files and what their hosts kept. */
  private async dropFromHistory(gone: Job[]): Promise<void> {
    await this.commit();
    const warn = (job: Job) => (e: unknown) => this.deps.logger.warn(`Could not delete files of job ${job.id}: ${e}`);
    await Promise.all(gone.map((j) => this.deps.removeJobFiles(j.id).catch(warn(j))));
    await this.dispatcher.roster.forget(gone);
  }

  async setPaused(paused: boolean): Promise<void> {
    this.assertWritable();
    this.state.paused = paused;
    await this.commit();
    void this.kick();
  }

  /**
   * Probes every host in parallel; a host that fails its probe is shown offline, never thrown.
   * `force` skips a remote host's backoff (the user asked); periodic polls respect it.
   */
  refreshHosts(force = false): Promise<HostStatus[]> {
    return this.dispatcher.refreshHosts(force);
  }

  /** After a window reload or crash; see Dispatcher.reconcile. */
  reconcile(onlyHosts?: readonly Host[]): Promise<void> {
    return this.dispatcher.reconcile(onlyHosts);
  }

  /** Called when this window gains or loses the dispatch lock. */
  setWritable(writable: boolean): void {
    this.dispatcher.setWritable(writable);
  }

  /** Stops (reason given) or allows (undefined) starting jobs; the queue stays editable. */
  blockDispatch(reason: string | undefined): void {
    this.dispatcher.blockDispatch(reason);
  }

  /** A read-only window adopts the state another window saved. */
  replaceState(state: WorkspaceState): void {
    this.state = state;
    this.learning.adopt(state);
    this.deps.classifier.retrain(state.priorityExamples);
    this.changed.fire();
  }

  /** Runs a dispatch round soon; rounds never overlap and requests during a round coalesce into one more. */
  kick(): Promise<void> {
    return this.dispatcher.kick();
  }

  private assertWritable(): void {
    if (!this.dispatcher.canDispatch) {
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
    this.learning.saveInto(this.state);
    this.changed.fire();
    await this.deps.persistence.save(this.state);
  }

  dispose(): void {
    this.dispatcher.dispose();
    this.changed.dispose();
  }
}

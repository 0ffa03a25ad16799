/**
 * What runs the queue: dispatch rounds (plan, the lock checks, the starts and what each outcome does to
 * its job), the hosts' reports (exits, notes, a host back from its backoff), and the periodic clock that
 * probes the hosts and runs a round. JobManager turns commands into state changes and asks for a round;
 * this decides what starts. The clock is the dispatcher's own: the editor may only say whether the
 * window is focused, which changes how often it probes.
 */
import { dependencyHold, redirectDependents, settleDependents } from './dependencies';
import { isFencedError } from './dispatchFence';
import { Emitter, type Disposable } from './emitter';
import type { Job } from './job';
import { dispatchOrder, type RunSecOf } from './jobQueues';
import { launchByHost, launchOne, type LaunchPredictor } from './jobLaunch';
import { claim, endingOfExit, endingOfReattach, finish, handleText, neverStarted, requeue, retriesAutomatically, started, type Ending } from './jobTransitions';
import type { Logger } from './logger';
import type { Placement } from './placement';
import { HostRoster } from './hostRoster';
import { PollClock, type Timers } from './pollClock';
import { buildCandidates, planDispatch, type PlannedLaunch } from './scheduler';
import type { ExitReport, Host, HostStatus, JobNote } from './host';

export interface DispatchSettings {
  agingMinutes: number;
  cancelGraceSeconds: number;
  /** How many times a job that failed or was lost is queued again by itself (0: never). */
  retries: number;
}

export interface DispatcherDeps {
  /** The jobs of the current state (the facade may swap the state; this reads it each time). */
  jobs: () => Job[];
  paused: () => boolean;
  placement: Placement;
  logger: Logger;
  settings: () => DispatchSettings;
  /** Saves the state (and redraws): a round's claims are durable before anything starts. */
  commit: () => Promise<void>;
  /** Queues a copy of a job that failed or was lost, for trainq.retries. */
  queueCopy: (old: Job) => Job;
  /** A job's fields changed without a commit (waiting reasons, a host's note): redraw. */
  changed: () => void;
  /** Confirms just before starting jobs that this window still holds the dispatch lock. */
  confirmDispatch?: () => Promise<boolean>;
  /** The lock's fence, checked synchronously just before each job starts (see LaunchRequest.assertCurrent). */
  fence?: { assertCurrent(): void };
  now: () => number;
  /** Timers of the periodic clock; tests pass fakes. */
  timers?: Timers;
  /** A queued job's expected run time for the within-level order (the learned prediction); the estimate by default. */
  runSecOf?: RunSecOf;
  /** A started job ended (any way), its end recorded: the run-time model learns from it. */
  ended?: (job: Job) => void;
  /** The run-time model a launch asks for the job's predicted time on its host (the current one: a reload replaces it). */
  model?: () => LaunchPredictor;
}

export class Dispatcher implements Disposable {
  readonly roster: HostRoster;
  private writable = false;
  private blockedReason: string | undefined;
  private waiting = new Map<string, string>();
  private readonly cancelling = new Set<string>();
  private round: Promise<void> = Promise.resolve();
  private roundQueued = false;
  private readonly clock: PollClock;

  private readonly hostsChanged = new Emitter<void>();
  /** Fires after host probes; kept apart so resource polling does not redraw the Job Queue. */
  readonly onDidChangeHosts = this.hostsChanged.event;
  private readonly failed = new Emitter<{ job: Job; message: string }>();
  /** Fires when a job could not be started, so the UI can tell the user once. */
  readonly onDidFailToStart = this.failed.event;
  private readonly jobEnded = new Emitter<Job>();
  /** Fires when a started job's end is recorded (exit, reattach, lost; cancels too), before it is saved. */
  readonly onDidEndJob = this.jobEnded.event;

  constructor(private readonly deps: DispatcherDeps) {
    this.roster = new HostRoster(
      {
        exited: (host, report) => void this.onExit(host, report).catch((e) => this.logBackgroundError(e)),
        // A remote host that comes back from its backoff says so itself; its queue can move at once.
        statusChanged: () => {
          this.hostsChanged.fire();
          void this.kick();
        },
        noted: (host, note) => this.onNote(host, note),
      },
      deps.now,
      deps.logger,
    );
    this.clock = new PollClock(async () => {
      try {
        await this.refreshHosts();
      } catch (e) {
        this.logBackgroundError(e);
      }
    }, deps.timers);
  }

  get canDispatch(): boolean {
    return this.writable;
  }
  get dispatchBlockedReason(): string | undefined {
    return this.blockedReason;
  }
  waitingReason(id: string): string | undefined {
    return this.waiting.get(id);
  }

  setWritable(writable: boolean): void {
    this.writable = writable;
    this.deps.changed();
    void this.kick();
  }

  blockDispatch(reason: string | undefined): void {
    this.blockedReason = reason;
    this.deps.changed();
    void this.kick();
  }

  /**
   * Adopts a new host set. Jobs running on a host that left stay as they are: they were not cancelled,
   * and reconcile marks them Lost if the host does not come back.
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

  /**
   * Runs the periodic probe and round: every `focusedMs` while the window is focused, every
   * `backgroundMs` while it is not, or not at all in the background when that is undefined.
   * Calling it again changes the intervals.
   */
  start(focusedMs: number, backgroundMs?: number): void {
    this.clock.start(focusedMs, backgroundMs);
  }

  /** A hint from the editor: whether the window is focused. It changes how often the clock probes. */
  setFocused(focused: boolean): void {
    this.clock.setFocused(focused);
  }

  stop(): void {
    this.clock.stop();
  }

  /** Probes every host in parallel (a failing host shows offline), then runs a round. */
  async refreshHosts(force = false): Promise<HostStatus[]> {
    await this.roster.probeAll(force);
    this.hostsChanged.fire();
    void this.kick();
    return this.roster.statusList();
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
    const jobs = this.deps.jobs();
    // Ending dependents of a failed job starts nothing, so it is done paused too; a read-only window leaves it to the writer.
    if (this.writable && settleDependents(jobs, this.deps.now()).length > 0) {
      await this.deps.commit();
    }
    const order = dispatchOrder(jobs, this.deps.now(), this.deps.settings().agingMinutes * 60_000, this.deps.runSecOf);
    const holdBack = !this.writable
      ? 'Another VS Code window on this workspace dispatches jobs.'
      : (this.blockedReason ?? (this.deps.paused() ? 'Dispatching is paused.' : undefined));
    if (holdBack || order.length === 0) {
      this.setWaiting(new Map(order.map((e) => [e.job.id, holdBack ?? ''])));
      return;
    }
    if (!this.roster.probed) {
      await this.refreshHosts();
    }
    const running = jobs.filter((j) => j.state === 'running');
    this.deps.placement.beginRound?.({ nowMs: this.deps.now(), queued: order.map((e) => e.job), running });
    const offers = this.roster.offers();
    const plan = planDispatch(order, buildCandidates(offers, jobs), this.deps.placement, { held: dependencyHold(jobs), hosts: offers });
    if (plan.launches.length === 0) {
      this.setWaiting(plan.waiting);
      return;
    }
    this.waiting = plan.waiting;
    if (this.deps.confirmDispatch && !(await this.deps.confirmDispatch())) {
      this.deps.logger.warn('Lost the dispatch lock before starting jobs; another window dispatches now.');
      return;
    }
    for (const { job, host, gpuIndices } of plan.launches) {
      claim(job, host, gpuIndices, this.deps.now());
    }
    await this.deps.commit();
    await launchByHost(plan.launches, (launch) => this.launch(launch));
    await this.deps.commit();
  }

  private async launch(launch: PlannedLaunch): Promise<void> {
    const { job, host: name, gpuIndices } = launch;
    const host = this.roster.host(name)!;
    const outcome = await launchOne(launch, host, () => this.deps.fence?.assertCurrent(), this.deps.model?.());
    const { logger } = this.deps;
    switch (outcome.kind) {
      case 'fenced':
        // Not ours any more: the window that took over loaded this job and decides what becomes of it.
        logger.warn(`Did not start ${job.name} (${job.id}): ${outcome.message}`);
        break;
      case 'started':
        started(job, outcome.result);
        logger.info(`Started ${job.name} (${job.id}) on ${name}, GPUs [${gpuIndices.join(',')}], ${handleText(outcome.result)}.`);
        break;
      case 'unreachable':
        // The host sits out its backoff; the job may go elsewhere next round.
        requeue(job, outcome.message);
        logger.warn(`${name} was unreachable when starting ${job.name} (${job.id}); it goes back to the queue: ${outcome.message}`);
        void this.roster.probe(host);
        break;
      case 'uncertain':
        job.reason = `The connection broke while starting; TrainQ follows the job on ${name}. ${outcome.message}`;
        break;
      case 'failed':
        neverStarted(job, outcome.message, this.deps.now());
        logger.warn(`Could not start ${job.name} (${job.id}) on ${name}: ${outcome.message}`);
        this.failed.fire({ job, message: outcome.message });
        break;
    }
  }

  /** Cancels a running job through its host; its end comes back as an exit and is recorded as cancelled. */
  async cancelRunning(job: Job): Promise<void> {
    const host = this.roster.host(job.host);
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

  /**
   * After a window reload or crash: follow running jobs that are alive, record exit codes that were
   * written while nobody watched, and mark the rest Lost. Never starts anything again by itself.
   */
  async reconcile(onlyHosts?: readonly Host[]): Promise<void> {
    const running = this.deps.jobs().filter((j) => j.state === 'running' && (!onlyHosts || onlyHosts.some((h) => h.name === j.host)));
    if (running.length === 0) {
      return; // nothing to follow: no need to rewrite the store on every window load
    }
    for (const job of running) {
      const host = this.roster.host(job.host);
      const ending = host
        ? endingOfReattach(await host.reattach(job).catch((e) => ({ kind: 'lost' as const, reason: String(e) })))
        : { state: 'lost' as const, reason: `Host '${job.host}' is no longer configured.` };
      if (ending) {
        this.settle(job, ending);
        this.retryIfAllowed(job);
      }
    }
    await this.deps.commit();
  }

  private async onExit(host: Host, report: ExitReport): Promise<void> {
    const job = this.deps.jobs().find((j) => j.id === report.jobId);
    if (!job || job.state !== 'running' || job.host !== host.name) {
      return;
    }
    this.settle(job, endingOfExit(report, this.cancelling.delete(job.id), job.stoppedEarly));
    this.deps.logger.info(`${job.name} (${job.id}) ${job.state}${report.exitCode === undefined ? '' : `, exit code ${report.exitCode}`}.`);
    this.retryIfAllowed(job);
    await this.deps.commit();
    void this.kick();
  }

  /** Slurm's pending reason and the like: shown as the running job's reason, saved with the next commit. */
  private onNote(host: Host, { jobId, note }: JobNote): void {
    const job = this.deps.jobs().find((j) => j.id === jobId);
    if (job?.state === 'running' && job.host === host.name && job.reason !== note) {
      job.reason = note;
      this.deps.changed();
    }
  }

  /** Records the end and tells a learning placement and the run-time model how long the job ran. */
  private settle(job: Job, ending: Ending): void {
    const { ranForSec } = finish(job, ending, this.deps.now());
    if (ranForSec !== undefined) {
      this.deps.placement.noteFinished?.(job, ranForSec);
    }
    this.deps.ended?.(job);
    this.jobEnded.fire(job);
  }

  private retryIfAllowed(job: Job): void {
    const { retries } = this.deps.settings();
    if (retriesAutomatically(job, retries)) {
      const copy = this.deps.queueCopy(job);
      redirectDependents(this.deps.jobs(), job.id, copy.id);
      this.deps.logger.info(`${job.name} (${job.id}) ${job.state}; queued again as ${copy.id} (attempt ${copy.attempt} of ${retries + 1}).`);
    }
  }

  /** Polls run a dispatch round every few seconds; only a real change in the reasons redraws the queue. */
  private setWaiting(waiting: Map<string, string>): void {
    const same = waiting.size === this.waiting.size && [...waiting].every(([id, why]) => this.waiting.get(id) === why);
    this.waiting = waiting;
    if (!same) {
      this.deps.changed();
    }
  }

  /** Work nobody awaits (rounds, exits, ticks): a window that lost the lock says so once, as a warning. */
  logBackgroundError(e: unknown): void {
    if (isFencedError(e)) {
      this.deps.logger.warn(e.message);
    } else {
      this.deps.logger.error(e instanceof Error ? e : String(e));
    }
  }

  dispose(): void {
    this.clock.dispose();
    this.roster.dispose();
    this.hostsChanged.dispose();
    this.failed.dispose();
    this.jobEnded.dispose();
  }
}

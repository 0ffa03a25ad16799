/**
 * Runs sweeps on top of the job queue: a trial is an ordinary job (priority queues, placement, every
 * host kind), so this only decides *which* trials exist. It keeps each running sweep filled up to its
 * `parallel` trials while the budget lasts, follows the trial jobs' states into the sweep's records,
 * and asks the early-stopping rule after each report of the sweep metric. Strategies keep no state of
 * their own, so after a reload the sweep goes on from its saved records exactly where it was.
 * Editor-free: the UI and the benchmark drive it the same way.
 */
import { Emitter, type Disposable } from '../emitter';
import type { Job, JobSpec } from '../job';
import type { JobManager } from '../jobManager';
import type { MetricsUpdate } from '../metricsFollower';
import { earlyStopVerdict, sweepFromDefinition, trialJobSpec, updateTrialFromJob } from './sweepTrials';
import { isActiveTrial, trialRecords, type SweepRecord, type SweepTrial } from './sweepRecord';
import { createStrategy } from './searchStrategies';
import type { SweepSpec } from './sweepTypes';

/** What the sweep manager needs of the job manager; a narrow slice so tests can see what it uses. */
export type SweepJobs = Pick<
  JobManager,
  'jobs' | 'job' | 'queue' | 'cancel' | 'stopEarly' | 'sweeps' | 'update' | 'onDidChangeJobs' | 'canDispatch'
>;

interface JobIndex {
  byId: Map<string, Job>;
  /** A retried job's id → its retry. */
  retryOf: Map<string, Job>;
}

export interface SweepManagerDeps {
  jobs: SweepJobs;
  /** Fires with the jobs that reported metrics (the MetricsFollower's onDidReport). */
  onDidReport: (listener: (updates: MetricsUpdate[]) => void) => Disposable;
  newId: () => string;
  now?: () => number;
  onError?: (e: unknown) => void;
}

export class SweepManager implements Disposable {
  private readonly disposables: Disposable[] = [];
  private readonly now: () => number;
  private busy: Promise<void> | undefined;
  private again = false;
  private readonly changed = new Emitter<void>();
  /** Fires after a sweep's records changed (trials, status). */
  readonly onDidChange = this.changed.event;

  constructor(private readonly deps: SweepManagerDeps) {
    this.now = deps.now ?? Date.now;
    this.disposables.push(
      deps.jobs.onDidChangeJobs(() => void this.step()),
      deps.onDidReport((updates) => void this.judge(updates)),
      this.changed,
    );
  }

  get sweeps(): readonly SweepRecord[] {
    return this.deps.jobs.sweeps;
  }

  sweep(id: string): SweepRecord | undefined {
    return this.sweeps.find((s) => s.id === id);
  }

  /** Starts a sweep from a validated definition and queues its first trials. */
  async start(spec: SweepSpec): Promise<SweepRecord> {
    const sweep = sweepFromDefinition(this.deps.newId(), spec, this.now());
    await this.deps.jobs.update((state) => {
      state.sweeps = [...(state.sweeps ?? []), sweep];
    });
    await this.step();
    return sweep;
  }

  /** Pause: no new trials, and those still queued are withdrawn (running ones finish). */
  async pause(id: string): Promise<void> {
    await this.setStatus(id, 'paused', 'Paused by you.', (t) => t.state === 'queued');
  }

  async resume(id: string): Promise<void> {
    const sweep = this.require(id);
    if (sweep.status === 'paused') {
      await this.deps.jobs.update(() => Object.assign(sweep, { status: 'running', reason: undefined }));
      await this.step();
    }
  }

  /** Stop: no new trials, and every queued or running one is cancelled as Cancel does. */
  async stop(id: string): Promise<void> {
    await this.setStatus(id, 'stopped', 'Stopped by you.', isActiveTrial);
  }

  /** Cancels one trial (the user's Stop Trial); the sweep goes on with the next. */
  async stopTrial(id: string, trial: number): Promise<void> {
    const t = this.require(id).trials.find((x) => x.trial === trial);
    if (!t || !isActiveTrial(t)) {
      throw new Error(`Trial ${trial} is not queued or running.`);
    }
    await this.deps.jobs.cancel(t.jobId);
  }

  /** Removes a finished or stopped sweep's record (its trial jobs stay in the history). */
  async remove(id: string): Promise<void> {
    const sweep = this.require(id);
    if (sweep.trials.some(isActiveTrial)) {
      throw new Error(`Sweep '${sweep.spec.name}' still has trials queued or running; stop it first.`);
    }
    await this.deps.jobs.update((state) => {
      state.sweeps = (state.sweeps ?? []).filter((s) => s.id !== id);
    });
  }

  /** The job spec that runs the best trial's configuration again as a normal job (no sweep). */
  bestConfigurationSpec(id: string, trial: number): JobSpec {
    const sweep = this.require(id);
    const t = sweep.trials.find((x) => x.trial === trial);
    if (!t) {
      throw new Error(`Sweep '${sweep.spec.name}' has no trial ${trial}.`);
    }
    const { env: _env, sweep: _ref, ...plain } = trialJobSpec(sweep, t.trial, t.params);
    return plain;
  }

  /**
   * Brings every sweep up to date with its jobs and queues what it may: one pass at a time, and a
   * request during a pass makes one more (job changes come in bursts).
   */
  step(): Promise<void> {
    if (this.busy) {
      this.again = true;
      return this.busy;
    }
    this.busy = (async () => {
      // Yield first: `busy` must be set before a pass runs, since queueing a trial fires the job
      // change that calls step() again from inside the pass.
      await Promise.resolve();
      try {
        do {
          this.again = false;
          await this.pass();
        } while (this.again);
      } catch (e) {
        this.deps.onError?.(e);
      } finally {
        this.busy = undefined;
      }
    })();
    return this.busy;
  }

  private async pass(): Promise<void> {
    if (!this.deps.jobs.canDispatch) {
      return;
    }
    let save = false;
    let redraw = false;
    const now = this.now();
    const jobs = this.deps.jobs.jobs;
    const index: JobIndex = { byId: new Map(jobs.map((j) => [j.id, j])), retryOf: new Map(jobs.filter((j) => j.retryOf).map((j) => [j.retryOf!, j])) };
    for (const sweep of this.sweeps) {
      for (const t of sweep.trials) {
        const change = updateTrialFromJob(sweep, t, this.jobOf(t, index), now);
        save ||= change === 'state';
        redraw ||= change !== 'none';
      }
      if (sweep.status === 'running' && !sweep.trials.some(isActiveTrial)) {
        const done = this.budgetDone(sweep);
        if (done) {
          Object.assign(sweep, { status: 'finished', endedAt: now, reason: done });
          save = true;
        }
      }
    }
    if (save) {
      await this.deps.jobs.update(() => undefined);
    }
    if (save || redraw) {
      this.changed.fire();
    }
    for (const sweep of this.sweeps) {
      if (sweep.status === 'running') {
        await this.fill(sweep);
      }
    }
  }

  /** Queues proposals until `parallel` trials are active, the budget is used or the strategy has none. */
  private async fill(sweep: SweepRecord): Promise<void> {
    const strategy = createStrategy(sweep.spec.strategy, sweep.spec.params, sweep.spec.goal, sweep.spec.metric, sweep.spec.seed, {
      budgetTrials: sweep.spec.budget.trials,
    });
    while (sweep.status === 'running' && sweep.trials.filter(isActiveTrial).length < sweep.spec.parallel && !this.budgetDone(sweep)) {
      const proposal = strategy.propose(trialRecords(sweep));
      if (!proposal) {
        if (!sweep.trials.some(isActiveTrial)) {
          await this.deps.jobs.update(() => Object.assign(sweep, { status: 'finished', endedAt: this.now(), reason: 'The search space is used up.' }));
          this.changed.fire();
        }
        return;
      }
      const trial = sweep.trials.length + 1;
      const job = await this.deps.jobs.queue(trialJobSpec(sweep, trial, proposal.params));
      const record: SweepTrial = { trial, jobId: job.id, params: proposal.params, why: proposal.why, state: 'queued', curve: [], gpuSec: 0 };
      await this.deps.jobs.update(() => sweep.trials.push(record));
      this.changed.fire();
    }
  }

  /** Why the sweep may start no more trials, or undefined while its budget lasts. */
  private budgetDone(sweep: SweepRecord): string | undefined {
    const { trials, gpuHours } = sweep.spec.budget;
    if (trials !== undefined && sweep.trials.length >= trials) {
      return `The budget of ${trials} trial${trials === 1 ? '' : 's'} is used.`;
    }
    const used = sweep.trials.reduce((s, t) => s + t.gpuSec, 0) / 3600;
    if (gpuHours !== undefined && used >= gpuHours) {
      return `The budget of ${gpuHours} GPU-hour${gpuHours === 1 ? '' : 's'} is used.`;
    }
    return undefined;
  }

  /** After reports: each running trial of a running sweep that reported its metric is judged by the rule. */
  private async judge(updates: readonly MetricsUpdate[]): Promise<void> {
    for (const { job, names } of updates) {
      const ref = job.sweep;
      const sweep = ref && this.sweep(ref.sweepId);
      if (!sweep || !names.includes(sweep.spec.metric)) {
        continue;
      }
      const t = sweep.trials.find((x) => x.trial === ref.trial);
      if (!t) {
        continue;
      }
      updateTrialFromJob(sweep, t, job, this.now());
      const why = job.state === 'running' && sweep.status === 'running' ? earlyStopVerdict(sweep, t) : undefined;
      if (why) {
        t.stopWhy = why;
        try {
          await this.deps.jobs.stopEarly(job.id, why);
        } catch (e) {
          this.deps.onError?.(e);
        }
      }
    }
    this.changed.fire();
  }

  /**
   * The trial's job: the one it was queued as, or the newest retry of it. `index` is built once per pass:
   * looking each trial's job up in the job list was trials × jobs comparisons on every job change
   * (1,000 settled trials among 5,000 jobs: a pass 7.7 ms before, 0.97 ms with the index).
   */
  private jobOf(t: SweepTrial, index: JobIndex): Job | undefined {
    let job = index.byId.get(t.jobId);
    for (let next = job && index.retryOf.get(job.id); next; next = index.retryOf.get(next.id)) {
      t.jobId = next.id;
      job = next;
    }
    return job;
  }

  private async setStatus(id: string, status: 'paused' | 'stopped', reason: string, cancel: (t: SweepTrial) => boolean): Promise<void> {
    const sweep = this.require(id);
    if (sweep.status === 'finished' || sweep.status === 'stopped') {
      throw new Error(`Sweep '${sweep.spec.name}' has already ended.`);
    }
    await this.deps.jobs.update(() => Object.assign(sweep, { status, reason, ...(status === 'stopped' && { endedAt: this.now() }) }));
    for (const t of sweep.trials.filter(cancel)) {
      await this.deps.jobs.cancel(t.jobId).catch((e) => this.deps.onError?.(e));
    }
    this.changed.fire();
    await this.step();
  }

  private require(id: string): SweepRecord {
    const sweep = this.sweep(id);
    if (!sweep) {
      throw new Error('That sweep is no longer there.');
    }
    return sweep;
  }

  dispose(): void {
    this.disposables.forEach((d) => d.dispose());
  }
}

/**
 * The DQN host-choice agent behind core's Placement seam: for each job planDispatch offers, it scores
 * "place on h" for every feasible host and "wait", picks ε-greedily, and learns from what follows.
 *
 * Placement.choose has no clock and no view of the queue, so the caller adds a few cheap calls:
 *   beginRound(view)             before each planDispatch: the time, the queue, the running jobs;
 *   observe(nowMs, queuedJobs)   whenever the number of queued jobs changes;
 *   noteSubmitted(job)           when a job is queued (it tracks the typical run time, the time unit);
 *   noteFinished(job, runSec)    when a job ends, with how long it actually ran.
 * The simulator does this in src/sim/dqnPolicy.ts; the extension's dispatcher does the same.
 *
 * Reward: a job's completion time is its queueing time plus its run time, so the agent pays both, each
 * when it becomes known: between decisions, the queueing time that passed (∫ queued jobs dt); on
 * placing a job, how much longer its estimated run is on the chosen host than on the fastest host
 * that fits it; when it ends, the difference between the actual and the estimated run time, settled
 * on that placement's transition. A run's rewards add up to minus its total job completion time plus
 * a constant no decision changes (each job's estimated run on its fastest host), so maximising them
 * minimises the average JCT the benchmark measures; and a slow host's cost lands on the decision that
 * chose it rather than being spread over a run that can outlast any discount horizon.
 * Training runs in beginRound (between rounds), never inside choose, so decisions stay fast.
 *
 * Waiting can never stall the queue: it is offered only while some job is running (its end brings
 * another round) and only until the job has been held for `maxHoldFraction` of its estimate (at most
 * `maxHoldSec`); after that the job takes a free host like any heuristic would.
 */
import type { Job } from '../core/job';
import type { HostCandidate, Placement, PlacementDecision, RoundView } from '../core/placement';
import { finishSec } from '../core/placementPolicies';
import { constraintsText, hasConstraints } from '../core/hostConstraints';
import type { AgentStats } from './agentStats';
import type { ActResult, LearnerCounters } from './dqnLearner';
import type { Transition } from './replayBuffer';
import { FEATURE_COUNT, FEATURE_NAMES, RoundSummary } from './encoder';

/**
 * What the placement needs of a learner. DqnLearner is one (the simulator, the pre-training script);
 * the extension host uses WorkerLearner, which scores on the host thread and trains in a worker.
 */
export interface PlacementLearner {
  act(rows: Float32Array, count: number, explore: boolean): ActResult;
  remember(t: Transition): void;
  /** Adds cost to a transition, remembered or not yet (a job's actual run time settling). */
  addCost(t: Transition, delta: number): void;
  /** Runs (or schedules) up to `steps` gradient steps; returns the losses of the steps run now. */
  train(steps: number): number[];
  snapshotCounters(): LearnerCounters;
  readonly trainSteps: number;
}

export interface DqnPlacementOptions {
  /** Gradient steps owed per decision; they run at the start of the next round. */
  trainPerDecision: number;
  /** Upper bound on the steps run in one round, so a burst of decisions cannot stall the dispatcher. */
  maxTrainPerRound: number;
  maxHoldFraction: number;
  maxHoldSec: number;
  /** Initial value of `learning`. */
  learn: boolean;
  /**
   * When "wait" is among the actions: `faster-host` only while a strictly faster host is expected to
   * finish the job sooner than the best host free now (the encoder's waitBestGain > 0); `when-safe`
   * whenever waiting cannot stall the queue; `never` masks it, so the agent only chooses hosts.
   * media/agent/README.md has the measurements behind the default.
   */
  waitOffer: WaitOffer;
  /**
   * While every queued job fits on the GPUs free now, nothing competes for the hosts, and the host
   * expected to finish the job soonest (estimate ÷ speed, plus a Slurm host's expected wait) is the
   * only one offered; the agent still chooses among equally soon ones. Under contention it chooses
   * freely. media/agent/README.md has the measurements behind the default.
   */
  soonestWhenUncontended: boolean;
  /** Starting time unit (geometric mean of runtime estimates), usually from the saved counters. */
  timeUnitSec: number;
  /** Weight of each newly queued job in the running time unit. */
  timeUnitDecay: number;
}

export const WAIT_OFFERS = ['never', 'faster-host', 'when-safe'] as const;
export type WaitOffer = (typeof WAIT_OFFERS)[number];

export function isWaitOffer(value: unknown): value is WaitOffer {
  return (WAIT_OFFERS as readonly unknown[]).includes(value);
}

export const DEFAULT_PLACEMENT_OPTIONS: DqnPlacementOptions = {
  trainPerDecision: 1,
  maxTrainPerRound: 256,
  maxHoldFraction: 0.25,
  maxHoldSec: 12 * 3600,
  learn: true,
  waitOffer: 'never',
  soonestWhenUncontended: true,
  timeUnitSec: 3600,
  timeUnitDecay: 0.01,
};

/** The transition of the latest decision, filled in as time passes; it goes into replay as is. */
type Pending = Transition;

const EMPTY = new Float32Array(0);
const WAIT_GAIN = FEATURE_NAMES.indexOf('waitBestGain');

export class DqnPlacement implements Placement {
  readonly name = 'dqn';
  private round: RoundSummary | undefined;
  private pending: Pending | undefined;
  private queuedJobs = 0;
  /** Jobs this agent placed: the run time charged, and the transition it was charged to. */
  private readonly placed = new Map<string, { runSec: number; transition: Pending }>();
  private lastSec: number | undefined;
  private totalGpus = 1;
  /** When the agent first held each job back, in seconds. */
  private readonly heldSince = new Map<string, number>();
  private owedSteps = 0;
  private trainingMs = 0;
  private logUnit: number;
  /** False: greedy, and nothing is remembered or trained (evaluation runs, a frozen agent). */
  learning: boolean;

  constructor(
    private readonly learner: PlacementLearner,
    private readonly options: DqnPlacementOptions = DEFAULT_PLACEMENT_OPTIONS,
    private readonly stats?: AgentStats,
  ) {
    this.logUnit = Math.log(Math.max(1, options.timeUnitSec));
    this.learning = options.learn;
  }

  /** The typical job's run time in seconds: the unit of every time feature, reward and discount. */
  get timeUnitSec(): number {
    return Math.exp(this.logUnit);
  }

  noteSubmitted(job: Job): void {
    // A geometric mean: run times span minutes to weeks, and one huge estimate must not reset the scale.
    this.logUnit += this.options.timeUnitDecay * (Math.log(Math.max(1, job.runtimeSec)) - this.logUnit);
  }

  observe(nowMs: number, queuedJobs: number): void {
    this.advance(nowMs / 1000);
    this.queuedJobs = queuedJobs;
  }

  /**
   * Settles the estimated run time charged at placement against the actual one, on the transition
   * that placed the job (still the same object in replay), so the surprise is credited to the
   * decision it belongs to instead of to whatever decision happens to be in progress.
   */
  noteFinished(job: Job, runSec: number): void {
    const placed = this.placed.get(job.id);
    if (placed) {
      this.placed.delete(job.id);
      const endSec = (job.startedAt ?? job.createdAt) / 1000 + runSec;
      this.stats?.recordOutcome(job.id, { state: job.state, runSec, jctSec: Math.max(runSec, endSec - job.createdAt / 1000) });
      // The learner adds it in place; a transition not yet remembered carries it into replay.
      this.learner.addCost(placed.transition, this.costOf(runSec - placed.runSec));
    }
  }

  beginRound(view: RoundView): void {
    this.advance(view.nowMs / 1000);
    if (this.learning) {
      this.trainOwed();
    }
    if (this.heldSince.size > 0) {
      // Forget holds of jobs that left the queue some other way (cancelled, removed).
      const queued = new Set(view.queued.map((j) => j.id));
      for (const id of [...this.heldSince.keys()].filter((id) => !queued.has(id))) {
        this.heldSince.delete(id);
      }
    }
    this.round = new RoundSummary(view, this.timeUnitSec);
    if (this.stats) {
      const { epsilon, replaySize, trainSteps, decisions } = this.learner.snapshotCounters();
      this.stats.updateFigures({ epsilon, replaySize, trainSteps, decisions });
    }
  }

  choose(job: Job, feasibleHosts: HostCandidate[], all: HostCandidate[]): PlacementDecision {
    // Without beginRound (a caller that does not know the protocol) the agent still decides, from less.
    const round = this.round ?? new RoundSummary({ nowMs: Date.now(), queued: [job], running: [] }, this.timeUnitSec);
    const feasible = this.options.soonestWhenUncontended && round.uncontended(all) ? soonestFinishing(job, feasibleHosts) : feasibleHosts;
    const now = round.nowSec;
    const since = this.heldSince.get(job.id);
    const heldSec = since === undefined ? 0 : now - since;
    const holdCapSec = Math.min(this.options.maxHoldSec, this.options.maxHoldFraction * job.runtimeSec);
    const allowWait = this.options.waitOffer !== 'never' && heldSec < holdCapSec && all.some((c) => c.runningJobs > 0);
    const encoded = round.encode(job, feasible, all, { allowWait, heldSec, holdCapSec });
    if (allowWait && this.options.waitOffer === 'faster-host' && !(encoded.rows[(encoded.count - 1) * FEATURE_COUNT + WAIT_GAIN] > 0)) {
      // The wait row is last: dropping it from the count masks it.
      encoded.count -= 1;
      encoded.hosts.pop();
      encoded.rows = encoded.rows.subarray(0, encoded.count * FEATURE_COUNT);
    }
    this.totalGpus = Math.max(1, all.reduce((s, c) => s + c.totalGpus, 0));

    if (this.pending && this.stats) {
      // The finished decision's reward as the learner sees it: its cost, centred on the running rate.
      const { costRate, epsilon } = this.learner.snapshotCounters();
      this.stats.recordReward(now * 1000, -(this.pending.cost - costRate * this.pending.elapsed), epsilon);
    }
    if (this.learning && this.pending) {
      this.pending.next = encoded.rows;
      this.pending.nextCount = encoded.count;
      this.learner.remember(this.pending);
    }
    const act = this.learner.act(encoded.rows, encoded.count, this.learning);
    const host = encoded.hosts[act.index];
    const pending: Pending = { row: encoded.rows.slice(act.index * FEATURE_COUNT, (act.index + 1) * FEATURE_COUNT), cost: 0, elapsed: 0, next: EMPTY, nextCount: 0 };
    this.pending = pending;
    if (this.learning) {
      this.owedSteps += this.options.trainPerDecision;
    }
    this.stats?.recordDecision({
      atMs: now * 1000,
      jobId: job.id,
      jobName: job.name,
      priority: job.priority,
      priorityPath: job.priorityReason,
      candidates: encoded.hosts.map((h, i) => ({ host: h, q: act.q[i] })),
      infeasible: all.filter((c) => !feasible.includes(c)).map((c) => ({ host: c.host, reason: feasibleHosts.includes(c) ? LATER : whyNot(c, job) })),
      chosen: host,
      explored: act.explored,
    });

    if (host === undefined) {
      this.heldSince.set(job.id, since ?? now);
      return { kind: 'wait', reason: 'Held back by the placement agent, expecting a better start soon.' };
    }
    this.heldSince.delete(job.id);
    const target = feasible.find((c) => c.host === host) as HostCandidate;
    // What the run is expected to take from now, a Slurm host's queue wait included; settled against
    // the actual time when the job ends, so an unexpectedly long wait is charged to this decision.
    const runSec = finishSec(job, target);
    round.recordLaunch(host, job, target.speed);
    this.placed.set(job.id, { runSec, transition: pending });
    // Only the excess over the fastest host is charged: the rest every schedule pays, sooner or later,
    // and charging it would make waiting look cheap merely because discounting shrinks deferred costs.
    const fastest = all.reduce((m, c) => (c.totalGpus >= job.gpus ? Math.max(m, c.speed) : m), target.speed);
    pending.cost += this.costOf(runSec - job.runtimeSec / fastest);
    return { kind: 'place', host };
  }

  get waitOffer(): WaitOffer {
    return this.options.waitOffer;
  }

  /**
   * Milliseconds spent in the learner's train() in this placement's lifetime: with DqnLearner the
   * gradient steps themselves (the benchmark's steps per second); with the worker, only handing over.
   */
  get trainMs(): number {
    return this.trainingMs;
  }

  /** Gradient steps taken in this placement's lifetime. */
  get trainSteps(): number {
    return this.learner.trainSteps;
  }

  /**
   * The run ended: the last decision has no successor, so it is dropped rather than guessed, and the
   * clock is forgotten (the next run, in the simulator, starts again at time zero).
   */
  endEpisode(): void {
    this.pending = undefined;
    this.round = undefined;
    this.lastSec = undefined;
    this.queuedJobs = 0;
    this.heldSince.clear();
    this.placed.clear();
  }

  /** Job-seconds as a cost: per GPU and in time units, like every cost the agent learns from. */
  private costOf(jobSec: number): number {
    return jobSec / this.timeUnitSec / this.totalGpus;
  }

  /** Accrues the queueing cost of the time since the last call. */
  private advance(nowSec: number): void {
    if (this.lastSec !== undefined && nowSec > this.lastSec && this.pending) {
      const dt = (nowSec - this.lastSec) / this.timeUnitSec;
      this.pending.cost += (this.queuedJobs / this.totalGpus) * dt;
      this.pending.elapsed += dt;
    }
    this.lastSec = this.lastSec === undefined ? nowSec : Math.max(this.lastSec, nowSec);
  }

  private trainOwed(): void {
    const steps = Math.min(this.options.maxTrainPerRound, Math.floor(this.owedSteps));
    this.owedSteps -= steps;
    if (steps > 0) {
      const t0 = performance.now();
      const losses = this.learner.train(steps);
      this.trainingMs += performance.now() - t0;
      const first = this.learner.trainSteps - losses.length + 1;
      losses.forEach((loss, i) => this.stats?.recordTrainStep({ step: first + i, loss, atMs: (this.lastSec ?? 0) * 1000 }));
    }
    // Steps beyond the cap are forgiven, not carried: a backlog would only grow during bursts.
    this.owedSteps = Math.min(this.owedSteps, this.options.maxTrainPerRound);
  }
}

const LATER = 'would finish it later, and no queued job competes for the hosts';

/** The hosts expected to finish the job soonest: what no job competing for them means picking. */
function soonestFinishing(job: Job, feasible: HostCandidate[]): HostCandidate[] {
  const soonest = Math.min(...feasible.map((c) => finishSec(job, c)));
  return feasible.filter((c) => finishSec(job, c) <= soonest);
}

/**
 * Why an online host cannot take a job now, in the dashboard's words. Hosts a job's constraints rule
 * out never reach the agent (the scheduler leaves them out of `all`); those that do may lack free GPUs
 * of the model or memory asked for.
 */
function whyNot(c: HostCandidate, job: Job): string {
  const gpus = job.gpus;
  if (c.runningJobs >= c.maxJobs) {
    return `at its limit of ${c.maxJobs} job${c.maxJobs === 1 ? '' : 's'}`;
  }
  if (hasConstraints(job.constraints) && c.freeGpus.length >= gpus) {
    return `its free GPUs do not meet the job's constraints (${constraintsText(job.constraints)})`;
  }
  return c.totalGpus < gpus ? `has ${c.totalGpus} GPUs, the job needs ${gpus}` : `${c.freeGpus.length} of ${c.totalGpus} GPUs free, the job needs ${gpus}`;
}

/**
 * What the agent did, for the dashboard: every decision (the job, each candidate's Q-value, the hosts
 * that could not take it and why, the choice, explored or greedy, and later how the job ended), every
 * training step (its loss), the reward of each completed decision with its moving average, and ε, as
 * events and as bounded ring buffers a view can read when it opens, plus the running figures (backend,
 * ε, replay size, steps). Recording is cheap and bounded, so it stays on in the product; nothing here
 * affects decisions.
 */
import { Emitter, type Event } from '../core/emitter';
import { RingBuffer } from './ringBuffer';

export interface CandidateScore {
  /** Host name, or undefined for "wait". */
  host: string | undefined;
  q: number;
}

export interface DecisionRecord {
  /** Numbered by AgentStats, increasing. */
  seq?: number;
  /** Clock of the decision (simulated time in the simulator), epoch ms. */
  atMs: number;
  jobId: string;
  jobName: string;
  priority?: string;
  /** The classifier's decision path for the job's priority. */
  priorityPath?: string;
  candidates: CandidateScore[];
  /** Online hosts that could not take the job now, and why. */
  infeasible?: Array<{ host: string; reason: string }>;
  /** The chosen host, or undefined for "wait". */
  chosen: string | undefined;
  explored: boolean;
  /** Set when the placed job ends. */
  outcome?: { state: string; runSec: number; jctSec: number };
}

export interface TrainRecord {
  step: number;
  loss: number;
  /** Wall clock of the step, epoch ms (when known). */
  atMs?: number;
}

/** One chart point: wall clock (epoch ms), training step then, value. */
export interface SeriesPoint {
  t: number;
  step: number;
  v: number;
}

export type SeriesName = 'loss' | 'reward' | 'rewardAvg' | 'epsilon';
export const SERIES_NAMES: readonly SeriesName[] = ['loss', 'reward', 'rewardAvg', 'epsilon'];

/** Decisions the reward's moving average spans. */
const REWARD_WINDOW = 50;

export interface StatsCapacity {
  decisions: number;
  trainSteps: number;
  /** Points kept per chart series. */
  points: number;
}

export interface AgentFigures {
  backend: string;
  /** Whether the agent is learning now (setting on and the training worker running). */
  learning?: boolean;
  /** When the learned weights were last written, epoch ms. */
  savedAtMs?: number;
  epsilon: number;
  replaySize: number;
  trainSteps: number;
  decisions: number;
}

export class AgentStats {
  readonly decisions: RingBuffer<DecisionRecord>;
  readonly trainSteps: RingBuffer<TrainRecord>;
  readonly series: Record<SeriesName, RingBuffer<SeriesPoint>>;
  private readonly decisionEmitter = new Emitter<DecisionRecord>();
  private readonly trainEmitter = new Emitter<TrainRecord>();
  private readonly figuresEmitter = new Emitter<AgentFigures>();
  private readonly pointEmitter = new Emitter<{ name: SeriesName; point: SeriesPoint }>();
  private readonly outcomeEmitter = new Emitter<DecisionRecord>();
  private current: AgentFigures;
  private seq = 0;
  private readonly recentRewards: number[] = [];
  private rewardSum = 0;

  readonly onDecision: Event<DecisionRecord> = this.decisionEmitter.event;
  readonly onTrainStep: Event<TrainRecord> = this.trainEmitter.event;
  readonly onFigures: Event<AgentFigures> = this.figuresEmitter.event;
  /** A point was added to a chart series. */
  readonly onPoint: Event<{ name: SeriesName; point: SeriesPoint }> = this.pointEmitter.event;
  /** A recorded decision learned its job's outcome. */
  readonly onOutcome: Event<DecisionRecord> = this.outcomeEmitter.event;

  constructor(backend: string, capacity: Partial<StatsCapacity> = {}) {
    this.decisions = new RingBuffer(capacity.decisions ?? 500);
    this.trainSteps = new RingBuffer(capacity.trainSteps ?? 2_000);
    const points = capacity.points ?? 10_000;
    this.series = { loss: new RingBuffer(points), reward: new RingBuffer(points), rewardAvg: new RingBuffer(points), epsilon: new RingBuffer(points) };
    this.current = { backend, epsilon: 0, replaySize: 0, trainSteps: 0, decisions: 0 };
  }

  /** trainq.agent.statsHistory changed: each chart keeps its newest points up to the new length. */
  setPointCapacity(points: number): void {
    Object.values(this.series).forEach((ring) => ring.resize(points));
  }

  get figures(): AgentFigures {
    return { ...this.current };
  }

  recordDecision(record: DecisionRecord): void {
    record.seq = ++this.seq;
    this.decisions.push(record);
    this.decisionEmitter.fire(record);
  }

  recordTrainStep(record: TrainRecord): void {
    this.trainSteps.push(record);
    this.trainEmitter.fire(record);
    this.addPoint('loss', { t: record.atMs ?? Date.now(), step: record.step, v: record.loss });
  }

  /** The reward of a completed decision (minus its centred cost), and ε after it. */
  recordReward(atMs: number, reward: number, epsilon: number): void {
    const step = this.current.trainSteps;
    this.recentRewards.push(reward);
    this.rewardSum += reward;
    if (this.recentRewards.length > REWARD_WINDOW) {
      this.rewardSum -= this.recentRewards.shift() as number;
    }
    this.addPoint('reward', { t: atMs, step, v: reward });
    this.addPoint('rewardAvg', { t: atMs, step, v: this.rewardSum / this.recentRewards.length });
    this.addPoint('epsilon', { t: atMs, step, v: epsilon });
  }

  /** Attaches how a placed job ended to its latest decision. */
  recordOutcome(jobId: string, outcome: NonNullable<DecisionRecord['outcome']>): void {
    const decision = this.decisions.findLast((d) => d.jobId === jobId && d.chosen !== undefined);
    if (decision) {
      decision.outcome = outcome;
      this.outcomeEmitter.fire(decision);
    }
  }

  private addPoint(name: SeriesName, point: SeriesPoint): void {
    this.series[name].push(point);
    this.pointEmitter.fire({ name, point });
  }

  /** Updated after each round rather than per step: the figures move slowly and views redraw on each event. */
  updateFigures(figures: Partial<AgentFigures>): void {
    this.current = { ...this.current, ...figures };
    this.figuresEmitter.fire(this.figures);
  }

  /** Forgets recorded decisions, steps and chart points (the agent was reset). */
  clear(): void {
    this.decisions.clear();
    this.trainSteps.clear();
    SERIES_NAMES.forEach((name) => this.series[name].clear());
    this.recentRewards.length = 0;
    this.rewardSum = 0;
  }

  /** Mean loss of the last `n` recorded steps (NaN when none): a trend line for the dashboard. */
  recentLoss(n = 100): number {
    const steps = this.trainSteps.toArray().slice(-n);
    return steps.length === 0 ? NaN : steps.reduce((s, r) => s + r.loss, 0) / steps.length;
  }

  dispose(): void {
    this.decisionEmitter.dispose();
    this.trainEmitter.dispose();
    this.figuresEmitter.dispose();
    this.pointEmitter.dispose();
    this.outcomeEmitter.dispose();
  }
}

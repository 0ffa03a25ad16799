/**
 * What the agent did, for the dashboard: every decision (the job, each candidate's Q-value, the
 * choice, explored or greedy) and every training step (its loss), as events and as bounded ring
 * buffers a view can read when it opens, plus the running figures (ε, replay size, steps, backend).
 * Recording is cheap and bounded, so it stays on in the product; nothing here affects decisions.
 */
import { Emitter, type Event } from '../core/emitter';

export interface CandidateScore {
  /** Host name, or undefined for "wait". */
  host: string | undefined;
  q: number;
}

export interface DecisionRecord {
  /** Clock of the decision (simulated time in the simulator), epoch ms. */
  atMs: number;
  jobId: string;
  jobName: string;
  candidates: CandidateScore[];
  /** The chosen host, or undefined for "wait". */
  chosen: string | undefined;
  explored: boolean;
}

export interface TrainRecord {
  step: number;
  loss: number;
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

/** A fixed-size ring; `toArray` is oldest first. */
export class RingBuffer<T> {
  private readonly items: T[] = [];
  private head = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`Ring capacity must be a positive integer, got ${capacity}.`);
    }
  }

  get size(): number {
    return this.items.length;
  }

  push(item: T): void {
    if (this.items.length < this.capacity) {
      this.items.push(item);
    } else {
      this.items[this.head] = item;
      this.head = (this.head + 1) % this.capacity;
    }
  }

  toArray(): T[] {
    return this.items.length < this.capacity ? [...this.items] : [...this.items.slice(this.head), ...this.items.slice(0, this.head)];
  }

  clear(): void {
    this.items.length = 0;
    this.head = 0;
  }
}

export class AgentStats {
  readonly decisions: RingBuffer<DecisionRecord>;
  readonly trainSteps: RingBuffer<TrainRecord>;
  private readonly decisionEmitter = new Emitter<DecisionRecord>();
  private readonly trainEmitter = new Emitter<TrainRecord>();
  private readonly figuresEmitter = new Emitter<AgentFigures>();
  private current: AgentFigures;

  readonly onDecision: Event<DecisionRecord> = this.decisionEmitter.event;
  readonly onTrainStep: Event<TrainRecord> = this.trainEmitter.event;
  readonly onFigures: Event<AgentFigures> = this.figuresEmitter.event;

  constructor(backend: string, capacity = { decisions: 500, trainSteps: 2_000 }) {
    this.decisions = new RingBuffer(capacity.decisions);
    this.trainSteps = new RingBuffer(capacity.trainSteps);
    this.current = { backend, epsilon: 0, replaySize: 0, trainSteps: 0, decisions: 0 };
  }

  get figures(): AgentFigures {
    return { ...this.current };
  }

  recordDecision(record: DecisionRecord): void {
    this.decisions.push(record);
    this.decisionEmitter.fire(record);
  }

  recordTrainStep(record: TrainRecord): void {
    this.trainSteps.push(record);
    this.trainEmitter.fire(record);
  }

  /** Updated after each round rather than per step: the figures move slowly and views redraw on each event. */
  updateFigures(figures: Partial<AgentFigures>): void {
    this.current = { ...this.current, ...figures };
    this.figuresEmitter.fire(this.figures);
  }

  /** Forgets recorded decisions and steps (the agent was reset). */
  clear(): void {
    this.decisions.clear();
    this.trainSteps.clear();
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
  }
}

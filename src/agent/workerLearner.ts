/**
 * The extension host's side of the learner: it scores candidates itself (PlainQNetwork over the
 * latest weights, so a decision never waits on another thread) and hands everything that costs CPU,
 * replay and gradient steps, to the training worker through `post`. The worker's 'trained' messages
 * bring new weights, which the next decision uses.
 *
 * ε and the decision count live here (they move with decisions); training steps, replay size and the
 * cost rate live in the worker and arrive with each burst. snapshot() joins them for saving.
 */
import type { ActResult, DqnConfig, LearnerCounters, LearnerSnapshot } from './dqnLearner';
import { epsilonGreedy, startingCounters } from './dqnLearner';
import type { PlacementLearner } from './dqnPlacement';
import { PlainQNetwork } from './plainQNetwork';
import { encodeFloats, parameterShapes, type NetworkShape } from './qNetwork';
import type { Transition } from './replayBuffer';
import type { FromWorker, ToWorker } from './trainingProtocol';

export class WorkerLearner implements PlacementLearner {
  private network: PlainQNetwork;
  private params: Float32Array;
  private readonly counters: LearnerCounters;
  private readonly ids = new WeakMap<Transition, number>();
  private nextId = 1;
  /** Set when the worker is gone: decisions go on with the last weights, nothing more is sent. */
  private detached = false;

  constructor(
    private readonly post: (message: ToWorker) => void,
    readonly shape: NetworkShape,
    params: Float32Array,
    counters: Partial<LearnerCounters>,
    private readonly config: Pick<DqnConfig, 'epsilonStart' | 'epsilonEnd' | 'epsilonDecayDecisions'>,
    private readonly random: () => number = Math.random,
  ) {
    this.params = params;
    this.network = new PlainQNetwork(shape, params);
    this.counters = startingCounters(counters, config);
  }

  get trainSteps(): number {
    return this.counters.trainSteps;
  }

  act(rows: Float32Array, count: number, explore: boolean): ActResult {
    return epsilonGreedy(this.network.predict(rows, count), count, explore ? this.counters : undefined, this.config, this.random);
  }

  remember(t: Transition): void {
    if (this.detached) {
      return;
    }
    const id = this.nextId++;
    this.ids.set(t, id);
    this.post({ type: 'remember', id, row: t.row, cost: t.cost, elapsed: t.elapsed, next: t.next, nextCount: t.nextCount });
  }

  addCost(t: Transition, delta: number): void {
    t.cost += delta;
    const id = this.ids.get(t);
    if (id !== undefined && !this.detached) {
      this.post({ type: 'addCost', id, delta });
    }
  }

  /** Training happens in the worker; its losses arrive later through onTrained. */
  train(steps: number): number[] {
    if (steps > 0 && !this.detached) {
      this.post({ type: 'train', steps });
    }
    return [];
  }

  /** Stops asking for steps and drops those owed (learning switched off). */
  pause(): void {
    if (!this.detached) {
      this.post({ type: 'pause' });
    }
  }

  /** The worker stopped: keep deciding with what was learned so far, send nothing more. */
  detach(): void {
    this.detached = true;
  }

  /** Takes a burst's result: new weights for the next decision, and the worker's counters. */
  onTrained(message: Extract<FromWorker, { type: 'trained' }>): void {
    this.params = message.params;
    this.network = new PlainQNetwork(this.shape, message.params);
    Object.assign(this.counters, message.counters);
  }

  snapshotCounters(): LearnerCounters {
    return { ...this.counters };
  }

  snapshot(): LearnerSnapshot {
    let offset = 0;
    const weights = parameterShapes(this.shape).map(({ name, shape }) => {
      const size = shape.reduce((a, b) => a * b, 1);
      const data = encodeFloats(this.params.subarray(offset, offset + size));
      offset += size;
      return { name, shape, data };
    });
    return { network: { inputs: this.shape.inputs, hidden: [...this.shape.hidden] }, weights, counters: this.snapshotCounters() };
  }
}

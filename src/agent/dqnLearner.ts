/**
 * The DQN learner: online network θ, target network θ⁻ synced every `targetSyncEvery` steps,
 * experience replay, ε-greedy exploration with linear decay, Adam, and Huber loss on the Double DQN
 * target  y = r + γ^Δt · Q(s', argmax_a' Q(s', a'; θ); θ⁻).
 *
 * It knows nothing about jobs or hosts: it scores rows of features (encoder.ts) and learns from
 * transitions (replayBuffer.ts). Two choices follow from the scheduling problem and are explained
 * in media/agent/README.md:
 *  - Semi-MDP discounting: decisions come at irregular times (several at one instant, then none for
 *    hours), so the discount is γ per unit of time, γ^Δt, not per decision.
 *  - Reward centring: the reward is minus the cost accrued (queueing and excess run time, whose sum
 *    is the total JCT up to a constant; see dqnPlacement.ts). Its level depends on the load far more
 *    than on any one action, so the long-run cost rate is subtracted (r = −(cost − rate·Δt)); what is
 *    left is what actions change.
 */
import type * as tfTypes from '@tensorflow/tfjs';
import type { Tf } from './backend';
import { QNetwork, type NetworkShape, type SerializedTensor } from './qNetwork';
import { ReplayBuffer, type Transition } from './replayBuffer';

export interface DqnConfig {
  hidden: number[];
  learningRate: number;
  /** Discount per unit of time (the typical job's run time, see encoder.ts). */
  gammaPerUnit: number;
  batchSize: number;
  replayCapacity: number;
  /** No training until the buffer holds this many transitions. */
  minReplay: number;
  targetSyncEvery: number;
  epsilonStart: number;
  epsilonEnd: number;
  /** Decisions over which ε falls linearly from start to end. */
  epsilonDecayDecisions: number;
  loss: 'huber' | 'mse';
  /**
   * Time (in units) the running cost rate averages over. It decays with elapsed time, not per
   * transition: many decisions at one instant must not wash out the time base of the average.
   */
  costRateWindow: number;
}

export const DEFAULT_DQN_CONFIG: DqnConfig = {
  hidden: [64, 64],
  learningRate: 3e-4,
  gammaPerUnit: 0.8,
  batchSize: 64,
  replayCapacity: 20_000,
  minReplay: 256,
  targetSyncEvery: 500,
  epsilonStart: 1,
  epsilonEnd: 0.02,
  epsilonDecayDecisions: 30_000,
  loss: 'huber',
  costRateWindow: 500,
};

/** Training counters: saved with the weights so learning resumes where it stopped. */
export interface LearnerCounters {
  trainSteps: number;
  decisions: number;
  epsilon: number;
  replaySize: number;
  /** Long-run jobs in system (cost per unit time), the level rewards are centred on. */
  costRate: number;
}

export interface LearnerSnapshot {
  network: NetworkShape;
  weights: SerializedTensor[];
  counters: LearnerCounters;
}

/** Fresh weights (from a seeded initialiser) or a saved set with its counters. */
export type LearnerInit =
  | { kind: 'fresh'; arrays: Float32Array[] }
  | { kind: 'saved'; weights: SerializedTensor[]; counters: Partial<LearnerCounters> };

export interface ActResult {
  index: number;
  q: Float32Array;
  explored: boolean;
}

export class DqnLearner {
  readonly replay: ReplayBuffer;
  private readonly online: QNetwork;
  private readonly target: QNetwork;
  private readonly optimizer: tfTypes.Optimizer;
  private readonly lossFn: (predicted: tfTypes.Tensor, target: tfTypes.Tensor) => tfTypes.Scalar;
  private counters: LearnerCounters;
  /** Exponentially time-decayed sums of cost and of time; their ratio is the running cost rate. */
  private costSum: number;
  private timeSum: number;

  constructor(
    private readonly tf: Tf,
    readonly config: DqnConfig,
    readonly shape: NetworkShape,
    private readonly random: () => number,
    init: LearnerInit,
  ) {
    this.online = init.kind === 'saved' ? QNetwork.fromSerialized(tf, shape, init.weights) : QNetwork.fromArrays(tf, shape, init.arrays);
    this.target = QNetwork.fromArrays(tf, shape, this.online.toArrays(), false);
    this.optimizer = tf.train.adam(config.learningRate);
    this.lossFn = config.loss === 'huber' ? huberLoss(tf) : (p, t) => tf.mean(tf.square(tf.sub(p, t))) as tfTypes.Scalar;
    this.replay = new ReplayBuffer(config.replayCapacity);
    this.counters = startingCounters(init.kind === 'saved' ? init.counters : {}, config);
    // The saved rate starts as a prior worth a tenth of the window, so a new workload soon takes over.
    this.timeSum = config.costRateWindow / 10;
    this.costSum = this.counters.costRate * this.timeSum;
  }

  get epsilon(): number {
    return this.counters.epsilon;
  }

  /** Pins ε (the bench and tests use a fixed value; training uses the schedule). */
  setEpsilon(value: number): void {
    this.counters.epsilon = value;
  }

  snapshotCounters(): LearnerCounters {
    return { ...this.counters, replaySize: this.replay.size, costRate: this.costRate };
  }

  get costRate(): number {
    return this.costSum / this.timeSum;
  }

  /** ε-greedy over `count` rows (all of them allowed: masking happens before, by not encoding a row). */
  act(rows: Float32Array, count: number, explore = true): ActResult {
    return epsilonGreedy(this.online.predict(rows, count), count, explore ? this.counters : undefined, this.config, this.random);
  }

  /** Q-values only, no exploration and no counters: for tests and the dashboard. */
  evaluate(rows: Float32Array, count: number): Float32Array {
    return this.online.predict(rows, count);
  }

  remember(t: Transition): void {
    const keep = Math.exp(-t.elapsed / this.config.costRateWindow);
    this.costSum = keep * this.costSum + t.cost;
    this.timeSum = keep * this.timeSum + t.elapsed;
    this.replay.push(t);
  }

  /** A remembered transition's cost grew (a job's actual run time settled): it is the same object in replay. */
  addCost(t: Transition, delta: number): void {
    t.cost += delta;
  }

  /** Runs up to `steps` gradient steps now; the losses of those taken (none while replay is too small). */
  train(steps: number): number[] {
    const losses: number[] = [];
    for (let i = 0; i < steps; i++) {
      const loss = this.trainStep();
      if (loss === undefined) {
        break;
      }
      losses.push(loss);
    }
    return losses;
  }

  /** Every parameter, flat, in qNetwork's parameterShapes order: what the extension host scores with. */
  parameters(): Float32Array {
    return this.online.flatParameters();
  }

  get trainSteps(): number {
    return this.counters.trainSteps;
  }

  /** One gradient step on a replayed batch; the loss, or undefined while the buffer is too small. */
  trainStep(): number | undefined {
    const { batchSize, minReplay, gammaPerUnit, targetSyncEvery } = this.config;
    if (this.replay.size < Math.max(minReplay, batchSize)) {
      return undefined;
    }
    const tf = this.tf;
    const inputs = this.shape.inputs;
    const batch = this.replay.sample(batchSize, this.random);
    const rows = new Float32Array(batchSize * inputs);
    let nextTotal = 0;
    batch.forEach((t, i) => {
      rows.set(t.row, i * inputs);
      nextTotal += t.nextCount;
    });
    const nextRows = new Float32Array(nextTotal * inputs);
    let offset = 0;
    for (const t of batch) {
      nextRows.set(t.next, offset * inputs);
      offset += t.nextCount;
    }
    // Both networks evaluate every next row in one pass each, read back with a single sync.
    const both = nextTotal > 0 ? tf.tidy(() => {
      const x = tf.tensor2d(nextRows, [nextTotal, inputs]);
      return tf.concat([this.online.forward(x), this.target.forward(x)]).dataSync() as Float32Array;
    }) : new Float32Array(0);
    const rate = this.costRate;
    const targets = new Float32Array(batchSize);
    offset = 0;
    batch.forEach((t, i) => {
      let bootstrap = 0;
      if (t.nextCount > 0) {
        let best = offset;
        for (let j = offset + 1; j < offset + t.nextCount; j++) {
          if (both[j] > both[best]) {
            best = j;
          }
        }
        bootstrap = Math.pow(gammaPerUnit, t.elapsed) * both[nextTotal + best];
      }
      targets[i] = -(t.cost - rate * t.elapsed) + bootstrap;
      offset += t.nextCount;
    });
    const loss = tf.tidy(() => {
      const x = tf.tensor2d(rows, [batchSize, inputs]);
      const y = tf.tensor2d(targets, [batchSize, 1]);
      const cost = this.optimizer.minimize(() => this.lossFn(this.online.forward(x), y), true, this.online.variables);
      return (cost as tfTypes.Scalar).dataSync()[0];
    });
    this.counters.trainSteps += 1;
    if (this.counters.trainSteps % targetSyncEvery === 0) {
      this.target.copyFrom(this.online);
    }
    return loss;
  }

  snapshot(): LearnerSnapshot {
    return { network: { inputs: this.shape.inputs, hidden: [...this.shape.hidden] }, weights: this.online.serialize(), counters: this.snapshotCounters() };
  }

  dispose(): void {
    this.online.dispose();
    this.target.dispose();
    this.optimizer.dispose();
  }
}

/**
 * Mean Huber loss (δ = 1) with its gradient written out, clip(q − y, −1, 1) / n: the same values as
 * tf.losses.huberLoss at about half the kernels, since the generic version differentiates every
 * intermediate step.
 */
export function huberLoss(tf: Tf): (predicted: tfTypes.Tensor, target: tfTypes.Tensor) => tfTypes.Scalar {
  const fn = tf.customGrad((...args: Array<tfTypes.Tensor | tfTypes.GradSaveFunc>) => {
    const [predicted, target, save] = args as [tfTypes.Tensor, tfTypes.Tensor, tfTypes.GradSaveFunc];
    const error = tf.sub(predicted, target);
    save([error]);
    const abs = tf.abs(error);
    const quadratic = tf.minimum(abs, 1);
    return {
      value: tf.mean(tf.add(tf.mul(tf.square(quadratic), 0.5), tf.sub(abs, quadratic))),
      gradFunc: (dy: tfTypes.Tensor, saved: tfTypes.Tensor[]) => {
        const grad = tf.mul(tf.clipByValue(saved[0], -1, 1), tf.div(dy, saved[0].size));
        return [grad, tf.neg(grad)];
      },
    };
  });
  return (predicted, target) => fn(predicted, target) as tfTypes.Scalar;
}

/** Counters to resume from: the saved ones, else a fresh start (ε at its start value); replay starts empty. */
export function startingCounters(saved: Partial<LearnerCounters>, config: Pick<DqnConfig, 'epsilonStart'>): LearnerCounters {
  return {
    trainSteps: saved.trainSteps ?? 0,
    decisions: saved.decisions ?? 0,
    epsilon: saved.epsilon ?? config.epsilonStart,
    replaySize: 0,
    costRate: saved.costRate ?? 0,
  };
}

/**
 * ε-greedy over `count` Q-values. With `counters` (a learning agent) it counts the decision and decays
 * ε linearly; without, it is greedy and changes nothing. Shared by the learner and the extension host's
 * worker-backed learner, so both explore on the same schedule.
 */
export function epsilonGreedy(
  q: Float32Array,
  count: number,
  counters: Pick<LearnerCounters, 'decisions' | 'epsilon'> | undefined,
  config: Pick<DqnConfig, 'epsilonStart' | 'epsilonEnd' | 'epsilonDecayDecisions'>,
  random: () => number,
): ActResult {
  let greedy = 0;
  for (let i = 1; i < count; i++) {
    if (q[i] > q[greedy]) {
      greedy = i;
    }
  }
  if (!counters) {
    return { index: greedy, q, explored: false };
  }
  counters.decisions += 1;
  const { epsilonStart, epsilonEnd, epsilonDecayDecisions } = config;
  const eps = counters.epsilon;
  counters.epsilon = Math.max(epsilonEnd, eps - (epsilonStart - epsilonEnd) / Math.max(1, epsilonDecayDecisions));
  if (count > 1 && random() < eps) {
    const index = Math.min(count - 1, Math.floor(random() * count));
    return { index, q, explored: index !== greedy };
  }
  return { index: greedy, q, explored: false };
}

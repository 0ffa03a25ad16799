/**
 * Experience replay: a fixed-capacity ring of transitions, sampled uniformly. The newest transition
 * overwrites the oldest once full, so memory stays bounded however long the extension runs.
 *
 * A transition is a semi-MDP step: the row of the action taken (encoder.ts), the cost accrued until
 * the next decision, the time that passed, and every row the next decision could choose from (a
 * variable number: one per feasible host, plus "wait" when allowed). Keeping the next rows, not just
 * a value, lets each training step re-evaluate them with the current networks (Double DQN).
 */
import { RingBuffer } from './ringBuffer';

export interface Transition {
  /** Features of the (state, action) row that was chosen. */
  row: Float32Array;
  /**
   * Cost from this decision to the next (queueing time, excess run time; see dqnPlacement.ts), per
   * GPU and in units of the typical job's run time. It may still grow after it is stored: a job's
   * actual run time is settled on the transition that placed it when the job ends.
   */
  cost: number;
  /** Time from this decision to the next, in the same unit. */
  elapsed: number;
  /** The next decision's candidate rows, row-major; empty when the episode ended here. */
  next: Float32Array;
  nextCount: number;
}

export class ReplayBuffer {
  private readonly ring: RingBuffer<Transition>;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`Replay capacity must be a positive integer, got ${capacity}.`);
    }
    this.ring = new RingBuffer(capacity);
  }

  get size(): number {
    return this.ring.size;
  }

  push(t: Transition): void {
    this.ring.push(t);
  }

  /** `count` transitions drawn uniformly with replacement; `random` is uniform in [0, 1). */
  sample(count: number, random: () => number): Transition[] {
    const size = this.ring.size;
    if (size === 0) {
      return [];
    }
    const out: Transition[] = new Array(count);
    for (let i = 0; i < count; i++) {
      out[i] = this.ring.slot(Math.min(size - 1, Math.floor(random() * size)));
    }
    return out;
  }

  clear(): void {
    this.ring.clear();
  }
}

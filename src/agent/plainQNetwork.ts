/**
 * The Q-network's forward pass in plain JavaScript, over the same flat parameters as qNetwork.ts.
 *
 * In the extension, TensorFlow.js trains in a worker thread (trainingWorker.ts); the extension host
 * only scores a handful of candidate rows per decision. Doing that here instead of through TF.js keeps
 * TF.js (megabytes of code and a WASM module) off the editor's thread and makes a decision a few
 * microseconds of arithmetic that never waits on the worker. A unit test holds it equal to
 * QNetwork.predict; the worker sends fresh parameters after each burst of training.
 */
import { parameterShapes, type NetworkShape } from './qNetwork';

export class PlainQNetwork {
  /** [rows, cols] of each weight matrix, in layer order. */
  private readonly layers: Array<{ inputs: number; outputs: number; wOffset: number; bOffset: number }> = [];
  private readonly widest: number;

  constructor(
    readonly shape: NetworkShape,
    /** Every parameter, flat, in parameterShapes order (what QNetwork.flatParameters returns). */
    private readonly params: Float32Array,
  ) {
    let offset = 0;
    const specs = parameterShapes(shape);
    for (let i = 0; i < specs.length; i += 2) {
      const [inputs, outputs] = specs[i].shape;
      this.layers.push({ inputs, outputs, wOffset: offset, bOffset: offset + inputs * outputs });
      offset += inputs * outputs + outputs;
    }
    if (offset !== params.length) {
      throw new RangeError(`A ${[shape.inputs, ...shape.hidden, 1].join('→')} network has ${offset} parameters, got ${params.length}.`);
    }
    this.widest = Math.max(shape.inputs, ...shape.hidden, 1);
  }

  /** Q-values of `count` rows packed row-major in `rows`, as QNetwork.predict. */
  predict(rows: Float32Array, count: number): Float32Array {
    const out = new Float32Array(count);
    let a = new Float64Array(this.widest);
    let b = new Float64Array(this.widest);
    const p = this.params;
    const last = this.layers.length - 1;
    for (let r = 0; r < count; r++) {
      for (let k = 0; k < this.shape.inputs; k++) {
        a[k] = rows[r * this.shape.inputs + k];
      }
      this.layers.forEach(({ inputs, outputs, wOffset, bOffset }, layer) => {
        for (let j = 0; j < outputs; j++) {
          let z = p[bOffset + j];
          // Weights are [inputs, outputs] row-major, as tf.matMul(x, w) reads them.
          for (let k = 0; k < inputs; k++) {
            z += a[k] * p[wOffset + k * outputs + j];
          }
          b[j] = layer < last && z < 0 ? 0 : z;
        }
        [a, b] = [b, a];
      });
      out[r] = a[0];
    }
    return out;
  }
}

/**
 * The Q-network: a small ReLU MLP that scores one (state, action) row, so one shared network handles
 * any number of hosts (each candidate host, and "wait", is a row; see encoder.ts).
 *
 * It is written with a raw variable rather than tf.layers for three reasons: initial weights come from
 * our own seeded generator, so a seed gives the same network on every backend and tfjs version; the
 * weights serialise to plain little-endian float32 arrays that any backend loads; and a forward pass
 * is a handful of kernels, which matters when a decision must take well under a millisecond.
 * All parameters live in one flat variable, split into matrices inside the forward pass: at this size
 * a training step costs kernel launches, not arithmetic, and Adam on one variable instead of six
 * launches about a third fewer kernels per step.
 */
import type * as tfTypes from '@tensorflow/tfjs';
import type { Tf } from './backend';

export interface NetworkShape {
  inputs: number;
  hidden: readonly number[];
}

/** One weight tensor as stored on disk: backend-neutral, base64 of little-endian float32. */
export interface SerializedTensor {
  name: string;
  shape: number[];
  data: string;
}

export class WeightsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WeightsError';
  }
}

export function encodeFloats(values: Float32Array): string {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return Buffer.from(bytes).toString('base64');
}

export function decodeFloats(text: string): Float32Array {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length % 4 !== 0) {
    throw new WeightsError(`Weight data of ${bytes.length} bytes is not a whole number of float32 values.`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.length / 4);
  for (let i = 0; i < out.length; i++) {
    out[i] = view.getFloat32(i * 4, true);
  }
  return out;
}

/** Names and shapes of the parameters, in order: w0, b0, w1, b1, ..., the last layer has one output. */
export function parameterShapes(shape: NetworkShape): Array<{ name: string; shape: number[] }> {
  const sizes = [shape.inputs, ...shape.hidden, 1];
  return sizes.slice(1).flatMap((out, i) => [
    { name: `w${i}`, shape: [sizes[i], out] },
    { name: `b${i}`, shape: [out] },
  ]);
}

/**
 * He-uniform weights for the ReLU layers and a small output layer, so initial Q-values are near zero
 * and no action is strongly preferred before learning. `random` is uniform in [0, 1).
 */
export function initialParameters(shape: NetworkShape, random: () => number): Float32Array[] {
  return parameterShapes(shape).map(({ name, shape: dims }, index, all) => {
    const values = new Float32Array(dims.reduce((a, b) => a * b, 1));
    if (name.startsWith('w')) {
      const isOutput = index === all.length - 2;
      const limit = isOutput ? 0.01 : Math.sqrt(6 / dims[0]);
      for (let i = 0; i < values.length; i++) {
        values[i] = (random() * 2 - 1) * limit;
      }
    }
    return values;
  });
}

export class QNetwork {
  private readonly sizes: number[];
  private readonly shapes: number[][];

  private constructor(
    private readonly tf: Tf,
    readonly shape: NetworkShape,
    /** Every parameter, flat, in parameterShapes order. */
    readonly params: tfTypes.Variable,
  ) {
    this.shapes = parameterShapes(shape).map((p) => p.shape);
    this.sizes = this.shapes.map((dims) => dims.reduce((a, b) => a * b, 1));
  }

  /** What an optimizer updates. */
  get variables(): tfTypes.Variable[] {
    return [this.params];
  }

  static fromArrays(tf: Tf, shape: NetworkShape, arrays: readonly Float32Array[], trainable = true): QNetwork {
    const specs = parameterShapes(shape);
    if (arrays.length !== specs.length) {
      throw new WeightsError(`Expected ${specs.length} weight tensors for a ${describe(shape)} network, got ${arrays.length}.`);
    }
    const total = specs.reduce((sum, spec, i) => {
      const size = spec.shape.reduce((a, b) => a * b, 1);
      if (arrays[i].length !== size) {
        throw new WeightsError(`Weight ${spec.name} should hold ${size} values (${spec.shape.join('×')}), got ${arrays[i].length}.`);
      }
      return sum + size;
    }, 0);
    const flat = new Float32Array(total);
    let offset = 0;
    for (const a of arrays) {
      flat.set(a, offset);
      offset += a.length;
    }
    return new QNetwork(tf, shape, tf.variable(tf.tensor1d(flat, 'float32'), trainable, undefined, 'float32'));
  }

  static fromSerialized(tf: Tf, shape: NetworkShape, tensors: readonly SerializedTensor[], trainable = true): QNetwork {
    const specs = parameterShapes(shape);
    const byName = new Map(tensors.map((t) => [t.name, t]));
    const arrays = specs.map((spec) => {
      const t = byName.get(spec.name);
      if (!t) {
        throw new WeightsError(`Weight ${spec.name} is missing.`);
      }
      if (t.shape.join('×') !== spec.shape.join('×')) {
        throw new WeightsError(`Weight ${spec.name} has shape ${t.shape.join('×')}, expected ${spec.shape.join('×')}.`);
      }
      return decodeFloats(t.data);
    });
    return QNetwork.fromArrays(tf, shape, arrays, trainable);
  }

  /** The forward pass as tensors, for use inside tf.tidy or an optimizer's loss function. */
  forward(x: tfTypes.Tensor2D): tfTypes.Tensor2D {
    const tf = this.tf;
    const parts = tf.split(this.params, this.sizes);
    let h: tfTypes.Tensor2D = x;
    const layers = parts.length / 2;
    for (let i = 0; i < layers; i++) {
      const w = tf.reshape(parts[2 * i], this.shapes[2 * i] as [number, number]) as tfTypes.Tensor2D;
      const z = tf.add(tf.matMul(h, w), parts[2 * i + 1]) as tfTypes.Tensor2D;
      h = i < layers - 1 ? tf.relu(z) : z;
    }
    return h;
  }

  /** Q-values of `count` rows of features packed row-major in `rows`. */
  predict(rows: Float32Array, count: number): Float32Array {
    const tf = this.tf;
    return tf.tidy(() => this.forward(tf.tensor2d(rows, [count, this.shape.inputs])).dataSync() as Float32Array);
  }

  /** Makes this network's weights equal to `source`'s (the target network's periodic sync). */
  copyFrom(source: QNetwork): void {
    this.params.assign(source.params);
  }

  /** A copy of every parameter, flat, in parameterShapes order. */
  flatParameters(): Float32Array {
    return Float32Array.from(this.params.dataSync() as Float32Array);
  }

  toArrays(): Float32Array[] {
    const flat = this.params.dataSync() as Float32Array;
    let offset = 0;
    return this.sizes.map((size) => {
      const part = Float32Array.from(flat.subarray(offset, offset + size));
      offset += size;
      return part;
    });
  }

  serialize(): SerializedTensor[] {
    const specs = parameterShapes(this.shape);
    return this.toArrays().map((values, i) => ({ name: specs[i].name, shape: specs[i].shape, data: encodeFloats(values) }));
  }

  dispose(): void {
    this.params.dispose();
  }
}

export function describe(shape: NetworkShape): string {
  return [shape.inputs, ...shape.hidden, 1].join('→');
}

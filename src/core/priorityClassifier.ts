/**
 * Puts each job into the High, Medium or Low queue with a CART decision tree (ml-cart), learned at
 * start-up from the documented default policy (defaultTrainingSet.ts) plus the user's own overrides,
 * and explains each decision as the path the job took through the tree.
 */
import { DecisionTreeClassifier } from 'ml-cart';
import type { CartNode, CartOptions } from 'ml-cart';
import type { JobFeatures, Priority } from './job';
import { PRIORITIES, priorityLabel } from './job';
import type { PriorityExample } from './workspaceState';
import type { LabelledFeatures } from './defaultTrainingSet';
import { DEFAULT_TRAINING_SET } from './defaultTrainingSet';
import type { FeatureColumn } from './features';
import { FEATURE_COLUMNS, describeInterval, encodeFeatures, encodeRuntime, validateFeatures, NEUTRAL_GAIN_PCT } from './features';

/** Only the most recent overrides count: old habits should fade, and training stays fast. */
export const MAX_USER_EXAMPLES = 500;

/**
 * Each override enters the training set this many times. With minNumSamples 2, a node of two rows
 * or fewer becomes a leaf, so a single copy could only ever be outvoted by a neighbour; three copies
 * let the tree give one override a leaf of its own, and make it outweigh any one default example.
 */
export const USER_EXAMPLE_WEIGHT = 3;

/**
 * maxDepth 6: the default policy needs five levels (two importance splits, gain, gpus, runtime),
 * and one more lets an override carve its neighbourhood out of a default region.
 */
export const TREE_OPTIONS: Readonly<CartOptions> = { gainFunction: 'gini', splitFunction: 'mean', maxDepth: 6, minNumSamples: 1, gainThreshold: 0.01 };

// ml-cart's labels are class indices; its tie-break picks the lowest, so ties go to the higher priority.
const LABEL_CODE: Readonly<Record<Priority, number>> = { high: 0, medium: 1, low: 2 };
const LABEL_OF: readonly Priority[] = ['high', 'medium', 'low'];

/**
 * Two jobs are neighbours when the user would expect them to be treated alike: same importance,
 * GPU counts equal or within a factor of 2 (but a CPU job is never a GPU job's neighbour), runtimes
 * within a factor of 2 and expected gains within 10 points.
 */
export function areNeighbours(a: JobFeatures, b: JobFeatures): boolean {
  const [fewer, more] = a.gpus <= b.gpus ? [a.gpus, b.gpus] : [b.gpus, a.gpus];
  const gpusClose = fewer === more || (fewer >= 1 && more <= 2 * fewer);
  const runtimeClose = Math.abs(encodeRuntime(a.runtimeSec) - encodeRuntime(b.runtimeSec)) <= 1;
  const gainClose = Math.abs((a.expectedGain ?? NEUTRAL_GAIN_PCT) - (b.expectedGain ?? NEUTRAL_GAIN_PCT)) <= 10;
  return a.importance === b.importance && gpusClose && runtimeClose && gainClose;
}

function isUsable(example: PriorityExample): boolean {
  try {
    validateFeatures(example.features);
  } catch {
    return false;
  }
  return PRIORITIES.includes(example.label);
}

export interface TrainingSet {
  examples: LabelledFeatures[];
  /** Parallel to examples: whether each came from the user. */
  fromUser: boolean[];
}

/**
 * Decides what the tree learns from. The user's latest word wins locally: an override drops the
 * default examples and the older overrides that are its neighbours but carry another label, so the
 * tree has nothing nearby to contradict it, while defaults elsewhere keep the policy everywhere else.
 * Invalid stored examples (a hand-edited state file) are skipped rather than breaking start-up.
 */
export function buildTrainingSet(base: readonly LabelledFeatures[], userExamples: readonly PriorityExample[]): TrainingSet {
  const newestFirst = userExamples
    .filter(isUsable)
    .sort((a, b) => b.at - a.at)
    .slice(0, MAX_USER_EXAMPLES);
  const contradicts = (kept: readonly LabelledFeatures[], candidate: LabelledFeatures): boolean =>
    kept.some((k) => k.label !== candidate.label && areNeighbours(k.features, candidate.features));

  const user: LabelledFeatures[] = [];
  for (const example of newestFirst) {
    if (!contradicts(user, example)) {
      user.push({ features: example.features, label: example.label });
    }
  }
  const examples = base.filter((example) => !contradicts(user, example));
  const fromUser = examples.map(() => false);
  for (const example of user) {
    for (let copy = 0; copy < USER_EXAMPLE_WEIGHT; copy++) {
      examples.push(example);
      fromUser.push(true);
    }
  }
  return { examples, fromUser };
}

export interface DecisionStep {
  column: number;
  feature: FeatureColumn;
  /** ml-cart sends `value < threshold` left and everything else right. */
  op: '<' | '≥';
  /** In the encoded space of features.ts (runtime as log2 hours). */
  threshold: number;
}

export interface Classification {
  priority: Priority;
  /** For the tooltip, e.g. "importance normal · gpus ≥ 4 · runtime ≥ 12h → Low". */
  path: string;
  steps: DecisionStep[];
  /** True when most training examples behind the decision were the user's overrides. */
  learnedFromUser: boolean;
}

export interface ClassifierOptions {
  /** Replaces the default policy; tests use it to train on a set of their own. */
  baseExamples?: readonly LabelledFeatures[];
}

export class PriorityClassifier {
  private readonly base: readonly LabelledFeatures[];
  private root: CartNode = {};
  private readonly userLeaves = new Set<CartNode>();
  private size = 0;

  constructor(userExamples: readonly PriorityExample[] = [], options: ClassifierOptions = {}) {
    this.base = options.baseExamples ?? DEFAULT_TRAINING_SET;
    this.retrain(userExamples);
  }

  /** Number of rows the current tree was trained on (user examples counted with their weight). */
  get trainingSize(): number {
    return this.size;
  }

  retrain(userExamples: readonly PriorityExample[]): void {
    const built = buildTrainingSet(this.base, userExamples);
    const order = built.examples.map((_, i) => i).sort((a, b) => LABEL_CODE[built.examples[a].label] - LABEL_CODE[built.examples[b].label]);
    const examples = order.map((i) => built.examples[i]);
    const fromUser = order.map((i) => built.fromUser[i]);
    const rows = examples.map((e) => encodeFeatures(e.features));
    const labels = examples.map((e) => LABEL_CODE[e.label]);
    const tree = new DecisionTreeClassifier({ ...TREE_OPTIONS });
    tree.train(rows, labels);
    this.root = tree.root;
    this.size = rows.length;
    this.userLeaves.clear();
    this.settle(this.root, rows.map((_, i) => i), rows, labels, fromUser);
  }

  /** Validates the features (throws FeatureError) and walks the tree, recording each comparison. */
  classify(f: JobFeatures): Classification {
    validateFeatures(f);
    const x = encodeFeatures(f);
    const steps: DecisionStep[] = [];
    let node = this.root;
    while (node.left && node.right) {
      const column = node.splitColumn as number;
      const threshold = node.splitValue as number;
      const goesLeft = x[column] < threshold;
      steps.push({ column, feature: FEATURE_COLUMNS[column], op: goesLeft ? '<' : '≥', threshold });
      node = goesLeft ? node.left : node.right;
    }
    const priority = leafPriority(node);
    const learnedFromUser = this.userLeaves.has(node);
    const path = `${describeSteps(steps, f)} → ${priorityLabel(priority)}${learnedFromUser ? ' (learned from your overrides)' : ''}`;
    return { priority, path, steps, learnedFromUser };
  }

  /**
   * ml-cart may put a threshold exactly on a training value (when equal values carry different
   * labels), which would send a job just below an example's runtime the other way. Moving each
   * threshold halfway between the training values either side keeps every training row on its side
   * and makes nearby jobs follow their nearest examples. On the way down it notes which leaves were
   * mostly learned from the user, for the tooltip.
   */
  private settle(node: CartNode, indices: number[], rows: number[][], labels: number[], fromUser: boolean[]): void {
    if (!node.left || !node.right) {
      const label = LABEL_CODE[leafPriority(node)];
      const agreeing = indices.filter((i) => labels[i] === label);
      if (agreeing.filter((i) => fromUser[i]).length * 2 > agreeing.length) {
        this.userLeaves.add(node);
      }
      return;
    }
    const column = node.splitColumn as number;
    const threshold = node.splitValue as number;
    const left = indices.filter((i) => rows[i][column] < threshold);
    const right = indices.filter((i) => rows[i][column] >= threshold);
    if (left.length > 0 && right.length > 0) {
      const below = Math.max(...left.map((i) => rows[i][column]));
      const above = Math.min(...right.map((i) => rows[i][column]));
      node.splitValue = (below + above) / 2;
    }
    this.settle(node.left, left, rows, labels, fromUser);
    this.settle(node.right, right, rows, labels, fromUser);
  }
}

function leafPriority(node: CartNode): Priority {
  // The same rule as ml-cart's predict: the most frequent label at the leaf, lowest index on ties.
  const distribution = node.distribution;
  return distribution ? LABEL_OF[distribution.maxRowIndex(0)[1]] : 'medium';
}

/** Merges the comparisons on each feature into one interval, in the order the tree first asked. */
function describeSteps(steps: readonly DecisionStep[], input: JobFeatures): string {
  if (steps.length === 0) {
    return 'every job';
  }
  const bounds = new Map<number, { lower?: number; upper?: number }>();
  for (const step of steps) {
    const b = bounds.get(step.column) ?? {};
    if (step.op === '<') {
      b.upper = b.upper === undefined ? step.threshold : Math.min(b.upper, step.threshold);
    } else {
      b.lower = b.lower === undefined ? step.threshold : Math.max(b.lower, step.threshold);
    }
    bounds.set(step.column, b);
  }
  return [...bounds].map(([column, b]) => describeInterval(column, b.lower, b.upper, input)).join(' · ');
}

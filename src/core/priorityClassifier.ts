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
import { FEATURE_COLUMNS, describeInterval, encodeFeatures, validateFeatures } from './features';

/** Only the most recent overrides count: old habits fade, and training stays fast. */
export const MAX_USER_EXAMPLES = 500;

/**
 * minNumSamples is ml-cart's "a node with this many rows or fewer is a leaf", so 1 lets any two
 * rows be split (scikit-learn's min_samples_split = 2) and a single override can get its own leaf.
 * gainThreshold 0: the split that sets one override apart from a few dozen rows gains less than
 * ml-cart's default of 0.01, and must not be refused. maxDepth 6: the default policy needs four
 * levels, which leaves two for carving out overrides while keeping tooltips short.
 */
export const TREE_OPTIONS: Readonly<CartOptions> = { gainFunction: 'gini', splitFunction: 'mean', maxDepth: 6, minNumSamples: 1, gainThreshold: 0 };

// ml-cart's labels are class indices, and its ties go to the lowest index, so to the higher priority.
const LABEL_CODE: Readonly<Record<Priority, number>> = { high: 0, medium: 1, low: 2 };
const LABEL_OF: readonly Priority[] = ['high', 'medium', 'low'];

/** Expected gains closer than this (in percentage points) count as the same. */
const GAIN_NEIGHBOURHOOD = 10;

/**
 * Two encoded jobs are neighbours when a user would expect them to be treated alike: same importance,
 * runtimes within a factor of 2, expected gains within 10 points, and GPU counts equal or within a
 * factor of 2 (a CPU job is never a GPU job's neighbour).
 */
function nearby(a: readonly number[], b: readonly number[]): boolean {
  const fewer = Math.min(a[0], b[0]);
  const more = Math.max(a[0], b[0]);
  return (
    a[1] === b[1] &&
    Math.abs(a[3] - b[3]) <= 1 &&
    Math.abs(a[2] - b[2]) <= GAIN_NEIGHBOURHOOD &&
    (fewer === more || (fewer >= 1 && more <= 2 * fewer))
  );
}

export function areNeighbours(a: JobFeatures, b: JobFeatures): boolean {
  return nearby(encodeFeatures(a), encodeFeatures(b));
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
  rows: number[][];
  labels: number[];
  /** Parallel to rows: whether each came from the user. */
  fromUser: boolean[];
}

/**
 * What the tree learns from. The user's latest word wins locally: each override removes the default
 * examples and the older overrides that are its neighbours but carry another label, so nothing near
 * it contradicts it, while the defaults elsewhere keep the policy for other jobs. Each override then
 * counts once: conflicts are settled here rather than by outvoting, and every copy would cost
 * training time (ml-cart's split search grows with rows × candidate splits).
 * Invalid stored examples (a hand-edited state file) are skipped rather than breaking start-up.
 */
export function buildTrainingSet(base: readonly LabelledFeatures[], userExamples: readonly PriorityExample[]): TrainingSet {
  const newestFirst = userExamples
    .filter(isUsable)
    .sort((a, b) => b.at - a.at)
    .slice(0, MAX_USER_EXAMPLES);
  const userRows: number[][] = [];
  const userLabels: Priority[] = [];
  const contradicted = (row: readonly number[], label: Priority): boolean =>
    userRows.some((kept, i) => userLabels[i] !== label && nearby(kept, row));

  for (const example of newestFirst) {
    const row = encodeFeatures(example.features);
    if (!contradicted(row, example.label)) {
      userRows.push(row);
      userLabels.push(example.label);
    }
  }
  const set: TrainingSet = { rows: [], labels: [], fromUser: [] };
  for (const example of base) {
    const row = encodeFeatures(example.features);
    if (!contradicted(row, example.label)) {
      set.rows.push(row);
      set.labels.push(LABEL_CODE[example.label]);
      set.fromUser.push(false);
    }
  }
  userRows.forEach((row, i) => {
    set.rows.push(row);
    set.labels.push(LABEL_CODE[userLabels[i]]);
    set.fromUser.push(true);
  });
  return set;
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
  /** For the tooltip, e.g. "importance normal · gain < 20% · runtime ≥ 12h · gpus ≥ 4 → Low". */
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
  private rowCount = 0;
  /** The path text of each leaf, with a gain given and without; cleared on retrain. */
  private readonly pathTexts = new Map<CartNode, [string | undefined, string | undefined]>();

  constructor(userExamples: readonly PriorityExample[] = [], options: ClassifierOptions = {}) {
    this.base = options.baseExamples ?? DEFAULT_TRAINING_SET;
    this.retrain(userExamples);
  }

  /** Rows the current tree was trained on, after overrides replaced the examples they contradict. */
  get trainingSize(): number {
    return this.rowCount;
  }

  retrain(userExamples: readonly PriorityExample[]): void {
    const { rows, labels, fromUser } = buildTrainingSet(this.base, userExamples);
    const tree = new DecisionTreeClassifier({ ...TREE_OPTIONS });
    tree.train(rows, labels);
    this.root = tree.root;
    this.rowCount = rows.length;
    this.userLeaves.clear();
    this.pathTexts.clear();
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
    // A path's text depends only on its leaf and on whether a gain was given, so it is written once
    // per leaf: the simulator classifies thousands of jobs per run.
    let texts = this.pathTexts.get(node);
    if (!texts) {
      texts = [undefined, undefined];
      this.pathTexts.set(node, texts);
    }
    const variant = f.expectedGain === undefined ? 1 : 0;
    const path = (texts[variant] ??= `${describeSteps(steps, f)} → ${priorityLabel(priority)}${learnedFromUser ? ' (learned from your overrides)' : ''}`);
    return { priority, path, steps, learnedFromUser };
  }

  /**
   * Routes the training rows down the tree to re-place each threshold (see placeThreshold), which
   * keeps every row on its side, and notes the leaves mostly learned from overrides, for the tooltip.
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
      const userBelow = left.some((i) => fromUser[i] && rows[i][column] === below);
      const userAbove = right.some((i) => fromUser[i] && rows[i][column] === above);
      node.splitValue = placeThreshold(column, below, above, userBelow, userAbove);
    }
    this.settle(node.left, left, rows, labels, fromUser);
    this.settle(node.right, right, rows, labels, fromUser);
  }
}

/** How far (log2 hours) an override reaches along runtime: 30% either way, a usual estimate error. */
const RUNTIME_REACH = Math.log2(1.3);

/**
 * Any threshold above `below` and up to `above` splits the training rows the same way. ml-cart may
 * put it on a row's own value (when equal values carry different labels); CART's convention is the
 * midpoint, which sends new jobs to their nearest example. For runtime, when only one side of the gap
 * is an override, the cut moves away from it as far as the gap allows, so that a job whose estimate
 * differs from the overridden one by a usual estimation error is treated like it.
 */
function placeThreshold(column: number, below: number, above: number, userBelow: boolean, userAbove: boolean): number {
  const mid = (below + above) / 2;
  if (FEATURE_COLUMNS[column] !== 'runtime' || userBelow === userAbove) {
    return mid;
  }
  // Stay clear of the rows' own values: `below` must remain below the cut, `above` at or above it.
  const inset = (above - below) / 10;
  return userBelow
    ? Math.max(mid, Math.min(below + RUNTIME_REACH, above - inset))
    : Math.min(mid, Math.max(above - RUNTIME_REACH, below + inset));
}

function leafPriority(node: CartNode): Priority {
  // ml-cart's own rule: the most frequent label at the leaf, the lowest index on ties.
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

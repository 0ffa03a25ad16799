/**
 * A tabular Q-learning agent that searches by moving hyper-parameters. Its actions are "move one
 * parameter up or down by a step from the best trial so far" (a step is a fraction of the unit-cube
 * axis, so log-scaled parameters move by a factor; a choice moves to its next or previous value) and
 * "jump" (a fresh point elsewhere: uniform here, TPE's pick in the adaptive strategy). The reward is
 * the trial's improvement over the incumbent, normalised by the spread of results so far, so it means
 * the same for a loss of 0.3 and an accuracy of 93.
 *
 * State is small on purpose, so it generalises within one sweep's few dozen trials: after an improving
 * move, the state is "improved by <action>" (Q learns to repeat a good direction, like momentum);
 * otherwise it is how long the search has been stuck (Q learns when jumping pays off).
 *
 * The agent keeps nothing between calls. Each proposal replays the history in trial order: the action
 * behind each trial is read back from its parameters (one parameter changed from the incumbent of the
 * time → that move; otherwise a jump), and Q is updated from its result. Trials still running have
 * no reward yet; they are skipped, and any point already in the sweep is never proposed again.
 */
import type { Goal, ParamSpec, Params, Proposal, SearchStrategy, TrialRecord } from './sweepTypes';
import { decode, encode, paramsKey, shortValue, usableParams } from './paramSpace';
import { rngFor } from './seededRandom';
import { trialLoss } from './trialScore';
import { freshUniform, seenKeys } from './simpleSearch';

export interface QLearningOptions {
  /** Uniform trials before the agent starts moving. */
  startup?: number;
  /** Learning rate and discount of the Q update. */
  alpha?: number;
  discount?: number;
  /** ε starts here and decays by `epsilonDecay` per move, down to `epsilonMin`. */
  epsilon?: number;
  epsilonDecay?: number;
  epsilonMin?: number;
  /** First step, as a fraction of the unit axis; halved after 2·d moves in a row fail to improve. */
  step?: number;
  minStep?: number;
}

/** What a proposal needs beyond the point: the jump is pluggable so adaptive can jump with TPE. */
export type JumpProvider = (history: readonly TrialRecord[]) => Proposal | undefined;

/** Optimistic start: an untried action looks slightly better than a known-neutral one, so each gets tried. */
const Q_INIT = 0.05;

interface Replay {
  q: Map<string, number[]>;
  state: string;
  incumbent?: { trial: TrialRecord; loss: number };
  step: number;
  moves: number;
  stuck: number;
}

export function resolveQOptions(dims: number, o: QLearningOptions = {}): Required<QLearningOptions> {
  return {
    startup: o.startup ?? Math.max(4, dims + 2),
    alpha: o.alpha ?? 0.3,
    discount: o.discount ?? 0.5,
    epsilon: o.epsilon ?? 0.3,
    epsilonDecay: o.epsilonDecay ?? 0.93,
    epsilonMin: o.epsilonMin ?? 0.05,
    step: o.step ?? 0.2,
    minStep: o.minStep ?? 0.01,
  };
}

const stuckState = (stuck: number, dims: number): string => `stuck:${stuck < 2 ? 0 : stuck < 2 * dims + 2 ? 1 : 2}`;

function actionName(spec: readonly ParamSpec[], a: number): string {
  if (a === 2 * spec.length) return 'jump';
  return `${spec[a >> 1].name} ${a % 2 === 0 ? 'up' : 'down'}`;
}

/** The action that turns `from` into `to`: one parameter moved → that move; anything else → a jump. */
function actionBetween(spec: readonly ParamSpec[], from: Params, to: Params): number {
  const a = encode(spec, from);
  const b = encode(spec, to);
  const changed = a.map((x, i) => i).filter((i) => Math.abs(a[i] - b[i]) > 1e-9);
  if (changed.length !== 1) return 2 * spec.length;
  return 2 * changed[0] + (b[changed[0]] > a[changed[0]] ? 0 : 1);
}

/** The point one step along an action from the incumbent (never the incumbent itself where avoidable). */
export function movedPoint(spec: readonly ParamSpec[], from: Params, action: number, step: number): Params {
  const i = action >> 1;
  const sign = action % 2 === 0 ? 1 : -1;
  const x = encode(spec, from);
  const p = spec[i];
  if (p.kind === 'choice') {
    const k = p.values.length;
    const index = Math.round(x[i] * k - 0.5) + sign;
    x[i] = (Math.min(k - 1, Math.max(0, index)) + 0.5) / k;
    return decode(spec, x);
  }
  x[i] += sign * step;
  const moved = decode(spec, x);
  if (p.kind === 'int' && moved[p.name] === from[p.name]) moved[p.name] = decode(spec, encode(spec, { ...from, [p.name]: Number(from[p.name]) + sign }))[p.name];
  return moved;
}

/** Rebuilds the agent from the history (see the file comment). */
export function replayAgent(spec: readonly ParamSpec[], history: readonly TrialRecord[], goal: Goal, o: Required<QLearningOptions>): Replay {
  const nActions = 2 * spec.length + 1;
  const r: Replay = { q: new Map(), state: stuckState(0, spec.length), step: o.step, moves: 0, stuck: 0 };
  const qOf = (s: string): number[] => r.q.get(s) ?? (r.q.set(s, new Array<number>(nActions).fill(Q_INIT)), r.q.get(s)!);
  const losses: number[] = [];
  history.forEach((trial, index) => {
    const loss = trialLoss(trial, goal);
    if (loss === undefined) return;
    const inc = r.incumbent;
    if (index >= o.startup && inc) {
      const action = actionBetween(spec, inc.trial.params, trial.params);
      // Normalise by the spread between the median and the best result so far: a typical bad trial costs ~1.
      const sorted = [...losses].sort((a, b) => a - b);
      const scale = Math.max(1e-12, sorted[Math.floor(sorted.length / 2)] - sorted[0]) || 1;
      const reward = Math.max(-1, Math.min(1, (inc.loss - loss) / scale));
      const improved = loss < inc.loss;
      r.stuck = improved ? 0 : r.stuck + 1;
      if (!improved && r.stuck % (2 * spec.length) === 0) r.step = Math.max(o.minStep, r.step / 2);
      const next = improved ? `improved:${action}` : stuckState(r.stuck, spec.length);
      const q = qOf(r.state);
      q[action] += o.alpha * (reward + o.discount * Math.max(...qOf(next)) - q[action]);
      r.state = next;
      r.moves++;
    }
    if (!inc || loss < inc.loss) r.incumbent = { trial, loss };
    losses.push(loss);
  });
  qOf(r.state);
  return r;
}

export interface QSuggestion extends Proposal {
  /** True when the agent chose to jump (the caller's jump provider produced the point). */
  jumped: boolean;
}

/** The agent's next proposal, or undefined while it is still in its random start. */
export function qlearningSuggest(
  params: readonly ParamSpec[],
  history: readonly TrialRecord[],
  goal: Goal,
  seed: number,
  jump: JumpProvider,
  opts: QLearningOptions = {},
): QSuggestion | undefined {
  const spec = usableParams(params);
  const o = resolveQOptions(spec.length, opts);
  if (history.length < o.startup || spec.length === 0) return undefined;
  const agent = replayAgent(spec, history, goal, o);
  const inc = agent.incumbent;
  if (!inc) return undefined;
  const rng = rngFor(seed, history.length, 'qlearning');
  const epsilon = Math.max(o.epsilonMin, o.epsilon * Math.pow(o.epsilonDecay, agent.moves));
  const q = agent.q.get(agent.state)!;
  const seen = seenKeys(history);
  // Preference order: greedy by Q (ties at random), or a random order when exploring.
  const explore = rng.next() < epsilon;
  const order = q.map((v, a) => ({ a, v, tie: rng.next() })).sort((x, y) => (explore ? x.tie - y.tie : y.v - x.v || x.tie - y.tie));
  for (const { a } of order) {
    const name = actionName(spec, a);
    const how = `${explore ? 'exploring' : 'greedy'}, Q=${q[a].toFixed(2)}, ε=${epsilon.toFixed(2)}`;
    if (a === 2 * spec.length) {
      const j = jump(history);
      if (j) return { params: j.params, why: `Q-learning: jump (${how}, stuck for ${agent.stuck} trials) — ${j.why}`, jumped: true };
      continue;
    }
    const moved = movedPoint(spec, inc.trial.params, a, agent.step);
    if (seen.has(paramsKey(moved))) continue;
    const p = spec[a >> 1];
    const change = `${p.name} ${shortValue(inc.trial.params[p.name])} → ${shortValue(moved[p.name])}`;
    const size = p.kind === 'choice' ? 'one value' : `one step of ${shortValue(agent.step)} of its ${p.log ? 'log ' : ''}range`;
    return {
      params: moved,
      why: `Q-learning: moved ${name} by ${size} from the best trial ${inc.trial.trial} (${change}; ${how}).`,
      jumped: false,
    };
  }
  return undefined;
}

export function createQLearningSearch(params: readonly ParamSpec[], goal: Goal, seed: number, opts: QLearningOptions = {}): SearchStrategy {
  const spec = usableParams(params);
  const startup = resolveQOptions(spec.length, opts).startup;
  const uniform: JumpProvider = (history) => {
    const drawn = freshUniform(spec, history, seed, 'qlearning-jump');
    return drawn && { params: drawn, why: 'a uniform draw over the space.' };
  };
  return {
    name: 'qlearning',
    propose(history) {
      const s = qlearningSuggest(spec, history, goal, seed, uniform, opts);
      if (s) return { params: s.params, why: s.why };
      const drawn = freshUniform(spec, history, seed, 'qlearning-start');
      if (!drawn) return undefined;
      return { params: drawn, why: `Q-learning: random start ${Math.min(history.length + 1, startup)} of ${startup}, to find a first incumbent to move from.` };
    },
  };
}

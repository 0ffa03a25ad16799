/**
 * Builds a ready agent from a saved state (or from a seeded initialiser when there is none) and turns
 * a running agent back into a state to save. The extension, the simulator's `dqn` policy and the
 * pre-training script all go through here, so what is trained is what is shipped and benchmarked.
 * Random numbers are injected: the simulator passes seeded streams, which makes runs repeatable.
 */
import type { Tf } from './backend';
import { AGENT_FORMAT, AGENT_VERSION, type AgentState, type Provenance } from './agentStore';
import type { AgentStats } from './agentStats';
import { DEFAULT_DQN_CONFIG, DqnLearner, type DqnConfig } from './dqnLearner';
import { DEFAULT_PLACEMENT_OPTIONS, DqnPlacement, type DqnPlacementOptions } from './dqnPlacement';
import { FEATURE_COUNT, FEATURE_VERSION } from './encoder';
import { initialParameters } from './qNetwork';

/**
 * Learning online from trained weights: a smaller step, and no step until the (empty) replay buffer
 * holds a spread of recent situations, so the first few hundred decisions cannot drag a good policy
 * towards whatever happened last.
 */
export const FINE_TUNING: Partial<DqnConfig> = { learningRate: 1e-4, minReplay: 300 };

export interface AgentRandom {
  /** Initial weights, used only when no saved state is given. */
  init: () => number;
  /** Exploration and replay sampling. */
  learner: () => number;
}

export interface Agent {
  learner: DqnLearner;
  placement: DqnPlacement;
}

/** The learner's settings for a run: defaults, then fine-tuning when starting from trained weights. */
export function learnerConfig(state: AgentState | undefined, overrides: Partial<DqnConfig> = {}): DqnConfig {
  return { ...DEFAULT_DQN_CONFIG, ...(state ? { hidden: [...state.network.hidden], ...FINE_TUNING } : {}), ...overrides };
}

/** A learner from a saved state, or fresh seeded weights when there is none. */
export function createLearner(tf: Tf, state: AgentState | undefined, random: AgentRandom, config: DqnConfig): DqnLearner {
  const shape = { inputs: FEATURE_COUNT, hidden: config.hidden };
  return state
    ? new DqnLearner(tf, config, shape, random.learner, { kind: 'saved', weights: state.weights, counters: state.counters })
    : new DqnLearner(tf, config, shape, random.learner, { kind: 'fresh', arrays: initialParameters(shape, random.init) });
}

/** Placement options for a run: defaults, the saved time unit, then the caller's. */
export function placementOptions(state: AgentState | undefined, overrides: Partial<DqnPlacementOptions> = {}): DqnPlacementOptions {
  const fromState = state ? { timeUnitSec: state.counters.timeUnitSec, ...(state.waitOffer ? { waitOffer: state.waitOffer } : {}) } : {};
  return { ...DEFAULT_PLACEMENT_OPTIONS, ...fromState, ...overrides };
}

export function createAgent(
  tf: Tf,
  state: AgentState | undefined,
  random: AgentRandom,
  overrides: { config?: Partial<DqnConfig>; placement?: Partial<DqnPlacementOptions>; stats?: AgentStats } = {},
): Agent {
  const learner = createLearner(tf, state, random, learnerConfig(state, overrides.config));
  return { learner, placement: new DqnPlacement(learner, placementOptions(state, overrides.placement), overrides.stats) };
}

export function agentStateOf(agent: Agent, provenance?: Provenance): AgentState {
  const snap = agent.learner.snapshot();
  return {
    format: AGENT_FORMAT,
    version: AGENT_VERSION,
    featureVersion: FEATURE_VERSION,
    network: snap.network,
    weights: snap.weights,
    counters: { ...snap.counters, timeUnitSec: agent.placement.timeUnitSec },
    waitOffer: agent.placement.waitOffer,
    ...(provenance ? { provenance } : {}),
  };
}

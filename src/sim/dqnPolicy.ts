/**
 * The `dqn` policy for the simulator: TrainQ's priority queues with the DQN placement agent, starting
 * from the shipped weights and learning online during the run, as it does in the product.
 *
 * The agent needs what Placement.choose does not carry (the clock, the whole queue, the running jobs,
 * jobs-in-system changes for its reward), so this wraps the priority discipline: admit() tells it about
 * each new job, order() (called once per dispatch round, before any decision) opens the round, and
 * onEvent() feeds it submissions and finishes. It sees runtime estimates only, never true durations.
 *
 * The backend is explicit, for repeatable timings and numbers: TRAINQ_AGENT_BACKEND (default `wasm`).
 * TRAINQ_AGENT_WEIGHTS names another weights file to start from (default: the shipped one);
 * TRAINQ_WASM_DIR the folder of the WASM kernels (default: the installed package's).
 * With one seed and one backend, a run is deterministic: the agent's random streams derive from it.
 */
import * as path from 'node:path';
import { PriorityClassifier } from '../core/priorityClassifier';
import { createAgent, type Agent } from '../agent/agentSetup';
import { loadAgentState } from '../agent/agentStore';
import { resolveBackend, type ResolvedBackend } from '../agent/backend';
import { isBackendPreference, type BackendPreference } from '../agent/backendPreference';
import type { PolicyContext, PolicyInstance } from './policyTypes';
import { withPlacementHooks } from './placementHooks';
import { priorityDiscipline } from './queueDisciplines';
import { createRng } from './rng';

export const SHIPPED_WEIGHTS = path.join(__dirname, '..', '..', 'media', 'agent', 'dqn-weights.json');
export const DQN_SUMMARY = 'TrainQ priority queues over predicted run times, DQN placement with learned host speeds (shipped weights, learning online)';

const backends = new Map<BackendPreference, Promise<ResolvedBackend>>();

/** One backend per process and preference: tfjs backends are global, and starting WASM takes a while. */
export function simBackend(preference?: BackendPreference): Promise<ResolvedBackend> {
  const fromEnv = process.env.TRAINQ_AGENT_BACKEND;
  const pref = preference ?? (isBackendPreference(fromEnv) ? fromEnv : 'wasm');
  let pending = backends.get(pref);
  if (!pending) {
    // A bundle (the dashboard's evaluation worker) has no node_modules: it names the .wasm folder.
    pending = resolveBackend(pref, { wasmDir: process.env.TRAINQ_WASM_DIR || undefined });
    backends.set(pref, pending);
  }
  return pending;
}

/** The registry entry's `create`: a fresh agent from the shipped weights for each run. */
export async function createDqnPolicy(ctx: PolicyContext): Promise<PolicyInstance> {
  const { tf } = await simBackend();
  const state = await loadAgentState(process.env.TRAINQ_AGENT_WEIGHTS ?? SHIPPED_WEIGHTS);
  const agent = createAgent(tf, state, {
    init: createRng(ctx.seed, 'dqn-init').next,
    learner: createRng(ctx.seed, 'dqn-learner').next,
  });
  return dqnPolicyInstance(agent, ctx, () => agent.learner.dispose());
}

/**
 * Wires an agent into one simulation run. The pre-training script calls this per episode with a
 * long-lived agent (and no-op `release`), so training drives exactly the code the bench measures.
 */
export function dqnPolicyInstance(agent: Agent, ctx: Pick<PolicyContext, 'agingMs'>, release: () => void = () => undefined): PolicyInstance {
  const { placement } = agent;
  const stepsAtStart = placement.trainSteps;
  const msAtStart = placement.trainMs;
  return {
    ...withPlacementHooks(priorityDiscipline(new PriorityClassifier(), ctx.agingMs), placement),
    trainSteps: () => placement.trainSteps - stepsAtStart,
    trainMs: () => placement.trainMs - msAtStart,
    dispose: () => {
      placement.endEpisode();
      release();
    },
  };
}

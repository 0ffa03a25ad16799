/**
 * Messages between the extension host (WorkerLearner, AgentService) and the training worker
 * (trainingWorker.ts). Plain data only: structured clone copies typed arrays, and nothing here may
 * hold a tensor, because each side has its own TensorFlow.js (or none).
 */
import type { BackendName, BackendPreference } from './backendPreference';
import type { AgentState } from './agentStore';

/** Given to the worker at start (workerData). */
export interface TrainingWorkerData {
  trainq: 'training-worker';
  state: AgentState;
  backend: BackendPreference;
  /** Folder of tfjs-backend-wasm's .wasm files; the package's own when absent. */
  wasmDir?: string;
  /** Extra folders to resolve the optional native TensorFlow packages from. */
  searchPaths?: string[];
  /** Share of one core training may use, 0–1: the worker sleeps between bursts to stay under it. */
  cpuShare: number;
}

export type ToWorker =
  | { type: 'remember'; id: number; row: Float32Array; cost: number; elapsed: number; next: Float32Array; nextCount: number }
  | { type: 'addCost'; id: number; delta: number }
  | { type: 'train'; steps: number }
  /** Drop the steps still owed (learning was switched off). */
  | { type: 'pause' };

export interface WorkerCounters {
  trainSteps: number;
  replaySize: number;
  costRate: number;
}

export type FromWorker =
  | { type: 'ready'; backend: BackendName; detail: string }
  /** Every 250 ms of training at most, and when the backlog is cleared: the losses since the last message (the last one is step counters.trainSteps), and the new weights. */
  | { type: 'trained'; losses: number[]; params: Float32Array; counters: WorkerCounters }
  | { type: 'failed'; message: string };

export function isTrainingWorkerData(value: unknown): value is TrainingWorkerData {
  return typeof value === 'object' && value !== null && (value as { trainq?: unknown }).trainq === 'training-worker';
}

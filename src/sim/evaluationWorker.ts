/**
 * The dashboard's "Evaluate Agent in Simulator": the benchmark's policies over a bundled trace slice,
 * in a worker thread so the editor stays responsive (the dqn run trains as it goes and takes seconds).
 * Bundled on its own (dist/evaluationWorker.js); the host side is evaluationRunner.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runBench, type BenchReport } from './bench';
import { loadCluster } from './clusterLoader';
import { defaultPolicyNames, resolvePolicies } from './policies';
import { loadTrace } from './traceLoader';

export interface EvaluationRequest {
  trainq: 'evaluation-worker';
  trace: string;
  cluster: string;
  /** Label for the report (the trace's file name, not the install path). */
  traceLabel: string;
  /** Weights the dqn policy starts from (the agent's current ones). */
  weights: string;
  wasmDir?: string;
  seed: number;
  maxJobs?: number;
  agingMinutes: number;
}

export type EvaluationMessage =
  | { type: 'progress'; policy: string; done: number; total: number }
  | { type: 'done'; report: BenchReport }
  | { type: 'failed'; message: string };

function isRequest(v: unknown): v is EvaluationRequest {
  return typeof v === 'object' && v !== null && (v as { trainq?: unknown }).trainq === 'evaluation-worker';
}

async function run(request: EvaluationRequest): Promise<void> {
  const post = (m: EvaluationMessage) => parentPort?.postMessage(m);
  try {
    // The dqn policy reads these (src/sim/dqnPolicy.ts); a worker's process.env is its own copy.
    process.env.TRAINQ_AGENT_WEIGHTS = request.weights;
    process.env.TRAINQ_AGENT_BACKEND = 'wasm';
    if (request.wasmDir) {
      process.env.TRAINQ_WASM_DIR = request.wasmDir;
    }
    const { report } = await runBench({
      trace: loadTrace(request.trace),
      traceLabel: request.traceLabel,
      cluster: loadCluster(request.cluster),
      policies: resolvePolicies(defaultPolicyNames()),
      seed: request.seed,
      maxJobs: request.maxJobs,
      agingMinutes: request.agingMinutes,
      onPolicyDone: (policy, done, total) => post({ type: 'progress', policy, done, total }),
    });
    post({ type: 'done', report });
  } catch (err) {
    post({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
  }
}

if (parentPort && isRequest(workerData)) {
  void run(workerData);
}

/**
 * Runs the simulator check in a worker thread (evaluationWorker.ts) and reports progress; cancelling
 * terminates the worker, which stops the run at once (it holds nothing that needs cleaning up).
 */
import { Worker } from 'node:worker_threads';
import type { BenchReport } from './bench';
import type { EvaluationMessage, EvaluationRequest } from './evaluationWorker';

export interface EvaluationRun {
  /** The report, or undefined when cancelled; rejects with the worker's message on failure. */
  result: Promise<BenchReport | undefined>;
  cancel(): void;
}

export interface EvaluationOptions {
  workerScript: string;
  request: Omit<EvaluationRequest, 'trainq'>;
  onProgress?: (policy: string, done: number, total: number) => void;
}

export function startEvaluation(options: EvaluationOptions): EvaluationRun {
  const worker = new Worker(options.workerScript, { workerData: { trainq: 'evaluation-worker', ...options.request } satisfies EvaluationRequest });
  let cancelled = false;
  const result = new Promise<BenchReport | undefined>((resolve, reject) => {
    worker.on('message', (m: EvaluationMessage) => {
      if (m.type === 'progress') {
        options.onProgress?.(m.policy, m.done, m.total);
      } else if (m.type === 'done') {
        resolve(m.report);
        void worker.terminate();
      } else if (m.type === 'failed') {
        reject(new Error(m.message));
        void worker.terminate();
      }
    });
    worker.on('error', reject);
    worker.on('exit', (code) => (cancelled ? resolve(undefined) : reject(new Error(`The simulator stopped (exit code ${code}) before finishing.`))));
  });
  return {
    result,
    cancel: () => {
      cancelled = true;
      void worker.terminate();
    },
  };
}

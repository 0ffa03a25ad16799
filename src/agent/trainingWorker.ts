/**
 * The training worker: TensorFlow.js and the replay buffer live here, off the extension host's
 * thread. The host (WorkerLearner) sends each transition as it is completed and asks for the gradient
 * steps its decisions owe; this side trains in short bursts and sends back the losses and the new
 * weights at most every 250 ms while a backlog lasts, and when it is cleared.
 *
 * CPU is bounded by duty cycle: after a burst of `busy` ms the loop sleeps busy × (1 − share) / share,
 * so training uses at most `cpuShare` of one core however large the backlog. The backlog itself is
 * capped: steps owed beyond MAX_OWED are forgiven, as in the simulator (a burst of decisions must not
 * buy minutes of training).
 *
 * Bundled on its own (dist/trainingWorker.js); when loaded as a worker with TrainingWorkerData it
 * starts by itself. TrainingLoop is exported for tests that drive it without a thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { createLearner, learnerConfig } from './agentSetup';
import { silentLogger, type Logger } from '../core/logger';
import { resolveBackend } from './backend';
import type { DqnLearner } from './dqnLearner';
import type { Transition } from './replayBuffer';
import { isTrainingWorkerData, type FromWorker, type ToWorker, type TrainingWorkerData } from './trainingProtocol';

const SLICE_MS = 25;
/** Results go to the host at most this often while a backlog lasts (each message copies the weights). */
const POST_EVERY_MS = 250;
const MAX_OWED = 2_048;

export class TrainingLoop {
  private owed = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Transitions still in replay, by the host's id, so a later cost settlement finds its transition. */
  private readonly byId = new Map<number, Transition>();
  private stopped = false;
  private unsent: number[] = [];
  private lastPost = 0;

  constructor(
    private readonly learner: DqnLearner,
    private readonly post: (message: FromWorker) => void,
    private readonly cpuShare: number,
  ) {}

  handle(message: ToWorker): void {
    switch (message.type) {
      case 'remember': {
        const t: Transition = { row: message.row, cost: message.cost, elapsed: message.elapsed, next: message.next, nextCount: message.nextCount };
        this.learner.remember(t);
        this.byId.set(message.id, t);
        // Older ids have left the replay ring (or soon will): forget them so the map stays bounded.
        this.byId.delete(message.id - this.learner.config.replayCapacity);
        break;
      }
      case 'addCost': {
        const t = this.byId.get(message.id);
        if (t) {
          this.learner.addCost(t, message.delta);
        }
        break;
      }
      case 'train':
        this.owed = Math.min(MAX_OWED, this.owed + Math.max(0, Math.floor(message.steps)));
        this.schedule(0);
        break;
      case 'pause':
        this.owed = 0;
        break;
    }
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(delayMs: number): void {
    if (this.timer === undefined && !this.stopped && this.owed > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.burst();
      }, delayMs);
    }
  }

  private burst(): void {
    const start = performance.now();
    const losses: number[] = [];
    while (this.owed > 0 && performance.now() - start < SLICE_MS) {
      const loss = this.learner.trainStep();
      if (loss === undefined) {
        // Replay is still too small: nothing can be learned yet, and these steps are not carried.
        this.owed = 0;
        break;
      }
      this.owed -= 1;
      losses.push(loss);
    }
    const end = performance.now();
    const busyMs = end - start;
    this.unsent.push(...losses);
    if (this.unsent.length > 0 && (this.owed === 0 || end - this.lastPost >= POST_EVERY_MS)) {
      const { trainSteps, replaySize, costRate } = this.learner.snapshotCounters();
      this.post({ type: 'trained', losses: this.unsent, params: this.learner.parameters(), counters: { trainSteps, replaySize, costRate } });
      this.unsent = [];
      this.lastPost = end;
    }
    const share = Math.min(1, Math.max(0.01, this.cpuShare));
    this.schedule((busyMs * (1 - share)) / share);
  }
}

async function run(data: TrainingWorkerData): Promise<void> {
  const port = parentPort;
  if (!port) {
    return;
  }
  const post = (message: FromWorker): void => port.postMessage(message);
  try {
    // Backend messages go to the host's log through 'ready' and 'failed'; warnings are collected here.
    const warnings: string[] = [];
    const logger: Logger = { ...silentLogger, warn: (m) => void warnings.push(m), error: (m) => void warnings.push(String(m)) };
    const backend = await resolveBackend(data.backend, { wasmDir: data.wasmDir, searchPaths: data.searchPaths, logger });
    const learner = createLearner(backend.tf, data.state, { init: Math.random, learner: Math.random }, learnerConfig(data.state));
    const loop = new TrainingLoop(learner, post, data.cpuShare);
    port.on('message', (message: ToWorker) => loop.handle(message));
    port.on('close', () => loop.stop());
    const detail = warnings.length > 0 ? `${backend.detail}; ${warnings.join(' ')}` : backend.detail;
    post({ type: 'ready', backend: backend.name, detail });
  } catch (err) {
    post({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
  }
}

if (parentPort && isTrainingWorkerData(workerData)) {
  void run(workerData);
}

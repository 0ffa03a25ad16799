/**
 * The agent as the extension's placement: loads the weights (the learning copy in global storage,
 * else the shipped set), starts the training worker, decides through DqnPlacement on the extension
 * host, saves what was learned, and can be reset or switched to another backend.
 *
 * It is itself a Placement, so the JobManager is built once and never notices the agent starting,
 * restarting or failing. Until the agent is ready, or when no weights can be loaded at all, the
 * fallback heuristic decides (with a logged warning in the second case): the queue never breaks.
 * A worker that cannot start, or dies, only stops learning: decisions go on with the last weights.
 */
import { promises as fs } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { Job } from '../core/job';
import type { Logger } from '../core/logger';
import type { HostCandidate, Placement, PlacementDecision, RoundView } from '../core/placement';
import { learnerConfig, placementOptions } from './agentSetup';
import { AGENT_FORMAT, AGENT_VERSION, loadAgentState, saveAgentState, type AgentState } from './agentStore';
import { AgentStats, type AgentFigures } from './agentStats';
import type { BackendPreference } from './backendPreference';
import { DqnPlacement } from './dqnPlacement';
import { FEATURE_VERSION } from './encoder';
import { decodeFloats, parameterShapes } from './qNetwork';
import type { FromWorker, ToWorker, TrainingWorkerData } from './trainingProtocol';
import { WorkerLearner } from './workerLearner';

export interface AgentSettings {
  backend: BackendPreference;
  learning: boolean;
}

/** The part of a worker_threads Worker the service uses; tests may pass another. */
export interface WorkerHandle {
  postMessage(message: ToWorker): void;
  on(event: 'message', listener: (message: FromWorker) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
  terminate(): Promise<number>;
}

export interface AgentServiceOptions {
  /** The learning copy (global storage). */
  savedWeights: string;
  /** The pre-trained set shipped with the extension. */
  shippedWeights: string;
  /** The bundled training worker script. */
  workerScript: string;
  /** Node flags for the worker (tests run the TypeScript source through tsx). */
  workerExecArgv?: string[];
  wasmDir?: string;
  searchPaths?: string[];
  logger: Logger;
  settings: () => AgentSettings;
  /** Decides until the agent is ready, and for good when it cannot load. */
  fallback: Placement;
  stats?: AgentStats;
  /** Share of one core training may use. */
  cpuShare?: number;
  /** How often learned weights are written, at most. */
  saveIntervalMs?: number;
  /** How long the worker may take to start its backend. */
  startTimeoutMs?: number;
}

interface Running {
  placement: DqnPlacement;
  learner: WorkerLearner;
  worker: WorkerHandle | undefined;
  state: AgentState;
}

export class AgentService implements Placement {
  readonly stats: AgentStats;
  private current: Running | undefined;
  private dirty = false;
  private saveTimer: ReturnType<typeof setInterval> | undefined;
  private saving: Promise<void> = Promise.resolve();
  private disposed = false;

  constructor(private readonly options: AgentServiceOptions) {
    this.stats = options.stats ?? new AgentStats('none');
  }

  get name(): string {
    return this.current ? 'dqn' : this.options.fallback.name;
  }

  /** True once the agent decides (false while starting, or when it fell back to the heuristic). */
  get active(): boolean {
    return this.current !== undefined;
  }

  async start(): Promise<void> {
    const { logger } = this.options;
    const saved = await loadAgentState(this.options.savedWeights, logger);
    const state = saved ?? (await loadAgentState(this.options.shippedWeights, logger));
    if (!state) {
      logger.warn(`The placement agent could not load its weights (${this.options.shippedWeights}); jobs are placed by the ${this.options.fallback.name} heuristic instead.`);
      this.stats.updateFigures({ backend: 'none', learning: false });
      return;
    }
    const { backend, learning } = this.options.settings();
    const learner = new WorkerLearner((m) => running.worker?.postMessage(m), state.network, flatParameters(state), state.counters, learnerConfig(state));
    const placement = new DqnPlacement(learner, placementOptions(state, { learn: learning }), this.stats);
    const running: Running = { placement, learner, worker: undefined, state };
    running.worker = await this.startWorker(running, state, backend);
    if (!running.worker) {
      learner.detach();
    }
    if (this.disposed) {
      await running.worker?.terminate();
      return;
    }
    this.current = running;
    this.stats.updateFigures({ learning: learning && running.worker !== undefined, ...figuresOf(learner) });
    logger.info(`Placement agent ready (${saved ? 'learned weights from global storage' : 'shipped weights'}, ${learner.trainSteps} training steps so far, learning ${learning ? 'on' : 'off'}).`);
    const interval = this.options.saveIntervalMs ?? 60_000;
    this.saveTimer ??= setInterval(() => void this.save(), interval);
    this.saveTimer.unref?.();
  }

  private async startWorker(running: Running, state: AgentState, backend: BackendPreference): Promise<WorkerHandle | undefined> {
    const { logger } = this.options;
    const data: TrainingWorkerData = {
      trainq: 'training-worker',
      state,
      backend,
      wasmDir: this.options.wasmDir,
      searchPaths: this.options.searchPaths,
      cpuShare: this.options.cpuShare ?? 0.25,
    };
    let worker: WorkerHandle;
    try {
      worker = new Worker(this.options.workerScript, { workerData: data, execArgv: this.options.workerExecArgv, resourceLimits: { maxOldGenerationSizeMb: 512 } });
    } catch (err) {
      logger.warn(`The agent's training worker could not start (${(err as Error).message}); the agent decides but does not learn.`);
      return undefined;
    }
    const ready = await new Promise<FromWorker | Error>((resolve) => {
      const timer = setTimeout(() => resolve(new Error(`no answer within ${(this.options.startTimeoutMs ?? 60_000) / 1000} s`)), this.options.startTimeoutMs ?? 60_000);
      worker.on('message', (m) => {
        if (m.type === 'ready' || m.type === 'failed') {
          clearTimeout(timer);
          resolve(m);
        } else if (m.type === 'trained') {
          this.onTrained(running, m);
        }
      });
      worker.on('error', (err) => {
        clearTimeout(timer);
        resolve(err);
      });
      worker.on('exit', (code) => {
        clearTimeout(timer);
        resolve(new Error(`exited with code ${code}`));
        if (this.current === running && running.worker === worker) {
          logger.warn(`The agent's training worker stopped (exit code ${code}); the agent goes on deciding without learning.`);
          running.worker = undefined;
          running.learner.detach();
          this.stats.updateFigures({ learning: false });
        }
      });
    });
    if (ready instanceof Error || ready.type !== 'ready') {
      const why = ready instanceof Error ? ready.message : ready.type === 'failed' ? ready.message : 'unexpected message';
      logger.warn(`The agent's training worker did not start (${why}); the agent decides but does not learn.`);
      await worker.terminate().catch(() => undefined);
      return undefined;
    }
    logger.info(`Agent backend: ${ready.backend} (${ready.detail}); setting was '${backend}'.`);
    this.stats.updateFigures({ backend: ready.backend });
    return worker;
  }

  private onTrained(running: Running, message: Extract<FromWorker, { type: 'trained' }>): void {
    if (this.current !== running) {
      return;
    }
    running.learner.onTrained(message);
    const first = message.counters.trainSteps - message.losses.length + 1;
    const now = Date.now();
    message.losses.forEach((loss, i) => this.stats.recordTrainStep({ step: first + i, loss, atMs: now }));
    this.stats.updateFigures(figuresOf(running.learner));
    this.dirty = true;
  }

  // --- Placement ---

  choose(job: Job, feasible: HostCandidate[], all: HostCandidate[]): PlacementDecision {
    return (this.current?.placement ?? this.options.fallback).choose(job, feasible, all);
  }

  beginRound(view: RoundView): void {
    this.current?.placement.beginRound(view);
  }

  observe(nowMs: number, queuedJobs: number): void {
    this.current?.placement.observe(nowMs, queuedJobs);
  }

  noteSubmitted(job: Job): void {
    this.current?.placement.noteSubmitted(job);
  }

  noteFinished(job: Job, runSec: number): void {
    this.current?.placement.noteFinished(job, runSec);
  }

  // --- Settings and commands ---

  setLearning(on: boolean): void {
    const running = this.current;
    if (!running) {
      return;
    }
    running.placement.learning = on && running.worker !== undefined;
    if (!on) {
      running.learner.pause();
    }
    this.stats.updateFigures({ learning: running.placement.learning });
    this.options.logger.info(`Agent learning ${on ? 'on' : 'off'}.`);
  }

  /** Saves, stops and starts again (a new backend setting takes effect this way). */
  async restart(): Promise<void> {
    await this.stop(true);
    await this.start();
  }

  /** Forgets everything learned: deletes the learning copy and starts again from the shipped weights. */
  async reset(): Promise<void> {
    await this.stop(false);
    await this.saving;
    for (const file of [this.options.savedWeights, `${this.options.savedWeights}.bak`]) {
      await fs.rm(file, { force: true });
    }
    this.stats.clear();
    this.options.logger.info('Agent reset to the shipped weights.');
    await this.start();
  }

  /** Writes the learned weights if anything changed since the last save. */
  save(): Promise<void> {
    const running = this.current;
    if (!running || !this.dirty) {
      return this.saving;
    }
    this.dirty = false;
    const snap = running.learner.snapshot();
    const state: AgentState = {
      format: AGENT_FORMAT,
      version: AGENT_VERSION,
      featureVersion: FEATURE_VERSION,
      network: snap.network,
      weights: snap.weights,
      counters: { ...snap.counters, timeUnitSec: running.placement.timeUnitSec },
      waitOffer: running.placement.waitOffer,
      provenance: { ...running.state.provenance, notes: `Fine-tuned online in the extension from: ${running.state.provenance?.notes ?? 'the shipped weights'}`.slice(0, 500) },
    };
    this.saving = this.saving
      .then(() => saveAgentState(this.options.savedWeights, state))
      .then(() => this.stats.updateFigures({ savedAtMs: Date.now() }))
      .catch((err) => {
        this.dirty = true;
        this.options.logger.warn(`Could not save the agent's weights to ${this.options.savedWeights}: ${(err as Error).message}`);
      });
    return this.saving;
  }

  /** The file holding the agent's current weights: the learning copy (saved first), else the shipped set. */
  async weightsFile(): Promise<string> {
    await this.save();
    const saved = await fs.stat(this.options.savedWeights).then(() => true, () => false);
    return saved ? this.options.savedWeights : this.options.shippedWeights;
  }

  private async stop(keep: boolean): Promise<void> {
    if (keep) {
      await this.save();
    }
    const running = this.current;
    this.current = undefined;
    this.dirty = false;
    if (running?.worker) {
      const worker = running.worker;
      running.worker = undefined;
      await worker.terminate().catch(() => undefined);
    }
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    clearInterval(this.saveTimer);
    await this.stop(true);
    await this.saving;
  }
}

function flatParameters(state: AgentState): Float32Array {
  const byName = new Map(state.weights.map((w) => [w.name, w]));
  const parts = parameterShapes(state.network).map((spec) => decodeFloats(byName.get(spec.name)?.data ?? ''));
  const flat = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    flat.set(p, offset);
    offset += p.length;
  }
  return flat;
}

function figuresOf(learner: WorkerLearner): Partial<AgentFigures> {
  const { epsilon, replaySize, trainSteps, decisions } = learner.snapshotCounters();
  return { epsilon, replaySize, trainSteps, decisions };
}

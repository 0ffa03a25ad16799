/**
 * The agent's weights and training counters on disk, as backend-neutral JSON: the network's shape,
 * each tensor as base64 little-endian float32, and the counters (steps, ε, replay size, cost rate).
 * The shipped default lives at media/agent/dqn-weights.json; the extension keeps the learning copy in
 * its global storage; the bench reads the shipped one.
 *
 * Saving goes through core/durableFile.ts like the job store: temp file, fsync, the current file kept
 * as `.bak`, rename into place, so a crash at any instant leaves a complete file.
 * Loading falls back to the backup when the main file is damaged, and says so.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { replaceFile } from '../core/durableFile';
import { silentLogger, type Logger } from '../core/logger';
import type { LearnerCounters } from './dqnLearner';
import { isWaitOffer, WAIT_OFFERS, type WaitOffer } from './dqnPlacement';
import { FEATURE_COUNT, FEATURE_VERSION } from './encoder';
import { decodeFloats, parameterShapes, type NetworkShape, type SerializedTensor } from './qNetwork';

export const AGENT_FORMAT = 'trainq-dqn';
export const AGENT_VERSION = 1;

/** How the weights were made, recorded next to them (the shipped set's README repeats it). */
export interface Provenance {
  command?: string;
  seed?: number;
  traces?: string[];
  createdAt?: string;
  backend?: string;
  notes?: string;
}

export interface AgentState {
  format: typeof AGENT_FORMAT;
  version: number;
  featureVersion: number;
  network: NetworkShape;
  weights: SerializedTensor[];
  counters: LearnerCounters & { timeUnitSec: number };
  /**
   * When the agent running these weights is offered "wait" (DqnPlacementOptions.waitOffer), chosen
   * when they were trained; absent in files from before the option, which get the default.
   */
  waitOffer?: WaitOffer;
  provenance?: Provenance;
}

export class AgentStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AgentStateError';
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Checks everything a load relies on, so a damaged or foreign file is rejected before it reaches tfjs. */
export function parseAgentState(text: string, source: string): AgentState {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new AgentStateError(`${source}: not valid JSON (${(err as Error).message}).`);
  }
  if (!isObject(doc) || doc.format !== AGENT_FORMAT) {
    throw new AgentStateError(`${source}: not a TrainQ agent file (format should be "${AGENT_FORMAT}").`);
  }
  if (doc.version !== AGENT_VERSION) {
    throw new AgentStateError(`${source}: agent file version ${String(doc.version)}; this TrainQ reads version ${AGENT_VERSION}.`);
  }
  if (doc.featureVersion !== FEATURE_VERSION) {
    // Weights for other features would run without error and decide nonsense; refuse them instead.
    throw new AgentStateError(`${source}: weights are for feature set ${String(doc.featureVersion)}; this TrainQ uses ${FEATURE_VERSION}.`);
  }
  const net = doc.network;
  if (!isObject(net) || net.inputs !== FEATURE_COUNT || !Array.isArray(net.hidden) || !net.hidden.every((h) => Number.isInteger(h) && (h as number) > 0)) {
    throw new AgentStateError(`${source}: network must be {"inputs": ${FEATURE_COUNT}, "hidden": [positive integers]}.`);
  }
  const network: NetworkShape = { inputs: FEATURE_COUNT, hidden: net.hidden as number[] };
  if (!Array.isArray(doc.weights)) {
    throw new AgentStateError(`${source}: weights must be an array.`);
  }
  const byName = new Map((doc.weights as unknown[]).filter(isObject).map((w) => [w.name, w]));
  for (const spec of parameterShapes(network)) {
    const w = byName.get(spec.name);
    if (!w || !Array.isArray(w.shape) || w.shape.join('×') !== spec.shape.join('×') || typeof w.data !== 'string') {
      throw new AgentStateError(`${source}: weight ${spec.name} is missing or not of shape ${spec.shape.join('×')}.`);
    }
    const values = decodeFloats(w.data);
    if (values.length !== spec.shape.reduce((a, b) => a * b, 1) || values.some((v) => !Number.isFinite(v))) {
      throw new AgentStateError(`${source}: weight ${spec.name} has the wrong length or non-finite values.`);
    }
  }
  const c = doc.counters;
  if (!isObject(c) || !['trainSteps', 'decisions', 'epsilon', 'replaySize', 'costRate', 'timeUnitSec'].every((k) => finite(c[k]))) {
    throw new AgentStateError(`${source}: counters must hold trainSteps, decisions, epsilon, replaySize, costRate and timeUnitSec.`);
  }
  if (doc.waitOffer !== undefined && !isWaitOffer(doc.waitOffer)) {
    throw new AgentStateError(`${source}: waitOffer must be one of ${WAIT_OFFERS.join(', ')}.`);
  }
  return doc as unknown as AgentState;
}

export function serializeAgentState(state: AgentState): string {
  return `${JSON.stringify(state, null, 1)}\n`;
}

/** Durable replace, the previous copy kept as `.bak`. */
export async function saveAgentState(file: string, state: AgentState): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await replaceFile(file, serializeAgentState(state), { backup: `${file}.bak` });
}

/**
 * Loads `file`, else its `.bak` (with a warning), else returns undefined: a missing or unreadable
 * learning copy means starting from the shipped weights, never failing the extension.
 */
export async function loadAgentState(file: string, logger: Logger = silentLogger): Promise<AgentState | undefined> {
  const main = await readState(file);
  if (main.state) {
    return main.state;
  }
  const backup = await readState(`${file}.bak`);
  if (backup.state) {
    logger.warn(`Agent weights ${file} could not be read (${main.problem}); using the backup ${file}.bak.`);
    return backup.state;
  }
  if (main.problem !== 'missing') {
    logger.warn(`Agent weights ${file} could not be read (${main.problem}) and no usable backup exists.`);
  }
  return undefined;
}

async function readState(file: string): Promise<{ state?: AgentState; problem: string }> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    return { problem: (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : (err as Error).message };
  }
  try {
    return { state: parseAgentState(text, file), problem: '' };
  } catch (err) {
    return { problem: (err as Error).message };
  }
}

/**
 * Reads the simulated cluster: {"name": "...", "hosts": [{"name": "dgx-v100", "gpus": 8, "speed": 1.0}, ...]}.
 * A host's speed scales run time (a job of trace duration d runs d / speed there). A host may name its
 * "gpuType" (a type of the throughput table): then its speed is only what a user declared, and the job's
 * true run time there comes from the table (simJobs.ts). The top-level "trace" (the development trace the
 * file is paired with) and "note" strings are documentation for people, read and ignored. A host with
 * "kind": "slurm" stands for a shared Slurm partition: each job sent there first waits in Slurm's own
 * queue (other users' work) for a time drawn from "queueDelay" (see simulator.ts), then runs. Unlike a trace,
 * a cluster file is small and hand-written, so any mistake is an error that names the host and field.
 * Every number is held to a bound (inputLimits.ts says which and why), and so is the file's size.
 */
import {
  MAX_CLUSTER_BYTES,
  MAX_CLUSTER_GPUS,
  MAX_HOST_GPUS,
  MAX_QUEUE_MEDIAN_SEC,
  MAX_QUEUE_SIGMA,
  MAX_SPEED,
  MIN_SPEED,
  readBoundedText,
} from './inputLimits';
import { GPU_TYPES, isGpuType, type GpuType } from './throughputTable';

/**
 * Slurm's queue wait for one job: log-normal with this median and log-space spread (σ): most waits are
 * near the median, a few much longer, as pending times on a shared partition are.
 */
export interface QueueDelay {
  medianSec: number;
  sigma: number;
}

export interface ClusterHost {
  name: string;
  gpus: number;
  /** What the user declared; on a typed host, not how fast jobs actually run. */
  speed: number;
  /** The host's GPU type: the truth the simulator runs jobs at (throughputTable.ts). */
  gpuType?: GpuType;
  kind?: 'slurm';
  queueDelay?: QueueDelay;
  /** Names jobs' host constraints match (as `labels` of trainq.hosts); set by callers, not read from cluster files. */
  labels?: string[];
}

export interface Cluster {
  name: string;
  hosts: ClusterHost[];
}

export class ClusterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClusterError';
  }
}

function shown(value: unknown): string {
  if (typeof value === 'number') {
    // JSON.parse reads 1e400 as Infinity, which JSON.stringify would show as null; -0 would show as 0.
    return Object.is(value, -0) ? '-0' : String(value);
  }
  return value === undefined ? 'nothing' : JSON.stringify(value);
}

/** `value` is a number within [min, max] (NaN and ±Infinity are not). */
const within = (value: unknown, min: number, max: number): value is number => typeof value === 'number' && value >= min && value <= max;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseHost(value: unknown, index: number, source: string): ClusterHost {
  const where = `${source}: hosts[${index}]`;
  if (!isObject(value)) {
    throw new ClusterError(`${where} must be an object {"name", "gpus", "speed"} (got ${shown(value)}).`);
  }
  const { name, gpus, speed } = value;
  if (typeof name !== 'string' || name.trim() === '') {
    throw new ClusterError(`${where}: name must be a non-empty string (got ${shown(name)}).`);
  }
  const named = `${where} ("${name}")`;
  if (!within(gpus, 1, MAX_HOST_GPUS) || !Number.isInteger(gpus)) {
    throw new ClusterError(`${named}: gpus must be a positive integer, at most ${MAX_HOST_GPUS} (got ${shown(gpus)}).`);
  }
  if (!within(speed, MIN_SPEED, MAX_SPEED)) {
    throw new ClusterError(`${named}: speed must be a positive number from ${MIN_SPEED} to ${MAX_SPEED} (got ${shown(speed)}).`);
  }
  const gpuType = value.gpuType;
  if (gpuType !== undefined && !isGpuType(gpuType)) {
    throw new ClusterError(`${named}: gpuType must be one of ${GPU_TYPES.join(', ')} or absent (got ${shown(gpuType)}).`);
  }
  // Left off when absent, so an untyped host reads back exactly as it did before types existed.
  const typed = gpuType === undefined ? {} : { gpuType };
  if (value.kind === undefined) {
    return { name, gpus, speed, ...typed };
  }
  if (value.kind !== 'slurm') {
    throw new ClusterError(`${named}: kind must be "slurm" or absent (got ${shown(value.kind)}).`);
  }
  const delay = value.queueDelay;
  if (!isObject(delay)) {
    throw new ClusterError(`${named}: a slurm host needs "queueDelay": {"medianSec": positive number, "sigma": number ≥ 0} (got ${shown(delay)}).`);
  }
  const { medianSec, sigma } = delay;
  if (!within(medianSec, Number.MIN_VALUE, MAX_QUEUE_MEDIAN_SEC)) {
    throw new ClusterError(`${named}: queueDelay.medianSec must be a positive number of seconds, at most ${MAX_QUEUE_MEDIAN_SEC} (30 days) (got ${shown(medianSec)}).`);
  }
  if (!within(sigma, 0, MAX_QUEUE_SIGMA)) {
    throw new ClusterError(`${named}: queueDelay.sigma must be a number from 0 to ${MAX_QUEUE_SIGMA} (got ${shown(sigma)}).`);
  }
  // -0 passes `>= 0`; stored as 0 so that the report and any copy of the cluster show the same value.
  return { name, gpus, speed, ...typed, kind: 'slurm', queueDelay: { medianSec, sigma: sigma + 0 } };
}

export function parseCluster(text: string, source: string): Cluster {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ClusterError(`${source}: not valid JSON (${(err as Error).message}).`);
  }
  if (!isObject(doc)) {
    throw new ClusterError(`${source}: expected an object {"name": ..., "hosts": [...]}.`);
  }
  if (typeof doc.name !== 'string' || doc.name.trim() === '') {
    throw new ClusterError(`${source}: name must be a non-empty string (got ${shown(doc.name)}).`);
  }
  for (const key of ['trace', 'note'] as const) {
    if (doc[key] !== undefined && typeof doc[key] !== 'string') {
      throw new ClusterError(`${source}: ${key} must be a string or absent (got ${shown(doc[key])}).`);
    }
  }
  if (!Array.isArray(doc.hosts) || doc.hosts.length === 0) {
    throw new ClusterError(`${source}: hosts must be a non-empty array (got ${shown(doc.hosts)}).`);
  }
  const hosts = doc.hosts.map((h, i) => parseHost(h, i, source));
  const seen = new Map<string, number>();
  hosts.forEach((h, i) => {
    const first = seen.get(h.name);
    if (first !== undefined) {
      // Placements and results name hosts, so two with one name would be indistinguishable.
      throw new ClusterError(`${source}: hosts[${i}] has the name "${h.name}", already used by hosts[${first}]; host names must be unique.`);
    }
    seen.set(h.name, i);
  });
  const gpus = totalGpus({ name: doc.name, hosts });
  if (gpus > MAX_CLUSTER_GPUS) {
    throw new ClusterError(`${source}: the hosts have ${gpus} GPUs in all; at most ${MAX_CLUSTER_GPUS} (the simulator keeps an index per GPU).`);
  }
  return { name: doc.name, hosts };
}

export function loadCluster(file: string): Cluster {
  return parseCluster(readBoundedText(file, 'cluster', { maxBytes: MAX_CLUSTER_BYTES }, ClusterError), file);
}

export function totalGpus(cluster: Cluster): number {
  return cluster.hosts.reduce((sum, h) => sum + h.gpus, 0);
}

export function largestHostGpus(cluster: Cluster): number {
  return cluster.hosts.reduce((m, h) => Math.max(m, h.gpus), 0);
}

/** Whether any host names its GPU type: then jobs get models and run at the table's speeds. */
export function hasTypedHost(cluster: Cluster): boolean {
  return cluster.hosts.some((h) => h.gpuType !== undefined);
}

/** The speed of the fastest host big enough for the job, or 0 when none is. */
export function fastestFitSpeed(cluster: Cluster, gpus: number): number {
  return cluster.hosts.reduce((m, h) => (h.gpus >= gpus ? Math.max(m, h.speed) : m), 0);
}

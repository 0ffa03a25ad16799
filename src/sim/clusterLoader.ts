/**
 * Reads the simulated cluster: {"name": "...", "hosts": [{"name": "dgx-v100", "gpus": 8, "speed": 1.0}, ...]}.
 * A host's speed scales run time (a job of trace duration d runs d / speed there). A host with
 * "kind": "slurm" stands for a shared Slurm partition: each job sent there first waits in Slurm's own
 * queue (other users' work) for a time drawn from "queueDelay" (see simulator.ts), then runs. Unlike a trace,
 * a cluster file is small and hand-written, so any mistake is an error that names the host and field.
 */
import * as fs from 'node:fs';

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
  speed: number;
  kind?: 'slurm';
  queueDelay?: QueueDelay;
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
  return value === undefined ? 'nothing' : JSON.stringify(value);
}

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
  if (typeof gpus !== 'number' || !Number.isInteger(gpus) || gpus < 1) {
    throw new ClusterError(`${named}: gpus must be a positive integer (got ${shown(gpus)}).`);
  }
  if (typeof speed !== 'number' || !Number.isFinite(speed) || speed <= 0) {
    throw new ClusterError(`${named}: speed must be a positive number (got ${shown(speed)}).`);
  }
  if (value.kind === undefined) {
    return { name, gpus, speed };
  }
  if (value.kind !== 'slurm') {
    throw new ClusterError(`${named}: kind must be "slurm" or absent (got ${shown(value.kind)}).`);
  }
  const delay = value.queueDelay;
  if (!isObject(delay) || !isPositive(delay.medianSec) || typeof delay.sigma !== 'number' || !Number.isFinite(delay.sigma) || delay.sigma < 0) {
    throw new ClusterError(`${named}: a slurm host needs "queueDelay": {"medianSec": positive number, "sigma": number ≥ 0} (got ${shown(delay)}).`);
  }
  return { name, gpus, speed, kind: 'slurm', queueDelay: { medianSec: delay.medianSec as number, sigma: delay.sigma } };
}

const isPositive = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v > 0;

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
  return { name: doc.name, hosts };
}

export function loadCluster(file: string): Cluster {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new ClusterError(`Cannot read the cluster ${file}: ${why}.`);
  }
  return parseCluster(text, file);
}

export function totalGpus(cluster: Cluster): number {
  return cluster.hosts.reduce((sum, h) => sum + h.gpus, 0);
}

export function largestHostGpus(cluster: Cluster): number {
  return cluster.hosts.reduce((m, h) => Math.max(m, h.gpus), 0);
}

/** The speed of the fastest host big enough for the job, or 0 when none is. */
export function fastestFitSpeed(cluster: Cluster, gpus: number): number {
  return cluster.hosts.reduce((m, h) => (h.gpus >= gpus ? Math.max(m, h.speed) : m), 0);
}

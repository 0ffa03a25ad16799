/**
 * Which hosts a job may run on (JobSpec.constraints): by host name or label, GPU model and free GPU
 * memory. Two questions, kept apart because they lead to different answers in the queue:
 *   neverReason   static facts (name, labels, GPU models, total memory): a job no host could ever run
 *                 says so instead of waiting forever;
 *   matchingGpus  what the host has free now (free memory per GPU), which decides the GPU indices.
 * Names and labels match case-insensitively, as host names are unique case-insensitively. Pure: the
 * scheduler (constrainedHosts.ts), the agent, the ETA planner and the simulator all go through it.
 */
import type { HostConstraints } from './job';
import { plural } from './text';

/** What a probe said of one GPU, as far as constraints care. */
export interface GpuSpec {
  index: number;
  name: string;
  memoryUsedMiB?: number;
  memoryTotalMiB?: number;
}

/** What a host offers beyond free GPUs: carried by HostOffer and HostCandidate. */
export interface HostTraits {
  /** From the host's `labels` setting. */
  labels?: readonly string[];
  /** Every GPU the last probe listed (offered or not); absent when unknown (never probed, offline). */
  gpuSpecs?: readonly GpuSpec[];
  /** A Slurm partition: its GPUs carry no model or memory, so those constraints can never be checked there. */
  opaqueGpus?: boolean;
}

/** A host's name with its traits: what the static check needs of a host, online or not. */
export interface HostProfile extends HostTraits {
  name: string;
}

/** A label (or a name in `require`/`exclude`): what host names allow, so either fits in a list. */
export const LABEL = /^[A-Za-z0-9._-]{1,63}$/;
const LABEL_RULE = "1–63 letters, digits, '.', '_' or '-'";
/** Most names in one list: a longer one is a paste gone wrong, not a host selection. */
export const MAX_NAMES = 64;
/** A GPU model pattern is matched as plain text; the bound keeps it a model name. */
const MAX_MODEL_CHARS = 64;
/** 16 TiB: larger than any GPU, small enough to stay exact. */
export const MAX_GPU_MEM_MIB = 16 * 1024 * 1024;

/** Why a list of labels (or of host names and labels) is unusable, or undefined. `what` names it. */
export function labelListProblem(value: unknown, what: string): string | undefined {
  if (!Array.isArray(value)) {
    return `${what} must be a list of names such as ["a100", "lab"]`;
  }
  if (value.length > MAX_NAMES) {
    return `${what} has ${value.length} entries; at most ${MAX_NAMES}`;
  }
  const bad = value.find((v) => typeof v !== 'string' || !LABEL.test(v));
  return bad === undefined ? undefined : `${what} has ${JSON.stringify(bad)}; each must be ${LABEL_RULE}`;
}

/** A host's `labels` setting (absent: none), or throws `error` with the problem, `what` naming the field. */
export function checkedLabels(value: unknown, what: string, error: (message: string) => Error): string[] {
  const problem = value === undefined ? undefined : labelListProblem(value, what);
  if (problem) {
    throw error(`${problem}.`);
  }
  return value === undefined ? [] : [...(value as string[])];
}

/** Why a GPU model pattern is unusable, or undefined. */
export function gpuModelProblem(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.trim() === '' || value.trim() !== value) {
    return 'the GPU model must be non-empty text without surrounding spaces, e.g. "A100"';
  }
  return value.length > MAX_MODEL_CHARS || /[\u0000-\u001f\u007f]/.test(value) ? `the GPU model must be at most ${MAX_MODEL_CHARS} printable characters` : undefined;
}

/** Why a minimum of free GPU memory (MiB) is unusable, or undefined. */
export function gpuMemProblem(value: unknown): string | undefined {
  return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= MAX_GPU_MEM_MIB ? undefined : `the minimum free GPU memory must be a whole number of MiB from 1 to ${MAX_GPU_MEM_MIB}`;
}

/** Why a stored or typed constraints object is unusable, or undefined: the one validator of its shape. */
export function constraintsProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return 'is not an object';
  }
  const c = value as Record<string, unknown>;
  const unknown = Object.keys(c).filter((k) => !['require', 'exclude', 'gpuModel', 'minGpuMemMiB'].includes(k));
  if (unknown.length > 0) {
    return `has unknown field ${JSON.stringify(unknown[0])}`;
  }
  const problem =
    (c.require === undefined ? undefined : labelListProblem(c.require, 'require')) ??
    (c.exclude === undefined ? undefined : labelListProblem(c.exclude, 'exclude')) ??
    (c.gpuModel === undefined ? undefined : gpuModelProblem(c.gpuModel)) ??
    (c.minGpuMemMiB === undefined ? undefined : gpuMemProblem(c.minGpuMemMiB));
  return problem;
}

/** True when the constraints restrict anything (an empty object or empty lists restrict nothing). */
export function hasConstraints(c: HostConstraints | undefined): c is HostConstraints {
  return c !== undefined && (!!c.require?.length || !!c.exclude?.length || !!c.gpuModel || (c.minGpuMemMiB ?? 0) > 0);
}

/** "20 GiB" or "512 MiB": how memory amounts are written back to the user. */
export function memText(mib: number): string {
  return mib % 1024 === 0 ? `${mib / 1024} GiB` : `${mib} MiB`;
}

/** One line for the tooltip and the messages: "requires lab-1 or a100 · excludes lab-2 · GPU A100 · ≥ 20 GiB free per GPU". */
export function constraintsText(c: HostConstraints): string {
  const parts: string[] = [];
  if (c.require?.length) {
    parts.push(`requires ${c.require.join(' or ')}`);
  }
  if (c.exclude?.length) {
    parts.push(`excludes ${c.exclude.join(', ')}`);
  }
  if (c.gpuModel) {
    parts.push(`GPU model ${c.gpuModel}`);
  }
  if (c.minGpuMemMiB) {
    parts.push(`≥ ${memText(c.minGpuMemMiB)} free per GPU`);
  }
  return parts.join(' · ');
}

function namedBy(list: readonly string[], host: HostProfile): string | undefined {
  const names = new Set([host.name, ...(host.labels ?? [])].map((n) => n.toLowerCase()));
  return list.find((n) => names.has(n.toLowerCase()));
}

function modelMatches(c: HostConstraints, gpu: GpuSpec): boolean {
  return !c.gpuModel || gpu.name.toLowerCase().includes(c.gpuModel.toLowerCase());
}

const limitsGpus = (c: HostConstraints): boolean => !!c.gpuModel || (c.minGpuMemMiB ?? 0) > 0;

/**
 * Why the host can never run a job of `gpus` GPUs with these constraints, or undefined when it might
 * (a host whose GPUs are not known yet might). A job of 0 GPUs with a GPU constraint still wants a
 * host that has such a GPU: that is what the user asked for.
 */
export function neverReason(c: HostConstraints, gpus: number, host: HostProfile): string | undefined {
  const excluded = c.exclude?.length ? namedBy(c.exclude, host) : undefined;
  if (excluded !== undefined) {
    return `${host.name} is excluded${excluded.toLowerCase() === host.name.toLowerCase() ? '' : ` (label ${excluded})`}`;
  }
  if (c.require?.length && namedBy(c.require, host) === undefined) {
    return `${host.name} is not ${c.require.join(' or ')}${host.labels?.length ? ` (labels: ${host.labels.join(', ')})` : ' (no labels)'}`;
  }
  if (!limitsGpus(c)) {
    return undefined;
  }
  if (host.opaqueGpus) {
    return `${host.name} does not report GPU models or memory (a Slurm partition: give it a label and require that)`;
  }
  if (host.gpuSpecs === undefined) {
    return undefined;
  }
  const need = Math.max(1, gpus);
  const ofModel = host.gpuSpecs.filter((g) => modelMatches(c, g));
  if (ofModel.length === 0) {
    const models = [...new Set(host.gpuSpecs.map((g) => g.name))];
    return `${host.name} has no ${c.gpuModel} GPU (${models.length > 0 ? models.join(', ') : 'no GPUs'})`;
  }
  const min = c.minGpuMemMiB ?? 0;
  const bigEnough = ofModel.filter((g) => min === 0 || (g.memoryTotalMiB ?? 0) >= min);
  if (bigEnough.length < need) {
    return `${host.name} has ${gpuNoun(c, bigEnough.length, '')}; the job needs ${need}`;
  }
  return undefined;
}

/** The free GPU indices (of `free`) that match the model and have the memory now, in `free`'s order. */
export function matchingGpus(c: HostConstraints, host: HostTraits, free: readonly number[]): number[] {
  if (!limitsGpus(c)) {
    return free.slice();
  }
  if (host.opaqueGpus || host.gpuSpecs === undefined) {
    return [];
  }
  const min = c.minGpuMemMiB ?? 0;
  const byIndex = new Map(host.gpuSpecs.map((g) => [g.index, g]));
  return free.filter((i) => {
    const g = byIndex.get(i);
    if (g === undefined || !modelMatches(c, g)) {
      return false;
    }
    return min === 0 || (g.memoryTotalMiB !== undefined && g.memoryTotalMiB - (g.memoryUsedMiB ?? 0) >= min);
  });
}

/** "No host can run this job (requires a100): local is not a100 (no labels); lab-2 is excluded." */
export function unsatisfiableText(c: HostConstraints, reasons: readonly string[]): string {
  const hosts = reasons.length > 0 ? `: ${reasons.join('; ')}` : ': no hosts are configured';
  return `No host can run this job (${constraintsText(c)})${hosts}.`;
}

/** Why an allowed host cannot take the job now: its job limit, or too few matching GPUs free. */
export function notNowText(host: string, c: HostConstraints, gpus: number, matching: number, slotFree: boolean, maxJobs: number): string {
  if (!slotFree) {
    return `${host} is at its limit of ${plural(maxJobs, 'job')}`;
  }
  return `${host} has ${gpuNoun(c, matching, ' free')} now, the job needs ${gpus}`;
}

/** "2 A100 GPUs with 20 GiB" + suffix (" free"): the GPUs the constraints ask for, counted. */
function gpuNoun(c: HostConstraints, count: number, suffix: string): string {
  const min = c.minGpuMemMiB ?? 0;
  return `${count} ${c.gpuModel ? `${c.gpuModel} ` : ''}GPU${count === 1 ? '' : 's'}${min > 0 ? ` with ${memText(min)}` : ''}${suffix}`;
}

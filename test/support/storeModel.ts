/**
 * A reference model of a usable store for the fuzz in test/unit/storeValidation.test.ts: what the
 * scheduler, the hosts and the views need of each field, written as a table apart from
 * src/core/storeValidation.ts so that the two can disagree, and the fuzz says where.
 */
import type { Job } from '../../src/core/job';

type Rule = (v: unknown) => boolean;
const str: Rule = (v) => typeof v === 'string';
const noNul: Rule = (v) => str(v) && !(v as string).includes('\0');
const filled: Rule = (v) => noNul(v) && v !== '';
const num =
  (lo: number, hi: number, whole = false): Rule =>
  (v) =>
    typeof v === 'number' && v >= lo && v <= hi && (!whole || Number.isInteger(v));
const when: Rule = num(0, 8.64e15);
const among = (...xs: unknown[]): Rule => (v) => xs.includes(v);

export const REQUIRED: Record<string, Rule> = {
  id: filled,
  name: noNul,
  script: filled,
  cwd: filled,
  args: (v) => Array.isArray(v) && v.every(noNul),
  gpus: num(0, 64, true),
  importance: among('low', 'normal', 'high'),
  runtimeSec: num(60, 30 * 86_400),
  priority: among('high', 'medium', 'low'),
  priorityReason: str,
  priorityOverridden: among(true, false),
  state: among('queued', 'running', 'succeeded', 'failed', 'cancelled', 'lost'),
  createdAt: when,
};
export const OPTIONAL: Record<string, Rule> = {
  expectedGain: num(0, 100),
  prioritySetAt: when,
  startedAt: when,
  endedAt: when,
  host: filled,
  gpuIndices: (v) => Array.isArray(v) && v.every(num(0, Number.MAX_SAFE_INTEGER, true)) && new Set(v).size === v.length,
  handle: (v) =>
    isRecord(v) &&
    ((v.kind === 'process' && num(2, 2 ** 31 - 1, true)(v.pgid)) || (v.kind === 'slurm' && str(v.jobId) && /^\d{1,20}$/.test(v.jobId as string))),
  exitCode: num(-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, true),
  reason: str,
  retryOf: str,
  attempt: num(1, Number.MAX_SAFE_INTEGER, true),
};
const FEATURES: Record<string, Rule> = { gpus: REQUIRED.gpus, importance: REQUIRED.importance, runtimeSec: REQUIRED.runtimeSec };
export type Obj = Record<string, unknown>;
export const isRecord = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function featuresOk(f: unknown): boolean {
  return (
    isRecord(f) &&
    Object.entries(FEATURES).every(([k, ok]) => ok(f[k])) &&
    (f.expectedGain === undefined || OPTIONAL.expectedGain(f.expectedGain))
  );
}

function jobAlone(j: unknown): boolean {
  if (!isRecord(j) || !Object.entries(REQUIRED).every(([k, ok]) => ok(j[k]))) {
    return false;
  }
  if (!Object.entries(OPTIONAL).every(([k, ok]) => j[k] === undefined || ok(j[k]))) {
    return false;
  }
  const indices = j.gpuIndices as unknown[] | undefined;
  return j.state !== 'running' || (j.host !== undefined && j.startedAt !== undefined && indices?.length === j.gpus);
}

/** Indices of the jobs that must load: valid alone, first of their id, holding no GPU an earlier running job holds. */
export function jobsToKeep(jobs: unknown[]): number[] {
  const ids = new Set<string>();
  const held = new Set<string>();
  const keep: number[] = [];
  jobs.forEach((j, i) => {
    if (!jobAlone(j)) {
      return;
    }
    const job = j as Job;
    const gpus = job.state === 'running' ? job.gpuIndices!.map((g) => `${job.host}\u0001${g}`) : [];
    if (ids.has(job.id) || gpus.some((g) => held.has(g))) {
      return;
    }
    ids.add(job.id);
    gpus.forEach((g) => held.add(g));
    keep.push(i);
  });
  return keep;
}

/** v1 kept a process group as `pgid` and a Slurm id as `slurmJobId`; v2 keeps either as `handle`. */
function fromV1(state: unknown): unknown {
  if (!isRecord(state) || !Array.isArray(state.jobs)) {
    return state;
  }
  const jobs = state.jobs.map((j: unknown) => {
    if (!isRecord(j) || (j.pgid === undefined && j.slurmJobId === undefined)) {
      return j;
    }
    const { pgid, slurmJobId, ...rest } = j;
    return { ...rest, handle: slurmJobId !== undefined ? { kind: 'slurm', jobId: slurmJobId } : { kind: 'process', pgid } };
  });
  return { ...state, jobs };
}

export type Expected =
  | { kind: 'version' }
  | { kind: 'fallback' }
  /** `keep`: indices into `jobs` of the jobs that must load. */
  | { kind: 'ok'; jobs: unknown[]; keep: number[]; examples: number; inputs: string[] };

export function expectedLoad(bytes: Buffer): Expected {
  const decoded = bytes.toString('utf8');
  let raw: unknown;
  try {
    raw = JSON.parse(decoded.charCodeAt(0) === 0xfeff ? decoded.slice(1) : decoded);
  } catch {
    return { kind: 'fallback' };
  }
  if (!isRecord(raw) || raw.format !== 'trainq-store' || !num(1, Infinity, true)(raw.version)) {
    return { kind: 'fallback' };
  }
  // v3 added only the optional runtimeModel, which loading passes through: v2 and v3 read alike.
  if ((raw.version as number) > 3) {
    return { kind: 'version' };
  }
  const s = raw.version === 1 ? fromV1(raw.state) : raw.state;
  if (!Number.isFinite(raw.savedAt) || !isRecord(s)) {
    return { kind: 'fallback' };
  }
  const { jobs, priorityExamples, lastInputs, paused } = s;
  if (!Array.isArray(jobs) || !Array.isArray(priorityExamples) || !isRecord(lastInputs) || typeof paused !== 'boolean') {
    return { kind: 'fallback' };
  }
  const examples = priorityExamples.filter(
    (e) => isRecord(e) && featuresOk(e.features) && among('high', 'medium', 'low')(e.label) && when(e.at),
  );
  const inputs = Object.entries(lastInputs).filter(([, v]) => isRecord(v) && Array.isArray(v.args) && v.args.every(noNul) && featuresOk(v));
  return { kind: 'ok', jobs, keep: jobsToKeep(jobs), examples: examples.length, inputs: inputs.map(([k]) => k) };
}

/**
 * Host constraints as people type them: in a script header (`hosts=lab-1,a100 exclude=lab-2
 * gpu-model=A100 min-gpu-mem=20GiB`) and in the queue input's Host Constraints step. Both read values
 * through here, so a value accepted in one is accepted in the other; what the result may hold is
 * checked by hostConstraints.ts, the same check the store applies.
 */
import type { HostConstraints } from './job';
import { gpuMemProblem, gpuModelProblem, labelListProblem, MAX_GPU_MEM_MIB } from './hostConstraints';

export type ConstraintKey = keyof HostConstraints;

/** Header keys; a Map so that "constructor" is unknown rather than inherited. */
export const CONSTRAINT_HEADER_KEYS: ReadonlyMap<string, ConstraintKey> = new Map([
  ['hosts', 'require'],
  ['host', 'require'],
  ['exclude', 'exclude'],
  ['gpu-model', 'gpuModel'],
  ['min-gpu-mem', 'minGpuMemMiB'],
]);

export class ConstraintInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConstraintInputError';
  }
}

const UNIT_MIB: ReadonlyMap<string, number> = new Map([
  ['m', 1],
  ['mb', 1],
  ['mib', 1],
  ['g', 1024],
  ['gb', 1024],
  ['gib', 1024],
]);

/**
 * "20GiB", "20 G", "512MiB" → MiB, rounded up (a minimum must not shrink). Units are binary, as
 * nvidia-smi reports memory; GB and MB are read as GiB and MiB. A bare number is refused: 20 could
 * mean either.
 */
export function parseGpuMemory(text: string): number {
  const m = /^(\d+(?:\.\d+)?|\.\d+)\s*([A-Za-z]+)?$/.exec(text.trim());
  if (!m) {
    throw new ConstraintInputError(`"${text}" is not an amount of memory; expected e.g. 20GiB or 512MiB.`);
  }
  if (m[2] === undefined) {
    throw new ConstraintInputError(`"${text}" has no unit; write e.g. ${m[1]}GiB or ${m[1]}MiB.`);
  }
  const unit = UNIT_MIB.get(m[2].toLowerCase());
  if (unit === undefined) {
    throw new ConstraintInputError(`"${text}" has the unknown unit "${m[2]}"; use MiB or GiB.`);
  }
  const mib = Math.ceil(Number(m[1]) * unit);
  if (!(mib >= 1 && mib <= MAX_GPU_MEM_MIB)) {
    throw new ConstraintInputError(`"${text}" is out of range (1 MiB to ${MAX_GPU_MEM_MIB / 1024 / 1024} TiB).`);
  }
  return mib;
}

/** "lab-1, a100" → ["lab-1", "a100"]: a comma list of host names and labels, duplicates dropped. */
export function parseNameList(text: string): string[] {
  const names = [...new Set(text.split(',').map((n) => n.trim()).filter((n) => n !== ''))];
  if (names.length === 0) {
    throw new ConstraintInputError('names no host or label; expected e.g. lab-1,a100.');
  }
  const problem = labelListProblem(names, 'the list');
  if (problem) {
    throw new ConstraintInputError(`${problem}.`);
  }
  return names;
}

/** The constraints with one more value read from text; throws ConstraintInputError naming the bad value. */
export function withConstraint(current: HostConstraints | undefined, key: ConstraintKey, text: string): HostConstraints {
  const next: HostConstraints = { ...current };
  switch (key) {
    case 'require':
    case 'exclude':
      next[key] = parseNameList(text);
      break;
    case 'gpuModel': {
      const problem = gpuModelProblem(text.trim());
      if (problem) {
        throw new ConstraintInputError(`"${text}": ${problem}.`);
      }
      next.gpuModel = text.trim();
      break;
    }
    case 'minGpuMemMiB': {
      const mib = parseGpuMemory(text);
      const problem = gpuMemProblem(mib);
      if (problem) {
        throw new ConstraintInputError(`"${text}": ${problem}.`);
      }
      next.minGpuMemMiB = mib;
      break;
    }
  }
  return next;
}

/** A host both required and excluded can never be used: said once, so the user sees the contradiction. */
export function contradiction(c: HostConstraints): string | undefined {
  const excluded = new Set((c.exclude ?? []).map((n) => n.toLowerCase()));
  const both = (c.require ?? []).filter((n) => excluded.has(n.toLowerCase()));
  return both.length > 0 ? `${both.join(', ')} is both required and excluded` : undefined;
}

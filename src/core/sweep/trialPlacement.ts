/**
 * A sweep definition's `constraints` and `outputs`: where its trials may run and which files come back
 * from a remote host when one ends, as for a job (JobSpec.constraints, JobSpec.outputs). Values are
 * read by the job's own rules (hostConstraints.ts, constraintInput.ts, outputGlobs.ts), so a pattern or
 * a label refused for a job is refused here, with one message naming the field.
 *
 *   "constraints": {"require": ["a100"], "exclude": ["lab-2"], "gpuModel": "A100", "minGpuMem": "20GiB"}
 *   "outputs": ["outputs/**", "*.ckpt"]
 */
import { ConstraintInputError, contradiction, parseGpuMemory } from '../constraintInput';
import { gpuMemProblem, gpuModelProblem, hasConstraints, labelListProblem } from '../hostConstraints';
import type { HostConstraints } from '../job';
import { outputGlobProblem } from '../outputGlobs';
import { SweepDefinitionError, checkKnownFields, has, objectAt, own, shown, stringAt, type JsonObject } from './definitionChecks';

/** The fields of `constraints`; the JSON schema's are the same (tested). */
export const CONSTRAINT_FIELDS = ['require', 'exclude', 'gpuModel', 'minGpuMem'] as const;

export type TrialPlacement = { constraints?: HostConstraints; outputs?: string[] };

/** The definition's constraints and outputs; absent, or restricting nothing, they are left out. */
export function trialPlacementAt(raw: JsonObject): TrialPlacement {
  const constraints = has(raw, 'constraints') ? constraintsAt(own(raw, 'constraints')) : undefined;
  const outputs = has(raw, 'outputs') ? outputsAt(own(raw, 'outputs')) : [];
  return { ...(hasConstraints(constraints) && { constraints }), ...(outputs.length > 0 && { outputs }) };
}

function constraintsAt(value: unknown): HostConstraints {
  const raw = objectAt(value, 'constraints', '{"require": ["a100"], "exclude": ["lab-2"], "gpuModel": "A100", "minGpuMem": "20GiB"}');
  checkKnownFields(raw, CONSTRAINT_FIELDS, 'constraints.');
  const c: HostConstraints = {};
  for (const key of ['require', 'exclude'] as const) {
    if (has(raw, key)) {
      c[key] = namesAt(own(raw, key), `constraints.${key}`);
    }
  }
  if (has(raw, 'gpuModel')) {
    const model = own(raw, 'gpuModel');
    const problem = gpuModelProblem(model);
    if (problem) {
      throw new SweepDefinitionError('constraints.gpuModel', `${problem} (got ${shown(model)})`);
    }
    c.gpuModel = model as string;
  }
  if (has(raw, 'minGpuMem')) {
    c.minGpuMemMiB = memoryAt(own(raw, 'minGpuMem'));
  }
  const both = contradiction(c);
  if (both) {
    throw new SweepDefinitionError('constraints.exclude', `${both}, so no host could run a trial`, 'constraints');
  }
  return c;
}

function namesAt(value: unknown, field: string): string[] {
  if (!Array.isArray(value)) {
    throw new SweepDefinitionError(field, `must be a list of host names or labels such as ["a100", "lab"] (got ${shown(value)})`);
  }
  const problem = labelListProblem(value, 'the list');
  if (problem) {
    throw new SweepDefinitionError(field, problem);
  }
  return [...new Set(value as string[])];
}

/** "20GiB" or "512MiB", read as the header's min-gpu-mem=; a bare number is refused (20 could mean either). */
function memoryAt(value: unknown): number {
  const field = 'constraints.minGpuMem';
  if (typeof value !== 'string') {
    throw new SweepDefinitionError(field, `must be an amount with its unit, such as "20GiB" or "512MiB" (got ${shown(value)})`);
  }
  let mib: number;
  try {
    mib = parseGpuMemory(value);
  } catch (error) {
    if (error instanceof ConstraintInputError) {
      throw new SweepDefinitionError(field, error.message);
    }
    throw error;
  }
  const problem = gpuMemProblem(mib);
  if (problem) {
    throw new SweepDefinitionError(field, problem);
  }
  return mib;
}

function outputsAt(value: unknown): string[] {
  if (!Array.isArray(value)) {
    throw new SweepDefinitionError('outputs', `must be a list of patterns relative to the trials' folder, such as ["outputs/**", "*.ckpt"] (got ${shown(value)})`);
  }
  return value.map((pattern, i) => {
    const field = `outputs[${i}]`;
    const problem = outputGlobProblem(stringAt(pattern, field, 1_000));
    if (problem) {
      throw new SweepDefinitionError(field, problem);
    }
    return pattern as string;
  });
}

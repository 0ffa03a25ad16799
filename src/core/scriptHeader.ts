/**
 * Reads queueing defaults from a comment in a script's header, e.g.
 *   # trainq: gpus=2 runtime=3h importance=high gain=5 args="--lr 3e-4 --name 'my run'"
 * Only the first 40 lines are read; several `# trainq:` lines merge, a later value replacing an
 * earlier one. A header is a convenience: anything wrong in it becomes a warning naming the line,
 * never an exception, so a bad header can't stop a job from being queued.
 */
import type { DependencyMode, HostConstraints, Importance } from './job';
import { CONSTRAINT_HEADER_KEYS, ConstraintInputError, contradiction, withConstraint } from './constraintInput';
import { ArgsError, parseArgs } from './argv';
import { outputGlobProblem } from './outputGlobs';
import { DurationError, parseDuration } from './duration';
import { FeatureError, checkExpectedGain, checkGpus, checkImportance, checkRuntimeSec } from './features';

export const HEADER_LINES = 40;

export interface ScriptHeaderValues {
  args: string[];
  gpus: number;
  importance: Importance;
  expectedGain: number;
  runtimeSec: number;
}

export interface ScriptHeader {
  values: Partial<ScriptHeaderValues>;
  warnings: string[];
  /**
   * `after=a.py,b.sh` or `after-ok=…`: display names of jobs to wait for, resolved when queueing
   * (dependencies.ts resolveByName); not a remembered input, so apart from `values`.
   */
  after?: { mode: DependencyMode; names: string[] };
  /** `hosts=`, `exclude=`, `gpu-model=`, `min-gpu-mem=` (constraintInput.ts): where the job may run. */
  constraints?: HostConstraints;
  /** `env-file=.env`: the job's .env file, as written (relative to the script's workspace folder or absolute). */
  envFile?: string;
  /** `python=.venv/bin/python`: the job's interpreter, as written (checked by the queue input). */
  interpreter?: string;
  /** `outputs="outputs/** *.ckpt"`: patterns copied back from a remote host when the job ends (outputGlobs.ts). */
  outputs?: string[];
}

// `#` starts a comment in both Python and shell scripts, the two kinds TrainQ runs.
const HEADER = /^\s*#\s*trainq:(.*)$/i;

type Parser = (value: string) => ScriptHeaderValues[keyof ScriptHeaderValues];

const PARSERS: Readonly<Record<keyof ScriptHeaderValues, Parser>> = {
  args: (value) => parseArgs(value),
  gpus: (value) => {
    const gpus = /^\d+$/.test(value) ? Number(value) : value;
    checkGpus(gpus);
    return gpus;
  },
  importance: (value) => {
    const importance = value.toLowerCase();
    checkImportance(importance);
    return importance;
  },
  expectedGain: (value) => {
    const match = /^(\d+(?:\.\d+)?|\.\d+)%?$/.exec(value);
    const gain = match ? Number(match[1]) : value;
    checkExpectedGain(gain);
    return gain;
  },
  runtimeSec: (value) => {
    const runtimeSec = parseDuration(value);
    checkRuntimeSec(runtimeSec);
    return runtimeSec;
  },
};

// A Map, not an object literal, so that keys like "constructor" are unknown rather than inherited;
// `gpu` is accepted for `gpus` as an easy slip.
const KEYS: ReadonlyMap<string, keyof ScriptHeaderValues> = new Map([
  ['gpus', 'gpus'],
  ['gpu', 'gpus'],
  ['runtime', 'runtimeSec'],
  ['importance', 'importance'],
  ['gain', 'expectedGain'],
  ['args', 'args'],
]);
const DEPENDENCY_KEYS: ReadonlyMap<string, DependencyMode> = new Map([
  ['after', 'after'],
  ['after-ok', 'after-ok'],
]);
const DOCUMENTED_KEYS = 'gpus, runtime, importance, gain, args, after, after-ok, hosts, exclude, gpu-model, min-gpu-mem, env-file, python, outputs';
/** Per-job environment keys; their values are paths, checked where they are resolved (queueInput.ts). */
const ENVIRONMENT_KEYS: ReadonlyMap<string, 'envFile' | 'interpreter'> = new Map([
  ['env-file', 'envFile'],
  ['python', 'interpreter'],
]);

function firstLines(text: string, count: number): string[] {
  const lines: string[] = [];
  let start = 0;
  while (lines.length < count && start <= text.length) {
    const end = text.indexOf('\n', start);
    const stop = end < 0 ? text.length : end;
    lines.push(text.slice(start, stop).replace(/\r$/, ''));
    start = stop + 1;
  }
  return lines;
}

function isUserError(error: unknown): error is Error {
  return error instanceof ArgsError || error instanceof DurationError || error instanceof FeatureError;
}

export function parseScriptHeader(text: string): ScriptHeader {
  const values: Partial<ScriptHeaderValues> = {};
  const warnings: string[] = [];
  const result: ScriptHeader = { values, warnings };
  const setOn = new Map<keyof ScriptHeaderValues, number>();
  const lines = firstLines(text, HEADER_LINES);

  lines.forEach((line, index) => {
    const header = HEADER.exec(line);
    if (!header) {
      return;
    }
    const lineNo = index + 1;
    const warn = (message: string): void => {
      warnings.push(`Line ${lineNo}: ${message}`);
    };
    let tokens: string[];
    try {
      tokens = parseArgs(header[1]);
    } catch (error) {
      if (!isUserError(error)) {
        throw error;
      }
      warn(`${error.message} The line is ignored.`);
      return;
    }
    if (tokens.length === 0) {
      warn(`"# trainq:" is followed by nothing; expected key=value pairs (${DOCUMENTED_KEYS}).`);
    }
    for (const token of tokens) {
      const eq = token.indexOf('=');
      if (eq <= 0) {
        warn(`"${token}" is not key=value; expected one of ${DOCUMENTED_KEYS}.`);
        continue;
      }
      const name = token.slice(0, eq);
      const mode = DEPENDENCY_KEYS.get(name.toLowerCase());
      if (mode !== undefined) {
        const names = token.slice(eq + 1).split(',').map((n) => n.trim()).filter((n) => n !== '');
        if (names.length === 0) {
          warn(`${name}= names no job; expected e.g. ${name}=prepare.py,train.py.`);
        } else {
          if (result.after) {
            warn(`${result.after.mode}= was already given; using this ${name}= instead.`);
          }
          result.after = { mode, names };
        }
        continue;
      }
      const limit = CONSTRAINT_HEADER_KEYS.get(name.toLowerCase());
      if (limit !== undefined) {
        try {
          result.constraints = withConstraint(result.constraints, limit, token.slice(eq + 1));
        } catch (error) {
          if (!(error instanceof ConstraintInputError)) {
            throw error;
          }
          warn(`${name}: ${error.message}`);
        }
        continue;
      }
      if (name.toLowerCase() === 'outputs') {
        // One quoted word holding patterns separated by spaces (a comma belongs to `{a,b}`).
        const patterns = token.slice(eq + 1).split(/\s+/).filter((p) => p !== '');
        const bad = patterns.map(outputGlobProblem).find((p) => p !== undefined);
        if (bad || patterns.length === 0) {
          warn(`outputs: ${bad ?? 'no pattern given, e.g. outputs="outputs/** *.ckpt"'}; the line's outputs are ignored.`);
        } else {
          result.outputs = patterns;
        }
        continue;
      }
      const environment = ENVIRONMENT_KEYS.get(name.toLowerCase());
      if (environment !== undefined) {
        const value = token.slice(eq + 1).trim();
        if (value === '' || /[\0\n\r]/.test(value)) {
          warn(`${name}= needs a path on one line, e.g. ${name === 'python' ? 'python=.venv/bin/python' : 'env-file=.env'}.`);
        } else {
          result[environment] = value;
        }
        continue;
      }
      const key = KEYS.get(name.toLowerCase());
      if (key === undefined) {
        warn(`unknown key "${name}"; expected one of ${DOCUMENTED_KEYS}.`);
        continue;
      }
      try {
        const parsed = PARSERS[key](token.slice(eq + 1).trim());
        const earlier = setOn.get(key);
        if (earlier !== undefined) {
          warn(`${name} was already set on line ${earlier}; using this line's value.`);
        }
        (values as Record<string, unknown>)[key] = parsed;
        setOn.set(key, lineNo);
      } catch (error) {
        if (!isUserError(error)) {
          throw error;
        }
        warn(`${name}: ${error.message}`);
      }
    }
  });
  const clash = result.constraints && contradiction(result.constraints);
  if (clash) {
    warnings.push(`Host constraints: ${clash}; the job could run nowhere.`);
  }
  return result;
}

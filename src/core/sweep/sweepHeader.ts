/**
 * A sweep defined in the training script itself, in `# trainq-sweep:` comment lines among its first
 * 40 lines; several lines merge. For example:
 *   # trainq-sweep: lr=float:1e-5..1e-1:log batch=choice:32,64,128 layers=int:2..8 optimizer=choice:sgd,adam
 *   # trainq-sweep: metric=val_acc goal=max trials=40 parallel=2 stop=asha strategy=adaptive gpus=1 runtime=30m
 *
 * Grammar. A line is split into words like the `# trainq:` header's (shell quoting: "…" or '…' for a
 * word with spaces); each word is KEY=VALUE.
 *   parameter  NAME=float:MIN..MAX[:log][:arg=ARG]      NAME=int:MIN..MAX[:log][:arg=ARG]
 *              NAME=choice:V1,V2,…[:arg=ARG]            NAME=choice:["a,b", "c"][:arg=ARG]  (a JSON list)
 *              NAME=fixed:VALUE[:arg=ARG]
 *              `:arg=` takes the rest of the word, so ARG may hold ':' and '{}' (lr=float:0..1:arg=--lr={}).
 *              A value reading as a number is a number, true/false a boolean, anything else a string;
 *              a JSON list keeps a string like "007" a string.
 *   setting    name= metric= goal=min|max strategy= seed= parallel= trials= gpuHours= gpus= importance=
 *              runtime=30m (a bare number means minutes, as in `# trainq:`) gain=5%
 *              args="--data cifar" (one command line, quoted)
 *              stop=off|median|asha[:KEY=N,KEY=N]   e.g. stop=asha:minSteps=1,reduction=3,maxSteps=27
 *              hosts=a100,lab-1 exclude=lab-2 gpu-model=A100 min-gpu-mem=20GiB outputs="outputs/** *.ckpt"
 *              (the trials' host constraints and output files, written as in the `# trainq:` header)
 * A word is a parameter when its value starts with a type (float:, int:, choice:, fixed:); setting
 * keys are case-insensitive, parameter names are not. Each key may be given once over all lines.
 *
 * The words become the same raw object a `*.sweep.json` file holds and go through
 * parseSweepDefinition, so both accept the same sweeps. Unlike the job header, a wrong sweep header
 * refuses the sweep (parseSweepHeader throws, naming the line): a half-understood sweep would spend
 * GPU-hours on the wrong search.
 */
import { ArgsError, parseArgs } from '../argv';
import { SweepDefinitionError, closestName, type JsonObject } from './definitionChecks';
import { type SweepDefinitionContext, parseSweepDefinition } from './sweepDefinition';
import type { SweepSpec } from './sweepTypes';

export const SWEEP_HEADER_LINES = 40;
const HEADER = /^\s*#\s*trainq-sweep:(.*)$/i;
const PARAM_VALUE = /^(float|int|choice|fixed):(.*)$/is;
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i;

/** Setting keys (lower case) → the JSON path they fill. */
const SETTINGS: ReadonlyMap<string, string> = new Map([
  ['name', 'name'], ['metric', 'metric'], ['goal', 'goal'], ['strategy', 'strategy'], ['seed', 'seed'],
  ['parallel', 'parallel'], ['trials', 'budget.trials'], ['gpuhours', 'budget.gpuHours'],
  ['gpus', 'gpus'], ['gpu', 'gpus'], ['importance', 'importance'], ['runtime', 'runtime'],
  ['gain', 'expectedGain'], ['args', 'args'], ['stop', 'earlyStopping'],
  ['hosts', 'constraints.require'], ['host', 'constraints.require'], ['exclude', 'constraints.exclude'],
  ['gpu-model', 'constraints.gpuModel'], ['min-gpu-mem', 'constraints.minGpuMem'], ['outputs', 'outputs'],
]);
const SETTING_NAMES = [
  'name', 'metric', 'goal', 'strategy', 'seed', 'parallel', 'trials', 'gpuHours', 'gpus', 'importance', 'runtime', 'gain', 'args', 'stop',
  'hosts', 'exclude', 'gpu-model', 'min-gpu-mem', 'outputs',
];
/** Lists written as one word: names separated by commas, output patterns by spaces (a comma belongs to `{a,b}`). */
const LISTS: ReadonlyMap<string, RegExp> = new Map([['constraints.require', /,/], ['constraints.exclude', /,/], ['outputs', /\s+/]]);
const NUMERIC = new Set(['seed', 'parallel', 'budget.trials', 'budget.gpuHours', 'gpus']);

export interface SweepHeader {
  /** The definition the header spells, not yet validated; undefined when the script has no sweep lines. */
  raw: JsonObject | undefined;
  /** Every word that could not be read, "line 3: …"; parseSweepHeader refuses on the first. */
  warnings: string[];
}

interface Collected {
  raw: JsonObject | undefined;
  problems: SweepDefinitionError[];
  /** Where each JSON path was set, and the key the user wrote for it, to put errors back on their line. */
  origins: Map<string, { line: number; key: string }>;
}

function scalar(text: string): string | number | boolean {
  if (NUMBER.test(text)) {
    return Number(text);
  }
  return text === 'true' ? true : text === 'false' ? false : text;
}

/** The `float:…`, `int:…`, `choice:…` or `fixed:…` after a parameter's name, as its JSON object. */
function paramObject(type: string, body: string): JsonObject {
  const argAt = body.indexOf(':arg=');
  const spec: JsonObject = { type };
  if (argAt >= 0) {
    spec.arg = body.slice(argAt + ':arg='.length);
    body = body.slice(0, argAt);
  }
  if (type === 'fixed') {
    spec.value = scalar(body);
  } else if (type === 'choice') {
    if (body.trimStart().startsWith('[')) {
      try {
        spec.values = JSON.parse(body) as unknown;
      } catch {
        throw new Error(`the list ${body} is not valid JSON`);
      }
    } else {
      spec.values = body === '' ? [] : body.split(',').map(scalar);
    }
  } else {
    const [range, ...options] = body.split(':');
    const dots = range.indexOf('..');
    if (dots < 0) {
      throw new Error(`expected ${type}:MIN..MAX (got "${type}:${body}")`);
    }
    spec.min = scalar(range.slice(0, dots));
    spec.max = scalar(range.slice(dots + 2));
    for (const option of options) {
      if (option !== 'log') {
        throw new Error(`unknown option ":${option}"; a ${type} range takes :log and :arg=…`);
      }
      spec.log = true;
    }
  }
  return spec;
}

/** `stop=asha:minSteps=1,reduction=3` → {rule: "asha", minSteps: 1, reduction: 3}; a bare rule stays a string. */
function stopValue(value: string): unknown {
  const colon = value.indexOf(':');
  if (colon < 0) {
    return value;
  }
  const spec: JsonObject = { rule: value.slice(0, colon) };
  for (const pair of value.slice(colon + 1).split(',')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) {
      throw new Error(`"${pair}" is not KEY=N (e.g. stop=asha:minSteps=1,reduction=3,maxSteps=27)`);
    }
    spec[pair.slice(0, eq)] = scalar(pair.slice(eq + 1));
  }
  return spec;
}

function setPath(raw: JsonObject, jsonPath: string, value: unknown): void {
  const [head, tail] = jsonPath.split('.', 2);
  if (tail === undefined) {
    raw[head] = value;
    return;
  }
  const inner = (raw[head] ??= {}) as JsonObject;
  inner[tail] = value;
}

function collect(text: string): Collected {
  const collected: Collected = { raw: undefined, problems: [], origins: new Map() };
  const lines = text.split('\n', SWEEP_HEADER_LINES);
  lines.forEach((rawLine, index) => {
    const header = HEADER.exec(rawLine.replace(/\r$/, ''));
    if (!header) {
      return;
    }
    const line = index + 1;
    const raw = (collected.raw ??= {});
    const parameters = (raw.parameters ??= {}) as JsonObject;
    const problem = (key: string, detail: string): void => {
      collected.problems.push(new SweepDefinitionError(key, detail, `line ${line}: ${key}`));
    };
    let words: string[];
    try {
      words = parseArgs(header[1]);
    } catch (error) {
      if (!(error instanceof ArgsError)) {
        throw error;
      }
      collected.problems.push(new SweepDefinitionError('', error.message, `line ${line}`));
      return;
    }
    for (const word of words) {
      const eq = word.indexOf('=');
      if (eq <= 0) {
        collected.problems.push(new SweepDefinitionError('', `"${word}" is not KEY=VALUE`, `line ${line}`));
        continue;
      }
      const key = word.slice(0, eq);
      const value = word.slice(eq + 1);
      const param = PARAM_VALUE.exec(value);
      const jsonPath = param ? `parameters.${key}` : SETTINGS.get(key.toLowerCase());
      if (jsonPath === undefined) {
        const guess = closestName(key, SETTING_NAMES);
        const hint = guess === undefined ? `settings are ${SETTING_NAMES.join(', ')}` : `did you mean "${guess}"?`;
        problem(key, `unknown setting; ${hint} A parameter is NAME=float:…, int:…, choice:… or fixed:…`);
        continue;
      }
      const earlier = collected.origins.get(jsonPath);
      if (earlier !== undefined) {
        problem(key, `already set on line ${earlier.line}; give each key once`);
        continue;
      }
      try {
        if (param) {
          parameters[key] = paramObject(param[1].toLowerCase(), param[2]);
        } else if (jsonPath === 'earlyStopping') {
          setPath(raw, jsonPath, stopValue(value));
        } else if (jsonPath === 'expectedGain') {
          setPath(raw, jsonPath, scalar(value.replace(/%$/, '')));
        } else if (jsonPath === 'importance') {
          setPath(raw, jsonPath, value.toLowerCase());
        } else if (LISTS.has(jsonPath)) {
          setPath(raw, jsonPath, value.split(LISTS.get(jsonPath)!).map((v) => v.trim()).filter((v) => v !== ''));
        } else {
          setPath(raw, jsonPath, NUMERIC.has(jsonPath) ? scalar(value) : value);
        }
        collected.origins.set(jsonPath, { line, key });
      } catch (error) {
        problem(key, (error as Error).message);
      }
    }
  });
  return collected;
}

/** The header's definition, unvalidated, and the words it could not read; never throws for the user's text. */
export function readSweepHeader(text: string): SweepHeader {
  const { raw, problems } = collect(text);
  return { raw, warnings: problems.map((problem) => problem.message) };
}

/** True when the script's first lines hold a `# trainq-sweep:` line, for offering Queue Sweep. */
export function hasSweepHeader(text: string): boolean {
  return text.split('\n', SWEEP_HEADER_LINES).some((line) => HEADER.test(line.replace(/\r$/, '')));
}

/**
 * The validated sweep the header defines. Throws SweepDefinitionError for the first problem, its
 * message naming the line and the key as written ("line 3: lr: min (0) must be > 0 for a log scale").
 */
export function parseSweepHeader(text: string, ctx: SweepDefinitionContext): SweepSpec {
  const { raw, problems, origins } = collect(text);
  if (problems.length > 0) {
    throw problems[0];
  }
  if (raw === undefined) {
    throw new SweepDefinitionError('', `No "# trainq-sweep:" line in the script's first ${SWEEP_HEADER_LINES} lines, and no .sweep.json file for it.`);
  }
  if (Object.keys(raw.parameters as JsonObject).length === 0) {
    throw new SweepDefinitionError('parameters', 'no parameter to search; add e.g. lr=float:1e-5..1e-1:log', 'the # trainq-sweep header: parameters');
  }
  try {
    return parseSweepDefinition(raw, { ...ctx, baseDir: undefined });
  } catch (error) {
    if (error instanceof SweepDefinitionError) {
      throw onHeaderLine(error, origins);
    }
    throw error;
  }
}

/** The validator speaks JSON paths; the user wrote header keys on numbered lines. */
function onHeaderLine(error: SweepDefinitionError, origins: Collected['origins']): SweepDefinitionError {
  // `outputs[1]` was set by the one word `outputs=`: list indexes are no part of where a key was set.
  const parts = error.field.replace(/\[\d+\]/g, '').split('.');
  for (let n = parts.length; n > 0; n--) {
    const origin = origins.get(parts.slice(0, n).join('.'));
    if (origin !== undefined) {
      const labelRest = error.label.split('.').slice(n).join('.');
      const label = labelRest === '' ? origin.key : `${origin.key}.${labelRest}`;
      return new SweepDefinitionError(error.field, error.detail, `line ${origin.line}: ${label}`);
    }
  }
  // A required setting no line gave: name it as the header spells it.
  const key = [...SETTINGS].find(([, jsonPath]) => jsonPath === error.field)?.[0] ?? (error.field === 'budget' ? 'trials or gpuHours' : error.field);
  return new SweepDefinitionError(error.field, error.detail, key === '' ? 'the # trainq-sweep header' : `the # trainq-sweep header: ${key}`);
}

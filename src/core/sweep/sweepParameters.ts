/**
 * The `parameters` block of a sweep definition: what is searched (float, int, choice) and what is only
 * passed along (fixed). A fixed parameter has no ParamSpec kind, because no strategy should see it;
 * it becomes arguments every trial gets, and its value is kept by name for the environment and view.
 */
import type { ParamSpec, ParamValue, Params } from './sweepTypes';
import { argsFor, formatValue, paramEnvName } from './paramSpace';
import {
  SweepDefinitionError,
  type JsonObject,
  checkKnownFields,
  finiteAt,
  has,
  isObject,
  objectAt,
  oneOf,
  own,
  shown,
  stringAt,
} from './definitionChecks';

export const PARAM_TYPES = ['float', 'int', 'choice', 'fixed'] as const;
export type ParamType = (typeof PARAM_TYPES)[number];

/** The fields each parameter type accepts; the JSON schema lists the same (a test keeps them equal). */
export const PARAM_FIELDS: Readonly<Record<ParamType, readonly string[]>> = {
  float: ['type', 'min', 'max', 'log', 'arg'],
  int: ['type', 'min', 'max', 'log', 'arg'],
  choice: ['type', 'values', 'arg'],
  fixed: ['type', 'value', 'arg'],
};

/** Parameter names become TRAINQ_PARAM_<NAME> and argument flags, so they stay plain. */
export const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;
/** Names a plain-object lookup of a trial's Params would resolve on Object.prototype, or would replace it. */
const RESERVED_NAMES = new Set(['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', 'valueOf']);
export const MAX_PARAMS = 32;
/** More choices than anyone lists by hand: a generated list that long belongs in an int or float range. */
export const MAX_CHOICES = 1_000;
const MAX_VALUE_LENGTH = 1_000;

export interface ParsedParameters {
  params: ParamSpec[];
  fixedArgs: string[];
  fixedParams: Params;
}

function valueAt(value: unknown, field: string): ParamValue {
  if (typeof value === 'boolean') {
    return value;
  }
  if (typeof value === 'number') {
    return finiteAt(value, field);
  }
  if (typeof value === 'string') {
    return stringAt(value, field, MAX_VALUE_LENGTH, true);
  }
  throw new SweepDefinitionError(field, `must be a string, number or boolean (got ${shown(value)})`);
}

function argAt(obj: JsonObject, field: string): string | undefined {
  if (!has(obj, 'arg')) {
    return undefined;
  }
  const arg = stringAt(own(obj, 'arg'), field, 200);
  if (arg.split('{}').length > 2) {
    throw new SweepDefinitionError(field, `may hold "{}" once, where the value goes (got ${shown(arg)})`);
  }
  return arg;
}

function rangeParam(kind: 'float' | 'int', name: string, spec: JsonObject, at: string): ParamSpec {
  const bound = (key: 'min' | 'max'): number => {
    if (!has(spec, key)) {
      throw new SweepDefinitionError(`${at}.${key}`, `required for a ${kind} parameter`);
    }
    const n = finiteAt(own(spec, key), `${at}.${key}`);
    if (kind === 'int' && !Number.isSafeInteger(n)) {
      throw new SweepDefinitionError(`${at}.${key}`, `${key} (${n}) must be a whole number for an int parameter`, at);
    }
    return n;
  };
  const min = bound('min');
  const max = bound('max');
  if (min > max) {
    throw new SweepDefinitionError(`${at}.min`, `min (${min}) must not be greater than max (${max})`, at);
  }
  let log: boolean | undefined;
  if (has(spec, 'log')) {
    const value = own(spec, 'log');
    if (typeof value !== 'boolean') {
      throw new SweepDefinitionError(`${at}.log`, `must be true or false (got ${shown(value)})`);
    }
    log = value;
  }
  if (log === true && min <= 0) {
    throw new SweepDefinitionError(`${at}.min`, `min (${min}) must be > 0 for a log scale`, at);
  }
  const arg = argAt(spec, `${at}.arg`);
  return { kind, name, min, max, ...(log === undefined ? {} : { log }), ...(arg === undefined ? {} : { arg }) };
}

function choiceParam(name: string, spec: JsonObject, at: string): ParamSpec {
  const values = own(spec, 'values');
  if (!Array.isArray(values)) {
    throw new SweepDefinitionError(`${at}.values`, `must be a list of values like [32, 64, 128] (got ${shown(values)})`);
  }
  if (values.length === 0) {
    throw new SweepDefinitionError(`${at}.values`, 'must list at least one value');
  }
  if (values.length > MAX_CHOICES) {
    throw new SweepDefinitionError(`${at}.values`, `lists ${values.length} values, more than ${MAX_CHOICES}; use an int or float range`);
  }
  // Two values the script would receive as the same text (64 and "64") are the same trial twice.
  const seen = new Map<string, number>();
  const checked = values.map((value, index) => {
    const parsed = valueAt(value, `${at}.values[${index}]`);
    const text = formatValue(parsed);
    const earlier = seen.get(text);
    if (earlier !== undefined) {
      throw new SweepDefinitionError(`${at}.values[${index}]`, `${shown(value)} repeats values[${earlier}]; each choice must differ`);
    }
    seen.set(text, index);
    return parsed;
  });
  const arg = argAt(spec, `${at}.arg`);
  return { kind: 'choice', name, values: checked, ...(arg === undefined ? {} : { arg }) };
}

function checkName(name: string, at: string): void {
  if (!PARAM_NAME.test(name)) {
    throw new SweepDefinitionError(at, `the name must start with a letter or _ and hold only letters, digits, _ . - (64 at most)`);
  }
  if (RESERVED_NAMES.has(name)) {
    throw new SweepDefinitionError(at, `"${name}" is reserved; choose another name`);
  }
}

export function parseParameters(raw: unknown): ParsedParameters {
  const block = objectAt(raw, 'parameters', '{"lr": {"type": "float", "min": 1e-5, "max": 0.1, "log": true}}');
  const names = Object.keys(block);
  if (names.length > MAX_PARAMS) {
    throw new SweepDefinitionError('parameters', `has ${names.length} parameters, more than ${MAX_PARAMS}`);
  }
  const result: ParsedParameters = { params: [], fixedArgs: [], fixedParams: Object.create(null) as Params };
  const envNames = new Map<string, string>();
  const flags = new Map<string, string>();
  for (const name of names) {
    const at = `parameters.${name}`;
    checkName(name, at);
    // Two names that give the same environment variable would overwrite each other in every trial.
    const env = paramEnvName(name);
    const clash = envNames.get(env);
    if (clash !== undefined) {
      throw new SweepDefinitionError(at, `differs from "${clash}" only in case or in . - _ (both become ${env})`);
    }
    envNames.set(env, name);
    const spec = own(block, name);
    if (!isObject(spec)) {
      throw new SweepDefinitionError(at, `must be an object like {"type": "float", "min": 0, "max": 1} (got ${shown(spec)})`);
    }
    if (!has(spec, 'type')) {
      throw new SweepDefinitionError(`${at}.type`, `required: one of ${PARAM_TYPES.join(', ')}`);
    }
    const type = oneOf(own(spec, 'type'), `${at}.type`, PARAM_TYPES);
    checkKnownFields(spec, PARAM_FIELDS[type], `${at}.`);
    if (type === 'fixed') {
      if (!has(spec, 'value')) {
        throw new SweepDefinitionError(`${at}.value`, 'required for a fixed parameter');
      }
      const value = valueAt(own(spec, 'value'), `${at}.value`);
      const arg = argAt(spec, `${at}.arg`);
      checkFlag(flags, arg ?? `--${name}`, name, at);
      // The same argument rule as a searched parameter's, so a parameter can move between the two.
      const asChoice: ParamSpec = { kind: 'choice', name, values: [value], ...(arg === undefined ? {} : { arg }) };
      result.fixedArgs.push(...argsFor([asChoice], { [name]: value }));
      result.fixedParams[name] = value;
      continue;
    }
    const param = type === 'choice' ? choiceParam(name, spec, at) : rangeParam(type, name, spec, at);
    checkFlag(flags, param.arg ?? `--${name}`, name, at);
    result.params.push(param);
  }
  if (result.params.length === 0) {
    throw new SweepDefinitionError('parameters', 'needs at least one parameter to search (float, int or choice)');
  }
  // A plain object again, so the result compares and serialises like any other.
  result.fixedParams = { ...result.fixedParams };
  return result;
}

/** Two parameters passed with the same flag would leave the script reading only one of them. */
function checkFlag(flags: Map<string, string>, flag: string, name: string, at: string): void {
  const other = flags.get(flag);
  if (other !== undefined) {
    throw new SweepDefinitionError(`${at}.arg`, `"${flag}" is already how "${other}" is passed; give each parameter its own arg`, at);
  }
  flags.set(flag, name);
}

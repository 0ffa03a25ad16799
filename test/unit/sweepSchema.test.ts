// The JSON schema the editor checks *.sweep.json with, held to the parser: same field names, same
// enums, and every valid definition of the parser's tests valid under the schema too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { STRATEGY_NAMES } from '../../src/core/sweep/sweepTypes';
import { IMPORTANCES } from '../../src/core/job';
import { BUDGET_FIELDS, EARLY_STOPPING_FIELDS, EARLY_STOPPING_RULES, GOALS, SWEEP_FIELDS, parseSweepDefinition } from '../../src/core/sweep/sweepDefinition';
import { PARAM_FIELDS, PARAM_TYPES } from '../../src/core/sweep/sweepParameters';
import { readSweepHeader } from '../../src/core/sweep/sweepHeader';
import { CONSTRAINT_FIELDS } from '../../src/core/sweep/trialPlacement';
import { FULL, MINIMAL } from './sweepFixtures';

type Schema = Record<string, unknown>;
const schema = JSON.parse(fs.readFileSync(path.join(__dirname, '../../schemas/sweep.schema.json'), 'utf8')) as Schema;
const defs = schema.definitions as Record<string, Schema>;
const props = (s: Schema): string[] => Object.keys(s.properties as Schema).sort();

/** Errors of `value` under the subset of draft-07 the sweep schema uses. */
function check(s: Schema, value: unknown, at = '$'): string[] {
  if (typeof s.$ref === 'string') return check(defs[s.$ref.replace('#/definitions/', '')], value, at);
  const errors: string[] = [];
  const kind = Array.isArray(value) ? 'array' : value === null ? 'null' : Number.isInteger(value) ? 'integer' : typeof value;
  if (s.type !== undefined) {
    const types = ([] as unknown[]).concat(s.type);
    if (!types.some((t) => t === kind || (t === 'number' && kind === 'integer'))) return [`${at}: type ${kind} is not ${types.join('|')}`];
  }
  if (Array.isArray(s.enum) && !s.enum.includes(value)) errors.push(`${at}: not in enum`);
  if ('const' in s && s.const !== value) errors.push(`${at}: not ${String(s.const)}`);
  if (typeof value === 'number') {
    if (typeof s.minimum === 'number' && value < s.minimum) errors.push(`${at}: below minimum`);
    if (typeof s.maximum === 'number' && value > s.maximum) errors.push(`${at}: above maximum`);
    if (typeof s.exclusiveMinimum === 'number' && value <= s.exclusiveMinimum) errors.push(`${at}: not above exclusiveMinimum`);
  }
  if (typeof value === 'string') {
    if (typeof s.pattern === 'string' && !new RegExp(s.pattern).test(value)) errors.push(`${at}: pattern`);
    if (typeof s.minLength === 'number' && value.length < s.minLength) errors.push(`${at}: minLength`);
  }
  if (Array.isArray(value)) {
    if (typeof s.minItems === 'number' && value.length < s.minItems) errors.push(`${at}: minItems`);
    if (s.items) value.forEach((item, i) => errors.push(...check(s.items as Schema, item, `${at}[${i}]`)));
  }
  if (kind === 'object') {
    const obj = value as Record<string, unknown>;
    for (const key of (s.required as string[] | undefined) ?? []) if (!(key in obj)) errors.push(`${at}: missing ${key}`);
    if (typeof s.minProperties === 'number' && Object.keys(obj).length < s.minProperties) errors.push(`${at}: minProperties`);
    for (const [key, item] of Object.entries(obj)) {
      const known = (s.properties as Record<string, Schema> | undefined)?.[key];
      if (s.propertyNames) errors.push(...check(s.propertyNames as Schema, key, `${at} name ${key}`));
      if (known) errors.push(...check(known, item, `${at}.${key}`));
      else if (s.additionalProperties === false) errors.push(`${at}: unknown ${key}`);
      else if (typeof s.additionalProperties === 'object') errors.push(...check(s.additionalProperties as Schema, item, `${at}.${key}`));
    }
  }
  if (Array.isArray(s.oneOf)) {
    const passing = s.oneOf.filter((option) => check(option as Schema, value, at).length === 0).length;
    if (passing !== 1) errors.push(`${at}: ${passing} of oneOf match`);
  }
  return errors;
}

test('the schema lists exactly the fields the parser accepts', () => {
  assert.deepEqual(props(schema), [...SWEEP_FIELDS].sort());
  assert.deepEqual(props((schema.properties as Record<string, Schema>).budget), [...BUDGET_FIELDS].sort());
  for (const type of PARAM_TYPES) assert.deepEqual(props(defs[type]), [...PARAM_FIELDS[type]].sort(), type);
  for (const rule of EARLY_STOPPING_RULES) assert.deepEqual(props(defs[rule]), [...EARLY_STOPPING_FIELDS[rule]].sort(), rule);
  assert.deepEqual(props((schema.properties as Record<string, Schema>).constraints), [...CONSTRAINT_FIELDS].sort());
});

test('the schema\'s enums are the parser\'s', () => {
  const top = schema.properties as Record<string, Schema>;
  assert.deepEqual(top.strategy.enum, [...STRATEGY_NAMES]);
  assert.deepEqual(top.goal.enum, [...GOALS]);
  assert.deepEqual(top.importance.enum, [...IMPORTANCES]);
  assert.deepEqual((top.earlyStopping.oneOf as Schema[])[0].enum, [...EARLY_STOPPING_RULES]);
  assert.deepEqual((defs.parameter.oneOf as Schema[]).map((o) => o.$ref), PARAM_TYPES.map((t) => `#/definitions/${t}`));
});

const ctx = { scriptPath: '/w/train.py', cwd: '/w', defaults: { gpus: 1, importance: 'normal' as const, runtimeSec: 3_600 } };
const header = readSweepHeader('# trainq-sweep: lr=float:1e-5..1e-1:log b=choice:1,2 w=fixed:x metric=m goal=max trials=3 stop=median').raw;
const VALID: unknown[] = [
  FULL, MINIMAL, header, { ...MINIMAL, earlyStopping: 'off', args: '--a b', runtime: 120 },
  { ...MINIMAL, constraints: { minGpuMem: '1.5 gb', gpuModel: 'RTX 4090' }, outputs: [] },
];
// Every schema example that is a whole definition or one parameter.
const examples = [...((defs.float.examples as unknown[]) ?? []), ...(defs.int.examples as unknown[]), ...(defs.choice.examples as unknown[])];
const top = schema.properties as Record<string, Schema>;
// The examples of the fields a definition holds whole (constraints, outputs).
const fieldExamples = (['constraints', 'outputs'] as const).flatMap((key) => (top[key].examples as unknown[]).map((value) => ({ ...MINIMAL, [key]: value })));

test('every valid definition the parser accepts is valid under the schema, and the schema examples parse', () => {
  for (const raw of VALID) {
    assert.doesNotThrow(() => parseSweepDefinition(raw, ctx));
    assert.deepEqual(check(schema, raw), []);
  }
  for (const raw of fieldExamples) {
    assert.doesNotThrow(() => parseSweepDefinition(raw, ctx));
    assert.deepEqual(check(schema, raw), []);
  }
  for (const param of examples) {
    const raw = { ...MINIMAL, parameters: { p: param } };
    assert.doesNotThrow(() => parseSweepDefinition(raw, ctx));
    assert.deepEqual(check(schema, raw), []);
  }
});

test('the schema catches the refusals it can express', () => {
  for (const raw of [
    { ...MINIMAL, paralel: 2 }, { ...MINIMAL, strategy: 'bayes' }, { ...MINIMAL, budget: {} }, { ...MINIMAL, parameters: { lr: { type: 'float', min: 0 } } },
    { ...MINIMAL, constraints: { requires: ['a100'] } }, { ...MINIMAL, constraints: { exclude: ['lab 2'] } }, { ...MINIMAL, constraints: { minGpuMem: '20' } },
    { ...MINIMAL, constraints: { minGpuMem: 20 } }, { ...MINIMAL, constraints: { gpuModel: ' A100' } }, { ...MINIMAL, outputs: 'outputs/**' },
  ]) {
    assert.throws(() => parseSweepDefinition(raw, ctx));
    assert.notDeepEqual(check(schema, raw), []);
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import {
  SweepDefinitionError,
  parseSweepDefinition,
  readSweepDefinition,
  type SweepDefinitionContext,
} from '../../src/core/sweep/sweepDefinition';
import { FULL, MINIMAL } from './sweepFixtures';

const ctx: SweepDefinitionContext = {
  scriptPath: '/w/exp/train.py',
  cwd: '/w',
  defaults: { gpus: 1, importance: 'normal', runtimeSec: 3_600 },
};

test('a full definition gives every field, fixed parameters as arguments after args', () => {
  const { spec, fixedParams } = readSweepDefinition(FULL, { ...ctx, baseDir: '/w/defs' });
  assert.deepEqual(spec, {
    name: 'lr sweep',
    script: path.resolve('/w/defs/train.py'),
    cwd: '/w',
    fixedArgs: ['--data', 'cifar', '--warmup', '500'],
    params: [
      { kind: 'float', name: 'lr', min: 1e-5, max: 0.1, log: true, arg: '--lr' },
      { kind: 'choice', name: 'batch', values: [32, 64, 128] },
      { kind: 'int', name: 'layers', min: 2, max: 8 },
      { kind: 'choice', name: 'optimizer', values: ['sgd', 'adam'], arg: '--opt={}' },
    ],
    metric: 'val_acc',
    goal: 'max',
    budget: { trials: 40, gpuHours: 12 },
    parallel: 2,
    earlyStopping: { rule: 'asha', minSteps: 1, reduction: 3, maxSteps: 27 },
    strategy: 'adaptive',
    seed: 7,
    gpus: 2,
    importance: 'high',
    expectedGain: 5,
    runtimeSec: 1_800,
    constraints: { require: ['a100', 'lab-1'], exclude: ['lab-2'], gpuModel: 'A100', minGpuMemMiB: 20_480 },
    outputs: ['outputs/**', '*.{pt,ckpt}'],
  });
  assert.deepEqual(fixedParams, { warmup: 500 });
});

test('a minimal definition takes the script, name and job features from the context', () => {
  const spec = parseSweepDefinition(MINIMAL, { ...ctx, defaults: { ...ctx.defaults, expectedGain: 12 } });
  assert.equal(spec.script, path.resolve('/w/exp/train.py'));
  assert.equal(spec.name, 'train.py');
  assert.deepEqual(spec.fixedArgs, []);
  assert.equal(spec.parallel, 1);
  assert.deepEqual(spec.earlyStopping, { rule: 'off' });
  assert.equal(spec.strategy, 'adaptive');
  assert.equal(spec.seed, 0);
  assert.deepEqual([spec.gpus, spec.importance, spec.runtimeSec, spec.expectedGain], [1, 'normal', 3_600, 12]);
  assert.equal('expectedGain' in parseSweepDefinition(MINIMAL, ctx), false);
  assert.equal('constraints' in spec || 'outputs' in spec, false, 'no constraints or outputs unless given');
});

test('constraints and outputs that restrict nothing are left out; names repeated in a list count once', () => {
  const spec = parseSweepDefinition({ ...MINIMAL, constraints: { require: [], exclude: [] }, outputs: [] }, ctx);
  assert.equal('constraints' in spec || 'outputs' in spec, false);
  const one = parseSweepDefinition({ ...MINIMAL, constraints: { require: ['a100', 'a100'], minGpuMem: '512MiB' } }, ctx);
  assert.deepEqual(one.constraints, { require: ['a100'], minGpuMemMiB: 512 });
});

test('args as one string split like a command line; runtime as seconds; a template fixed arg', () => {
  const spec = parseSweepDefinition(
    { ...MINIMAL, args: `--name 'my run' -v`, runtime: 5_400, parameters: { ...MINIMAL.parameters, tag: { type: 'fixed', value: 'a b', arg: '--tag={}' } } },
    ctx,
  );
  assert.deepEqual(spec.fixedArgs, ['--name', 'my run', '-v', '--tag=a b']);
  assert.equal(spec.runtimeSec, 5_400);
});

test('a bare early-stopping rule gets its defaults, an object fills the fields it leaves out', () => {
  const rule = (earlyStopping: unknown) => parseSweepDefinition({ ...MINIMAL, earlyStopping }, ctx).earlyStopping;
  assert.deepEqual(rule('median'), { rule: 'median', graceSteps: 5, minTrials: 5 });
  assert.deepEqual(rule('asha'), { rule: 'asha', minSteps: 1, reduction: 3, maxSteps: 27 });
  assert.deepEqual(rule('off'), { rule: 'off' });
  assert.deepEqual(rule({ rule: 'median', graceSteps: 0 }), { rule: 'median', graceSteps: 0, minTrials: 5 });
  assert.deepEqual(rule({ rule: 'asha', minSteps: 40 }), { rule: 'asha', minSteps: 40, reduction: 3, maxSteps: 40 });
});

test('a grid of floats is accepted: the grid strategy picks their points', () => {
  assert.equal(parseSweepDefinition({ ...MINIMAL, strategy: 'grid' }, ctx).strategy, 'grid');
});

const p = (parameters: unknown) => ({ ...MINIMAL, parameters });
const manyChoices = Array.from({ length: 10_000 }, (_, i) => i);
const hostile = JSON.parse('{"__proto__": {"type": "float", "min": 0, "max": 1}}') as unknown;

// [what, definition, field, words the message must hold]
const REFUSALS: Array<[string, unknown, string, string]> = [
  ['not an object', [MINIMAL], '', 'must be an object'],
  ['null', null, '', 'got null'],
  ['a typo at the top', { ...MINIMAL, paralel: 2 }, 'paralel', 'did you mean "parallel"'],
  ['an unknown field', { ...MINIMAL, zzz: 1 }, 'zzz', 'unknown field'],
  ['no parameters', { ...MINIMAL, parameters: undefined }, 'parameters', 'required'],
  ['parameters as an array', p([{ type: 'float' }]), 'parameters', 'must be an object'],
  ['only fixed parameters', p({ w: { type: 'fixed', value: 1 } }), 'parameters', 'at least one parameter to search'],
  ['__proto__ as a name', { ...MINIMAL, parameters: hostile }, 'parameters.__proto__', 'reserved'],
  ['constructor as a name', p({ constructor: { type: 'int', min: 0, max: 1 } }), 'parameters.constructor', 'reserved'],
  ['an unsafe name', p({ 'lr;rm': { type: 'float', min: 0, max: 1 } }), 'parameters.lr;rm', 'must start with a letter'],
  ['names clashing in the environment', p({ lr: { type: 'float', min: 0, max: 1 }, LR: { type: 'float', min: 0, max: 1 } }), 'parameters.LR', 'TRAINQ_PARAM_LR'],
  ['a parameter as an array', p({ lr: [0, 1] }), 'parameters.lr', 'must be an object'],
  ['no type', p({ lr: { min: 0, max: 1 } }), 'parameters.lr.type', 'required'],
  ['a type typo', p({ lr: { type: 'flaot', min: 0, max: 1 } }), 'parameters.lr.type', 'did you mean "float"'],
  ['a field of another type', p({ lr: { type: 'float', min: 0, max: 1, values: [1] } }), 'parameters.lr.values', 'unknown field'],
  ['min missing', p({ lr: { type: 'float', max: 1 } }), 'parameters.lr.min', 'required'],
  ['min > max', p({ lr: { type: 'float', min: 2, max: 1 } }), 'parameters.lr.min', 'must not be greater than max'],
  ['1e999', p({ lr: { type: 'float', min: 0, max: JSON.parse('1e999') as number } }), 'parameters.lr.max', 'finite'],
  ['NaN as a string', p({ lr: { type: 'float', min: 'NaN', max: 1 } }), 'parameters.lr.min', 'must be a number (got "NaN")'],
  ['int bounds not whole', p({ n: { type: 'int', min: 1.5, max: 4 } }), 'parameters.n.min', 'whole number'],
  ['log with min 0', p({ lr: { type: 'float', min: 0, max: 1, log: true } }), 'parameters.lr.min', 'min (0) must be > 0 for a log scale'],
  ['log not a boolean', p({ lr: { type: 'float', min: 1, max: 2, log: 'yes' } }), 'parameters.lr.log', 'true or false'],
  ['empty choices', p({ b: { type: 'choice', values: [] } }), 'parameters.b.values', 'at least one'],
  ['duplicate choices', p({ b: { type: 'choice', values: [32, 64, '64'] } }), 'parameters.b.values[2]', 'repeats values[1]'],
  ['10 000 choices', p({ b: { type: 'choice', values: manyChoices } }), 'parameters.b.values', 'more than 1000'],
  ['a nested choice', p({ b: { type: 'choice', values: [[1], { a: 1 }] } }), 'parameters.b.values[0]', 'string, number or boolean'],
  ['a fixed without value', p({ lr: { type: 'float', min: 0, max: 1 }, w: { type: 'fixed' } }), 'parameters.w.value', 'required'],
  ['an empty arg', p({ lr: { type: 'float', min: 0, max: 1, arg: '' } }), 'parameters.lr.arg', 'must not be empty'],
  ['NUL in an arg', p({ lr: { type: 'float', min: 0, max: 1, arg: '--lr\u0000' } }), 'parameters.lr.arg', 'NUL'],
  ['two {} in an arg', p({ lr: { type: 'float', min: 0, max: 1, arg: '{}={}' } }), 'parameters.lr.arg', 'once'],
  ['two parameters, one flag', p({ a: { type: 'float', min: 0, max: 1, arg: '--x' }, b: { type: 'int', min: 0, max: 1, arg: '--x' } }), 'parameters.b.arg', 'already how "a"'],
  ['NUL in args', { ...MINIMAL, args: ['ok', 'a\u0000b'] }, 'args[1]', 'NUL'],
  ['an unclosed quote in args', { ...MINIMAL, args: '--name "x' }, 'args', 'Unclosed double quote'],
  ['args as an object', { ...MINIMAL, args: { a: 1 } }, 'args', 'list of arguments'],
  ['no metric', { ...MINIMAL, metric: undefined }, 'metric', 'required'],
  ['an unsafe metric', { ...MINIMAL, metric: 'acc $(x)' }, 'metric', 'letters, digits'],
  ['a wrong goal', { ...MINIMAL, goal: 'maximize' }, 'goal', 'one of min, max'],
  ['no budget', { ...MINIMAL, budget: undefined }, 'budget', 'required'],
  ['an empty budget', { ...MINIMAL, budget: {} }, 'budget', 'trials, gpuHours or both'],
  ['a budget as a number', { ...MINIMAL, budget: 40 }, 'budget', 'must be an object'],
  ['zero trials', { ...MINIMAL, budget: { trials: 0 } }, 'budget.trials', 'from 1 to 10000'],
  ['too many trials', { ...MINIMAL, budget: { trials: 10_001 } }, 'budget.trials', 'from 1 to 10000'],
  ['negative GPU-hours', { ...MINIMAL, budget: { gpuHours: -1 } }, 'budget.gpuHours', 'more than 0'],
  ['GPU-hours with no GPUs', { ...MINIMAL, gpus: 0, budget: { gpuHours: 5 } }, 'budget.gpuHours', 'use no GPUs'],
  ['parallel 0', { ...MINIMAL, parallel: 0 }, 'parallel', 'from 1 to 64'],
  ['parallel 1.5', { ...MINIMAL, parallel: 1.5 }, 'parallel', 'whole number'],
  ['parallel 65', { ...MINIMAL, parallel: 65 }, 'parallel', 'from 1 to 64'],
  ['an unknown rule', { ...MINIMAL, earlyStopping: 'hyperband' }, 'earlyStopping', 'one of off, median, asha'],
  ['ASHA reduction 1', { ...MINIMAL, earlyStopping: { rule: 'asha', reduction: 1 } }, 'earlyStopping.reduction', 'from 2 to 100'],
  ['ASHA minSteps 0', { ...MINIMAL, earlyStopping: { rule: 'asha', minSteps: 0 } }, 'earlyStopping.minSteps', 'from 1'],
  ['ASHA maxSteps < minSteps', { ...MINIMAL, earlyStopping: { rule: 'asha', minSteps: 9, maxSteps: 3 } }, 'earlyStopping.maxSteps', 'at least minSteps (9)'],
  ['median graceSteps -1', { ...MINIMAL, earlyStopping: { rule: 'median', graceSteps: -1 } }, 'earlyStopping.graceSteps', 'from 0'],
  ['median minTrials 0', { ...MINIMAL, earlyStopping: { rule: 'median', minTrials: 0 } }, 'earlyStopping.minTrials', 'from 1'],
  ['an ASHA field on median', { ...MINIMAL, earlyStopping: { rule: 'median', reduction: 3 } }, 'earlyStopping.reduction', 'unknown field'],
  ['a rule-less object', { ...MINIMAL, earlyStopping: { minSteps: 1 } }, 'earlyStopping.rule', 'required'],
  ['an unknown strategy', { ...MINIMAL, strategy: 'bayes' }, 'strategy', 'grid, random, qlearning, adaptive'],
  ['a grid too large', { ...MINIMAL, strategy: 'grid', parameters: { a: { type: 'int', min: 0, max: 999 }, b: { type: 'int', min: 0, max: 999 } } }, 'strategy', 'more than 100000'],
  ['an unsafe seed', { ...MINIMAL, seed: 2 ** 60 }, 'seed', 'whole number'],
  ['a seed string', { ...MINIMAL, seed: '1' }, 'seed', 'must be a number'],
  ['too many GPUs', { ...MINIMAL, gpus: 65 }, 'gpus', 'from 0 to 64'],
  ['an unknown importance', { ...MINIMAL, importance: 'urgent' }, 'importance', 'low, normal, high'],
  ['a gain over 100', { ...MINIMAL, expectedGain: 101 }, 'expectedGain', 'percentage'],
  ['an unreadable runtime', { ...MINIMAL, runtime: 'soon' }, 'runtime', 'duration'],
  ['a runtime under a minute', { ...MINIMAL, runtime: 5 }, 'runtime', 'between'],
  ['a script with NUL', { ...MINIMAL, script: 'a\u0000.py' }, 'script', 'NUL'],
  ['constraints as a list', { ...MINIMAL, constraints: ['a100'] }, 'constraints', 'must be an object'],
  ['a constraints typo', { ...MINIMAL, constraints: { requires: ['a100'] } }, 'constraints.requires', 'did you mean "require"'],
  ['require as a string', { ...MINIMAL, constraints: { require: 'a100' } }, 'constraints.require', 'must be a list of host names or labels'],
  ['a bad label', { ...MINIMAL, constraints: { exclude: ['lab 2'] } }, 'constraints.exclude', '"lab 2"; each must be 1–63 letters'],
  ['an empty GPU model', { ...MINIMAL, constraints: { gpuModel: ' ' } }, 'constraints.gpuModel', 'the GPU model must be non-empty'],
  ['GPU memory without a unit', { ...MINIMAL, constraints: { minGpuMem: '20' } }, 'constraints.minGpuMem', 'has no unit'],
  ['GPU memory as a number', { ...MINIMAL, constraints: { minGpuMem: 20 } }, 'constraints.minGpuMem', 'with its unit, such as "20GiB"'],
  ['a host required and excluded', { ...MINIMAL, constraints: { require: ['lab-1'], exclude: ['LAB-1'] } }, 'constraints.exclude', 'both required and excluded'],
  ['outputs as a string', { ...MINIMAL, outputs: 'outputs/**' }, 'outputs', 'must be a list of patterns'],
  ['an absolute output pattern', { ...MINIMAL, outputs: ['ok/*', '/etc/passwd'] }, 'outputs[1]', 'is absolute'],
  ['an output pattern climbing out', { ...MINIMAL, outputs: ['../x'] }, 'outputs[0]', "climbs out of the job's folder"],
  ['an output pattern not a string', { ...MINIMAL, outputs: [3] }, 'outputs[0]', 'must be a string'],
  ['an empty name', { ...MINIMAL, name: '  ' }, 'name', 'must not be empty'],
];

for (const [what, raw, field, words] of REFUSALS) {
  test(`refuses ${what}, naming ${field || 'the definition'}`, () => {
    assert.throws(
      () => parseSweepDefinition(raw, ctx),
      (error: unknown) => {
        assert.ok(error instanceof SweepDefinitionError, String(error));
        assert.equal(error.field, field);
        assert.ok(error.message.includes(words), `"${error.message}" should hold "${words}"`);
        assert.ok(error.message.startsWith(error.label), error.message);
        return true;
      },
    );
  });
}

test('the log-scale message names the parameter as documented', () => {
  assert.throws(() => parseSweepDefinition(p({ lr: { type: 'float', min: 0, max: 0.1, log: true } }), ctx), {
    message: 'parameters.lr: min (0) must be > 0 for a log scale',
  });
});

test('a hostile __proto__ parameter leaves Object.prototype alone', () => {
  assert.throws(() => parseSweepDefinition({ ...MINIMAL, parameters: hostile }, ctx), SweepDefinitionError);
  assert.equal(({} as Record<string, unknown>).type, undefined);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { SweepDefinitionError, parseSweepDefinition, type SweepDefinitionContext } from '../../src/core/sweep/sweepDefinition';
import { hasSweepHeader, parseSweepHeader, readSweepHeader } from '../../src/core/sweep/sweepHeader';
import { isSweepFileName, parseSweepFile, sweepFileCandidates, sweepFileNamesScript } from '../../src/core/sweep/sweepFiles';

const ctx: SweepDefinitionContext = { scriptPath: '/w/train.py', cwd: '/w', defaults: { gpus: 1, importance: 'normal', runtimeSec: 3_600 } };

const SCRIPT = [
  '#!/usr/bin/env python3',
  '# trainq-sweep: lr=float:1e-5..1e-1:log batch=choice:32,64,128 layers=int:2..8 optimizer=choice:sgd,adam',
  '# trainq-sweep: metric=val_acc goal=max trials=40 parallel=2 stop=asha strategy=adaptive gpus=1 runtime=30m',
  `# trainq-sweep: warmup=fixed:500 tag="choice:[\\"a,b\\", \\"007\\"]:arg=--tag={}" args="--data 'my set'" gain=5% gpuHours=12`,
  'import torch',
].join('\n');

test('the header reads into the same raw object a sweep file holds', () => {
  const { raw, warnings } = readSweepHeader(SCRIPT);
  assert.deepEqual(warnings, []);
  assert.deepEqual(raw, {
    parameters: {
      lr: { type: 'float', min: 1e-5, max: 0.1, log: true },
      batch: { type: 'choice', values: [32, 64, 128] },
      layers: { type: 'int', min: 2, max: 8 },
      optimizer: { type: 'choice', values: ['sgd', 'adam'] },
      warmup: { type: 'fixed', value: 500 },
      tag: { type: 'choice', values: ['a,b', '007'], arg: '--tag={}' },
    },
    metric: 'val_acc', goal: 'max', budget: { trials: 40, gpuHours: 12 }, parallel: 2, earlyStopping: 'asha',
    strategy: 'adaptive', gpus: 1, runtime: '30m', args: "--data 'my set'", expectedGain: 5,
  });
});

test('the header and the equivalent JSON give the same sweep', () => {
  const fromHeader = parseSweepHeader(SCRIPT, ctx);
  const fromJson = parseSweepDefinition(readSweepHeader(SCRIPT).raw, ctx);
  assert.deepEqual(fromHeader, fromJson);
  assert.deepEqual(fromHeader.fixedArgs, ['--data', 'my set', '--warmup', '500']);
  assert.deepEqual(fromHeader.earlyStopping, { rule: 'asha', minSteps: 1, reduction: 3, maxSteps: 27 });
  assert.equal(fromHeader.script, path.resolve('/w/train.py'));
  assert.equal(fromHeader.runtimeSec, 1_800);
});

test('stop options, a template arg holding a colon, and settings in any case', () => {
  const spec = parseSweepHeader(
    '# trainq-sweep: x=int:1..64:log:arg=--x:{} METRIC=loss Goal=min trials=5 stop=median:graceSteps=2,minTrials=3 Importance=HIGH',
    ctx,
  );
  assert.deepEqual(spec.params, [{ kind: 'int', name: 'x', min: 1, max: 64, log: true, arg: '--x:{}' }]);
  assert.deepEqual(spec.earlyStopping, { rule: 'median', graceSteps: 2, minTrials: 3 });
  assert.equal(spec.importance, 'high');
});

test('host constraints and output files in the header, written as in the # trainq: header, give what the JSON gives', () => {
  const script = [
    '# trainq-sweep: lr=float:1e-5..1e-1:log metric=val_acc goal=max trials=4',
    '# trainq-sweep: hosts=a100,lab-1 exclude=lab-2 gpu-model=A100 min-gpu-mem=20GiB outputs="outputs/** *.{pt,ckpt}"',
  ].join('\n');
  const { raw, warnings } = readSweepHeader(script);
  assert.deepEqual(warnings, []);
  assert.deepEqual([raw!.constraints, raw!.outputs], [{ require: ['a100', 'lab-1'], exclude: ['lab-2'], gpuModel: 'A100', minGpuMem: '20GiB' }, ['outputs/**', '*.{pt,ckpt}']]);
  const spec = parseSweepHeader(script, ctx);
  assert.deepEqual(spec, parseSweepDefinition(raw, ctx));
  assert.deepEqual(spec.constraints, { require: ['a100', 'lab-1'], exclude: ['lab-2'], gpuModel: 'A100', minGpuMemMiB: 20_480 });
  assert.deepEqual(spec.outputs, ['outputs/**', '*.{pt,ckpt}']);
});

// [script, message]
const HEADER_REFUSALS: Array<[string, string]> = [
  ['# trainq-sweep: lr=float:0..1:log metric=m goal=max trials=3', 'line 1: lr: min (0) must be > 0 for a log scale'],
  ['#\n#\n# trainq-sweep: lr=float:1..2 metric=m goal=max trials=0', 'line 3: trials: must be a whole number from 1 to 10000 (got 0)'],
  ['# trainq-sweep: lr=float:1..2 metric=m goal=max trails=3', 'line 1: trails: unknown setting; did you mean "trials"?'],
  ['# trainq-sweep: lr=float:1..2 metric=m goal=max\n# trainq-sweep: metric=n trials=3', 'line 2: metric: already set on line 1; give each key once'],
  ['# trainq-sweep: lr=float:1..2 metric=m goal=max trials=3 stop=asha:minSteps=9,maxSteps=3', 'line 1: stop: maxSteps (3) must be at least minSteps (9)'],
  ['# trainq-sweep: lr=float:1 metric=m goal=max trials=3', 'line 1: lr: expected float:MIN..MAX (got "float:1")'],
  ['# trainq-sweep: lr=float:1..2:lg metric=m goal=max trials=3', 'line 1: lr: unknown option ":lg"'],
  ['# trainq-sweep: b=choice:1,2,1 metric=m goal=max trials=3', 'line 1: b.values[2]: 1 repeats values[0]; each choice must differ'],
  ['# trainq-sweep: lr=float:nan..1 metric=m goal=max trials=3', 'line 1: lr.min: must be a number (got "nan")'],
  ['# trainq-sweep: lr=float:1..1e999 metric=m goal=max trials=3', 'line 1: lr.max: must be a finite number (got Infinity)'],
  ['# trainq-sweep: lr=float:1..2 goal=max trials=3', 'the # trainq-sweep header: metric: required'],
  ['# trainq-sweep: lr=float:1..2 metric=m goal=max', 'the # trainq-sweep header: trials or gpuHours: required'],
  ['# trainq-sweep: lr=float:1..2 metric=m goal=max trials=3 args="--x', 'line 1: Unclosed double quote'],
  ['# trainq-sweep: metric=m goal=max trials=3', 'the # trainq-sweep header: parameters: no parameter to search'],
  ['# trainq-sweep: lr=float:1..2 metric=m goal=max trials=3\n# trainq-sweep: min-gpu-mem=20', 'line 2: min-gpu-mem: "20" has no unit'],
  ['# trainq-sweep: lr=float:1..2 metric=m goal=max trials=3 host=lab_1,"lab 2"', 'line 1: host: the list has "lab 2"'],
  ['# trainq-sweep: lr=float:1..2 metric=m goal=max trials=3 hosts=lab-1 exclude=LAB-1', 'line 1: exclude: lab-1 is both required and excluded'],
  ['# trainq-sweep: lr=float:1..2 metric=m goal=max trials=3 outputs="ok/* ../up"', "line 1: outputs: the output pattern '../up' climbs out"],
  ['# trainq-sweep: lr=float:1..2 metric=m goal=max trials=3 gpu-modle=A100', 'line 1: gpu-modle: unknown setting; did you mean "gpu-model"?'],
  ['print(1)', 'No "# trainq-sweep:" line'],
];

for (const [script, message] of HEADER_REFUSALS) {
  test(`header refused: ${message}`, () => {
    assert.throws(() => parseSweepHeader(script, ctx), (error: unknown) => {
      assert.ok(error instanceof SweepDefinitionError);
      assert.ok(error.message.startsWith(message), `"${error.message}" should start with "${message}"`);
      return true;
    });
  });
}

test('readSweepHeader never throws: unreadable words become warnings, and no header means no raw', () => {
  const { raw, warnings } = readSweepHeader('# trainq-sweep: lr=float:1 oops metric=m');
  assert.deepEqual(raw, { parameters: {}, metric: 'm' });
  assert.equal(warnings.length, 2);
  assert.match(warnings[1], /^line 1: "oops" is not KEY=VALUE/);
  assert.deepEqual(readSweepHeader('# trainq: gpus=2\nimport os\n'), { raw: undefined, warnings: [] });
  assert.equal(hasSweepHeader('# trainq: gpus=2'), false);
  assert.equal(hasSweepHeader('x\r\n  #TrainQ-Sweep: metric=m'), true);
});

test('only the first 40 lines are read', () => {
  const lines = Array.from({ length: 41 }, () => 'pass');
  lines[40] = '# trainq-sweep: metric=m';
  assert.equal(readSweepHeader(lines.join('\n')).raw, undefined);
});

test('sweep file names: the script\'s own first, then the other sweep files beside it', () => {
  assert.deepEqual(sweepFileCandidates('/w/exp/train.py', ['b.sweep.json', 'train.sweep.json', 'notes.json', 'a.SWEEP.json']), [
    path.join('/w/exp', 'train.sweep.json'),
    path.join('/w/exp', 'a.SWEEP.json'),
    path.join('/w/exp', 'b.sweep.json'),
  ]);
  assert.equal(isSweepFileName('.sweep.json'), false);
  assert.equal(sweepFileNamesScript({ script: '../exp/train.py' }, '/w/defs/x.sweep.json', '/w/exp/train.py'), true);
  assert.equal(sweepFileNamesScript({ script: 'other.py' }, '/w/exp/x.sweep.json', '/w/exp/train.py'), false);
  assert.equal(sweepFileNamesScript([], '/w/exp/x.sweep.json', '/w/exp/train.py'), false);
});

test('a sweep file: BOM stripped, script relative to the file, errors named with the file', () => {
  const text = '\uFEFF' + JSON.stringify({ script: 'train.py', parameters: { lr: { type: 'float', min: 0, max: 1 } }, metric: 'm', goal: 'min', budget: { trials: 2 } });
  assert.equal(parseSweepFile(text, '/w/defs/lr.sweep.json', ctx).script, path.resolve('/w/defs/train.py'));
  assert.throws(() => parseSweepFile('{"metric": "m",\n  "goal": "min",}', '/w/x.sweep.json', ctx), {
    message: /^x\.sweep\.json is not valid JSON: .* \(line 2, column 17\)\.$/,
  });
  assert.throws(() => parseSweepFile('{"metric": ', '/w/x.sweep.json', ctx), { message: /Unexpected end of JSON input \(line 1, column 12\)/ });
  assert.throws(() => parseSweepFile('{"metric": "m"}', '/w/x.sweep.json', ctx), { message: /^x\.sweep\.json: parameters: required/ });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseScriptHeader } from '../../src/core/scriptHeader';

test('reads every key from one header line, args quoted as on a command line', () => {
  const script = [
    '#!/usr/bin/env python3',
    `# trainq: gpus=2 runtime=3h importance=high gain=5 args="--lr 3e-4 --name 'my run'"`,
    'import torch',
  ].join('\n');
  assert.deepEqual(parseScriptHeader(script), {
    values: { gpus: 2, runtimeSec: 10_800, importance: 'high', expectedGain: 5, args: ['--lr', '3e-4', '--name', 'my run'] },
    warnings: [],
  });
});

test('several header lines merge, a later value replacing an earlier one with a warning', () => {
  const script = ['#!/bin/bash', '# trainq: gpus=2 runtime=90m', 'set -e', '#trainq: importance=low gain=12.5%', '  # TrainQ: gpus=4'].join('\n');
  const { values, warnings } = parseScriptHeader(script);
  assert.deepEqual(values, { gpus: 4, runtimeSec: 5_400, importance: 'low', expectedGain: 12.5 });
  assert.deepEqual(warnings, ['Line 5: gpus was already set on line 2; using this line\'s value.']);
});

test('shell syntax in args stays literal', () => {
  const { values, warnings } = parseScriptHeader(`# trainq: args='--out $(date) ; rm -rf ~' gpus=0`);
  assert.deepEqual(values.args, ['--out', '$(date)', ';', 'rm', '-rf', '~']);
  assert.equal(values.gpus, 0);
  assert.deepEqual(warnings, []);
});

test('a header with nothing for TrainQ gives no values and no warnings', () => {
  assert.deepEqual(parseScriptHeader('import os\n# a comment mentioning trainq\nprint(1)\n'), { values: {}, warnings: [] });
  assert.deepEqual(parseScriptHeader(''), { values: {}, warnings: [] });
});

test('only the first 40 lines are read', () => {
  const lines = Array.from({ length: 45 }, (_, i) => `x = ${i}`);
  lines[39] = '# trainq: gpus=1';
  lines[40] = '# trainq: runtime=2h';
  assert.deepEqual(parseScriptHeader(lines.join('\r\n')).values, { gpus: 1 });
});

test('unknown keys and bad values become warnings naming the line; the good values are kept', () => {
  const script = [
    '# trainq: gpus=100 runtime=soon importance=urgent gain=150 color=blue',
    '# trainq: gpus=two runtime=10s lonely gain=abc',
    '# trainq: runtime=2h args="unclosed',
    '# trainq: importance=Normal',
    '# trainq:',
  ].join('\n');
  const { values, warnings } = parseScriptHeader(script);
  assert.deepEqual(values, { importance: 'normal' });
  const expected: RegExp[] = [
    /^Line 1: gpus: GPUs \(gpus\) must be a whole number from 0 to 64 \(got 100\)/,
    /^Line 1: runtime: Can't read "soon" as a duration.*e\.g\./,
    /^Line 1: importance: Importance must be one of low, normal, high \(got "urgent"\)/,
    /^Line 1: gain: Expected gain must be a percentage from 0 to 100.*\(got 150\)/,
    /^Line 1: unknown key "color"; expected one of gpus, runtime, importance, gain, args/,
    /^Line 2: gpus: .*\(got "two"\)/,
    /^Line 2: runtime: Runtime must be between 1m and 30d \(got 10s\)/,
    /^Line 2: "lonely" is not key=value/,
    /^Line 2: gain: .*\(got "abc"\)/,
    /^Line 3: Unclosed double quote.*The line is ignored/,
    /^Line 5: "# trainq:" is followed by nothing/,
  ];
  assert.equal(warnings.length, expected.length, warnings.join('\n'));
  expected.forEach((pattern, i) => assert.match(warnings[i], pattern));
});

test('odd header text gives warnings, never an exception', () => {
  const cases: Array<[string, number]> = [
    ['# trainq: =', 1],
    ['# trainq: ==', 1],
    ['# trainq: \\', 1],
    ["# trainq: '", 1],
    ['# trainq: gpus=-1 gpus=1.5', 2],
    ['# trainq: args=', 0],
    ['# trainq: constructor=1 __proto__=x toString=y', 3],
  ];
  for (const [text, warningCount] of cases) {
    assert.equal(parseScriptHeader(text).warnings.length, warningCount, text);
  }
  assert.deepEqual(parseScriptHeader('# trainq: args=').values, { args: [] });
});

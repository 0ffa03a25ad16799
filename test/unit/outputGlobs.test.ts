import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkState } from '../../src/core/storeValidation';
import { parseScriptHeader } from '../../src/core/scriptHeader';
import { compileOutputGlobs, isSafeRelativePath, matchesAnyGlob, outputGlobProblem, searchRoots } from '../../src/core/outputGlobs';

const selects = (patterns: string[], p: string) => matchesAnyGlob(compileOutputGlobs(patterns), p);

test('globs are anchored at the job folder: * and ? stay in one segment, ** spans any number', () => {
  const cases: Array<[string, string, boolean]> = [
    ['*.ckpt', 'model.ckpt', true],
    ['*.ckpt', 'outputs/model.ckpt', false],
    ['**/*.ckpt', 'model.ckpt', true],
    ['**/*.ckpt', 'a/b/c/model.ckpt', true],
    ['**/*.ckpt', 'a/b/c/model.ckpt.tmp', false],
    ['outputs/**', 'outputs/model.ckpt', true],
    ['outputs/**', 'outputs/nested/deep/x.bin', true],
    ['outputs/**', 'outputs', false],
    ['outputs/**', 'outputsx/a', false],
    ['outputs/*.pt', 'outputs/a.pt', true],
    ['outputs/*.pt', 'outputs/sub/a.pt', false],
    ['run-?/log.txt', 'run-1/log.txt', true],
    ['run-?/log.txt', 'run-10/log.txt', false],
    ['run-[0-9]/x', 'run-7/x', true],
    ['run-[!0-9]/x', 'run-7/x', false],
    ['run-[!0-9]/x', 'run-a/x', true],
    ['*.{pt,ckpt}', 'a.pt', true],
    ['*.{pt,ckpt}', 'a.ckpt', true],
    ['*.{pt,ckpt}', 'a.bin', false],
    ['a/**/b', 'a/b', true],
    ['a/**/b', 'a/x/y/b', true],
    // Regular-expression characters in names are literal.
    ['out(1)+.txt', 'out(1)+.txt', true],
    ['out(1)+.txt', 'out11.txt', false],
    ['a.b', 'axb', false],
  ];
  for (const [pattern, p, expected] of cases) {
    assert.equal(selects([pattern], p), expected, `${pattern} vs ${p}`);
  }
});

test('a literal pattern, or one ending in /, names a whole folder (or one file)', () => {
  assert.ok(selects(['outputs'], 'outputs/model.ckpt'));
  assert.ok(selects(['outputs'], 'outputs/a/b/c'));
  assert.ok(selects(['outputs/'], 'outputs/a/b/c'));
  assert.ok(selects(['./outputs//'], 'outputs/a'));
  assert.ok(selects(['results/final.json'], 'results/final.json'));
  assert.ok(!selects(['outputs'], 'outputs2/x'));
});

test('bad patterns get one clear message each: absolute, .., backslash, control characters, empty, braces', () => {
  const problems: Array<[string, RegExp]> = [
    ['/etc/passwd', /absolute/],
    ['~/secrets', /absolute/],
    ['C:/x', /absolute/],
    ['../other/**', /climbs out/],
    ['outputs/../../etc', /climbs out/],
    ['outputs\\*.pt', /backslash/],
    ['out\nputs', /control characters/],
    ['', /empty/],
    ['   ', /empty/],
    ['a{b', /unbalanced/],
    ['{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}', /more than 64/],
  ];
  for (const [pattern, re] of problems) {
    assert.match(outputGlobProblem(pattern) ?? '', re, JSON.stringify(pattern));
    assert.throws(() => compileOutputGlobs(['outputs/**', pattern]), re);
  }
  // A brace alternative cannot smuggle '..' in either.
  assert.deepEqual(compileOutputGlobs(['{..,ok}/x']).map((g) => g.source), ['ok/x']);
  assert.equal(outputGlobProblem('outputs/**'), undefined);
});

test('search roots: the literal folders before the first wildcard, as deep as the pattern reaches', () => {
  const roots = (patterns: string[]) => searchRoots(compileOutputGlobs(patterns));
  assert.deepEqual(roots(['outputs/**']), [{ root: 'outputs', depth: undefined }]);
  assert.deepEqual(roots(['*.ckpt']), [{ root: '', depth: 1 }]);
  assert.deepEqual(roots(['runs/a/*/metrics.json']), [{ root: 'runs/a', depth: 2 }]);
  assert.deepEqual(roots(['results/final.json']), [{ root: 'results/final.json', depth: undefined }]);
  // Inside an unbounded root: searched once.
  assert.deepEqual(roots(['outputs/**', 'outputs/sub/*.pt']), [{ root: 'outputs', depth: undefined }]);
  assert.deepEqual(roots(['**/*.ckpt', 'outputs/**']), [{ root: '', depth: undefined }]);
  // One root, two depths: the deeper one.
  assert.deepEqual(roots(['a/*', 'a/*/*']), [{ root: 'a', depth: 2 }]);
});

test('paths from the host must be plain relative paths', () => {
  for (const bad of ['', '/etc/passwd', '../x', 'a/../../x', 'a/./b', 'a//b', 'a\nb', 'a/']) {
    assert.equal(isSafeRelativePath(bad), false, JSON.stringify(bad));
  }
  for (const good of ['a', 'a/b.c', '..a/b', 'a b/c d', "it's/\"q\"", '$(rm -rf ~)', '-rf']) {
    assert.equal(isSafeRelativePath(good), true, JSON.stringify(good));
  }
});

test('a stored job with unusable outputs is set aside with the reason; the other jobs and fields load', () => {
  const job = {
    ...{ id: 'a', name: 'n', script: '/s', cwd: '/w', args: [], gpus: 0, importance: 'low', runtimeSec: 60 },
    ...{ priority: 'low', priorityReason: '', priorityOverridden: false, state: 'succeeded', createdAt: 0, host: 'gpu-a' },
  };
  const bad: Array<[unknown, RegExp]> = [
    [['outputs/**', '../../etc/**'], /jobs\[1\]\.outputs\[1\]: the output pattern '\.\.\/\.\.\/etc\/\*\*' climbs out/],
    [['/abs/*'], /jobs\[1\]\.outputs\[0\]: the output pattern '\/abs\/\*' is absolute/],
    ['outputs/**', /jobs\[1\]\.outputs is not a list/],
    [[3], /jobs\[1\]\.outputs\[0\] is not a string/],
  ];
  for (const [outputs, reason] of bad) {
    const state = { jobs: [{ ...job, outputs: ['outputs/**', '*.ckpt'] }, { ...job, id: 'b', outputs }], priorityExamples: [], lastInputs: {}, paused: false };
    const { state: loaded, setAside } = checkState(JSON.parse(JSON.stringify(state)));
    assert.deepEqual(loaded.jobs.map((j) => [j.id, j.outputs]), [['a', ['outputs/**', '*.ckpt']]]);
    assert.equal(setAside.length, 1);
    assert.match(setAside[0].reason, reason);
  }
});

test('a script header may name output patterns; a bad one is a warning and sets none', () => {
  const ok = parseScriptHeader('# trainq: gpus=1 outputs="outputs/** *.{pt,ckpt}"\nprint(1)\n');
  assert.deepEqual(ok.outputs, ['outputs/**', '*.{pt,ckpt}']);
  assert.deepEqual(ok.warnings, []);
  const bad = parseScriptHeader('# trainq: outputs="outputs/** ../secrets/*"\n');
  assert.equal(bad.outputs, undefined);
  assert.match(bad.warnings.join('\n'), /^Line 1: outputs: the output pattern '\.\.\/secrets\/\*' climbs out of the job's folder with '\.\.'; the line's outputs are ignored\.$/);
  assert.match(parseScriptHeader('# trainq: outputs=\n').warnings.join('\n'), /no pattern given/);
});

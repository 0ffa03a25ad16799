import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ArgsError, assertNoNul, formatArgs, parseArgs, quoteArg } from '../../src/core/argv';
import { parseScriptHeader } from '../../src/core/scriptHeader';
import { createRng } from '../../src/sim/rng';

test('whitespace separates words, runs of it count once', () => {
  assert.deepEqual(parseArgs('  --lr 3e-4\t--epochs   10 \n --name x  '), ['--lr', '3e-4', '--epochs', '10', '--name', 'x']);
  assert.deepEqual(parseArgs(''), []);
  assert.deepEqual(parseArgs(' \t\n '), []);
});

test('single quotes keep everything literally, backslashes and double quotes included', () => {
  assert.deepEqual(parseArgs(`--name 'my run' '\\n' 'say "hi"'`), ['--name', 'my run', '\\n', 'say "hi"']);
});

test('double quotes keep everything but the \\" and \\\\ escapes', () => {
  assert.deepEqual(parseArgs(`"a \\"quoted\\" word" "back\\\\slash" "\\n \\$HOME 'x'"`), ['a "quoted" word', 'back\\slash', "\\n \\$HOME 'x'"]);
});

test('quoted parts join the word around them, and empty quotes make an empty argument', () => {
  assert.deepEqual(parseArgs(`--name='my run' pre"mid"'post' '' ""`), ['--name=my run', 'premidpost', '', '']);
});

test('a backslash outside quotes escapes the next character', () => {
  assert.deepEqual(parseArgs(String.raw`my\ run \'x\' \"y\" a\\b \$`), ['my run', "'x'", '"y"', 'a\\b', '$']);
});

test('shell syntax is passed through literally, never interpreted', () => {
  const line = '$(rm -rf ~) `whoami` $HOME ${X} ; | && > out.txt * ~/data #comment';
  assert.deepEqual(parseArgs(line), ['$(rm', '-rf', '~)', '`whoami`', '$HOME', '${X}', ';', '|', '&&', '>', 'out.txt', '*', '~/data', '#comment']);
  assert.deepEqual(parseArgs(`'$(rm -rf ~)' "\`id\`;echo"`), ['$(rm -rf ~)', '`id`;echo']);
});

test('newlines inside quotes are kept; outside they separate words; backslash-newline joins lines', () => {
  assert.deepEqual(parseArgs(`'line one\nline two' "a\nb"\nnext`), ['line one\nline two', 'a\nb', 'next']);
  assert.deepEqual(parseArgs('--lr 3e-4 \\\n--epochs 10'), ['--lr', '3e-4', '--epochs', '10']);
  assert.deepEqual(parseArgs('ab\\\ncd'), ['abcd']);
  assert.deepEqual(parseArgs('a\r\nb'), ['a', 'b']);
});

test('unbalanced quotes and a trailing backslash throw ArgsError with the position', () => {
  assert.throws(() => parseArgs(`--name 'my run`), (e: unknown) => e instanceof ArgsError && e.index === 7 && /single quote.*character 8/.test(e.message));
  assert.throws(() => parseArgs('--name "my run'), (e: unknown) => e instanceof ArgsError && e.index === 7 && /double quote.*character 8/.test(e.message));
  assert.throws(() => parseArgs('"a \\" b'), (e: unknown) => e instanceof ArgsError && /double quote/.test(e.message));
  assert.throws(() => parseArgs('--x \\'), (e: unknown) => e instanceof ArgsError && e.index === 4 && /Trailing backslash at character 5/.test(e.message));
  assert.throws(() => parseArgs('ok\n  "open'), (e: unknown) => e instanceof ArgsError && /line 2, column 3/.test(e.message));
});

test('a NUL character is refused wherever it stands, with TrainQ\'s message and its position', () => {
  // Quoted, escaped or bare: no quoting carries a NUL to a program, and spawn would refuse it in its own words.
  for (const [text, index] of [['--name a\u0000b', 8], ["'\u0000'", 1], ['"x\u0000"', 2], ['\\\u0000', 1], ['\u0000', 0]] as const) {
    assert.throws(
      () => parseArgs(text),
      (e: unknown) =>
        e instanceof ArgsError && e.index === index && e.message === `A NUL character (U+0000) at character ${index + 1}: no program can receive one in its arguments. Remove it.`,
      JSON.stringify(text),
    );
  }
  assert.throws(() => parseArgs('--a 1\n--b \u0000'), /NUL character \(U\+0000\) at line 2, column 5/);
});

test('a script header whose args hold a NUL gives a warning, not arguments', () => {
  const { values, warnings } = parseScriptHeader('# trainq: gpus=0\n# trainq: args="--name a\u0000b" runtime=1h\n');
  assert.equal(values.args, undefined);
  assert.equal(values.gpus, 0);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /^Line 2: A NUL character \(U\+0000\) at character \d+: no program can receive one in its arguments\. Remove it\. The line is ignored\.$/);
});

test('remembered arguments with a NUL are shown for editing and refused until it is removed', () => {
  // An older TrainQ remembered whatever was typed; the arguments step prefills formatArgs(remembered) and validates it with parseArgs.
  const line = formatArgs(['--name', 'a\u0000b']);
  assert.throws(() => parseArgs(line), (e: unknown) => e instanceof ArgsError && /NUL character/.test(e.message));
  assert.deepEqual(parseArgs(line.replace('\u0000', '')), ['--name', 'ab']);
});

test('assertNoNul names the first word holding a NUL, numbered from 1', () => {
  assert.doesNotThrow(() => assertNoNul(['--lr', '3e-4', '', 'é']));
  assert.throws(
    () => assertNoNul(['--lr', 'a\u0000b', '\u0000']),
    (e: unknown) =>
      e instanceof ArgsError &&
      e.index === 1 &&
      e.message === 'Argument 2 "a\\u0000b" contains a NUL character (U+0000), which cannot be passed to a program. Remove it and queue the job again.',
  );
  assert.throws(() => assertNoNul(['x'.repeat(50) + '\u0000'], () => 'The interpreter'), /^ArgsError: The interpreter "x{40}…" contains a NUL/);
});

test('formatArgs quotes only what needs it', () => {
  assert.equal(formatArgs(['--lr', '3e-4', '--name=x', 'data/train.csv', 'café', '50%']), '--lr 3e-4 --name=x data/train.csv café 50%');
  assert.equal(formatArgs(['my run', '', "it's", '$(x)', '~', 'a\nb']), `'my run' '' 'it'\\''s' '$(x)' '~' 'a\nb'`);
  assert.equal(quoteArg('*.py'), `'*.py'`);
  assert.equal(formatArgs([]), '');
});


const PIECES = [
  'a', 'Z', '9', '-', '--lr', '=', ' ', '  ', '\t', '\n', '\r\n', "'", '"', '\\', '\\\\', '\\"', "'\\''",
  '$(', ')', '$(rm -rf ~)', '`', '`id`', '$HOME', '${X}', ';', '|', '&', '&&', '*', '?', '~', '#', '!', '%', '{', '}',
  'é', 'ß', '日本', '🚀', '\u00a0', '\u200b', '\u0301',
];

test('parseArgs(formatArgs(a)) gives back a for many random argument lists', () => {
  const next = createRng(20240501, 'test').next;
  for (let round = 0; round < 2000; round++) {
    const args = Array.from({ length: Math.floor(next() * 6) }, () =>
      Array.from({ length: Math.floor(next() * 6) }, () => PIECES[Math.floor(next() * PIECES.length)]).join(''),
    );
    const line = formatArgs(args);
    assert.deepEqual(parseArgs(line), args, `round ${round}: ${JSON.stringify(args)} formatted as ${JSON.stringify(line)}`);
  }
});

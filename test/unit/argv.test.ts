import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ArgsError, formatArgs, parseArgs, quoteArg } from '../../src/core/argv';
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

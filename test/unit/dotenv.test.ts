import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DotenvError, parseDotenv } from '../../src/core/dotenv';

test('KEY=VALUE lines, export prefix, comments, blank lines and CRLF', () => {
  const text = '\uFEFF# a comment\r\nA=1\r\n\r\n  export B = two words  \r\nC=\r\nD=x#not-a-comment\nE=y # a comment\n';
  assert.deepEqual(parseDotenv(text), { A: '1', B: 'two words', C: '', D: 'x#not-a-comment', E: 'y' });
});

test('single quotes are literal; double quotes know \\n \\t \\" \\\\ and keep unknown escapes', () => {
  const env = parseDotenv(`S='$(whoami) \`id\` \\n "q"'\nD="a\\nb\\t\\"c\\" \\\\ \\q $HOME"\n`);
  assert.equal(env.S, '$(whoami) `id` \\n "q"');
  assert.equal(env.D, 'a\nb\t"c" \\ \\q $HOME', 'no variable expansion: $HOME stays');
});

test('quoted values may span lines, and the line count stays right for a later error', () => {
  assert.deepEqual(parseDotenv('K="line 1\nline 2"\nU=ünïcødé ✓\n'), { K: 'line 1\nline 2', U: 'ünïcødé ✓' });
  assert.throws(() => parseDotenv('K="a\nb"\nnot a line\n'), (e: unknown) => e instanceof DotenvError && e.line === 3);
});

test('a later line wins for a repeated name; __proto__ is an ordinary name', () => {
  const env = parseDotenv('A=1\nA=2\n__proto__=x\n');
  assert.equal(env.A, '2');
  assert.equal(Object.getPrototypeOf(env), Object.prototype);
  assert.equal(Object.getOwnPropertyDescriptor(env, '__proto__')?.value, 'x');
});

/** Each bad line gets one message naming its line, and never the text of the file (it may be a secret). */
const BAD: Array<[string, number, RegExp]> = [
  ['A=1\nhunter2-secret\n', 2, /no "="/],
  ['A=1\n\n9LIVES-secret=1\n', 3, /not a variable name/],
  ['my secret=1\n', 1, /not a variable name/],
  ['A="unclosed-secret\nB=2\n', 1, /never closed/],
  ["A='unclosed-secret\n", 1, /never closed/],
  ['A="x"trailing-secret\n', 1, /after the closing quote/],
  ['CUDA_VISIBLE_DEVICES=0\n', 1, /CUDA_VISIBLE_DEVICES is set by TrainQ/],
  ['export TRAINQ_JOB_ID=x-secret\n', 1, /TRAINQ_JOB_ID is reserved/],
  ['trainq_x=1\n', 1, /reserved/],
  ['A=nul\0-secret\n', 1, /NUL/],
  ['=value-secret\n', 1, /not a variable name/],
];

for (const [text, line, message] of BAD) {
  test(`bad .env input ${JSON.stringify(text)} is refused at line ${line}`, () => {
    assert.throws(
      () => parseDotenv(text),
      (e: unknown) => {
        assert.ok(e instanceof DotenvError);
        assert.equal(e.line, line);
        assert.match(e.message, message);
        assert.match(e.message, new RegExp(`^line ${line}: `));
        assert.doesNotMatch(e.message, /secret|hunter2/, 'no text of the file in the message');
        return true;
      },
    );
  });
}

test('hostile input in loops: random lines never throw anything but DotenvError, never echo a value', () => {
  const alphabet = ['A', 'b', '_', '9', '=', '"', "'", '\\', '#', ' ', '\n', 'export ', 'Z', '$', '`', 'é', '\r'];
  let seed = 7;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  for (let round = 0; round < 3000; round++) {
    let text = '';
    for (let i = rand(40); i > 0; i--) text += alphabet[rand(alphabet.length)];
    try {
      const env = parseDotenv(text);
      for (const name of Object.keys(env)) assert.match(name, /^[A-Za-z_][A-Za-z0-9_]*$/);
    } catch (e) {
      assert.ok(e instanceof DotenvError, `${JSON.stringify(text)} threw ${e}`);
      assert.match(e.message, /^line \d+: [^\n]+$/);
    }
  }
});

/**
 * A `.env` file as a job reads it: KEY=VALUE lines, an optional `export ` prefix, `#` comments,
 * '…' literal and "…" with escapes, no variable expansion (values reach the script literally, as
 * inline values do). Pure: the caller reads the file (jobEnvironment.ts reads it at dispatch).
 *
 * The file may hold secrets, so no message quotes any text of it except a name that passed the name
 * check: a line such as `hunter2` (a value pasted without its name) must not end up in an error
 * message, the TrainQ log, or a job's reason in the store.
 */
import { userEnvNameProblem } from './envNames';
import { ENV_NAME } from './job';

/** Bigger than any real `.env`; a larger file is a wrong pick (a data file), refused before parsing. */
export const MAX_DOTENV_BYTES = 1024 * 1024;

export class DotenvError extends Error {
  /** 1-based line of the problem. */
  readonly line: number;

  constructor(line: number, what: string) {
    super(`line ${line}: ${what}`);
    this.name = 'DotenvError';
    this.line = line;
  }
}

const DOUBLE_QUOTED_ESCAPES: Readonly<Record<string, string>> = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\', $: '$', '`': '`' };
const NAME_AT = /^(export[ \t]+)?([^=]*?)[ \t]*=[ \t]*/;

/**
 * The variables of a `.env` text, in file order (a later line wins for a repeated name). Throws
 * DotenvError naming the first bad line: no `=`, a bad or reserved name, an unclosed quote, text
 * after a closing quote, a NUL.
 */
export function parseDotenv(text: string): Record<string, string> {
  const env: Record<string, string> = Object.create(null) as Record<string, string>;
  const src = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  let pos = 0;
  let line = 1;
  while (pos < src.length) {
    const end = lineEnd(src, pos);
    const raw = src.slice(pos, end);
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) {
      [pos, line] = [end + 1, line + 1];
      continue;
    }
    const lead = raw.length - raw.trimStart().length;
    const head = NAME_AT.exec(raw.slice(lead));
    if (!head) {
      throw new DotenvError(line, 'expected NAME=value (a line with no "=")');
    }
    const name = head[2];
    const nameProblem = userEnvNameProblem(name);
    if (nameProblem) {
      // A name that fails the check is not shown: the "name" may be a pasted secret.
      throw new DotenvError(line, ENV_NAME.test(name) ? nameProblem : 'the part before "=" is not a variable name (letters, digits, _; not starting with a digit)');
    }
    const valueAt = pos + lead + head[0].length;
    const { value, next, lines } = readValue(src, valueAt, line);
    if (value.includes('\0')) {
      throw new DotenvError(line, `the value of ${name} contains a NUL character, which no program can receive`);
    }
    env[name] = value;
    pos = next;
    line += lines;
  }
  return { ...env };
}

function lineEnd(src: string, from: number): number {
  const nl = src.indexOf('\n', from);
  return nl < 0 ? src.length : nl;
}

/** The value starting at `at` and where the next line starts; quoted values may span lines. */
function readValue(src: string, at: number, line: number): { value: string; next: number; lines: number } {
  const quote = src[at];
  if (quote !== '"' && quote !== "'") {
    const end = lineEnd(src, at);
    // ` #` starts a comment in an unquoted value; a `#` inside a word (a URL fragment) does not.
    const text = src.slice(at, end).replace(/(^|[ \t])#.*$/, '').trim();
    return { value: text, next: end + 1, lines: 1 };
  }
  let value = '';
  let i = at + 1;
  for (; i < src.length && src[i] !== quote; i++) {
    if (quote === '"' && src[i] === '\\' && i + 1 < src.length) {
      const escaped = DOUBLE_QUOTED_ESCAPES[src[i + 1]];
      // An unknown escape keeps its backslash, so a Windows path in quotes survives.
      value += escaped ?? `\\${src[i + 1]}`;
      i++;
    } else {
      value += src[i];
    }
  }
  if (i >= src.length) {
    throw new DotenvError(line, `the ${quote === '"' ? 'double' : 'single'}-quoted value that starts here is never closed`);
  }
  const spanned = src.slice(at, i).split('\n').length;
  const end = lineEnd(src, i + 1);
  const rest = src.slice(i + 1, end).trim();
  if (rest !== '' && !rest.startsWith('#')) {
    throw new DotenvError(line + spanned - 1, 'unexpected text after the closing quote (quote the whole value)');
  }
  return { value, next: end + 1, lines: spanned };
}

/**
 * The arguments line a user types for a job, split into an argv array.
 *
 * TrainQ starts jobs without a shell, so only a shell's word splitting and quoting apply here:
 * `$(…)`, backticks, `$VAR`, `;`, `|`, `&`, globs, `~` and `#` are ordinary characters and reach the
 * script literally. Quoting follows POSIX so that a line copied from a terminal splits the same way.
 */

export class ArgsError extends Error {
  /** 0-based index into the parsed text where the problem starts. */
  readonly index: number;

  constructor(message: string, index: number) {
    super(message);
    this.name = 'ArgsError';
    this.index = index;
  }
}

// POSIX's default field separators, plus CR so that text pasted with Windows line endings splits the same.
const SEPARATORS = new Set([' ', '\t', '\n', '\r']);

/** Human position: 1-based character, with line and column once the text spans several lines. */
function position(text: string, index: number): string {
  if (!text.includes('\n')) {
    return `character ${index + 1}`;
  }
  const before = text.slice(0, index);
  return `line ${before.split('\n').length}, column ${index - before.lastIndexOf('\n')}`;
}

/**
 * Splits `text` into words: whitespace separates words; '…' keeps everything literally; "…" keeps
 * everything except the escapes \" and \\; a backslash outside quotes escapes the next character
 * (before a newline it joins the lines, as in a shell). Throws ArgsError for an unclosed quote or a
 * trailing backslash.
 */
export function parseArgs(text: string): string[] {
  const words: string[] = [];
  let word = '';
  // A word exists once any part of it is seen, so that '' and "" give an empty argument.
  let inWord = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (SEPARATORS.has(c)) {
      if (inWord) {
        words.push(word);
        word = '';
        inWord = false;
      }
      i++;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) {
        throw new ArgsError(`Unclosed single quote (') at ${position(text, i)}.`, i);
      }
      word += text.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      const open = i;
      i++;
      for (;;) {
        if (i >= text.length) {
          throw new ArgsError(`Unclosed double quote (") at ${position(text, open)}.`, open);
        }
        const d = text[i];
        if (d === '"') {
          i++;
          break;
        }
        if (d === '\\' && (text[i + 1] === '"' || text[i + 1] === '\\')) {
          word += text[i + 1];
          i += 2;
        } else {
          word += d;
          i++;
        }
      }
      inWord = true;
    } else if (c === '\\') {
      if (i + 1 >= text.length) {
        throw new ArgsError(`Trailing backslash at ${position(text, i)}: it has no character to escape.`, i);
      }
      const next = text[i + 1];
      const continuation = next === '\n' ? 2 : next === '\r' && text[i + 2] === '\n' ? 3 : 0;
      if (continuation > 0) {
        // A line continuation: the backslash and the line break vanish, and the word goes on.
        i += continuation;
      } else {
        word += next;
        inWord = true;
        i += 2;
      }
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) {
    words.push(word);
  }
  return words;
}

// Characters that mean nothing to a POSIX shell either, so a word made only of them reads the same
// to someone who would paste the line into a terminal; anything else is quoted.
const PLAIN_WORD = /^[\p{L}\p{N}_@%+=:,./-]+$/u;

/** Quotes one argument only when it needs it; single quotes, with ' written as '\''. */
export function quoteArg(arg: string): string {
  if (PLAIN_WORD.test(arg)) {
    return arg;
  }
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The inverse of parseArgs, for prefilling an input box: parseArgs(formatArgs(a)) equals a. */
export function formatArgs(args: readonly string[]): string {
  return args.map(quoteArg).join(' ');
}

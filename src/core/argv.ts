/**
 * The arguments line a user types for a job, split into an argv array.
 *
 * TrainQ starts jobs without a shell, so only a shell's word splitting and quoting apply here:
 * `$(…)`, backticks, `$VAR`, `;`, `|`, `&`, globs, `~` and `#` are ordinary characters and reach the
 * script literally. Quoting follows POSIX so that a line copied from a terminal splits the same way.
 */

export class ArgsError extends Error {
  /** 0-based index into the parsed text where the problem starts (for a word list: the word's index). */
  readonly index: number;

  constructor(message: string, index: number) {
    super(message);
    this.name = 'ArgsError';
    this.index = index;
  }
}

// Operating systems end each argument at a NUL byte, so no program can receive one: the word would be cut
// short, and Node's spawn refuses it outright ("must be a string without null bytes"). TrainQ says so itself.
const NUL = '\u0000';

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
 * (before a newline it joins the lines, as in a shell). Throws ArgsError for a NUL character, an
 * unclosed quote or a trailing backslash.
 */
export function parseArgs(text: string): string[] {
  // Checked first and anywhere (quoted or escaped too): no quoting can carry a NUL to a program.
  const nul = text.indexOf(NUL);
  if (nul >= 0) {
    throw new ArgsError(`A NUL character (U+0000) at ${position(text, nul)}: no program can receive one in its arguments. Remove it.`, nul);
  }
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

/**
 * Throws ArgsError naming the first word of `words` that holds a NUL. parseArgs refuses NUL as it is
 * typed; this is for word lists that did not come through it (a job saved by an older TrainQ, an
 * interpreter setting), so that starting them fails with TrainQ's words rather than spawn's.
 */
export function assertNoNul(words: readonly string[], label: (index: number) => string = (i) => `Argument ${i + 1}`): void {
  const at = words.findIndex((word) => word.includes(NUL));
  if (at >= 0) {
    const word = words[at];
    const shown = JSON.stringify(word.length > 40 ? `${word.slice(0, 40)}…` : word);
    throw new ArgsError(`${label(at)} ${shown} contains a NUL character (U+0000), which cannot be passed to a program. Remove it and queue the job again.`, at);
  }
}

/**
 * Which words may name a host's interpreter (the `python` of SSH hosts and Slurm clusters).
 *
 * The remote wrapper runs a job as `"$@"` with the interpreter first. A shell looks a bare word up
 * as a builtin before the PATH, so `eval` (or `source`, `.`, `trap`, `command`…) would make the shell
 * itself the interpreter: `eval script.py 'x; rm -rf ~'` runs the job's arguments as shell code, and
 * `exec` would skip the wrapper's exit-code file. A word with a slash is never looked up that way:
 * the shell executes that file. So an interpreter is an absolute path (or `~/`), or a plain program
 * name that no shell of ours (POSIX sh, dash, bash; zsh and ksh for logins that use them) treats as a
 * builtin or keyword.
 */

/** Builtins and keywords of POSIX sh, dash, bash, and the common extra ones of zsh and ksh. */
export const SHELL_WORDS: ReadonlySet<string> = new Set([
  // POSIX special builtins
  '.', ':', 'break', 'continue', 'eval', 'exec', 'exit', 'export', 'readonly', 'return', 'set', 'shift', 'times', 'trap', 'unset',
  // POSIX regular builtins, also in dash
  'alias', 'bg', 'cd', 'command', 'false', 'fc', 'fg', 'getopts', 'hash', 'jobs', 'kill', 'newgrp', 'pwd', 'read', 'true', 'type',
  'ulimit', 'umask', 'unalias', 'wait', 'echo', 'printf', 'test', '[', 'local', 'chdir',
  // bash builtins
  'bind', 'builtin', 'caller', 'compgen', 'complete', 'compopt', 'declare', 'dirs', 'disown', 'enable', 'help', 'history', 'let',
  'logout', 'mapfile', 'popd', 'pushd', 'readarray', 'shopt', 'source', 'suspend', 'typeset',
  // keywords (sh and bash): not looked up after expansion, but never a program either
  '!', '{', '}', '[[', ']]', 'case', 'coproc', 'do', 'done', 'elif', 'else', 'esac', 'fi', 'for', 'function', 'if', 'in', 'select',
  'then', 'time', 'until', 'while',
  // zsh and ksh
  'autoload', 'builtins', 'emulate', 'foreach', 'end', 'functions', 'integer', 'noglob', 'nocorrect', 'print', 'repeat', 'whence',
  'where', 'zmodload', 'nameref',
]);

/** A program name: letters, digits and . _ + -, not starting with '-' (read as an option) or '.'. */
const PROGRAM = /^[A-Za-z0-9_][A-Za-z0-9._+-]*$/;
/** A path: absolute or under ~/, of the same safe characters and '/', without empty or '..' parts. */
const PATH = /^(~\/|\/)[A-Za-z0-9._+@%,=:-]+(\/[A-Za-z0-9._+@%,=:-]+)*$/;

/** Why `value` cannot be a host's interpreter, or undefined when it can. */
export function interpreterProblem(value: string): string | undefined {
  if (value.includes('/') || value.startsWith('~')) {
    if (!PATH.test(value) || value.split('/').includes('..')) {
      return "must be an absolute path or start with ~/, of letters, digits, '/' and . _ + - @ % , = : (no spaces or shell characters)";
    }
    return undefined;
  }
  if (!PROGRAM.test(value)) {
    return 'must be a program name (letters, digits, . _ + -) or an absolute path';
  }
  if (SHELL_WORDS.has(value)) {
    return `is a shell builtin or keyword, not a program: the shell would run the job's arguments itself`;
  }
  return undefined;
}

/** A path relative to the job's folder (`.venv/bin/python`): the safe characters, not starting with '-', no empty or '..' parts. */
const RELATIVE = /^[A-Za-z0-9._][A-Za-z0-9._+@%,=:-]*(\/[A-Za-z0-9._+@%,=:-]+)+$/;

/**
 * Why `value` cannot be a job's own interpreter (JobSpec.interpreter), or undefined when it can: what
 * a host's may be, or a path relative to the job's folder, which the project copy carries to remote hosts.
 */
export function jobInterpreterProblem(value: string): string | undefined {
  if (RELATIVE.test(value) && !value.split('/').includes('..')) {
    return undefined;
  }
  const problem = interpreterProblem(value);
  return problem && `${problem}, or a path relative to the job's folder such as .venv/bin/python`;
}

/** The interpreter a `.py` job runs with on a host: the job's own, else the host's. */
export function interpreterFor(job: { interpreter?: string }, hostDefault: string): string {
  if (job.interpreter === undefined) {
    return hostDefault;
  }
  const problem = jobInterpreterProblem(job.interpreter);
  if (problem) {
    throw new Error(`The job's interpreter ${JSON.stringify(job.interpreter)} ${problem}.`);
  }
  return job.interpreter;
}

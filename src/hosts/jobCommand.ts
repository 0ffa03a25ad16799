/**
 * The command line of a job, built by the host that runs it: `.py` scripts with that host's
 * interpreter (the local host asks its resolver, a remote host uses its `python` setting), `.sh`
 * scripts with bash, anything else refused. The arguments follow verbatim, never through a shell.
 */
import * as path from 'node:path';
import { assertNoNul } from '../core/argv';

export function isPythonScript(script: string): boolean {
  return path.extname(script).toLowerCase() === '.py';
}

/**
 * [interpreter, script, ...args]. `script` and `cwd` are as the host sees them. NUL characters are
 * refused with the job's own words (spawn would only say "must be a string without null bytes"); the
 * arguments are checked first, so the message numbers them as the user typed them.
 */
export function jobCommand(script: string, args: readonly string[], cwd: string, python: string): string[] {
  const ext = path.extname(script).toLowerCase();
  if (ext !== '.py' && ext !== '.sh') {
    throw new Error(`TrainQ runs .py and .sh scripts; ${path.basename(script)} is neither.`);
  }
  const command = [ext === '.py' ? python : 'bash', script, ...args];
  assertNoNul(args);
  assertNoNul(command.slice(0, 2), () => 'The interpreter or script path');
  assertNoNul([cwd], () => 'The working folder');
  return command;
}

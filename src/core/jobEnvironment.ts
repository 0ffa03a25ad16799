/**
 * The environment a job starts with, put together at dispatch: the variables of its `.env` file, then
 * its own (inline) variables, which win for a name both set. The hosts add their `env` setting beneath
 * and TrainQ's own variables on top (hosts/jobEnv.ts).
 *
 * The `.env` file is read when the job is dispatched, not when it is queued: an edit made while the
 * job waits applies, and the file's values (often secrets) are never copied into the store. A file
 * that is gone or invalid by then fails the job with a reason naming the file and the line, never a value.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { DotenvError, MAX_DOTENV_BYTES, parseDotenv } from './dotenv';
import type { JobSpec } from './job';
import { fail, filled, optional } from './storeChecks';

export type ReadEnvFile = (file: string) => Promise<Buffer>;

export async function launchEnvironment(
  job: Pick<JobSpec, 'env' | 'envFile'>,
  read: ReadEnvFile = (file) => fs.readFile(file),
): Promise<Record<string, string>> {
  const own = job.env ?? {};
  if (job.envFile === undefined) {
    return { ...own };
  }
  return { ...(await readEnvFile(job.envFile, read)), ...own };
}

/** The variables of a `.env` file; throws a message naming the file (and the line), never a value. */
export async function readEnvFile(file: string, read: ReadEnvFile = (f) => fs.readFile(f)): Promise<Record<string, string>> {
  let bytes: Buffer;
  try {
    bytes = await read(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a folder' : code === 'EACCES' ? 'cannot be read (permission denied)' : `cannot be read (${code ?? 'error'})`;
    throw new Error(`The .env file ${file} ${why}.`);
  }
  if (bytes.length > MAX_DOTENV_BYTES) {
    throw new Error(`The .env file ${file} is larger than 1 MiB; it is not an environment file.`);
  }
  try {
    return parseDotenv(bytes.toString('utf8'));
  } catch (e) {
    if (e instanceof DotenvError) {
      throw new Error(`The .env file ${file}, ${e.message}.`);
    }
    throw e;
  }
}

/** Store checks of the per-job environment fields (`env` itself is checked with the sweep fields). */
export function checkEnvJobFields(job: Record<string, unknown>, at: string): void {
  optional(job, at, 'envFile', (v, where) => {
    if (!path.isAbsolute(filled(v, where))) {
      fail(`${where} is not an absolute path`);
    }
  });
  optional(job, at, 'interpreter', (v, where) => {
    if (/[\n\r]/.test(filled(v, where))) {
      fail(`${where} contains a line break`);
    }
  });
}

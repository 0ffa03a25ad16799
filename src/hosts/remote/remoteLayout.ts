/**
 * Where a job's files live on a remote host, and how local paths map into its copy of the project.
 *
 * Layout under the host's workdir:
 *   <workdir>/<project>/…            the synced project (the local folder's name; sync 'none' keeps local paths)
 *   <workdir>/.trainq/jobs/<jobId>/  pgid, exit, output.log: the same files as a local job folder
 */
import { relativeInside } from '../../core/pathInside';
import * as path from 'node:path';
import { assertValidJobId } from '../local/localProcess';

// The remote scripts report paths one per line and match the job folder with `grep -x`: no line breaks.
const CONTROL = /[\u0000-\u001f\u007f]/;

export function assertSafeRemotePath(p: string, what: string): void {
  if (!p.startsWith('/') || CONTROL.test(p) || p.split('/').includes('..')) {
    throw new Error(`${what} '${p}' is not a usable remote path (it must be absolute, without '..' or control characters)`);
  }
}

export function remoteJobsDir(workdir: string): string {
  return `${workdir}/.trainq/jobs`;
}

export function remoteJobDir(workdir: string, jobId: string): string {
  assertValidJobId(jobId);
  return `${remoteJobsDir(workdir)}/${jobId}`;
}

/** The synced copy of a local project folder: <workdir>/<folder name>. */
export function remoteProjectDir(workdir: string, localRoot: string): string {
  const name = path.basename(path.resolve(localRoot));
  if (name === '' || name === '.' || name === '..' || name === '.trainq' || CONTROL.test(name)) {
    throw new Error(`The folder '${localRoot}' cannot be synced under a usable name`);
  }
  const dir = `${workdir}/${name}`;
  assertSafeRemotePath(dir, 'Remote project folder');
  return dir;
}

/** Maps a local path inside localRoot to the same relative place under remoteRoot (POSIX separators). */
export function mapIntoRemote(localPath: string, localRoot: string, remoteRoot: string): string {
  const rel = relativeInside(localRoot, localPath);
  if (rel === undefined) {
    throw new Error(`'${localPath}' is outside the synced folder '${localRoot}', so it would not exist on the host`);
  }
  const mapped = rel === '' ? remoteRoot : `${remoteRoot}/${rel.split(path.sep).join('/')}`;
  assertSafeRemotePath(mapped, 'Remote path');
  return mapped;
}

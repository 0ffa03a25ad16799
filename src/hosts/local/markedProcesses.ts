/**
 * Which jobs still have processes on this machine, read from every process's environment in one pass
 * (`TRAINQ_JOB_ID=<id>`, the marker the wrapper gives a job's processes). A window reconciling many
 * jobs after a reload asks once, and only the jobs that still have processes get the sweep's shell: a
 * sweep per job would scan /proc once each, which made activation with a large store ~100 ms slower.
 * Processes of other users whose environment cannot be read are not seen, as in the sweep itself.
 */
import { promises as fs } from 'node:fs';

const MARKER = 'TRAINQ_JOB_ID=';
/** A census is reused for this long: one reconcile's worth of questions. */
const REUSE_MS = 1000;

let cached: { at: number; ids: Promise<Set<string>> } | undefined;

/** The job ids carried by live processes on this machine (a fresh census at most every REUSE_MS). */
export function markedJobIds(now = Date.now()): Promise<Set<string>> {
  if (!cached || now - cached.at > REUSE_MS) {
    cached = { at: now, ids: census() };
  }
  return cached.ids;
}

/** Forgets the census: after a sweep or a start, the next question must look again. */
export function forgetMarkedJobIds(): void {
  cached = undefined;
}

async function census(): Promise<Set<string>> {
  const ids = new Set<string>();
  const pids = (await fs.readdir('/proc').catch(() => [] as string[])).filter((name) => /^\d+$/.test(name));
  await Promise.all(
    pids.map(async (pid) => {
      const environ = await fs.readFile(`/proc/${pid}/environ`, 'latin1').catch(() => '');
      const at = environ.indexOf(MARKER);
      if (at === 0 || (at > 0 && environ.charCodeAt(at - 1) === 0)) {
        const end = environ.indexOf('\0', at);
        ids.add(environ.slice(at + MARKER.length, end < 0 ? undefined : end));
      }
    }),
  );
  return ids;
}

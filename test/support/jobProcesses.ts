/** What tests need of a job's processes: count those carrying its TRAINQ_JOB_ID (as the sweep finds them), leave one behind. */
import { existsSync, promises as fs } from 'node:fs';
import { HostRoster } from '../../src/core/hostRoster';
import type { Job } from '../../src/core/job';
import { dispatchOrder } from '../../src/core/jobQueues';
import { silentLogger } from '../../src/core/logger';
import { FirstFitPlacement } from '../../src/core/placementPolicies';
import { buildCandidates, planDispatch } from '../../src/core/scheduler';
import type { Host } from '../../src/core/host';
import { makeJob } from './builders';
import { waitFor } from './waiting';

/** Pids of live processes whose environment holds TRAINQ_JOB_ID=<id> with an id that `match` accepts. */
export async function markedProcesses(match: string | ((jobId: string) => boolean)): Promise<number[]> {
  const accepts = typeof match === 'string' ? (id: string) => id === match : match;
  const pids: number[] = [];
  for (const entry of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    // Zombies and other users' processes read as empty: neither runs anything of ours.
    const env = await fs.readFile(`/proc/${entry}/environ`, 'latin1').catch(() => '');
    const marker = env.split('\0').find((v) => v.startsWith('TRAINQ_JOB_ID='));
    if (marker !== undefined && accepts(marker.slice('TRAINQ_JOB_ID='.length))) pids.push(Number(entry));
  }
  return pids;
}

/** True while the process exists and is no zombie. */
export async function isLive(pid: number): Promise<boolean> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat !== '' && stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] !== 'Z';
}

/**
 * A job script that leaves a child behind: in its own session (setsid), ignoring SIGTERM (so only
 * SIGKILL ends it), on the job's GPUs (the fake nvidia-smi lists it by its CUDA_VISIBLE_DEVICES), its
 * pid written to the file named by $1. Append what the job does next (exit, or keep running).
 */
export const ESCAPING_SCRIPT = `setsid sh -c 'trap "" TERM; echo $$ > "$1.tmp" && mv "$1.tmp" "$1"; exec sleep 600' child "$1" &
while [ ! -s "$1" ]; do sleep 0.05; done
echo started
`;

/** The escaped child's pid, once ESCAPING_SCRIPT wrote it. */
export async function escapedChild(pidFile: string): Promise<number> {
  await waitFor('the escaped child to start', () => existsSync(pidFile));
  return Number(await fs.readFile(pidFile, 'utf8'));
}

/**
 * Probes `host` through a HostRoster and plans one round for a queued job of `gpus` GPUs while
 * `running` holds its GPUs: what the Job Queue would say, and the roster for further looks.
 */
export async function waitingReasonOn(host: Host, running: Job, gpus: number): Promise<{ reason?: string; roster: HostRoster }> {
  const ignore = () => undefined;
  const roster = new HostRoster({ exited: ignore, statusChanged: ignore, noted: ignore }, Date.now, silentLogger);
  roster.set([host]);
  await roster.probeAll();
  const wide = makeJob({ id: `${running.id}-next`, name: 'next.py', state: 'queued', gpus });
  const jobs = [running, wide];
  const plan = planDispatch(dispatchOrder(jobs, Date.now(), 0), buildCandidates(roster.offers(), jobs), new FirstFitPlacement());
  return { reason: plan.waiting.get(wide.id), roster };
}

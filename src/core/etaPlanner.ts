/**
 * When each job is expected to start and end: the queue played forward with the scheduler the
 * dispatcher uses (dispatchOrder, buildCandidates, planDispatch), so an ETA follows the same rules
 * as the real dispatch (priorities, aging, backfill, job slots) instead of a second, drifting copy.
 * Run times are the learned model's median on each host. Pure: the view computes it off its refresh
 * path and caches it.
 *
 * Two simplifications, both on the side of a plain answer: a queued job goes to the feasible host
 * where it would finish soonest (the shipped placements may choose otherwise, and a learning one
 * cannot be played forward), and the hosts' offers stay as probed now.
 */
import { dependencyState, lookupIn } from './dependencies';
import type { Job } from './job';
import { reorder, type QueuedEntry } from './jobQueues';
import type { HostCandidate, Placement, PlacementDecision } from './placement';
import { runQueryOf } from './runtimeHistory';
import type { RuntimeModel } from './runtimeModel';
import { buildCandidates, planDispatch, type HostOffer } from './scheduler';
import { withJobMemoryFreed } from './constrainedHosts';

/** An overdue running job is expected to end within this share of its predicted time from now. */
const OVERDUE_SHARE = 0.1;
/** A running job is never shown done before it ends. */
const MAX_PROGRESS = 0.99;

export interface QueuedEta {
  startMs: number;
  endMs: number;
  host: string;
}

export interface RunningEta {
  endMs: number;
  /** Elapsed ÷ predicted, at most 0.99. */
  progress: number;
}

export interface EtaPlan {
  nowMs: number;
  /** By job id; a queued job no host can ever take (too wide) has none. */
  queued: Map<string, QueuedEta>;
  running: Map<string, RunningEta>;
  /** When the last planned job ends; undefined when nothing is queued or running. */
  drainMs?: number;
  /** Queued jobs left without an ETA (no online host can take them). */
  unplanned: number;
}

export interface EtaInput {
  jobs: readonly Job[];
  /** The hosts as last probed (HostRoster.offers()). */
  offers: readonly HostOffer[];
  nowMs: number;
  agingMs: number;
}

export type EtaModel = Pick<RuntimeModel, 'predictOn' | 'predictAll'>;

/** One simulated running job: the fields buildCandidates reads, and when it ends. */
interface Busy {
  job: Job;
  endMs: number;
}

export function planEtas(input: EtaInput, model: EtaModel): EtaPlan {
  const { jobs, nowMs, agingMs } = input;
  // A constrained job checks free GPU memory: what a running job uses there comes back when it ends.
  const offers = withJobMemoryFreed(input.offers, jobs);
  const refs = offers.map((o) => ({ name: o.name, declaredSpeed: o.speed }));
  const plan: EtaPlan = { nowMs, queued: new Map(), running: new Map(), unplanned: 0 };
  let busy: Busy[] = [];
  for (const job of jobs) {
    if (job.state !== 'running' || job.host === undefined) {
      continue;
    }
    const declaredSpeed = offers.find((o) => o.name === job.host)?.speed ?? 1;
    const predictedMs = model.predictOn(runQueryOf(job), [{ name: job.host, declaredSpeed }])[0].medianSec * 1000;
    const startedAt = job.startedAt ?? nowMs;
    const due = startedAt + predictedMs;
    const endMs = due > nowMs ? due : nowMs + OVERDUE_SHARE * predictedMs;
    plan.running.set(job.id, { endMs, progress: Math.min(MAX_PROGRESS, Math.max(0, (nowMs - startedAt) / predictedMs)) });
    busy.push({ job, endMs });
  }

  // Each queued job's predicted time on every host, asked once. Its base time (the order's tie-break,
  // as the dispatcher orders) rides on a copy of the job as runtimeSec, the order's default key: a
  // lookup per entry per event was the planner's largest cost. An unknown host at speed 1.0 is the base.
  const onHost = new Map<string, Map<string, number>>();
  let queue: QueuedEntry[] = [];
  for (const job of jobs) {
    if (job.state !== 'queued') {
      continue;
    }
    const { base, onHosts } = model.predictAll(runQueryOf(job), refs);
    onHost.set(job.id, new Map(refs.map((r, i) => [r.name, onHosts[i].medianSec * 1000])));
    queue.push({ job: { ...job, runtimeSec: base.medianSec }, effective: job.priority, promotedLevels: 0 });
  }
  const placement = soonestFinish(onHost);
  const busyJobs = (): Job[] => busy.map((b) => b.job);

  let t = nowMs;
  let reorderAt = -Infinity;
  for (;;) {
    if (t >= reorderAt) {
      // Aging changes the order only when some job gains a level; until then the order stands.
      reorder(queue, t, agingMs);
      reorderAt = nextPromotion(queue, t, agingMs);
    }
    const round = planDispatch(queue, buildCandidates(offers, busyJobs()), placement, { explainWaits: false, held: heldAt(queue, busy, jobs) });
    if (round.launches.length > 0) {
      const started = new Set<string>();
      for (const { job, host, gpuIndices } of round.launches) {
        const endMs = t + (onHost.get(job.id)?.get(host) ?? job.runtimeSec * 1000);
        plan.queued.set(job.id, { startMs: t, endMs, host });
        busy.push({ job: { ...job, state: 'running', host, gpuIndices }, endMs });
        started.add(job.id);
      }
      queue = queue.filter((e) => !started.has(e.job.id));
    }
    if (queue.length === 0 || busy.length === 0) {
      break;
    }
    // Next event: the soonest end. Everything ending then frees its GPUs at once.
    let next = Infinity;
    for (const b of busy) {
      next = Math.min(next, b.endMs);
    }
    t = Math.max(t, next);
    busy = busy.filter((b) => b.endMs > t);
  }
  plan.unplanned = queue.length;
  let drain = -Infinity;
  for (const eta of [...plan.running.values(), ...plan.queued.values()]) {
    drain = Math.max(drain, eta.endMs);
  }
  if (drain > -Infinity) {
    plan.drainMs = drain;
  }
  return plan;
}

/**
 * A queued job starts no earlier than its dependencies' predicted ends: it is held while one is still
 * queued or running in the played-forward queue. One whose `after-ok` dependency already failed never
 * starts (the dispatcher ends it), so it stays without an ETA. Undefined when no queued job has any.
 */
function heldAt(queue: readonly QueuedEntry[], busy: readonly Busy[], jobs: readonly Job[]): ((job: Job) => string | undefined) | undefined {
  if (!queue.some((e) => e.job.after)) {
    return undefined;
  }
  const pending = new Set([...queue.map((e) => e.job.id), ...busy.map((b) => b.job.id)]);
  const lookup = lookupIn(jobs);
  return (job) => {
    const after = job.after;
    if (!after) {
      return undefined;
    }
    if (after.jobs.some((id) => pending.has(id))) {
      return 'waits for a dependency';
    }
    return dependencyState(job, (id) => (pending.has(id) ? undefined : lookup(id))).kind === 'failed' ? 'a dependency failed' : undefined;
  };
}

/** The first instant after `t` at which a queued job not yet at High gains a level; Infinity without aging. */
function nextPromotion(queue: readonly QueuedEntry[], t: number, agingMs: number): number {
  if (!(agingMs > 0)) {
    return Infinity;
  }
  let next = Infinity;
  for (const { job, effective } of queue) {
    if (effective !== 'high') {
      const since = job.prioritySetAt ?? job.createdAt;
      next = Math.min(next, since + (Math.floor((t - since) / agingMs) + 1) * agingMs);
    }
  }
  return next;
}

/** The host where the job would finish soonest (all feasible hosts can start it now); ties go by name. */
function soonestFinish(onHost: ReadonlyMap<string, ReadonlyMap<string, number>>): Placement {
  return {
    name: 'soonest-finish',
    choose(job: Job, feasible: HostCandidate[]): PlacementDecision {
      const times = onHost.get(job.id);
      let best = feasible[0];
      let bestMs = times?.get(best.host) ?? Infinity;
      for (const c of feasible) {
        const ms = times?.get(c.host) ?? Infinity;
        if (ms < bestMs || (ms === bestMs && c.host < best.host)) {
          best = c;
          bestMs = ms;
        }
      }
      return { kind: 'place', host: best.host };
    },
  };
}

/**
 * The simulator times Placement.choose alone; a placement with hooks (the DQN agent, the headroom
 * study's hold stand-ins) hears from this wrapper what the extension's dispatcher tells it: each
 * submission, the start of each dispatch round with the queue and the running jobs, every change in
 * the number of queued jobs, and each finish with the job's run time.
 */
import type { Job } from '../core/job';
import type { Placement } from '../core/placement';
import type { PolicyInstance } from './policyTypes';
import type { QueueDiscipline } from './queueDisciplines';

export function withPlacementHooks(discipline: QueueDiscipline, placement: Placement): PolicyInstance {
  const byIndex = new Map<number, Job>();
  const queued = new Set<Job>();
  const running = new Set<Job>();
  return {
    discipline: {
      name: discipline.name,
      admit: (q) => {
        discipline.admit(q);
        byIndex.set(q.spec.index, q.job);
        queued.add(q.job);
        placement.noteSubmitted?.(q.job);
      },
      order: (nowMs) => {
        placement.beginRound?.({ nowMs, queued: [...queued], running: [...running] });
        return discipline.order(nowMs);
      },
    },
    placement,
    onEvent: (event) => {
      const job = byIndex.get(event.job);
      if (!job) {
        return;
      }
      if (event.kind === 'start') {
        queued.delete(job);
        running.add(job);
      } else if (event.kind === 'finish') {
        running.delete(job);
        byIndex.delete(event.job);
      }
      placement.observe?.(event.atSec * 1000, queued.size);
      if (event.kind === 'finish') {
        placement.noteFinished?.(job, event.atSec - (job.startedAt ?? 0) / 1000);
      }
    },
  };
}

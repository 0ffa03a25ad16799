/**
 * ETAs in words for the Job Queue and the status bar: clock times, not durations, because "when can I
 * look at the result" is the question. Always "~": they are predictions. Editor-free, so unit-tested.
 */
import type { EtaPlan, QueuedEta, RunningEta } from '../core/etaPlanner';
import { formatDuration } from '../core/duration';
import type { Job } from '../core/job';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const WEEK_MS = 7 * 24 * 3600 * 1000;

/** `~14:20` today, `~Tue 14:20` within a week, `~12 Jan 14:20` beyond (local time, 24-hour). */
export function clockText(ms: number, nowMs: number): string {
  const d = new Date(ms);
  const now = new Date(nowMs);
  const hm = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  if (d.toDateString() === now.toDateString()) {
    return `~${hm}`;
  }
  if (ms - nowMs < WEEK_MS - 24 * 3600 * 1000 && ms > nowMs) {
    return `~${DAYS[d.getDay()]} ${hm}`;
  }
  return `~${d.getDate()} ${d.toLocaleString('en', { month: 'short' })} ${hm}`;
}

export function queuedEtaText(eta: QueuedEta, nowMs: number): string {
  return `starts ${clockText(eta.startMs, nowMs)} on ${eta.host} · ends ${clockText(eta.endMs, nowMs)}`;
}

export function runningEtaText(eta: RunningEta, nowMs: number): string {
  return `ends ${clockText(eta.endMs, nowMs)} · ${Math.round(eta.progress * 100)} %`;
}

/** The ETA part of a job's line in the Job Queue; undefined when the plan has none for it. */
export function jobEtaText(job: Job, plan: EtaPlan | undefined, nowMs: number): string | undefined {
  if (!plan) {
    return undefined;
  }
  if (job.state === 'queued') {
    const eta = plan.queued.get(job.id);
    return eta && queuedEtaText(eta, nowMs);
  }
  if (job.state === 'running') {
    const eta = plan.running.get(job.id);
    return eta && runningEtaText(eta, nowMs);
  }
  return undefined;
}

/** The status bar's "Queue drains ~18:40", with the jobs no host can take said apart; undefined when idle. */
export function drainText(plan: EtaPlan | undefined, nowMs: number): string | undefined {
  if (!plan || plan.drainMs === undefined) {
    return undefined;
  }
  const stuck = plan.unplanned > 0 ? ` (${plan.unplanned} queued job${plan.unplanned === 1 ? '' : 's'} fit no online host)` : '';
  return `Queue drains ${clockText(plan.drainMs, nowMs)}${stuck}`;
}

/** The queue input's runtime prompt: "usually 2h 10m on lab-2, 8 runs" (formatDuration's words, as the input takes them). */
export function historyPrompt(typicalSec: number, host: string | undefined, runs: number): string {
  return `usually ${formatDuration(typicalSec)}${host ? ` on ${host}` : ''}, ${runs} run${runs === 1 ? '' : 's'}`;
}

/** The Hosts view's "speed 1.0 declared · 1.6 learned (12 runs)"; the declared speed alone before any run. */
export function speedText(declared: number, learned: { speed: number; runs: number }): string {
  const base = `speed ${declared.toFixed(1)} declared`;
  return learned.runs > 0 ? `${base} · ${learned.speed.toFixed(1)} learned (${learned.runs} run${learned.runs === 1 ? '' : 's'})` : base;
}

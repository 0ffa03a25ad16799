/**
 * ETAs in words for the Job Queue and the status bar: clock times, not durations, because "when can I
 * look at the result" is the question. Always "~": they are predictions. Editor-free, so unit-tested.
 */
import type { EtaPlan, QueuedEta, RunningEta } from '../core/etaPlanner';
import { formatDuration } from '../core/duration';
import type { Job } from '../core/job';
import { t } from './l10nText';

/** Called, not a constant: the translator is set at activation, after this module loads. */
const dayName = (day: number) => [t('Sun'), t('Mon'), t('Tue'), t('Wed'), t('Thu'), t('Fri'), t('Sat')][day];
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
    return `~${dayName(d.getDay())} ${hm}`;
  }
  return `~${d.getDate()} ${d.toLocaleString('en', { month: 'short' })} ${hm}`;
}

export function queuedEtaText(eta: QueuedEta, nowMs: number): string {
  return t('starts {0} on {1} · ends {2}', clockText(eta.startMs, nowMs), eta.host, clockText(eta.endMs, nowMs));
}

export function runningEtaText(eta: RunningEta, nowMs: number): string {
  return t('ends {0} · {1} %', clockText(eta.endMs, nowMs), Math.round(eta.progress * 100));
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
  const when = clockText(plan.drainMs, nowMs);
  if (plan.unplanned === 0) {
    return t('Queue drains {0}', when);
  }
  return plan.unplanned === 1
    ? t('Queue drains {0} ({1} queued job fit no online host)', when, plan.unplanned)
    : t('Queue drains {0} ({1} queued jobs fit no online host)', when, plan.unplanned);
}

/** The queue input's runtime prompt: "usually 2h 10m on lab-2, 8 runs" (formatDuration's words, as the input takes them). */
export function historyPrompt(typicalSec: number, host: string | undefined, runs: number): string {
  const typical = formatDuration(typicalSec);
  if (host) {
    return runs === 1 ? t('usually {0} on {1}, {2} run', typical, host, runs) : t('usually {0} on {1}, {2} runs', typical, host, runs);
  }
  return runs === 1 ? t('usually {0}, {1} run', typical, runs) : t('usually {0}, {1} runs', typical, runs);
}

/** The Hosts view's "speed 1.0 declared · 1.6 learned (12 runs)"; the declared speed alone before any run. */
export function speedText(declared: number, learned: { speed: number; runs: number }): string {
  const base = t('speed {0} declared', declared.toFixed(1));
  if (learned.runs === 0) {
    return base;
  }
  const learnedText =
    learned.runs === 1 ? t('{0} learned ({1} run)', learned.speed.toFixed(1), learned.runs) : t('{0} learned ({1} runs)', learned.speed.toFixed(1), learned.runs);
  return `${base} · ${learnedText}`;
}

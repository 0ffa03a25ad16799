/**
 * The Predictions section's texts, pure (no DOM), so the protocol's fuzz test can render them: whatever
 * passes the protocol's checks must read as text, never NaN or Infinity.
 */
import type { HostSpeedView, PredictionRow, PredictionsView } from '../shared/dashboardProtocol';
import { formatClockTime, formatCount, formatDateTime, formatDuration, formatValue } from './format';

export const PREDICTIONS_EMPTY = 'No finished job yet: predictions appear after the first job ends.';

export interface PredictionRowText {
  time: string;
  fullTime: string;
  script: string;
  host: string;
  predicted: string;
  actual: string;
  /** Signed: "+25%" predicted too long, "−20%" too short. */
  error: string;
  /** Above or below the actual, for colour; '' when about right or unknown. */
  errorClass: '' | 'over' | 'under';
  runs: string;
}

/** (predicted − actual) ÷ actual as a signed percentage; "—" when the ratio is not a number a person can read. */
export function errorPercent(predictedSec: number, actualSec: number): string {
  const pct = (predictedSec / actualSec - 1) * 100;
  if (!Number.isFinite(pct)) {
    return '—';
  }
  const rounded = Math.round(pct);
  return rounded === 0 ? '0%' : `${rounded > 0 ? '+' : '−'}${formatCount(Math.abs(rounded))}%`;
}

export function predictionRowText(p: PredictionRow): PredictionRowText {
  const ratio = p.predictedSec / p.actualSec;
  // Within 10% reads as right: colouring every small miss would drown the big ones.
  const errorClass = !Number.isFinite(ratio) || Math.abs(ratio - 1) < 0.1 ? '' : ratio > 1 ? 'over' : 'under';
  return {
    time: formatClockTime(p.atMs),
    fullTime: formatDateTime(p.atMs),
    script: p.script,
    host: p.host,
    predicted: formatDuration(p.predictedSec),
    actual: formatDuration(p.actualSec),
    error: errorPercent(p.predictedSec, p.actualSec),
    errorClass,
    runs: p.runs === 0 ? 'first run' : formatCount(p.runs),
  };
}

export interface HostSpeedText {
  name: string;
  declared: string;
  learned: string;
  /** What the learned speed rests on: "12 runs", or that it is still the declared one. */
  basis: string;
}

export function hostSpeedText(h: HostSpeedView): HostSpeedText {
  return {
    name: h.name,
    declared: `${formatValue(h.declaredSpeed)}×`,
    learned: `${formatValue(h.learnedSpeed)}×`,
    basis: h.runs === 0 ? 'no runs yet (declared)' : `${formatCount(h.runs)} ${h.runs === 1 ? 'run' : 'runs'}`,
  };
}

/** The line above the table: how many jobs the section covers and the latest windowed error. */
export function predictionsSummary(view: PredictionsView | undefined): string {
  const v = view?.error.v;
  if (!view || !v || v.length === 0) {
    return PREDICTIONS_EMPTY;
  }
  const latest = v[v.length - 1];
  const factor = Math.exp(latest);
  const off = Number.isFinite(factor) ? ` (typically off by ${formatValue(factor)}×)` : '';
  return `${formatCount(v.length)} finished ${v.length === 1 ? 'job' : 'jobs'} predicted; median |log(predicted ÷ actual)| over the last ${formatCount(Math.min(view.window, v.length))}: ${formatValue(latest)}${off}.`;
}

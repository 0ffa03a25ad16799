/**
 * `TrainQ: Export Agent Stats`: the decision log and the training curves as CSV (one file each, for
 * spreadsheets) and everything as one JSON document (for scripts). Pure functions; the command writes.
 */
import type { AgentFigures, AgentStats, DecisionRecord } from './agentStats';
import { SERIES_NAMES } from './agentStats';

/** RFC 4180 quoting: a field with a comma, quote or line break is quoted, quotes doubled. */
export function csvField(value: unknown): string {
  const text = value === undefined || value === null ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function csv(header: readonly string[], rows: ReadonlyArray<readonly unknown[]>): string {
  return [header, ...rows].map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** One row per decision; candidates as `host=q` pairs separated by spaces ("wait" for waiting). */
export function decisionsCsv(decisions: readonly DecisionRecord[]): string {
  const header = ['seq', 'time', 'job_id', 'job_name', 'priority', 'priority_path', 'chosen', 'explored', 'candidates', 'infeasible', 'outcome', 'run_sec', 'jct_sec'];
  return csv(
    header,
    decisions.map((d) => [
      d.seq,
      iso(d.atMs),
      d.jobId,
      d.jobName,
      d.priority,
      d.priorityPath,
      d.chosen ?? 'wait',
      d.explored,
      d.candidates.map((c) => `${c.host ?? 'wait'}=${c.q.toPrecision(6)}`).join(' '),
      (d.infeasible ?? []).map((i) => `${i.host}: ${i.reason}`).join('; '),
      d.outcome?.state,
      d.outcome?.runSec,
      d.outcome?.jctSec,
    ]),
  );
}

/** The chart series side by side: series, time, training step, value. */
export function trainingCsv(stats: AgentStats): string {
  const rows: unknown[][] = [];
  for (const name of SERIES_NAMES) {
    for (const p of stats.series[name].toArray()) {
      rows.push([name, iso(p.t), p.step, p.v]);
    }
  }
  return csv(['series', 'time', 'train_step', 'value'], rows);
}

export interface StatsDocument {
  exportedAt: string;
  figures: AgentFigures;
  decisions: DecisionRecord[];
  series: Record<string, Array<{ time: string; step: number; value: number }>>;
}

export function statsJson(stats: AgentStats, now = Date.now()): string {
  const doc: StatsDocument = {
    exportedAt: iso(now),
    figures: stats.figures,
    decisions: stats.decisions.toArray(),
    series: Object.fromEntries(SERIES_NAMES.map((name) => [name, stats.series[name].toArray().map((p) => ({ time: iso(p.t), step: p.step, value: p.v }))])),
  };
  return `${JSON.stringify(doc, null, 1)}\n`;
}

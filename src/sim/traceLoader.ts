/**
 * Reads job traces in the per-job CSV form of the public Philly trace slices:
 *   timestamp,duration,num_gpus[,gpu_time,cluster][,identity,user,status]
 * with submission times as `YYYY-MM-DD HH:MM:SS` (read as UTC; only differences matter) and
 * durations in seconds. Columns are found by header name, so extra or reordered columns are fine.
 * The optional `identity` (what recurs: Helios's user:num_gpus), `user` and `status` columns are those
 * of the Helios excerpt; a status other than completed says the duration is a lower bound.
 * Real traces have bad rows; one must not sink a benchmark, so malformed rows are skipped and
 * reported with their line numbers, and only a file with no usable row at all is an error.
 * Fields are plain comma-separated values: the format has no quoting, so neither does the reader.
 * Every field is held to a bound (inputLimits.ts says which and why), and so is the file's size.
 */
import {
  EARLIEST_SUBMIT,
  EARLIEST_SUBMIT_SEC,
  LATEST_SUBMIT,
  LATEST_SUBMIT_SEC,
  MAX_DURATION_SEC,
  MAX_JOB_GPUS,
  MAX_TRACE_BYTES,
  MAX_TRACE_LINE_BYTES,
  MIN_DURATION_SEC,
  parseDecimal,
  readBoundedText,
} from './inputLimits';

export interface TraceJob {
  /** 1-based line in the file, for messages. */
  line: number;
  /** Submission time in seconds since the Unix epoch. */
  submitSec: number;
  /** Run time on a speed-1.0 host, in seconds. */
  durationSec: number;
  gpus: number;
  /** The trace's own recurring identity, when it has an `identity` column. */
  identity?: string;
  user?: string;
  status?: TraceStatus;
}

/** How a job ended, in the Helios trace's words: the values its `status` column holds. */
export const TRACE_STATUSES = ['completed', 'canceled', 'failed', 'node_fail'] as const;
export type TraceStatus = (typeof TRACE_STATUSES)[number];

/** An identity or user name becomes a path and a label, so it is held to a short printable string. */
export const MAX_NAME_CHARS = 200;

export interface RowError {
  line: number;
  message: string;
}

export interface Trace {
  source: string;
  /** Usable rows in submission order (file order among equal timestamps): the slices are not sorted. */
  jobs: TraceJob[];
  skipped: RowError[];
}

export class TraceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TraceError';
  }
}

const REQUIRED_COLUMNS = ['timestamp', 'duration', 'num_gpus'] as const;
const OPTIONAL_COLUMNS = ['identity', 'user', 'status'] as const;
type Columns = Record<(typeof REQUIRED_COLUMNS)[number], number> & Partial<Record<(typeof OPTIONAL_COLUMNS)[number], number>>;
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

/** Seconds since the epoch (negative before 1970), or undefined when the text is not a real calendar time. */
export function parseTimestamp(text: string): number | undefined {
  const m = TIMESTAMP.exec(text);
  if (!m) {
    return undefined;
  }
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number);
  if (hour > 23 || minute > 59 || second > 59) {
    return undefined;
  }
  // Date.UTC reads years 0–99 as 1900–1999; setUTCFullYear takes the year as written.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  // It also rolls 2017-02-30 over into March; reading the fields back catches impossible dates.
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    return undefined;
  }
  return date.getTime() / 1000 + hour * 3600 + minute * 60 + second;
}

/** A name cell (identity, user): non-empty, printable, at most MAX_NAME_CHARS; or the reason it is not. */
function nameProblem(column: string, text: string): string | undefined {
  if (text === '') {
    return `${column} must not be empty`;
  }
  if (text.length > MAX_NAME_CHARS) {
    return `${column} must be at most ${MAX_NAME_CHARS} characters (got ${text.length})`;
  }
  return CONTROL.test(text) ? `${column} must not contain control characters (got ${JSON.stringify(text)})` : undefined;
}

/** The optional columns of a row, or why the row is unusable. */
function parseNames(cells: string[], columns: Columns): Pick<TraceJob, 'identity' | 'user' | 'status'> | string {
  const names: Pick<TraceJob, 'identity' | 'user' | 'status'> = {};
  for (const column of ['identity', 'user'] as const) {
    if (columns[column] !== undefined) {
      const text = cells[columns[column]].trim();
      const problem = nameProblem(column, text);
      if (problem) {
        return problem;
      }
      names[column] = text;
    }
  }
  if (columns.status !== undefined) {
    const status = cells[columns.status].trim();
    if (!TRACE_STATUSES.includes(status as TraceStatus)) {
      return `status must be one of ${TRACE_STATUSES.join(', ')} (got ${JSON.stringify(status.slice(0, MAX_NAME_CHARS))})`;
    }
    names.status = status as TraceStatus;
  }
  return names;
}

function parseRow(cells: string[], columns: Columns): Omit<TraceJob, 'line'> | string {
  const timestampText = cells[columns.timestamp].trim();
  const submitSec = parseTimestamp(timestampText);
  if (submitSec === undefined) {
    return `timestamp must be YYYY-MM-DD HH:MM:SS (got "${timestampText}")`;
  }
  if (submitSec < EARLIEST_SUBMIT_SEC || submitSec > LATEST_SUBMIT_SEC) {
    return `timestamp must be from ${EARLIEST_SUBMIT} to ${LATEST_SUBMIT} (got "${timestampText}")`;
  }
  const durationText = cells[columns.duration].trim();
  const durationSec = parseDecimal(durationText);
  // NaN fails both comparisons. A zero duration has no slowdown (it would divide by zero), so it is as unusable as garbage.
  if (!(durationSec >= MIN_DURATION_SEC && durationSec <= MAX_DURATION_SEC)) {
    return `duration must be a positive number of seconds, from ${MIN_DURATION_SEC} to ${MAX_DURATION_SEC} (10 years) (got "${durationText}")`;
  }
  const gpusText = cells[columns.num_gpus].trim();
  const gpus = parseDecimal(gpusText);
  if (!Number.isInteger(gpus) || gpus < 1 || gpus > MAX_JOB_GPUS) {
    return `num_gpus must be a positive integer, at most ${MAX_JOB_GPUS} (got "${gpusText}")`;
  }
  const names = parseNames(cells, columns);
  return typeof names === 'string' ? names : { submitSec, durationSec, gpus, ...names };
}

export function parseTrace(text: string, source: string): Trace {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const headerIndex = lines.findIndex((l) => l.trim() !== '');
  if (headerIndex < 0) {
    throw new TraceError(`${source}: the trace is empty (expected a header timestamp,duration,num_gpus[,gpu_time,cluster] and one row per job).`);
  }
  const header = lines[headerIndex].split(',').map((h) => h.trim());
  const missing = REQUIRED_COLUMNS.filter((c) => !header.includes(c));
  if (missing.length > 0) {
    throw new TraceError(
      `${source}: line ${headerIndex + 1}: the header must name the columns timestamp, duration and num_gpus; ` +
        `${missing.join(', ')} missing (got "${lines[headerIndex].trim()}").`,
    );
  }
  const columns: Columns = { timestamp: header.indexOf('timestamp'), duration: header.indexOf('duration'), num_gpus: header.indexOf('num_gpus') };
  for (const optional of OPTIONAL_COLUMNS) {
    if (header.includes(optional)) {
      columns[optional] = header.indexOf(optional);
    }
  }

  const jobs: TraceJob[] = [];
  const skipped: RowError[] = [];
  for (let i = headerIndex + 1; i < lines.length; i++) {
    if (lines[i].trim() === '') {
      continue;
    }
    const line = i + 1;
    const cells = lines[i].split(',');
    if (cells.length !== header.length) {
      skipped.push({ line, message: `expected ${header.length} fields like the header, got ${cells.length}` });
      continue;
    }
    const row = parseRow(cells, columns);
    if (typeof row === 'string') {
      skipped.push({ line, message: row });
    } else {
      jobs.push({ line, ...row });
    }
  }
  if (jobs.length === 0) {
    const detail =
      skipped.length === 0
        ? 'it has a header but no rows'
        : `all ${skipped.length} rows are malformed; first, line ${skipped[0].line}: ${skipped[0].message}`;
    throw new TraceError(`${source}: no usable job row (${detail}).`);
  }
  // Array.prototype.sort is stable, so jobs submitted in the same second keep their file order.
  jobs.sort((a, b) => a.submitSec - b.submitSec);
  return { source, jobs, skipped };
}

export function loadTrace(file: string): Trace {
  return parseTrace(readBoundedText(file, 'trace', { maxBytes: MAX_TRACE_BYTES, maxLineBytes: MAX_TRACE_LINE_BYTES }, TraceError), file);
}

/** "line 4: …; line 9: …" for the first few, with the total, for a one-line warning. */
export function describeSkipped(skipped: readonly RowError[], shown = 5): string {
  const listed = skipped.slice(0, shown).map((s) => `line ${s.line}: ${s.message}`);
  const more = skipped.length > shown ? `; and ${skipped.length - shown} more` : '';
  return `${skipped.length} malformed row${skipped.length === 1 ? '' : 's'} skipped (${listed.join('; ')}${more})`;
}

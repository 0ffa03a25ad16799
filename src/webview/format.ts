/** How the dashboard writes numbers, durations and times. Pure; no DOM. */

// Intl.NumberFormat instances, made once: Number.toLocaleString with options builds a new one per call,
// which the chart axes (a dozen labels per redraw) and the table views would pay on every update.
const numberFormats = new Map<string, Intl.NumberFormat>();

function numberFormat(minDigits: number, maxDigits: number): Intl.NumberFormat {
  const key = `${minDigits}:${maxDigits}`;
  let format = numberFormats.get(key);
  if (!format) {
    format = new Intl.NumberFormat(undefined, { minimumFractionDigits: minDigits, maximumFractionDigits: maxDigits });
    numberFormats.set(key, format);
  }
  return format;
}

/** A value for a chart label or table cell: short, with as many digits as its size needs. */
export function formatValue(value: number): string {
  if (!Number.isFinite(value)) {
    return String(value);
  }
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e6)) {
    return value.toExponential(2);
  }
  return numberFormat(0, abs >= 100 ? 1 : abs >= 1 ? 3 : 4).format(value);
}

export function formatCount(value: number): string {
  return numberFormat(0, 0).format(value);
}

export function formatFixed(value: number, digits: number): string {
  return numberFormat(digits, digits).format(value);
}

/** Job durations the way schedulers print them: "45s", "12m 05s", "1h 02m", "2d 03h". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) {
    return '—';
  }
  const whole = Math.max(0, Math.round(seconds));
  const pad = (n: number): string => String(n).padStart(2, '0');
  const d = Math.floor(whole / 86_400);
  const h = Math.floor((whole % 86_400) / 3_600);
  const m = Math.floor((whole % 3_600) / 60);
  const s = whole % 60;
  if (d > 0) {
    return `${d}d ${pad(h)}h`;
  }
  if (h > 0) {
    return `${h}h ${pad(m)}m`;
  }
  return m > 0 ? `${m}m ${pad(s)}s` : `${s}s`;
}

const RELATIVE_UNITS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
];

const relativeTime = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

/** "3 minutes ago", "just now"; times slightly in the future (clock skew) read as "just now". */
export function formatRelativeTime(atMs: number, nowMs: number): string {
  const elapsed = nowMs - atMs;
  if (elapsed < 45_000) {
    return 'just now';
  }
  for (const [unit, size] of RELATIVE_UNITS) {
    if (elapsed >= size) {
      return relativeTime.format(-Math.round(elapsed / size), unit);
    }
  }
  return relativeTime.format(-1, 'minute');
}

const clockTime = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function formatClockTime(atMs: number): string {
  return clockTime.format(atMs);
}

export function formatDateTime(atMs: number): string {
  return dateTime.format(atMs);
}

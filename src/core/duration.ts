/**
 * Durations as users type them ("90m", "1h30m", "1.5h", "2d 4h") and as TrainQ shows them.
 * formatDuration's output always parses back, so a value shown in an input box can be accepted unchanged.
 */

export class DurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DurationError';
  }
}

const UNIT_SECONDS: Record<string, number> = { d: 86_400, h: 3_600, m: 60, s: 1 };

// Long spellings map to the one-letter unit; "m" is minutes, as in most job schedulers. A Map, so
// that a word like "constructor" is not found on Object.prototype.
const UNIT_ALIASES: ReadonlyMap<string, string> = new Map(
  Object.entries({
    s: ['s', 'sec', 'secs', 'second', 'seconds'],
    m: ['m', 'min', 'mins', 'minute', 'minutes'],
    h: ['h', 'hr', 'hrs', 'hour', 'hours'],
    d: ['d', 'day', 'days'],
  }).flatMap(([unit, names]) => names.map((name): [string, string] => [name, unit])),
);

const EXAMPLE = 'e.g. 45s, 90m, 1h30m, 1.5h or 2d 4h (a bare number means minutes)';
const NUMBER = String.raw`(?:\d+(?:\.\d*)?|\.\d+)`;
const BARE_NUMBER = new RegExp(`^${NUMBER}$`);
const COMPONENT = new RegExp(`(${NUMBER})\\s*([a-z]+)\\s*`, 'y');

/**
 * Parses a duration into whole seconds. A bare number is minutes because runtime estimates are
 * mostly typed in minutes; every other form needs a unit, each unit at most once.
 * Throws DurationError, with an example of what works, for empty, negative, zero or unreadable input.
 */
export function parseDuration(text: string): number {
  const input = text.trim().toLowerCase();
  if (input === '') {
    throw new DurationError(`Enter a duration, ${EXAMPLE}.`);
  }
  if (input.startsWith('-')) {
    throw new DurationError(`A duration can't be negative (got "${text.trim()}"); ${EXAMPLE}.`);
  }
  let seconds: number;
  if (BARE_NUMBER.test(input)) {
    seconds = Number(input) * 60;
  } else {
    seconds = 0;
    const seen = new Set<string>();
    COMPONENT.lastIndex = 0;
    while (COMPONENT.lastIndex < input.length) {
      const at = COMPONENT.lastIndex;
      const match = COMPONENT.exec(input);
      const unit = match ? UNIT_ALIASES.get(match[2]) : undefined;
      if (!match || unit === undefined) {
        throw new DurationError(`Can't read "${text.trim()}" as a duration (at "${input.slice(at)}"); ${EXAMPLE}.`);
      }
      if (seen.has(unit)) {
        throw new DurationError(`"${text.trim()}" gives the unit "${unit}" twice; ${EXAMPLE}.`);
      }
      seen.add(unit);
      seconds += Number(match[1]) * UNIT_SECONDS[unit];
    }
  }
  const rounded = Math.round(seconds);
  if (!Number.isFinite(rounded) || rounded <= 0) {
    throw new DurationError(`A duration must be longer than zero (got "${text.trim()}"); ${EXAMPLE}.`);
  }
  return rounded;
}

const FORMAT_UNITS: ReadonlyArray<[string, number]> = [
  ['d', 86_400],
  ['h', 3_600],
  ['m', 60],
  ['s', 1],
];

/**
 * Formats seconds compactly with at most the two largest units ("45s", "12m", "1h 30m", "2d 4h"),
 * rounded to the smaller of the two: a runtime estimate is never precise enough for a third.
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) {
    return String(seconds);
  }
  if (seconds < 0) {
    return `-${formatDuration(-seconds)}`;
  }
  const whole = Math.round(seconds);
  if (whole === 0) {
    return '0s';
  }
  const largest = FORMAT_UNITS.findIndex(([, size]) => whole >= size);
  const step = FORMAT_UNITS[Math.min(largest + 1, FORMAT_UNITS.length - 1)][1];
  // Rounding up can only land exactly on the next unit's boundary (a multiple of step), which the loop below prints as "1h".
  let rest = Math.round(whole / step) * step;
  const parts: string[] = [];
  for (const [name, size] of FORMAT_UNITS) {
    if (rest >= size && parts.length < 2) {
      parts.push(`${Math.floor(rest / size)}${name}`);
      rest %= size;
    }
  }
  return parts.join(' ');
}

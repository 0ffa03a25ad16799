/**
 * The small readers a sweep definition is checked with. Each one either returns the value with the
 * type it promises or throws SweepDefinitionError naming the field, so the definition parser reads as
 * a list of fields and stops at the first problem: one clear message is easier to act on than twenty.
 *
 * A definition comes from a file anyone can write, so values are read only as own properties (a key
 * like "constructor" must not find Object.prototype's) and described back in a bounded way.
 */

export class SweepDefinitionError extends Error {
  /**
   * `field` is the JSON path of the value at fault ("parameters.lr.min"); `detail` says what is wrong
   * with it; `label` is what the message starts with, which may be the parent ("parameters.lr") when
   * the problem reads better there, or a line number and header key when the header rewrites it.
   */
  constructor(
    readonly field: string,
    readonly detail: string,
    readonly label: string = field,
  ) {
    super(label === '' ? detail : `${label}: ${detail}`);
    this.name = 'SweepDefinitionError';
  }
}

export type JsonObject = Record<string, unknown>;

const NUL = '\u0000';

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A value as a message shows it: strings quoted and cut short, containers by kind, never their contents. */
export function shown(value: unknown): string {
  if (typeof value === 'string') {
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  }
  if (Array.isArray(value)) {
    return 'an array';
  }
  if (value === null) {
    return 'null';
  }
  return typeof value === 'object' ? 'an object' : String(value);
}

/** The property only when the object itself holds it. */
export function own(obj: JsonObject, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined;
}

export function has(obj: JsonObject, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(obj, key) && obj[key] !== undefined;
}

/** Edits between two names, a swap of neighbours counting as one ("flaot" is one edit from "float"). */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}

/** The known name a typo most likely meant: same letters in another case, or a couple of edits away. */
export function closestName(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.min(2, Math.floor(name.length / 3)));
  for (const candidate of known) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance === 0) {
      return candidate;
    }
    if (distance <= bestDistance) {
      best = candidate;
      bestDistance = distance - 1;
    }
  }
  return best;
}

/** Refuses the first key the parser would otherwise ignore: an ignored typo silently changes the sweep. */
export function checkKnownFields(obj: JsonObject, known: readonly string[], prefix: string): void {
  const allowed = new Set(known);
  for (const key of Object.keys(obj)) {
    if (!allowed.has(key)) {
      const guess = closestName(key, known);
      const hint = guess === undefined ? `known fields are ${known.join(', ')}` : `did you mean "${guess}"?`;
      throw new SweepDefinitionError(`${prefix}${key}`, `unknown field; ${hint}`);
    }
  }
}

export function objectAt(value: unknown, field: string, example: string): JsonObject {
  if (!isObject(value)) {
    throw new SweepDefinitionError(field, `must be an object like ${example} (got ${shown(value)})`);
  }
  return value;
}

export function finiteAt(value: unknown, field: string): number {
  if (typeof value !== 'number') {
    throw new SweepDefinitionError(field, `must be a number (got ${shown(value)})`);
  }
  if (!Number.isFinite(value)) {
    throw new SweepDefinitionError(field, `must be a finite number (got ${shown(value)})`);
  }
  return value;
}

/** A whole number from min to max inclusive. */
export function integerAt(value: unknown, field: string, min: number, max: number): number {
  const n = finiteAt(value, field);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new SweepDefinitionError(field, `must be a whole number from ${min} to ${max} (got ${shown(value)})`);
  }
  return n;
}

/** A string without NUL (no program can receive one) of at most maxLength characters. */
export function stringAt(value: unknown, field: string, maxLength: number, allowEmpty = false): string {
  if (typeof value !== 'string') {
    throw new SweepDefinitionError(field, `must be a string (got ${shown(value)})`);
  }
  if (!allowEmpty && value.trim() === '') {
    throw new SweepDefinitionError(field, 'must not be empty');
  }
  if (value.includes(NUL)) {
    throw new SweepDefinitionError(field, 'contains a NUL character (U+0000), which cannot be passed to a program');
  }
  if (value.length > maxLength) {
    throw new SweepDefinitionError(field, `is longer than ${maxLength} characters`);
  }
  return value;
}

export function oneOf<T extends string>(value: unknown, field: string, options: readonly T[]): T {
  if (typeof value !== 'string' || !(options as readonly string[]).includes(value)) {
    const guess = typeof value === 'string' ? closestName(value, options) : undefined;
    const hint = guess === undefined ? '' : ` — did you mean "${guess}"?`;
    throw new SweepDefinitionError(field, `must be one of ${options.join(', ')} (got ${shown(value)})${hint}`);
  }
  return value as T;
}

/**
 * The small checks a loaded store's fields go through, each failing with StoreDamagedError naming the
 * field: shared by the job and state checks (storeValidation.ts) and the sweep checks.
 */

/** A store file that cannot be used: unparseable, empty, truncated or failing validation. */
export class StoreDamagedError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'StoreDamagedError';
  }
}

/** The last instant a Date can hold: a later "time" is damage, and the views would print it as NaN. */
const MAX_TIME_MS = 8.64e15;

export function fail(what: string): never {
  throw new StoreDamagedError(what);
}


export function record(value: unknown, at: string): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : fail(`${at} is not an object`);
}


export function list(value: unknown, at: string): unknown[] {
  return Array.isArray(value) ? value : fail(`${at} is not a list`);
}


export function text(value: unknown, at: string): string {
  return typeof value === 'string' ? value : fail(`${at} is not a string`);
}


/** A string that reaches an argv, a path or a file name, where a NUL would cut it short or be refused. */
export function plain(value: unknown, at: string): string {
  return text(value, at).includes('\0') ? fail(`${at} contains a NUL character`) : (value as string);
}


export function filled(value: unknown, at: string): string {
  return plain(value, at) === '' ? fail(`${at} is empty`) : (value as string);
}


export function time(value: unknown, at: string): void {
  if (typeof value !== 'number' || !(value >= 0 && value <= MAX_TIME_MS)) {
    fail(`${at} is not a time`);
  }
}


export function integer(value: unknown, at: string, min: number, max: number, what: string): void {
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) {
    fail(`${at} is not ${what}`);
  }
}

/** An optional field is absent or valid; JSON has no undefined, so null is damage like any other type. */
export function optional(item: Record<string, unknown>, at: string, key: string, check: (value: unknown, at: string) => unknown): void {
  if (item[key] !== undefined) {
    check(item[key], `${at}.${key}`);
  }
}

export function bool(value: unknown, at: string): void {
  if (typeof value !== 'boolean') {
    fail(`${at} is not true or false`);
  }
}

export function oneOf<T>(value: unknown, allowed: readonly T[], at: string): T {
  return allowed.includes(value as T) ? (value as T) : fail(`${at} is not one of ${allowed.join(', ')}`);
}

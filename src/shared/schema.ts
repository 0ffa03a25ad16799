/**
 * A small typed schema for plain-data messages. Each message's fields are written once, as a table of
 * field schemas; the validator is derived from the table, and the compiler checks the table against the
 * message's TypeScript type: a field missing from the table, one too many, or one whose schema reads
 * another type (an optional field without optional(), a nullable one without nullable()) does not build.
 *
 * Reading copies: what comes out holds only the table's fields, and arrays come out dense, so a sparse
 * array (whose holes every() and map() skip but a spread turns into undefined) cannot slip through.
 */

export class SchemaError extends Error {
  /** Keys from the value's root down to the bad field, filled in as the error passes up. */
  readonly path: Array<string | number> = [];

  constructor(readonly problem: string) {
    super(problem);
    this.name = 'SchemaError';
  }
}

export interface Schema<T> {
  /** `value` as a T (a copy); throws SchemaError when it is not one. */
  read(value: unknown): T;
  /** Set by optional(): an object may leave the field out. */
  readonly optional?: true;
  /** Set by number(): whether a value is one, with nothing to copy, for arrays' fast path. */
  readonly accepts?: (value: unknown) => boolean;
  /** Never set. It makes Schema<T> invariant in T, so that a table entry must read exactly its field's type. */
  readonly _type?: (value: T) => T;
}

/** The field table of an object type: one schema per field, optional fields included. */
export type Fields<T> = { readonly [K in keyof T]-?: Schema<T[K]> };

export type Checked<T> = { ok: true; value: T } | { ok: false; error: string };

function shown(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
    case 'object':
      return value === null ? 'null' : Array.isArray(value) ? 'an array' : 'an object';
    case 'number':
    case 'boolean':
    case 'undefined':
      return String(value);
    default:
      return `a ${typeof value}`;
  }
}

function fail(expected: string, value: unknown): never {
  throw new SchemaError(`expected ${expected}, got ${shown(value)}`);
}

/** Rethrows `error` with `key` added in front of its path. */
function at(error: unknown, key: string | number): never {
  if (error instanceof SchemaError) {
    error.path.unshift(key);
  }
  throw error;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const hasOwn = (value: object, key: string): boolean => Object.prototype.hasOwnProperty.call(value, key);

export interface NumberRange {
  min?: number;
  max?: number;
  integer?: boolean;
}

/** A finite number within the range; `what` names it in errors. */
export function number(range: NumberRange, what: string): Schema<number> {
  const { min = -Infinity, max = Infinity, integer = false } = range;
  const accepts = (value: unknown): boolean =>
    typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max && (!integer || Number.isInteger(value));
  return {
    accepts,
    read: (value) => (accepts(value) ? (value as number) : fail(what, value)),
  };
}

export const finite = number({}, 'a finite number');
export const nonNegative = number({ min: 0 }, 'a finite number ≥ 0');
export const count = number({ min: 0, max: Number.MAX_SAFE_INTEGER, integer: true }, 'a whole number ≥ 0');

/** ECMAScript's time range: a Date outside it is Invalid, and Intl's format() and toISOString() throw on it. */
export const MAX_TIME_MS = 8.64e15;
export const timeMs = number({ min: -MAX_TIME_MS, max: MAX_TIME_MS }, 'a time in ms within ±8.64e15');

export const string: Schema<string> = {
  read: (value) => (typeof value === 'string' ? value : fail('a string', value)),
};

export const boolean: Schema<boolean> = {
  read: (value) => (typeof value === 'boolean' ? value : fail('true or false', value)),
};

/** One of the given strings (an enum). */
export function oneOf<T extends string>(...values: T[]): Schema<T> {
  const allowed = new Set<unknown>(values);
  const what = `one of ${values.map((v) => JSON.stringify(v)).join(', ')}`;
  return { read: (value) => (allowed.has(value) ? (value as T) : fail(what, value)) };
}

export function nullable<T>(schema: Schema<T>): Schema<T | null> {
  return { read: (value) => (value === null ? null : schema.read(value)) };
}

/** A field that may be left out (or be undefined); object() then leaves it out of the copy too. */
export function optional<T>(schema: Schema<T>): Schema<T | undefined> {
  return { optional: true, read: (value) => (value === undefined ? undefined : schema.read(value)) };
}

/** An array of items; `refine` may refuse the whole (say, duplicate keys) with a reason. */
export function array<T>(item: Schema<T>, refine?: (items: T[]) => string | undefined): Schema<T[]> {
  return {
    read(value) {
      if (!Array.isArray(value)) {
        fail('an array', value);
      }
      // Index loops, not every(): a hole must be read (as undefined) and refused.
      let out: T[];
      if (item.accepts) {
        // Chart columns of up to 10,000 numbers each: a plain check and one copy, not a call and a push per point.
        for (let i = 0; i < value.length; i++) {
          if (!item.accepts(value[i])) {
            try {
              item.read(value[i]);
            } catch (e) {
              at(e, i);
            }
          }
        }
        out = value.slice() as T[];
      } else {
        out = [];
        for (let i = 0; i < value.length; i++) {
          try {
            out.push(item.read(value[i]));
          } catch (e) {
            at(e, i);
          }
        }
      }
      const problem = refine?.(out);
      if (problem !== undefined) {
        throw new SchemaError(problem);
      }
      return out;
    },
  };
}

/** An object with the table's fields (own properties only; others are dropped); `refine` may refuse the whole. */
export function object<T>(fields: Fields<T>, refine?: (value: T) => string | undefined): Schema<T> {
  const entries = Object.entries(fields) as Array<[string, Schema<unknown>]>;
  return {
    read(value) {
      if (!isPlainObject(value)) {
        fail('an object', value);
      }
      const out: Record<string, unknown> = {};
      for (const [key, schema] of entries) {
        const field = hasOwn(value, key) ? value[key] : undefined;
        if (field === undefined && schema.optional) {
          continue;
        }
        try {
          out[key] = schema.read(field);
        } catch (e) {
          at(e, key);
        }
      }
      const problem = refine?.(out as T);
      if (problem !== undefined) {
        throw new SchemaError(problem);
      }
      return out as T;
    },
  };
}

/** The field tables of a union discriminated by `type`, one per variant, without the `type` field itself. */
export type Variants<U extends { type: string }> = { readonly [K in U['type']]: Fields<Omit<Extract<U, { type: K }>, 'type'>> };

export function union<U extends { type: string }>(variants: Variants<U>): Schema<U> {
  const readers = new Map<unknown, Schema<object>>(
    Object.entries(variants).map(([type, fields]) => [type, object(fields as Fields<object>)]),
  );
  const what = `a type of ${[...readers.keys()].map((t) => JSON.stringify(t)).join(', ')}`;
  return {
    read(value) {
      if (!isPlainObject(value)) {
        fail('an object', value);
      }
      const type = hasOwn(value, 'type') ? value.type : undefined;
      const reader = readers.get(type);
      if (!reader) {
        const error = new SchemaError(`expected ${what}, got ${shown(type)}`);
        error.path.push('type');
        throw error;
      }
      return { type, ...reader.read(value) } as U;
    },
  };
}

/** Reads `value` with `schema`; on failure the error names the field, e.g. `snapshot.decisions[3].atMs: expected …`. */
export function check<T>(schema: Schema<T>, value: unknown, name = 'message'): Checked<T> {
  try {
    return { ok: true, value: schema.read(value) };
  } catch (e) {
    if (!(e instanceof SchemaError)) {
      throw e;
    }
    const where = e.path.map((key) => (typeof key === 'number' ? `[${key}]` : `.${key}`)).join('');
    return { ok: false, error: `${name}${where}: ${e.problem}` };
  }
}

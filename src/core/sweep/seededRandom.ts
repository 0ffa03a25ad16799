/**
 * A small deterministic random stream for the search strategies. A strategy keeps no state between
 * calls, so it cannot carry one stream along a sweep; instead it derives a fresh stream from
 * (seed, trial index, salt) each time it proposes, which makes a reloaded sweep propose exactly what
 * the original would have. Math.random is never used: it cannot be seeded.
 */

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Standard normal (Box–Muller). */
  normal(): number;
  pick<T>(values: readonly T[]): T;
}

/** murmur3's 32-bit finaliser: spreads every input bit over the whole word, so nearby seeds give unrelated streams. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** 32-bit words of a seed part: integers (any size, negative too) and strings alike. */
function wordsOf(part: number | string): number[] {
  if (typeof part === 'string') {
    // FNV-1a: salts are short labels ("tpe", "jump"), any decent string hash does.
    let h = 0x811c9dc5;
    for (let i = 0; i < part.length; i++) h = Math.imul(h ^ part.charCodeAt(i), 0x01000193);
    return [h >>> 0, part.length];
  }
  if (!Number.isFinite(part)) return [0x7fc00000];
  const x = Math.trunc(part);
  const low = x >>> 0; // low 32 bits, two's complement for negatives
  const high = Math.floor(x / 2 ** 32) >>> 0;
  return [low, high];
}

/** The 128-bit state of sfc32, hashed from every part so that (7, 3) and (3, 7) differ. */
function stateFor(parts: ReadonlyArray<number | string>): [number, number, number, number] {
  let h = 0x9e3779b9;
  const state: [number, number, number, number] = [0, 0, 0, 0];
  let k = 0;
  for (const part of parts) {
    for (const w of wordsOf(part)) {
      h = fmix32((h ^ w) + Math.imul(++k, 0x6d2b79f5));
      state[k % 4] ^= h;
    }
  }
  for (let i = 0; i < 4; i++) state[i] = fmix32(state[i] ^ Math.imul(h, i + 1) ^ 0xa5a5a5a5);
  return state;
}

/** sfc32 (Chris Doty-Humphrey's small fast counting generator): passes PractRand, four words of state. */
export function rngFor(seed: number, ...parts: Array<number | string>): Rng {
  let [a, b, c, d] = stateFor([seed, ...parts]);
  const nextU32 = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  // Warm up: the first outputs of a freshly hashed state are still correlated with the hash.
  for (let i = 0; i < 12; i++) nextU32();
  let spare: number | undefined;
  const rng: Rng = {
    next: () => nextU32() / 2 ** 32,
    int: (n) => Math.min(n - 1, Math.floor(rng.next() * n)),
    normal: () => {
      if (spare !== undefined) {
        const s = spare;
        spare = undefined;
        return s;
      }
      const u = 1 - rng.next(); // (0, 1]: log(0) would be -Infinity
      const v = rng.next();
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
    pick: (values) => values[rng.int(values.length)],
  };
  return rng;
}

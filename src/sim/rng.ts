/**
 * Seeded random numbers for the simulator. Every consumer (synthetic job features, the random
 * placement, a learning agent later) draws from its own named stream, so adding draws to one never
 * shifts the numbers another sees, and the same seed always reproduces the same run.
 */

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Standard normal (mean 0, deviation 1). */
  normal(): number;
}

/** FNV-1a over the stream name, mixed with the seed: distinct names give unrelated streams. */
function streamSeed(seed: number, stream: string): number {
  let h = 0x811c9dc5 ^ (seed >>> 0) ^ Math.floor(seed / 0x1_0000_0000);
  for (let i = 0; i < stream.length; i++) {
    h = Math.imul(h ^ stream.charCodeAt(i), 0x01000193);
  }
  return h >>> 0;
}

/**
 * mulberry32: 32 bits of state, fast, and statistically good enough for workload synthesis;
 * nothing here needs cryptographic quality.
 */
export function createRng(seed: number, stream: string): Rng {
  let state = streamSeed(seed, stream);
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  };
  // Box–Muller without caching the second value: one normal costs two uniforms, which keeps the
  // number of draws per job fixed and so the streams aligned whatever the values turn out to be.
  const normal = (): number => {
    const u = 1 - next();
    const v = next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  return { next, normal };
}

/**
 * Who ran what: the recurring identity of each simulated job. A run-time model in the product keys on
 * the script and its arguments, so the benchmark's jobs need them, and they must recur the way real
 * jobs do. A trace with an `identity` column (Helios: user:num_gpus) gives them directly; for one
 * without (Philly), they are derived here, deterministically from the seed, at two levels:
 *
 *   script family  `proj-<k>/train.py` at one GPU count, the trace-level identity (`proj-<k>:<gpus>`).
 *                  In submission order each job starts a new family with probability NEW_FAMILY_SHARE,
 *                  or joins a family of its width with probability ∝ size × e^(−|Δ|/TAU), Δ the gap
 *                  between its log duration and the family's recent median: families are projects whose
 *                  runs last alike, busy projects run more, and nothing ties a family to one file.
 *   run identity   `--epochs E` within the family, E = 128 × 2^k, k = round(log2(d ÷ the family's first
 *                  duration)) clamped to [−7, 7]: runs with the same script and epochs last alike
 *                  (within a factor √2 of a ladder step), as longer training means more epochs.
 *                  `--seed S` is random and unrelated to run time: (script, epochs, gpus) is what a
 *                  run-time model should discover, and the seed is the noise it must learn to ignore.
 *
 * The two constants were chosen once, for all four Philly traces together, so that the share of jobs
 * whose identity ran before and the within-identity spread land near the Helios excerpt's own figures
 * (bench/README.md gives the numbers). Each stream is its own (createRng names), so these draws never
 * move the synthetic features of simJobs.ts, and job k's identity depends only on the seed and jobs 0..k.
 */
import { createRng } from './rng';
import type { TraceJob, TraceStatus } from './traceLoader';

/** Share of jobs that start a new script family: Helios has 52 identities for 1,867 jobs (2.8 %). */
export const NEW_FAMILY_SHARE = 0.03;
/**
 * Log-duration scale of joining a family (0.2: a family 1.22× off weighs e⁻¹ as much). With it, the median
 * over the four Philly traces of their within-family spread (mean of 8 seeds) is 0.36, Helios's 0.359.
 */
export const FAMILY_TAU = 0.2;
/** A family's "usual duration" is the median of its last this-many runs: projects drift. */
const CENTER_WINDOW = 32;
/** Families a job may join per width: the most recently used; bounds the cost on a million-job trace. */
const ACTIVE_FAMILIES = 256;
/** Users drawn from, as many as the Helios excerpt has; each family has one to three of them. */
const USER_POOL = 12;
/** The family's first run trains 128 epochs; the ladder reaches 128× shorter (1 epoch) and 128× longer. */
const EPOCH_BASE = 128;
const EPOCH_STEPS = { min: -7, max: 7 };
/** The one derived argument that does not change run time. */
export const SEED_FLAG = '--seed';

export interface JobIdentity {
  identity: string;
  script: string;
  args: string[];
  user: string;
  model?: string;
}

interface Family {
  script: string;
  identity: string;
  firstSec: number;
  size: number;
  recentLogs: number[];
  center: number;
  users: string[];
  model?: string;
}

type Rng = ReturnType<typeof createRng>;

/** Keeps letters, digits and '-'; anything else becomes `_` + its code point in hex: readable, injective, and never '..' or '/'. */
export function sanitiseName(text: string): string {
  return [...text].map((c) => (/[A-Za-z0-9-]/.test(c) ? c : `_${(c.codePointAt(0) as number).toString(16)}`)).join('');
}

const median = (sorted: readonly number[]): number => {
  const n = sorted.length;
  return n % 2 === 1 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
};

function pickModel(models: ((gpus: number) => readonly string[]) | undefined, gpus: number, rng: Rng): string | undefined {
  const usable = models?.(gpus) ?? [];
  return usable.length > 0 ? usable[Math.floor(rng.next() * usable.length)] : undefined;
}

/** Identities taken from the trace: one model per (identity, width), so a model is never used at a width it cannot run. */
function fromTrace(rows: readonly TraceJob[], modelRng: Rng, models?: (gpus: number) => readonly string[]): JobIdentity[] {
  const modelOf = new Map<string, string | undefined>();
  return rows.map((row) => {
    const identity = row.identity as string;
    const key = `${identity}\u0000${row.gpus}`;
    if (!modelOf.has(key)) {
      modelOf.set(key, pickModel(models, row.gpus, modelRng));
    }
    return { identity, script: `${sanitiseName(identity)}/train.py`, args: [], user: row.user ?? identity, model: modelOf.get(key) };
  });
}

function joinWeighted(families: readonly Family[], logSec: number, u: number): Family {
  const weights = families.map((f) => f.size * Math.exp(-Math.abs(logSec - f.center) / FAMILY_TAU));
  const total = weights.reduce((s, w) => s + w, 0);
  // Every weight can underflow to 0 for a job far from all families: it then joins the nearest one.
  if (!(total > 0)) {
    return families.reduce((best, f) => (Math.abs(logSec - f.center) < Math.abs(logSec - best.center) ? f : best));
  }
  let acc = 0;
  for (let i = 0; i < families.length; i++) {
    acc += weights[i];
    if (u * total < acc) {
      return families[i];
    }
  }
  return families[families.length - 1];
}

function derived(rows: readonly TraceJob[], rng: Rng, modelRng: Rng, models?: (gpus: number) => readonly string[]): JobIdentity[] {
  /** Per width, the families a job may join, least recently used first. */
  const active = new Map<number, Family[]>();
  let count = 0;
  const newFamily = (row: TraceJob): Family => {
    count += 1;
    const users = Array.from({ length: 1 + Math.floor(rng.next() * 3) }, () => `user-${1 + Math.floor(rng.next() * USER_POOL)}`);
    const script = `proj-${count}/train.py`;
    return { script, identity: `proj-${count}:${row.gpus}`, firstSec: row.durationSec, size: 0, recentLogs: [], center: 0, users, model: pickModel(models, row.gpus, modelRng) };
  };
  return rows.map((row) => {
    const logSec = Math.log(row.durationSec);
    const list = active.get(row.gpus) ?? active.set(row.gpus, []).get(row.gpus)!;
    // Two draws whatever happens, so the choice of one job does not shift the stream for the next.
    const uNew = rng.next();
    const uJoin = rng.next();
    const family = list.length === 0 || uNew < NEW_FAMILY_SHARE ? newFamily(row) : joinWeighted(list, logSec, uJoin);
    family.size += 1;
    family.recentLogs.push(logSec);
    if (family.recentLogs.length > CENTER_WINDOW) {
      family.recentLogs.shift();
    }
    family.center = median([...family.recentLogs].sort((a, b) => a - b));
    const at = list.indexOf(family);
    if (at >= 0) {
      list.splice(at, 1);
    }
    list.push(family);
    if (list.length > ACTIVE_FAMILIES) {
      list.shift();
    }
    const step = Math.min(EPOCH_STEPS.max, Math.max(EPOCH_STEPS.min, Math.round(Math.log2(row.durationSec / family.firstSec))));
    const epochs = EPOCH_BASE * 2 ** step;
    const seed = Math.floor(rng.next() * 100_000);
    const user = family.users[Math.floor(rng.next() * family.users.length)];
    return { identity: family.identity, script: family.script, args: ['--epochs', String(epochs), SEED_FLAG, String(seed)], user, model: family.model };
  });
}

/**
 * Each row's identity, script, args, user and (when `models` is given: the cluster has a typed host)
 * throughput-table model. The trace's own identities when every row has one; otherwise derived.
 */
export function assignIdentities(rows: readonly TraceJob[], seed: number, models?: (gpus: number) => readonly string[]): JobIdentity[] {
  const modelRng = createRng(seed, 'identity-models');
  if (rows.length > 0 && rows.every((r) => r.identity !== undefined)) {
    return fromTrace(rows, modelRng, models);
  }
  return derived(rows, createRng(seed, 'identities'), modelRng, models);
}

export interface IdentityStats {
  /** Distinct trace-level identities. */
  identities: number;
  /** Share of jobs whose identity ran before them (in submission order). */
  repeatShare: number;
  /** Median |ln(duration ÷ its identity's median duration)|, over completed jobs of identities with two or more (0 when none). */
  withinSpread: number;
  /** The same at the run level: script, the arguments that change run time (all but --seed), GPU count. */
  withinIdentitySpread: number;
}

export interface IdentityRow {
  identity: string;
  script: string;
  args: readonly string[];
  gpus: number;
  durationSec: number;
  status?: TraceStatus;
}

/** The run-level key: what a run-time model should group by. */
export function runKey(row: Pick<IdentityRow, 'script' | 'args' | 'gpus'>): string {
  const args = row.args.filter((_, i) => row.args[i] !== SEED_FLAG && row.args[i - 1] !== SEED_FLAG);
  return [row.script, ...args, `gpus=${row.gpus}`].join('\u0000');
}

/** Median absolute log deviation from the group median, over groups of two or more completed jobs. */
function spread(rows: readonly IdentityRow[], key: (r: IdentityRow) => string): number {
  const groups = new Map<string, number[]>();
  for (const r of rows) {
    // A canceled or failed job's duration is a lower bound, not a run time: it would inflate the spread.
    if (r.status === undefined || r.status === 'completed') {
      (groups.get(key(r)) ?? groups.set(key(r), []).get(key(r))!).push(Math.log(r.durationSec));
    }
  }
  const deviations: number[] = [];
  for (const logs of groups.values()) {
    if (logs.length >= 2) {
      const m = median(logs.sort((a, b) => a - b));
      logs.forEach((l) => deviations.push(Math.abs(l - m)));
    }
  }
  return deviations.length === 0 ? 0 : median(deviations.sort((a, b) => a - b));
}

export function identityStats(rows: readonly IdentityRow[]): IdentityStats {
  const seen = new Set<string>();
  let repeats = 0;
  for (const r of rows) {
    repeats += seen.has(r.identity) ? 1 : 0;
    seen.add(r.identity);
  }
  return {
    identities: seen.size,
    repeatShare: rows.length === 0 ? 0 : repeats / rows.length,
    withinSpread: spread(rows, (r) => r.identity),
    withinIdentitySpread: spread(rows, runKey),
  };
}

/**
 * The labelled examples the priority classifier learns at start-up, before the user has overridden
 * anything: the default policy below, evaluated at representative jobs.
 *
 * The jobs form a full grid with one value on each side of every threshold the policy uses
 * (2 | 6 GPUs, no gain | 35%, 30m | 2h | 3d, every importance). Every region of the policy then holds
 * a labelled example, and CART places each cut halfway between neighbouring values (runtime on a log
 * scale): (2 + 6) / 2 = 4 GPUs, (5 + 35) / 2 = 20% gain, √(30m · 2h) = 1h, √(2h · 3d) = 12h. So the
 * tree learned from this set makes the same decision as defaultPolicy for every job, which the tests
 * check, and a default decision can be explained by reading the rules.
 */
import type { Importance, JobFeatures, Priority } from './job';
import { IMPORTANCES } from './job';
import { NEUTRAL_GAIN_PCT } from './features';

export interface LabelledFeatures {
  features: JobFeatures;
  label: Priority;
}

/** A big expected improvement: worth running before other work of the same importance. */
export const BIG_GAIN_PCT = 20;
/** Shorter jobs unblock the user quickly, so they are never Low. */
export const SHORT_RUNTIME_SEC = 3_600;
/** Longer jobs would not be back within a working day. */
export const LONG_RUNTIME_SEC = 12 * 3_600;
/** From this many GPUs a long job holds much of a host. */
export const MANY_GPUS = 4;

/**
 * The policy the default tree learns:
 *   1. Importance high → High, whatever the job costs: the user said so.
 *   2. Importance normal with an expected gain ≥ 20%: High if it finishes within 12h; otherwise
 *      Medium (worth it, but not worth holding everything else up for).
 *   3. Importance normal with a smaller or no gain: Low if it needs ≥ 4 GPUs for ≥ 12h, since it
 *      would hold much of a host for a long time; otherwise Medium.
 *   4. Importance low: Medium when shorter than 1h (a short job unblocks the user quickly), else Low.
 * A job with no expected gain counts as NEUTRAL_GAIN_PCT (5%), so rule 2 never applies to it.
 */
export function defaultPolicy(f: JobFeatures): Priority {
  const gain = f.expectedGain ?? NEUTRAL_GAIN_PCT;
  switch (f.importance) {
    case 'high':
      return 'high';
    case 'normal':
      if (gain >= BIG_GAIN_PCT) {
        return f.runtimeSec < LONG_RUNTIME_SEC ? 'high' : 'medium';
      }
      return f.gpus >= MANY_GPUS && f.runtimeSec >= LONG_RUNTIME_SEC ? 'low' : 'medium';
    case 'low':
      return f.runtimeSec < SHORT_RUNTIME_SEC ? 'medium' : 'low';
  }
}

// One value either side of each threshold; see the header for where the learned cuts fall.
const GRID_GPUS = [2, 6];
const GRID_GAINS: ReadonlyArray<number | undefined> = [undefined, 35];
const GRID_RUNTIMES_SEC = [30 * 60, 2 * 3_600, 3 * 86_400];

function grid(): LabelledFeatures[] {
  const examples: LabelledFeatures[] = [];
  for (const importance of IMPORTANCES as readonly Importance[]) {
    for (const expectedGain of GRID_GAINS) {
      for (const gpus of GRID_GPUS) {
        for (const runtimeSec of GRID_RUNTIMES_SEC) {
          const features: JobFeatures = { gpus, importance, expectedGain, runtimeSec };
          examples.push({ features, label: defaultPolicy(features) });
        }
      }
    }
  }
  return examples;
}

/** 36 examples: 3 importances × 2 gains × 2 GPU counts × 3 runtimes. */
export const DEFAULT_TRAINING_SET: readonly LabelledFeatures[] = grid();

/**
 * The labelled examples the priority classifier learns at start-up, before the user has overridden
 * anything. They are the default policy written as data, so the tree learned from them can be read
 * back as these rules (the thresholds sit halfway between the examples either side of them):
 *
 *   1. Importance high → High, whatever the job costs: the user said so.
 *   2. Importance normal and expected gain ≥ 20%:
 *        runtime < 12h → High (a big improvement, back within a working day);
 *        runtime ≥ 12h → Medium (worth it, but not worth holding everything else up).
 *   3. Importance normal, smaller or no expected gain:
 *        gpus ≥ 4 and runtime ≥ 12h → Low (it would hold much of a host for a long time);
 *        otherwise → Medium.
 *   4. Importance low: runtime < 1h → Medium (a short job unblocks the user quickly, so it is
 *      never Low); otherwise → Low.
 *
 * A job with no expected gain counts as NEUTRAL_GAIN_PCT (5%), below rule 2's threshold.
 * Boundary examples come in pairs (15% and 25% gain, 30m and 2h, 8h and 18h, 3 and 4 GPUs) so the
 * learned thresholds land on round values: 20%, 1h, 12h and 4 GPUs.
 */
import type { Importance, JobFeatures, Priority } from './job';

export interface LabelledFeatures {
  features: JobFeatures;
  label: Priority;
}

const M = 60;
const H = 3_600;
const D = 86_400;

function ex(gpus: number, importance: Importance, expectedGain: number | undefined, runtimeSec: number, label: Priority): LabelledFeatures {
  return { features: { gpus, importance, expectedGain, runtimeSec }, label };
}

export const DEFAULT_TRAINING_SET: readonly LabelledFeatures[] = [
  // Rule 1: high importance is High, from a CPU job of minutes to a 16-GPU job of days.
  ex(0, 'high', undefined, 2 * H, 'high'),
  ex(1, 'high', undefined, 30 * M, 'high'),
  ex(4, 'high', 2, 6 * H, 'high'),
  ex(8, 'high', undefined, 2 * D, 'high'),
  ex(16, 'high', undefined, 5 * D, 'high'),

  // Rule 2: normal importance with a big expected gain.
  ex(1, 'normal', 25, 2 * H, 'high'),
  ex(4, 'normal', 30, 30 * M, 'high'),
  ex(2, 'normal', 40, 8 * H, 'high'),
  ex(8, 'normal', 60, 6 * H, 'high'),
  ex(2, 'normal', 25, 18 * H, 'medium'),
  ex(8, 'normal', 50, 3 * D, 'medium'),

  // Rule 3: normal importance, small or unknown gain; long many-GPU jobs go last.
  ex(4, 'normal', undefined, 18 * H, 'low'),
  ex(4, 'normal', 5, 1 * D, 'low'),
  ex(8, 'normal', 10, 2 * D, 'low'),
  ex(16, 'normal', 15, 5 * D, 'low'),
  ex(0, 'normal', undefined, 10 * M, 'medium'),
  ex(1, 'normal', undefined, 2 * H, 'medium'),
  ex(1, 'normal', 5, 1 * D, 'medium'),
  ex(2, 'normal', 15, 8 * H, 'medium'),
  ex(3, 'normal', undefined, 3 * D, 'medium'),
  ex(4, 'normal', 10, 30 * M, 'medium'),
  ex(8, 'normal', undefined, 8 * H, 'medium'),

  // Rule 4: low importance; short jobs still get Medium.
  ex(0, 'low', undefined, 5 * M, 'medium'),
  ex(1, 'low', undefined, 30 * M, 'medium'),
  ex(2, 'low', 10, 30 * M, 'medium'),
  ex(8, 'low', undefined, 20 * M, 'medium'),
  ex(1, 'low', undefined, 2 * H, 'low'),
  ex(2, 'low', 30, 6 * H, 'low'),
  ex(0, 'low', undefined, 1 * D, 'low'),
  ex(8, 'low', undefined, 12 * H, 'low'),
  ex(16, 'low', undefined, 3 * D, 'low'),
];

/**
 * The queue input's runtime step, prefilled from history: once a script has run, what it took is a
 * better starting value than the user's last guess. Editor-free, so it is unit-tested with a model.
 */
import type { HostRef, RuntimeModel } from '../core/runtimeModel';
import { runQueryOf } from '../core/runtimeHistory';
import { historyPrompt } from './etaFormat';

export interface RuntimeHint {
  /** The predicted median on a speed-1.0 host: what the estimate means. */
  valueSec: number;
  /** "usually 2h 10m on lab-2, 8 runs". */
  prompt: string;
}

export interface HintJob {
  script: string;
  cwd: string;
  args: string[];
  gpus: number;
  /** The estimate the input would otherwise show. */
  runtimeSec: number;
}

/**
 * Undefined until the script has runs. The host named is where the script ran most (the one the user
 * knows its times from), with the time predicted there; the count is the runs of this identity, or of
 * the script when these arguments are new.
 */
export function runtimeHint(model: Pick<RuntimeModel, 'predictBase' | 'predictOn' | 'usualHost'>, job: HintJob, hosts: readonly HostRef[]): RuntimeHint | undefined {
  const q = runQueryOf(job);
  const base = model.predictBase(q);
  if (base.scriptRuns === 0) {
    return undefined;
  }
  const usual = model.usualHost(q.script);
  const ref = hosts.find((h) => h.name === usual);
  const there = ref ? model.predictOn(q, [ref])[0].medianSec : base.medianSec;
  const runs = Math.round(base.runs) > 0 ? Math.round(base.runs) : base.scriptRuns;
  return { valueSec: Math.max(60, Math.round(base.medianSec / 60) * 60), prompt: historyPrompt(roundMinutes(there), ref?.name, runs) };
}

/** Whole minutes: "2h 10m", not seconds the prediction cannot vouch for. */
function roundMinutes(sec: number): number {
  return Math.max(60, Math.round(sec / 60) * 60);
}

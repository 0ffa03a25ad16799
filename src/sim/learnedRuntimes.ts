/**
 * What the product does with core's run-time model, applied to a benchmark policy: the model learns
 * from every finished job (its script, arguments, GPUs, host and how long it ran there), and whatever
 * used the user's guess uses the prediction instead:
 *   - a job's runtimeSec becomes its predicted base time (on a speed-1.0 host) when it is queued, so
 *     the classifier's runtime feature and the shortest-first order inside a priority level use it;
 *   - each host a placement is offered carries the speed the model learned for this job's script on
 *     that host instead of the declared one, so "run time here" (runtimeSec ÷ speed) is the predicted
 *     time there, for a heuristic and for the DQN agent's features alike.
 * The policy never sees a true duration: only what a finished job reveals, as in the product.
 * predictionReport() scores the model as it went: each finished job predicted on its host from the
 * jobs before it.
 */
import type { Job } from '../core/job';
import { MAX_RUNTIME_SEC, MIN_RUNTIME_SEC } from '../core/features';
import type { HostCandidate, Placement } from '../core/placement';
import { RuntimeModel, type RunQuery } from '../core/runtimeModel';
import type { PolicyInstance, PredictionReport, SimEvent } from './policyTypes';
import type { SimJobSpec } from './simJobs';

export interface LearnedRuntimes {
  model: RuntimeModel;
  /** |log(predicted ÷ actual)| of each finished job, and whether its identity had run before. */
  errors: number[];
  cold: number;
  /** The errors of jobs whose identity had run at least 5 times before. */
  warmErrors: number[];
}

const queryOf = (spec: SimJobSpec): RunQuery => ({ script: spec.script, args: spec.args, gpus: spec.gpus, estimateSec: spec.estimateSec });

/** Wraps a policy so that it plans with the model's predictions; the model learns as the run goes. */
export function withLearnedRuntimes(inner: PolicyInstance, model = new RuntimeModel()): PolicyInstance & { learned: LearnedRuntimes } {
  const learned: LearnedRuntimes = { model, errors: [], cold: 0, warmErrors: [] };
  const specOf = new Map<Job, SimJobSpec>();
  const byIndex = new Map<number, { job: Job; spec: SimJobSpec }>();
  const declared = new Map<string, number>();
  const placement = learnedSpeeds(inner.placement, model, specOf, declared);
  return {
    ...inner,
    learned,
    discipline: {
      name: inner.discipline.name,
      admit: (q) => {
        specOf.set(q.job, q.spec);
        byIndex.set(q.spec.index, q);
        q.job.runtimeSec = clampRuntime(model.predictBase(queryOf(q.spec)).medianSec);
        inner.discipline.admit(q);
      },
      order: (nowMs) => inner.discipline.order(nowMs),
    },
    placement,
    onEvent: (event: SimEvent) => {
      if (event.kind === 'finish') {
        const entry = byIndex.get(event.job);
        if (entry) {
          byIndex.delete(event.job);
          specOf.delete(entry.job);
          const q = queryOf(entry.spec);
          const declaredSpeed = declared.get(event.host) ?? 1;
          const predicted = model.predictOn(q, [{ name: event.host, declaredSpeed }])[0];
          const error = Math.abs(Math.log(predicted.medianSec / event.runSec));
          learned.errors.push(error);
          if (predicted.runs >= 5) {
            learned.warmErrors.push(error);
          }
          learned.cold += predicted.runs === 0 ? 1 : 0;
          model.observe({ ...q, host: event.host, declaredSpeed, runSec: event.runSec, censored: false, atMs: event.atSec * 1000 });
        }
      }
      inner.onEvent?.(event);
    },
    predictionReport: () => predictionReport(learned),
  };
}

function clampRuntime(sec: number): number {
  return Math.min(MAX_RUNTIME_SEC, Math.max(MIN_RUNTIME_SEC, Math.round(sec)));
}

/**
 * The placement, offered hosts whose speed is the learned one for the job's script. Hosts are copied
 * per decision (planDispatch keeps its own copies, so changing speeds here cannot leak into a round).
 */
function learnedSpeeds(inner: Placement, model: RuntimeModel, specOf: Map<Job, SimJobSpec>, declared: Map<string, number>): Placement {
  const relabel = (job: Job, hosts: HostCandidate[]): HostCandidate[] => {
    const script = specOf.get(job)?.script;
    return hosts.map((c) => {
      if (!declared.has(c.host)) {
        declared.set(c.host, c.speed);
      }
      return { ...c, speed: model.learnedSpeed({ name: c.host, declaredSpeed: declared.get(c.host) as number }, script).speed };
    });
  };
  return {
    name: `${inner.name}+learned-runtimes`,
    beginRound: inner.beginRound?.bind(inner),
    observe: inner.observe?.bind(inner),
    noteSubmitted: inner.noteSubmitted?.bind(inner),
    noteFinished: inner.noteFinished?.bind(inner),
    choose(job, feasible, all) {
      const all2 = relabel(job, all);
      const feasible2 = feasible.map((f) => all2.find((c) => c.host === f.host) ?? f);
      return inner.choose(job, feasible2, all2);
    },
  };
}

/** The benchmark's prediction figures: median and 90th percentile |log error|, and the share of cold starts. */
export function predictionReport(learned: LearnedRuntimes): PredictionReport | undefined {
  const n = learned.errors.length;
  if (n === 0) {
    return undefined;
  }
  const at = (xs: number[], q: number) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
  const report: PredictionReport = { medianAbsLogError: at(learned.errors, 0.5), p90AbsLogError: at(learned.errors, 0.9), coldStartShare: learned.cold / n, predictions: n };
  if (learned.warmErrors.length > 0) {
    report.afterFiveRunsMedianAbsLogError = at(learned.warmErrors, 0.5);
  }
  return report;
}

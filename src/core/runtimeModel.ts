/**
 * The run-time model: what TrainQ has learned from finished jobs about how long a job will run on
 * each host. Learned online (a finished job is one `observe`, a few microseconds), predicts a median
 * and an 80th percentile per host, and is pure data plus arithmetic, so the extension, the simulator
 * and the benchmark share it.
 *
 * Everything is in log seconds (run times are multiplicative: "twice as long" is the same error for a
 * 5-minute and a 5-hour job). A job's time on host h is its base time (on a speed-1.0 host) divided by
 * the host's speed for that script. The model is hierarchical shrinkage, chosen by measurement against
 * the alternatives in the README (a plain identity median, a last-run predictor, kNN on arguments):
 *   - base: a normal–normal posterior whose prior is the user's estimate (with the learned spread of
 *     estimates) combined with the script's other runs at this GPU count (with the learned spread
 *     between identities), updated by the runs of the same identity (runtimeIdentity.ts decides which
 *     arguments make an identity). Thin history stays near the estimate; five runs outweigh it.
 *   - speed: per (script, host) the mean of log(predicted base ÷ actual time) over the script's runs
 *     there, shrunk toward the host's mean over all scripts, shrunk toward the declared speed.
 *   - a failed or cancelled run is censored: it ran at least that long. It enters as its expected
 *     value given that bound (never below the uncensored mean), so it can only lengthen a prediction.
 * Bounded: at most MAX_SCRIPTS scripts (least recently run dropped), MAX_RUNS runs each.
 */
import { millsRatio } from './normalTail';
import { argMap, identityKey, type IdentityDefinition } from './runtimeIdentity';
import {
  fromModelState,
  MAX_RECENT,
  MAX_SCRIPTS,
  MAX_RUNS,
  estimateBias,
  evictOldest,
  newScriptRecord,
  tallyOf,
  toModelState,
  type ModelData,
  type PredictionRecord,
  type RuntimeModelState,
  type ScriptRecord,
  type Tally,
} from './runtimeModelState';

export type { PredictionRecord, RuntimeModelState } from './runtimeModelState';

/** Pseudo-runs behind the declared speed and behind a host's overall factor. */
const HOST_PRIOR_RUNS = 10;
const PAIR_PRIOR_RUNS = 1;
/** Speed statistics are exponentially forgotten past this many runs, so a changed host is relearned. */
const SPEED_MEMORY = 200;
const VAR_DECAY = 0.03;
const Z80 = 0.8416;
/** Weight of each run relative to the next newer one of its identity (effective memory ≈ 3 runs; measured, README). */
const RECENCY = 0.5;

export interface RunQuery {
  /** Workspace-relative script path (the simulator's script name). */
  script: string;
  args: readonly string[];
  gpus: number;
  /** The user's estimate on a speed-1.0 host, when given. */
  estimateSec?: number;
}

export interface HostRef {
  name: string;
  /** What the user declared (`speed` in the host's settings). */
  declaredSpeed: number;
}

export interface RunObservation extends RunQuery {
  host: string;
  declaredSpeed: number;
  runSec: number;
  /** Failed, cancelled or lost: it ran at least runSec. */
  censored: boolean;
  atMs: number;
}

export interface Prediction {
  medianSec: number;
  p80Sec: number;
  /** Earlier runs of this identity (script + the arguments that matter + GPUs). */
  runs: number;
  /** Runs of the script at any arguments. */
  scriptRuns: number;
}

interface Means {
  idSum: number;
  /** Effective (recency-weighted) number of the identity's runs, and their plain count. */
  idN: number;
  idCount: number;
  /** The same (recency-weighted) for the script's other identities at this width. */
  otherSum: number;
  otherN: number;
  /** Base times (log) of the identity's censored runs: lower bounds. */
  censored: Array<{ y: number; weight: number }>;
}

interface Base {
  mu: number;
  variance: number;
  runs: number;
}

export class RuntimeModel implements ModelData {
  readonly scripts = new Map<string, ScriptRecord>();
  readonly hosts = new Map<string, Tally>();
  /** Each host's declared speed as last seen, for converting its earlier runs to base times. */
  readonly declared = new Map<string, number>();
  /** Spread (variance, log space) of estimates around actual base times, of runs around their identity's mean, and of identities around their script's mean. */
  varEstimate = 0.5 ** 2;
  varWithin = 0.3 ** 2;
  varBetween = 0.6 ** 2;
  /** Mean and mean square of base times, for a job with no estimate and no history. */
  meanLog = Math.log(3600);
  meanSqLog = Math.log(3600) ** 2 + 1;
  recent: PredictionRecord[] = [];
  observed = 0;
  /** See refreshAnchor. */
  anchor = 0;

  static fromState(state: unknown): RuntimeModel {
    const model = fromModelState(new RuntimeModel(), state);
    model.refreshAnchor();
    return model;
  }

  toState(): RuntimeModelState {
    return toModelState(this);
  }

  /** The job's base time (on a speed-1.0 host), for ordering the queue and for the classifier. */
  predictBase(q: RunQuery): Prediction {
    return this.predictAll(q, []).base;
  }

  /** The job's run time on each host, one base computation for all of them. */
  predictOn(q: RunQuery, hosts: readonly HostRef[]): Prediction[] {
    return this.predictAll(q, hosts).onHosts;
  }

  /** predictBase and predictOn from one base computation: what a planner asking both per job needs. */
  predictAll(q: RunQuery, hosts: readonly HostRef[]): { base: Prediction; onHosts: Prediction[] } {
    const rec = this.scripts.get(q.script);
    const base = this.base(rec, q.gpus, argMap(q.args), q.estimateSec);
    const scriptRuns = rec?.runs.length ?? 0;
    return {
      base: toPrediction(base.mu, base.variance, base.runs, scriptRuns),
      onHosts: hosts.map((h) => toPrediction(base.mu - this.logSpeed(rec, h.name, h.declaredSpeed), base.variance, base.runs, scriptRuns)),
    };
  }

  /** The host a script ran on most often (of its runs kept), or undefined before its first run. */
  usualHost(script: string): string | undefined {
    const counts = new Map<string, number>();
    let usual: string | undefined;
    for (const run of this.scripts.get(script)?.runs ?? []) {
      const n = (counts.get(run.host) ?? 0) + 1;
      counts.set(run.host, n);
      if (usual === undefined || n > (counts.get(usual) as number)) {
        usual = run.host;
      }
    }
    return usual;
  }

  /** A host's learned speed, overall or for one script's jobs, with the runs it rests on. */
  learnedSpeed(host: HostRef, script?: string): { speed: number; runs: number } {
    const rec = script === undefined ? undefined : this.scripts.get(script);
    const runs = rec ? (rec.speeds.get(host.name)?.n ?? 0) : (this.hosts.get(host.name)?.n ?? 0);
    return { speed: Math.exp(this.logSpeed(rec, host.name, host.declaredSpeed)), runs: Math.round(runs) };
  }

  observe(o: RunObservation): void {
    if (!(o.runSec > 0 && Number.isFinite(o.runSec)) || o.script === '') {
      return;
    }
    const logSec = Math.log(o.runSec);
    const map = argMap(o.args);
    let rec = this.scripts.get(o.script);
    if (!rec) {
      rec = newScriptRecord(o.script, o.atMs);
      this.scripts.set(o.script, rec);
      evictOldest(this.scripts, MAX_SCRIPTS);
    }
    rec.defs.track(map);
    this.declared.set(o.host, o.declaredSpeed);
    const logSpeed = this.logSpeed(rec, o.host, o.declaredSpeed);
    const before = this.base(rec, o.gpus, map, o.estimateSec);
    if (!o.censored) {
      const y = logSec + logSpeed;
      this.learnSpreads(rec, o, map, y);
      this.scoreDefinitions(rec, o, map, y);
      const elsewhere = this.elsewhere(rec, o.gpus, map, o.host);
      if (elsewhere !== undefined) {
        this.learnSpeed(rec, o.host, elsewhere - logSec);
      }
      this.recent.push({ atMs: o.atMs, script: o.script, host: o.host, predictedSec: Math.exp(before.mu - logSpeed), actualSec: o.runSec, runs: before.runs });
      if (this.recent.length > MAX_RECENT) {
        this.recent.splice(0, this.recent.length - MAX_RECENT);
      }
    }
    rec.runs.push({ args: [...o.args], gpus: o.gpus, host: o.host, logSec, censored: o.censored, atMs: o.atMs, map });
    if (rec.runs.length > MAX_RUNS) {
      rec.runs.shift();
    }
    rec.lastMs = Math.max(rec.lastMs, o.atMs);
    this.observed += 1;
  }

  /** log(speed) of a host for a script: its runs there, shrunk toward the host's overall factor, shrunk toward the declared speed. */
  logSpeed(rec: ScriptRecord | undefined, host: string, declaredSpeed: number): number {
    const declared = Math.log(declaredSpeed > 0 ? declaredSpeed : 1);
    const h = this.hosts.get(host);
    const hostLevel = h ? (h.sum - h.n * this.anchor + HOST_PRIOR_RUNS * declared) / (h.n + HOST_PRIOR_RUNS) : declared;
    const p = rec?.speeds.get(host);
    return p ? (p.sum - p.n * this.anchor + PAIR_PRIOR_RUNS * hostLevel) / (p.n + PAIR_PRIOR_RUNS) : hostLevel;
  }

  /**
   * Runs elsewhere only say how fast hosts are relative to each other; the scale is the declared
   * speeds'. Without this anchor two hosts' factors fed each other (a faster-looking host made its
   * runs' base times longer, which made the other host look faster too) and drifted without bound.
   * It is the learned factors' mean excess over the declared speeds, per run: subtracted, the learned
   * speeds are on average the declared ones, and each host deviates as its runs say.
   */
  refreshAnchor(): void {
    let excess = 0;
    let n = 0;
    for (const [host, t] of this.hosts) {
      const declared = this.declared.get(host) ?? 1;
      excess += t.sum - t.n * Math.log(declared > 0 ? declared : 1);
      n += t.n;
    }
    this.anchor = n > 0 ? excess / n : 0;
  }

  /**
   * The job's base time, log seconds, as a normal (mean, variance). Two independent sources, combined
   * by precision: history (the identity's recent runs, whose mean is itself shrunk toward the script's
   * other identities) predicts the job with the identity's spread around its mean; the user's estimate
   * is a noisy measurement of this very job. So the estimate keeps some weight however long the
   * history: it is what tells two runs of one identity apart (measured: ordering the queue by history
   * alone, which gives every run of a script the same time, lost JCT against the raw estimates).
   */
  private base(rec: ScriptRecord | undefined, gpus: number, map: Map<string, string>, estimateSec?: number): Base {
    const hasEstimate = estimateSec !== undefined && estimateSec > 0;
    // With no history: what a job usually takes.
    let histMu = this.meanLog;
    let histVar = Math.max(0.05, this.meanSqLog - this.meanLog ** 2);
    let runs = 0;
    let censored: Means['censored'] = [];
    if (rec && rec.runs.length > 0) {
      const def = rec.defs.best();
      const m = this.meansOf(rec, gpus, map, def);
      censored = m.censored;
      runs = m.idCount;
      if (m.idN + m.otherN > 0) {
        // The identity's mean: its runs, shrunk toward the script's other identities at this width.
        const famMean = m.otherN > 0 ? m.otherSum / m.otherN : m.idSum / m.idN;
        const priorVar = m.otherN > 0 ? this.varBetween + this.varWithin / m.otherN : this.varBetween;
        const precision = 1 / priorVar + m.idN / this.varWithin;
        histMu = (famMean / priorVar + m.idSum / this.varWithin) / precision;
        histVar = 1 / precision + this.varWithin;
      }
    }
    let mu = histMu;
    let variance = histVar;
    if (hasEstimate && runs + (rec?.runs.length ?? 0) === 0) {
      // No history of the script at all: the user's word, not what other scripts take.
      histVar = Infinity;
    }
    if (hasEstimate) {
      const precision = 1 / histVar + 1 / this.varEstimate;
      mu = (histMu / histVar + (Math.log(estimateSec) + estimateBias(rec)) / this.varEstimate) / precision;
      variance = 1 / precision;
    }
    if (censored.length > 0) {
      // Each censored run counts as its expected length given that it ran at least that long, weighed
      // by its recency like any run (an old cancelled run says little about the script as it is now).
      const sd = Math.sqrt(variance);
      let sum = mu * (this.varWithin / variance);
      let n = this.varWithin / variance;
      for (const c of censored) {
        const a = (c.y - mu) / sd;
        sum += c.weight * Math.max(mu, mu + sd * millsRatio(a));
        n += c.weight;
      }
      mu = Math.max(mu, sum / n);
    }
    return { mu, variance, runs };
  }

  /** Learns the three spreads from how far this run fell from each level's prediction. */
  private learnSpreads(rec: ScriptRecord, o: RunObservation, map: Map<string, string>, y: number): void {
    if (o.estimateSec !== undefined && o.estimateSec > 0) {
      // How far this script's estimates fall from its runs: a user who always types "2h" for a
      // 30-minute script is corrected per script, and only the rest of the error counts as noise.
      const residual = y - Math.log(o.estimateSec);
      this.varEstimate = ema(this.varEstimate, (residual - estimateBias(rec)) ** 2);
      rec.estimate.n += 1;
      rec.estimate.sum += residual;
    }
    this.meanLog += VAR_DECAY * (y - this.meanLog);
    this.meanSqLog += VAR_DECAY * (y * y - this.meanSqLog);
    const m = this.meansOf(rec, o.gpus, map, rec.defs.best());
    if (m.idN > 0) {
      this.varWithin = Math.max(0.0025, ema(this.varWithin, ((y - m.idSum / m.idN) ** 2 * m.idN) / (m.idN + 1)));
    } else if (m.otherN > 0) {
      this.varBetween = Math.max(0.01, ema(this.varBetween, (y - m.otherSum / m.otherN) ** 2 - this.varWithin / m.otherN));
    }
  }

  /** Each definition predicts this run from its own notion of "the same job" before the run is learned. */
  private scoreDefinitions(rec: ScriptRecord, o: RunObservation, map: Map<string, string>, y: number): void {
    if (rec.runs.length === 0) {
      return;
    }
    const fallback = o.estimateSec !== undefined && o.estimateSec > 0 ? Math.log(o.estimateSec) : this.meanLog;
    for (const def of rec.defs.defs) {
      const m = this.meansOf(rec, o.gpus, map, def);
      const predicted = m.idN > 0 ? m.idSum / m.idN : m.otherN > 0 ? m.otherSum / m.otherN : fallback;
      rec.defs.score(def, Math.abs(y - predicted));
    }
    rec.defs.refreshRelevant();
  }

  /** Sums of base times (log) of this script's uncensored runs at this width, and of those the definition calls the same identity. */
  /**
   * The job's base time (log) as its runs on OTHER hosts say, or undefined when it has none: the only
   * evidence of how fast this host is. Its own runs here say nothing about that, and neither does the
   * user's estimate: a script that always ran on one host in a quarter of its estimate would otherwise
   * make that host look four times fast, and every prediction at speed 1.0 stay near the estimate.
   */
  private elsewhere(rec: ScriptRecord, gpus: number, map: Map<string, string>, host: string): number | undefined {
    const m = this.meansOf(rec, gpus, map, rec.defs.best(), host);
    return m.idN > 0 ? m.idSum / m.idN : m.otherN > 0 ? m.otherSum / m.otherN : undefined;
  }

  private meansOf(rec: ScriptRecord, gpus: number, map: Map<string, string>, def: IdentityDefinition, excludeHost?: string): Means {
    const key = identityKey(gpus, map, def.keys);
    const m: Means = { idSum: 0, idN: 0, idCount: 0, otherSum: 0, otherN: 0, censored: [] };
    // Newest first, each earlier run weighing RECENCY times the next: a script's run time drifts as
    // its author changes it (on the Helios trace the last run alone beats the median of all runs).
    let idWeight = 1;
    let otherWeight = 1;
    for (let i = rec.runs.length - 1; i >= 0; i--) {
      const r = rec.runs[i];
      if (r.gpus !== gpus || r.host === excludeHost) {
        continue;
      }
      const y = r.logSec + this.logSpeed(rec, r.host, this.declared.get(r.host) ?? 1);
      const same = def.name === 'none' || identityKey(r.gpus, r.map, def.keys) === key;
      if (r.censored) {
        if (same) {
          // Weighed like the next older run, without moving the others' weights: a censored run can
          // only add to the mean, never reweigh it.
          m.censored.push({ y, weight: idWeight });
        }
        continue;
      }
      if (same) {
        m.idSum += idWeight * y;
        m.idN += idWeight;
        m.idCount += 1;
        idWeight *= RECENCY;
      } else {
        m.otherSum += otherWeight * y;
        m.otherN += otherWeight;
        otherWeight *= RECENCY;
      }
    }
    return m;
  }

  private learnSpeed(rec: ScriptRecord, host: string, z: number): void {
    for (const tally of [tallyOf(this.hosts, host), tallyOf(rec.speeds, host)]) {
      if (tally.n >= SPEED_MEMORY) {
        tally.sum *= (SPEED_MEMORY - 1) / SPEED_MEMORY;
        tally.n = SPEED_MEMORY - 1;
      }
      tally.sum += z;
      tally.n += 1;
    }
    this.refreshAnchor();
  }
}

const ema = (old: number, sample: number): number => old + VAR_DECAY * (sample - old);

function toPrediction(mu: number, variance: number, runs: number, scriptRuns: number): Prediction {
  return { medianSec: Math.exp(mu), p80Sec: Math.exp(mu + Z80 * Math.sqrt(variance)), runs, scriptRuns };
}

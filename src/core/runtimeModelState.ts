/**
 * The run-time model as plain JSON, for the workspace store. Its own version number, so a later
 * change of the model's shape drops an old state (the model is then rebuilt from the finished jobs
 * the store holds) instead of misreading it. Every field is checked on the way in: a damaged state
 * is rejected whole with a message naming the field, never half-loaded.
 */
import { argMap, IdentityDefinitions, MAX_TRACKED_KEYS } from './runtimeIdentity';

export const MAX_SCRIPTS = 200;
export const MAX_RUNS = 24;
export const MAX_RECENT = 200;

/** One finished run as the model predicted it just before learning from it: the dashboard's and the benchmark's error. */
export interface PredictionRecord {
  atMs: number;
  script: string;
  host: string;
  predictedSec: number;
  actualSec: number;
  /** Earlier runs of its identity when it was predicted (0: a cold start). */
  runs: number;
}

export interface Run {
  args: string[];
  gpus: number;
  host: string;
  logSec: number;
  censored: boolean;
  atMs: number;
  /** Parsed once, not persisted. */
  map: Map<string, string>;
}

export interface Tally {
  n: number;
  sum: number;
}

export interface ScriptRecord {
  script: string;
  runs: Run[];
  defs: IdentityDefinitions;
  speeds: Map<string, Tally>;
  /** log(run ÷ the user's estimate) over the script's runs: how the user's estimates lean. */
  estimate: Tally;
  lastMs: number;
}

/** What the model learned, as the state functions see it (RuntimeModel has these fields). */
export interface ModelData {
  scripts: Map<string, ScriptRecord>;
  hosts: Map<string, Tally>;
  declared: Map<string, number>;
  varEstimate: number;
  varWithin: number;
  varBetween: number;
  meanLog: number;
  meanSqLog: number;
  recent: PredictionRecord[];
  observed: number;
}

/** The script's mean log(run ÷ estimate), shrunk toward none by one pseudo-run. */
export function estimateBias(rec: ScriptRecord | undefined): number {
  return rec ? rec.estimate.sum / (rec.estimate.n + 1) : 0;
}

export function tallyOf(map: Map<string, Tally>, key: string): Tally {
  let t = map.get(key);
  if (!t) {
    t = { n: 0, sum: 0 };
    map.set(key, t);
  }
  return t;
}

/** Drops the least recently run script while there are more than `max`: what bounds the model. */
export function evictOldest(scripts: Map<string, ScriptRecord>, max: number): void {
  while (scripts.size > max) {
    let oldest: ScriptRecord | undefined;
    for (const rec of scripts.values()) {
      if (!oldest || rec.lastMs < oldest.lastMs) {
        oldest = rec;
      }
    }
    scripts.delete((oldest as ScriptRecord).script);
  }
}

export function newScriptRecord(script: string, lastMs: number): ScriptRecord {
  return { script, runs: [], defs: new IdentityDefinitions(), speeds: new Map(), estimate: { n: 0, sum: 0 }, lastMs };
}

export const RUNTIME_MODEL_VERSION = 1;

export interface RuntimeModelState {
  version: number;
  spreads: { estimate: number; within: number; between: number; meanLog: number; meanSqLog: number };
  observed: number;
  hosts: Array<{ name: string; n: number; sum: number; declared?: number }>;
  scripts: Array<{
    script: string;
    lastMs: number;
    runs: Array<{ args: string[]; gpus: number; host: string; sec: number; censored: boolean; atMs: number }>;
    defs: Array<{ name: string; score: number | null; scored: number }>;
    speeds: Array<{ host: string; n: number; sum: number }>;
    estimate: { n: number; sum: number };
  }>;
  recent: PredictionRecord[];
}

export class RuntimeModelStateError extends Error {
  constructor(message: string) {
    super(`The run-time model's saved state is not usable (${message}); it is rebuilt from the finished jobs.`);
    this.name = 'RuntimeModelStateError';
  }
}

export function toModelState(m: ModelData): RuntimeModelState {
  return {
    version: RUNTIME_MODEL_VERSION,
    spreads: { estimate: m.varEstimate, within: m.varWithin, between: m.varBetween, meanLog: m.meanLog, meanSqLog: m.meanSqLog },
    observed: m.observed,
    // Every host seen, learned from or not: a run's base time needs its host's declared speed.
    hosts: [...new Set([...m.hosts.keys(), ...m.declared.keys()])].map((name) => {
      const t = m.hosts.get(name);
      return { name, n: t?.n ?? 0, sum: t?.sum ?? 0, declared: m.declared.get(name) };
    }),
    scripts: [...m.scripts.values()].map((rec) => ({
      script: rec.script,
      lastMs: rec.lastMs,
      runs: rec.runs.map((r) => ({ args: r.args, gpus: r.gpus, host: r.host, sec: Math.exp(r.logSec), censored: r.censored, atMs: r.atMs })),
      // JSON has no NaN: an unscored definition is saved as null.
      defs: rec.defs.defs.map((d) => ({ name: d.name, score: Number.isNaN(d.score) ? null : d.score, scored: d.scored })),
      speeds: [...rec.speeds].map(([host, t]) => ({ host, n: t.n, sum: t.sum })),
      estimate: { ...rec.estimate },
    })),
    recent: m.recent.slice(),
  };
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const str = (v: unknown): v is string => typeof v === 'string';

function need(ok: unknown, what: string): asserts ok {
  if (!ok) {
    throw new RuntimeModelStateError(what);
  }
}

function list(v: unknown, what: string, max: number): unknown[] {
  need(Array.isArray(v) && v.length <= max, `${what} must be a list of at most ${max}`);
  return v as unknown[];
}

/** Fills `m` (a new model) from a saved state; throws RuntimeModelStateError naming the first bad field. */
export function fromModelState<M extends ModelData>(m: M, state: unknown): M {
  need(isObj(state), 'not an object');
  const s = state as Record<string, unknown>;
  need(s.version === RUNTIME_MODEL_VERSION, `version ${String(s.version)}, expected ${RUNTIME_MODEL_VERSION}`);
  const sp = s.spreads as Record<string, unknown>;
  need(isObj(sp) && ['estimate', 'within', 'between', 'meanLog', 'meanSqLog'].every((k) => finite(sp[k])), 'spreads');
  need(finite(sp.estimate) && (sp.estimate as number) > 0 && (sp.within as number) > 0 && (sp.between as number) > 0, 'spreads must be positive');
  m.varEstimate = sp.estimate as number;
  m.varWithin = sp.within as number;
  m.varBetween = sp.between as number;
  m.meanLog = sp.meanLog as number;
  m.meanSqLog = sp.meanSqLog as number;
  need(finite(s.observed) && (s.observed as number) >= 0, 'observed');
  m.observed = s.observed as number;
  for (const h of list(s.hosts, 'hosts', 10_000)) {
    need(isObj(h) && str(h.name) && finite(h.n) && h.n >= 0 && finite(h.sum), 'a host entry');
    const host = h as { name: string; n: number; sum: number; declared?: unknown };
    if (host.n > 0) {
      m.hosts.set(host.name, { n: host.n, sum: host.sum });
    }
    if (finite(host.declared) && host.declared > 0) {
      m.declared.set(host.name, host.declared);
    }
  }
  for (const raw of list(s.scripts, 'scripts', MAX_SCRIPTS)) {
    need(isObj(raw) && str(raw.script) && raw.script !== '' && finite(raw.lastMs), 'a script entry');
    const rec = raw as Record<string, unknown> & { script: string; lastMs: number };
    need(!m.scripts.has(rec.script), `${rec.script} twice`);
    const target = newScriptRecord(rec.script, rec.lastMs);
    m.scripts.set(rec.script, target);
    for (const r of list(rec.runs, `runs of ${rec.script}`, MAX_RUNS)) {
      need(isObj(r) && Array.isArray(r.args) && r.args.every(str) && finite(r.gpus) && str(r.host) && finite(r.sec) && (r.sec as number) > 0, `a run of ${rec.script}`);
      need(typeof r.censored === 'boolean' && finite(r.atMs), `a run of ${rec.script}`);
      const run = r as { args: string[]; gpus: number; host: string; sec: number; censored: boolean; atMs: number };
      const map = argMap(run.args);
      target.defs.track(map);
      target.runs.push({ args: run.args, gpus: run.gpus, host: run.host, logSec: Math.log(run.sec), censored: run.censored, atMs: run.atMs, map });
    }
    for (const d of list(rec.defs, `definitions of ${rec.script}`, MAX_TRACKED_KEYS + 3)) {
      need(isObj(d) && str(d.name) && (d.score === null || finite(d.score)) && finite(d.scored), `a definition of ${rec.script}`);
      const def = target.defs.defs.find((x) => x.name === d.name);
      if (def) {
        def.score = d.score === null ? NaN : (d.score as number);
        def.scored = d.scored as number;
      }
    }
    target.defs.refreshRelevant();
    const est = rec.estimate as Record<string, unknown>;
    need(isObj(est) && finite(est.n) && est.n >= 0 && finite(est.sum), `the estimate bias of ${rec.script}`);
    target.estimate = { n: est.n, sum: est.sum };
    for (const t of list(rec.speeds, `speeds of ${rec.script}`, 10_000)) {
      need(isObj(t) && str(t.host) && finite(t.n) && t.n >= 0 && finite(t.sum), `a speed of ${rec.script}`);
      target.speeds.set(t.host as string, { n: t.n as number, sum: t.sum as number });
    }
  }
  for (const p of list(s.recent, 'recent', MAX_RECENT)) {
    need(isObj(p) && finite(p.atMs) && str(p.script) && str(p.host) && finite(p.predictedSec) && finite(p.actualSec) && finite(p.runs), 'a recent prediction');
    m.recent.push(p as unknown as PredictionRecord);
  }
  return m;
}

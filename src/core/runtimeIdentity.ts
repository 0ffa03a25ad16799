/**
 * Which runs of a script count as "the same job" for predicting run time. A script's arguments mix
 * tokens that change run time (`--epochs 50`, `--model resnet50`) with tokens that do not (`--seed 7`,
 * `--out runs/3`); which is which differs per script and is not written anywhere. So each script keeps
 * a few candidate definitions of identity (no argument, each argument alone, every argument, and the
 * arguments that have proved to matter) and scores each one prequentially: before a finished run is
 * learned, every definition predicts it from the runs it considers the same, and the one whose recent
 * predictions erred least is the one used. A `--seed` definition never finds a match, so it predicts
 * no better than the script's plain history and is never chosen; an `--epochs` one wins as soon as
 * two epoch counts have been seen twice.
 */

/** An argument vector as key → value: `--k v`, `--k=v` and `-k v` by their key, a bare flag with '', positionals as `#0`, `#1`. */
export function argMap(args: readonly string[]): Map<string, string> {
  const map = new Map<string, string>();
  let positional = 0;
  for (let i = 0; i < args.length; i++) {
    const token = args[i];
    if (/^--?[A-Za-z_]/.test(token)) {
      const eq = token.indexOf('=');
      if (eq > 0) {
        map.set(token.slice(0, eq), token.slice(eq + 1));
      } else if (i + 1 < args.length && !/^--?[A-Za-z_]/.test(args[i + 1])) {
        map.set(token, args[++i]);
      } else {
        map.set(token, '');
      }
    } else {
      map.set(`#${positional++}`, token);
    }
  }
  return map;
}

/** A candidate definition: the argument keys whose values must match. */
export interface IdentityDefinition {
  /** 'none', 'all', 'relevant' or the one key it compares. */
  name: string;
  keys: readonly string[] | 'all';
  /** Exponentially weighted mean |log error| of its prequential predictions; NaN before the first. */
  score: number;
  /** Predictions scored. */
  scored: number;
}

/** Most argument keys a script tracks definitions for: beyond that, only 'none', 'all' and 'relevant'. */
export const MAX_TRACKED_KEYS = 12;
const SCORE_DECAY = 0.15;
/** A definition must beat 'none' by this factor to be used: finer identities have fewer runs to learn from. */
const MARGIN = 0.9;

/** The key every run of one identity shares under a definition: GPU count first (it always changes run time). */
export function identityKey(gpus: number, args: ReadonlyMap<string, string>, keys: readonly string[] | 'all'): string {
  if (keys === 'all') {
    return `g${gpus}|${[...args].map(([k, v]) => `${k}=${v}`).join('|')}`;
  }
  let key = `g${gpus}`;
  for (const k of keys) {
    key += `|${k}=${args.get(k) ?? '\u2205'}`;
  }
  return key;
}

export class IdentityDefinitions {
  readonly defs: IdentityDefinition[] = [
    { name: 'none', keys: [], score: NaN, scored: 0 },
    { name: 'all', keys: 'all', score: NaN, scored: 0 },
    { name: 'relevant', keys: [], score: NaN, scored: 0 },
  ];

  /** Starts tracking keys first seen in these arguments (up to MAX_TRACKED_KEYS). */
  track(args: ReadonlyMap<string, string>): void {
    for (const k of args.keys()) {
      if (this.defs.length - 3 >= MAX_TRACKED_KEYS) {
        return;
      }
      if (!this.defs.some((d) => d.name === k)) {
        this.defs.push({ name: k, keys: [k], score: NaN, scored: 0 });
      }
    }
  }

  /** Records one prequential error of a definition and refreshes 'relevant' (the single keys that beat 'none'). */
  score(def: IdentityDefinition, absLogError: number): void {
    def.score = def.scored === 0 ? absLogError : def.score + SCORE_DECAY * (absLogError - def.score);
    def.scored += 1;
  }

  refreshRelevant(): void {
    const none = this.defs[0];
    const relevant = this.defs[2];
    relevant.keys = this.defs.slice(3).filter((d) => beats(d, none)).map((d) => d.name);
  }

  /** The definition to predict with: the best scored, if it beats 'none' by the margin; else 'none'. */
  best(): IdentityDefinition {
    const none = this.defs[0];
    let best = none;
    for (const d of this.defs) {
      if (d !== none && beats(d, none) && (best === none || d.score < best.score)) {
        best = d;
      }
    }
    return best;
  }
}

function beats(d: IdentityDefinition, none: IdentityDefinition): boolean {
  return d.scored >= 2 && !(d.score >= MARGIN * none.score) && (d.keys === 'all' || d.keys.length > 0);
}

/**
 * The output globs of a job (issue 16, results back): which files under the job's folder on a remote
 * host are copied back when it ends. A small matcher of its own (no dependency): `*` and `?` stay within
 * one path segment, `**` as a whole segment spans any number of them, `[abc]` / `[!abc]` are character
 * classes and `{a,b}` alternatives. Patterns are anchored at the job's folder (`*.ckpt` is top-level
 * only; `**\/*.ckpt` is anywhere) and a pattern without wildcards, or one ending in `/`, names a file or
 * a whole folder. What a pattern could reach is also what the remote listing searches (`searchRoots`),
 * so a glob for `outputs/**` never walks a data set beside it.
 */
import { fail, list, text } from './storeChecks';

/** Characters that make a segment a pattern rather than a literal name. */
const WILD = /[*?[{]/;
// Control characters cannot name a file a user means, and newlines would split the remote listing.
const CONTROL = /[\u0000-\u001f\u007f]/;
/** Brace alternatives multiply; a pattern that expands past this is a mistake, not a request. */
const MAX_ALTERNATIVES = 64;

export interface OutputGlob {
  /** The pattern as written (normalised: no `./`, no doubled or trailing slashes). */
  source: string;
  /** The literal leading folders (`outputs/run1` of `outputs/run1/*.pt`); '' for the job's folder. */
  root: string;
  /** How deep below `root` a match can lie; undefined when `**` (or a whole folder) makes it unbounded. */
  depth: number | undefined;
  matches(relPath: string): boolean;
}

/** Why a pattern cannot be used, in words, or undefined when it is fine. */
export function outputGlobProblem(pattern: string): string | undefined {
  if (typeof pattern !== 'string' || pattern.trim() === '') {
    return 'an output pattern is empty';
  }
  if (CONTROL.test(pattern)) {
    return `the output pattern '${JSON.stringify(pattern).slice(1, -1)}' contains control characters`;
  }
  if (pattern.includes('\\')) {
    return `the output pattern '${pattern}' contains a backslash: separate folders with '/'`;
  }
  if (pattern.startsWith('/') || /^[A-Za-z]:/.test(pattern) || pattern.startsWith('~')) {
    return `the output pattern '${pattern}' is absolute: patterns are relative to the job's folder`;
  }
  if (pattern.split('/').some((s) => s === '..')) {
    return `the output pattern '${pattern}' climbs out of the job's folder with '..'`;
  }
  const open = (pattern.match(/\{/g) ?? []).length;
  if (open !== (pattern.match(/\}/g) ?? []).length) {
    return `the output pattern '${pattern}' has unbalanced braces`;
  }
  if (expandBraces(pattern).length > MAX_ALTERNATIVES) {
    return `the output pattern '${pattern}' expands to more than ${MAX_ALTERNATIVES} alternatives`;
  }
  return undefined;
}

/** `a/{b,c}/d` → [`a/b/d`, `a/c/d`]; nested braces expand from the outside in. */
function expandBraces(pattern: string): string[] {
  const open = pattern.indexOf('{');
  if (open < 0) return [pattern];
  let depth = 0;
  for (let i = open; i < pattern.length; i++) {
    if (pattern[i] === '{') depth++;
    if (pattern[i] === '}' && --depth === 0) {
      const parts: string[] = [];
      let level = 0;
      let start = open + 1;
      for (let j = open + 1; j < i; j++) {
        if (pattern[j] === '{') level++;
        if (pattern[j] === '}') level--;
        if (pattern[j] === ',' && level === 0) {
          parts.push(pattern.slice(start, j));
          start = j + 1;
        }
      }
      parts.push(pattern.slice(start, i));
      const out: string[] = [];
      for (const part of parts) {
        for (const rest of expandBraces(pattern.slice(0, open) + part + pattern.slice(i + 1))) {
          out.push(rest);
          if (out.length > MAX_ALTERNATIVES) return out;
        }
      }
      return out;
    }
  }
  return [pattern];
}

function normalise(pattern: string): string {
  let p = pattern.trim().replace(/\/{2,}/g, '/');
  while (p.startsWith('./')) p = p.slice(2);
  // `outputs/` names the folder: everything below it.
  if (p.endsWith('/')) p = `${p}**`;
  return p;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.+^$()|\\{}[\]*?]/g, '\\$&');
}

/** One segment's pattern (no `/`, no braces) as a regular expression source. */
function segmentSource(seg: string): string {
  let out = '';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i];
    if (c === '*') {
      out += '[^/]*';
    } else if (c === '?') {
      out += '[^/]';
    } else if (c === '[') {
      const end = seg.indexOf(']', i + 2);
      if (end < 0) {
        out += '\\[';
        continue;
      }
      let body = seg.slice(i + 1, end);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      out += `[${negate ? '^/' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
      i = end;
    } else {
      out += escapeRegExp(c);
    }
  }
  return out;
}

/** A whole brace-free pattern as an anchored regular expression. */
function patternRegExp(pattern: string): RegExp {
  const segs = pattern.split('/');
  let src = '';
  segs.forEach((seg, i) => {
    const last = i === segs.length - 1;
    if (seg === '**') {
      // Zero or more whole segments: `a/**/b` matches `a/b`; a trailing `**` needs at least one name.
      src += last ? '.+' : '(?:[^/]+/)*';
    } else {
      src += segmentSource(seg) + (last ? '' : '/');
    }
  });
  return new RegExp(`^${src}$`, 'u');
}

function compileOne(pattern: string): OutputGlob {
  const segs = pattern.split('/');
  const firstWild = segs.findIndex((s) => WILD.test(s));
  if (firstWild < 0) {
    // A literal names a file or a folder; the listing finds out which.
    return {
      source: pattern,
      root: pattern,
      depth: undefined,
      matches: (p) => p === pattern || p.startsWith(`${pattern}/`),
    };
  }
  const rest = segs.slice(firstWild);
  const re = patternRegExp(pattern);
  return {
    source: pattern,
    root: segs.slice(0, firstWild).join('/'),
    depth: rest.includes('**') ? undefined : rest.length,
    matches: (p) => re.test(p),
  };
}

/** Compiles patterns, throwing one message naming the first bad one; duplicates collapse. */
export function compileOutputGlobs(patterns: readonly string[]): OutputGlob[] {
  const out: OutputGlob[] = [];
  const seen = new Set<string>();
  for (const raw of patterns) {
    const problem = outputGlobProblem(raw);
    if (problem) throw new Error(problem.charAt(0).toUpperCase() + problem.slice(1));
    for (const alt of expandBraces(normalise(raw))) {
      const p = normalise(alt);
      if (p === '' || p.split('/').some((s) => s === '..') || seen.has(p)) continue;
      seen.add(p);
      out.push(compileOne(p));
    }
  }
  return out;
}

/** Whether a relative path (POSIX separators) is what some glob selects. */
export function matchesAnyGlob(globs: readonly OutputGlob[], relPath: string): boolean {
  return globs.some((g) => g.matches(relPath));
}

export interface SearchRoot {
  root: string;
  depth: number | undefined;
}

/**
 * Where the remote listing looks: each glob's literal root, at the depth it can reach. A root inside
 * another unbounded root is left out (the outer search finds its files already).
 */
export function searchRoots(globs: readonly OutputGlob[]): SearchRoot[] {
  const byRoot = new Map<string, number | undefined>();
  for (const g of globs) {
    const had = byRoot.has(g.root) ? byRoot.get(g.root) : 0;
    byRoot.set(g.root, had === undefined || g.depth === undefined ? undefined : Math.max(had, g.depth));
  }
  const roots = [...byRoot].map(([root, depth]) => ({ root, depth }));
  const inside = (child: string, parent: string) => parent === '' || child === parent || child.startsWith(`${parent}/`);
  return roots.filter((r) => !roots.some((o) => o !== r && o.depth === undefined && inside(r.root, o.root) && !(r.root === o.root)));
}

/**
 * Whether a path reported by the host is a plain relative path inside the job's folder: a listing that
 * names `..`, an absolute path or a control character is refused rather than trusted.
 */
export function isSafeRelativePath(p: string): boolean {
  return p !== '' && !p.startsWith('/') && !CONTROL.test(p) && !p.split('/').some((s) => s === '..' || s === '.' || s === '');
}

/** A stored job's `outputs`: a list of usable patterns (storeValidation.ts), else the job is set aside with the reason. */
export function checkStoredOutputs(value: unknown, where: string): void {
  list(value, where).forEach((p, i) => {
    const problem = outputGlobProblem(text(p, `${where}[${i}]`));
    if (problem) fail(`${where}[${i}]: ${problem}`);
  });
}

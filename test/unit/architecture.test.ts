/**
 * The layers of src/ as the README's Architecture section draws them, enforced: which folder may import
 * which, no file cycles, vscode only in ui and the composition root, files of a readable size.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

const SRC = path.join(__dirname, '..', '..', 'src');
const IMPORTS_VSCODE = /from\s+['"]vscode['"]|require\(\s*['"]vscode['"]\s*\)|import\(\s*['"]vscode['"]\s*\)/;
/** Relative specifiers of import/export … from, import(), require(). Type-only imports count too. */
const RELATIVE_IMPORT = /(?:^|\s)(?:import|export)\s[^'";]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)|require\(\s*['"](\.[^'"]+)['"]\s*\)/g;

/**
 * Allowed imports per top-level folder of src (its own folder is always allowed). `root` is
 * src/extension.ts, the composition root. Arrows point down only:
 *   extension → ui → sim → agent → core;  ui → hosts → core;  cli → sim, hosts;  ui, webview → shared.
 */
const ALLOWED: Record<string, readonly string[]> = {
  root: ['ui', 'sim', 'agent', 'hosts', 'core', 'shared'],
  ui: ['sim', 'agent', 'hosts', 'core', 'shared'],
  cli: ['sim', 'agent', 'hosts', 'core'],
  sim: ['agent', 'core'],
  agent: ['core'],
  hosts: ['core'],
  core: [],
  shared: [],
  webview: ['shared'],
  types: [],
};
/** Folders that also run in plain Node (simulator, workers, unit tests): never vscode. */
const EDITOR_FREE = ['core', 'agent', 'hosts', 'sim', 'shared', 'cli', 'webview'];
const MAX_LINES = 400;

function tsFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) {
    return [];
  }
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? tsFiles(full) : e.name.endsWith('.ts') ? [full] : [];
  });
}

function layerOf(file: string): string {
  const rel = path.relative(SRC, file).split(path.sep);
  return rel.length === 1 ? 'root' : rel[0];
}

/** file → the files of ours it imports (resolved to .ts paths). */
function importGraph(files: readonly string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8');
    const targets: string[] = [];
    for (const m of text.matchAll(RELATIVE_IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3];
      const base = path.resolve(path.dirname(file), spec);
      const resolved = [base, `${base}.ts`, path.join(base, 'index.ts')].find((p) => p.endsWith('.ts') && fs.existsSync(p));
      if (resolved) {
        targets.push(resolved);
      }
    }
    graph.set(file, targets);
  }
  return graph;
}

/** Strongly connected components with more than one file, or a file importing itself (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) {
        found.push(component.map((f) => path.relative(SRC, f)).sort());
      }
    }
  };
  [...graph.keys()].forEach((v) => index.has(v) || visit(v));
  return found;
}

const files = tsFiles(SRC);
const graph = importGraph(files);

test('the scan sees the sources and their imports', () => {
  assert.ok(files.length > 50, `found ${files.length} files`);
  assert.ok([...graph.values()].reduce((n, t) => n + t.length, 0) > 200);
});

test('every folder imports only the folders below it', () => {
  const offenders: string[] = [];
  for (const [file, targets] of graph) {
    const from = layerOf(file);
    const allowed = ALLOWED[from];
    assert.ok(allowed, `src/${from} is not in the layer table: add it to ALLOWED and to the README's Architecture section`);
    for (const target of targets) {
      const to = layerOf(target);
      if (to !== from && !allowed.includes(to)) {
        offenders.push(`${path.relative(SRC, file)} → ${path.relative(SRC, target)} (${from} may not import ${to})`);
      }
    }
  }
  assert.deepEqual(offenders, []);
});

test('no file cycles', () => {
  assert.deepEqual(cycles(graph), []);
});

test('the cycle finder finds a cycle (so the test above can fail)', () => {
  const a = '/x/a.ts';
  const b = '/x/b.ts';
  assert.equal(cycles(new Map([[a, [b]], [b, [a]]])).length, 1);
  assert.equal(cycles(new Map([[a, [b]], [b, []]])).length, 0);
});

// The editor stays at the edge: these folders also run in plain Node (simulator, workers, unit tests).
test('only ui and the composition root import vscode', () => {
  const offenders = files.filter((f) => EDITOR_FREE.includes(layerOf(f)) && IMPORTS_VSCODE.test(fs.readFileSync(f, 'utf8')));
  assert.deepEqual(offenders.map((f) => path.relative(SRC, f)), []);
});

test(`no file in src is over ${MAX_LINES} lines`, () => {
  const long = files.map((f) => [path.relative(SRC, f), fs.readFileSync(f, 'utf8').split('\n').length] as const).filter(([, n]) => n > MAX_LINES);
  assert.deepEqual(long, []);
});

test('no default exports and no barrel index files in src', () => {
  assert.deepEqual(files.filter((f) => /^\s*export\s+default\b/m.test(fs.readFileSync(f, 'utf8'))).map((f) => path.relative(SRC, f)), []);
  assert.deepEqual(files.filter((f) => path.basename(f) === 'index.ts').map((f) => path.relative(SRC, f)), []);
});

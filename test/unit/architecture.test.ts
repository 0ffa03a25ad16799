import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

const SRC = path.join(__dirname, '..', '..', 'src');
const EDITOR_FREE = ['core', 'agent', 'hosts', 'sim', 'shared'];
const IMPORTS_VSCODE = /from\s+['"]vscode['"]|require\(\s*['"]vscode['"]\s*\)|import\(\s*['"]vscode['"]\s*\)/;

function tsFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) {
    return [];
  }
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? tsFiles(full) : e.name.endsWith('.ts') ? [full] : [];
  });
}

// The editor stays at the edge: these folders also run in plain Node (simulator, unit tests).
test('core, agent, hosts, sim and shared never import vscode', () => {
  const offenders = EDITOR_FREE.flatMap((d) => tsFiles(path.join(SRC, d))).filter((f) => IMPORTS_VSCODE.test(fs.readFileSync(f, 'utf8')));
  assert.deepEqual(offenders.map((f) => path.relative(SRC, f)), []);
});

test('no default exports and no barrel index files in src', () => {
  const files = tsFiles(SRC);
  assert.ok(files.length > 10, 'the scan found the sources');
  assert.deepEqual(files.filter((f) => /^\s*export\s+default\b/m.test(fs.readFileSync(f, 'utf8'))).map((f) => path.relative(SRC, f)), []);
  assert.deepEqual(files.filter((f) => path.basename(f) === 'index.ts').map((f) => path.relative(SRC, f)), []);
});

// Writes l10n/bundle.l10n.json: every string the extension passes to vscode.l10n.t(...), keyed by
// itself, which is the file a translation starts from (copy it to bundle.l10n.<locale>.json and translate
// the values). What @vscode/l10n-dev's `export` does, for the one call form TrainQ uses: a literal first
// argument. Run: node scripts/l10nBundle.mjs
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

const root = path.join(path.dirname(new URL(import.meta.url).pathname), '..');
const CALL = /l10n\.t\(\s*('(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*"|`(?:\\.|[^`\\$])*`)\s*[,)]/g;

const files = readdirSync(path.join(root, 'src'), { recursive: true })
  .map(String)
  .filter((f) => f.endsWith('.ts'))
  .sort();
const bundle = {};
for (const file of files) {
  for (const match of readFileSync(path.join(root, 'src', file), 'utf8').matchAll(CALL)) {
    // The literal is our own source: reading it as JavaScript resolves its escapes exactly.
    const text = new Function(`return ${match[1]};`)();
    bundle[text] = text;
  }
}
const sorted = Object.fromEntries(Object.keys(bundle).sort().map((k) => [k, k]));
writeFileSync(path.join(root, 'l10n', 'bundle.l10n.json'), `${JSON.stringify(sorted, null, 2)}\n`);
console.log(`l10n/bundle.l10n.json: ${Object.keys(sorted).length} strings from ${files.length} files`);

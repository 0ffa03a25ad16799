// Writes l10n/bundle.l10n.json: every string the extension passes to vscode.l10n.t(...), or to t(...) in
// the editor-free format modules that import src/ui/l10nText.ts, keyed by itself: the file a translation
// starts from (copy it to bundle.l10n.<locale>.json and translate the values). What @vscode/l10n-dev's
// `export` does, for the one call form TrainQ uses: a literal first argument.
// Run: node scripts/l10nBundle.mjs   (test/unit/l10nBundle.test.ts imports collectBundle and checks the
// committed file is what it gives.)
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const LITERAL = String.raw`('(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*"|\x60(?:\\.|[^\x60\\$])*\x60)`;
/** vscode.l10n.t('…', …) anywhere in src. */
const L10N_CALL = new RegExp(String.raw`\bl10n\.t\(\s*${LITERAL}\s*[,)]`, 'g');
/** t('…', …) in a file that imports ui/l10nText (not a method call, not part of a longer name). */
const T_CALL = new RegExp(String.raw`(?<![\w.$])t\(\s*${LITERAL}\s*[,)]`, 'g');
const IMPORTS_L10N_TEXT = /from\s+['"][./]*(?:ui\/)?l10nText['"]/;

export const defaultRoot = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The bundle the sources under root/src give, keys sorted: { text: text }. */
export function collectBundle(root = defaultRoot) {
  const files = readdirSync(path.join(root, 'src'), { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.ts'))
    .sort();
  const keys = new Set();
  for (const file of files) {
    const source = readFileSync(path.join(root, 'src', file), 'utf8');
    const patterns = IMPORTS_L10N_TEXT.test(source) ? [L10N_CALL, T_CALL] : [L10N_CALL];
    for (const pattern of patterns) {
      for (const match of source.matchAll(pattern)) {
        // The literal is our own source: reading it as JavaScript resolves its escapes exactly.
        keys.add(new Function(`return ${match[1]};`)());
      }
    }
  }
  return { bundle: Object.fromEntries([...keys].sort().map((k) => [k, k])), files: files.length };
}

/** The file's text as written: two-space JSON and a final newline. */
export function bundleText(bundle) {
  return `${JSON.stringify(bundle, null, 2)}\n`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { bundle, files } = collectBundle();
  writeFileSync(path.join(defaultRoot, 'l10n', 'bundle.l10n.json'), bundleText(bundle));
  console.log(`l10n/bundle.l10n.json: ${Object.keys(bundle).length} strings from ${files} files`);
}

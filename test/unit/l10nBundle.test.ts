/**
 * Localisation: the committed l10n bundle is what scripts/l10nBundle.mjs collects from the sources (so it
 * cannot go stale), every call has one literal first argument whose {n} placeholders have arguments, and
 * the editor-free format modules really translate through ui/l10nText.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import type { HostStatus } from '../../src/core/host';
import { formatMessage, setTranslator, t } from '../../src/ui/l10nText';
import { hostDescription } from '../../src/ui/hostFormat';
import { groupCount, jobDescription } from '../../src/ui/jobFormat';
import { drainText } from '../../src/ui/etaFormat';
import type { Job } from '../../src/core/job';

const ROOT = path.join(__dirname, '..', '..');
const SRC = path.join(ROOT, 'src');
const BUNDLE = path.join(ROOT, 'l10n', 'bundle.l10n.json');

interface Generator {
  collectBundle(root?: string): { bundle: Record<string, string>; files: number };
  bundleText(bundle: Record<string, string>): string;
}

async function generator(): Promise<Generator> {
  return (await import(pathToFileURL(path.join(ROOT, 'scripts', 'l10nBundle.mjs')).href)) as Generator;
}

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? tsFiles(full) : e.name.endsWith('.ts') ? [full] : [];
  });
}

interface Call {
  where: string;
  /** The literal first argument; undefined when it is not one. */
  key?: string;
  /** Arguments after the message; undefined when a spread makes the count unknown. */
  args?: number;
}

/** Every vscode.l10n.t(...) call in src, and every t(...) call in files that import ui/l10nText. */
function translationCalls(): Call[] {
  const calls: Call[] = [];
  for (const file of tsFiles(SRC)) {
    const text = fs.readFileSync(file, 'utf8');
    const usesT = /from\s+['"][./]*(?:ui\/)?l10nText['"]/.test(text);
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      if (ts.isCallExpression(node)) {
        const callee = node.expression.getText(source);
        if (/(^|\.)l10n\.t$/.test(callee) || (usesT && callee === 't')) {
          const [first, ...rest] = node.arguments;
          const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
          const literal = first && (ts.isStringLiteral(first) || ts.isNoSubstitutionTemplateLiteral(first)) ? first.text : undefined;
          calls.push({
            where: `${path.relative(ROOT, file)}:${line + 1}`,
            key: literal,
            args: rest.some((a) => ts.isSpreadElement(a)) ? undefined : rest.length,
          });
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return calls;
}

test('the committed bundle is what scripts/l10nBundle.mjs collects from the sources', async () => {
  const { collectBundle, bundleText } = await generator();
  const { bundle } = collectBundle(ROOT);
  const committed = fs.readFileSync(BUNDLE, 'utf8');
  assert.deepEqual(JSON.parse(committed), bundle, 'run `node scripts/l10nBundle.mjs` and commit l10n/bundle.l10n.json');
  assert.equal(committed, bundleText(bundle));
  for (const [key, value] of Object.entries(bundle)) assert.equal(value, key);
});

test('the generator finds exactly the literal messages the TypeScript parser finds', async () => {
  const { collectBundle } = await generator();
  const parsed = new Set(translationCalls().flatMap((c) => (c.key === undefined ? [] : [c.key])));
  assert.deepEqual(Object.keys(collectBundle(ROOT).bundle).sort(), [...parsed].sort());
  assert.ok(parsed.size > 300, `only ${parsed.size} messages`);
});

test('every call has a literal message (the generator reads nothing else), but for the composition root handing over to vscode.l10n', () => {
  const dynamic = translationCalls().filter((c) => c.key === undefined).map((c) => c.where);
  // src/extension.ts forwards ui/l10nText's t(message, ...args) to vscode.l10n.t: the one call that may not be literal.
  assert.deepEqual(dynamic.filter((w) => !w.startsWith(path.join('src', 'extension.ts'))), []);
  assert.ok(dynamic.length <= 1, dynamic.join(', '));
});

test('every {n} placeholder of a message has an argument at each of its calls', () => {
  const missing: string[] = [];
  for (const call of translationCalls()) {
    if (call.key === undefined || call.args === undefined) continue;
    const indices = [...call.key.matchAll(/\{(\d+)\}/g)].map((m) => Number(m[1]));
    const top = Math.max(-1, ...indices);
    if (top >= call.args) missing.push(`${call.where}: '${call.key}' has {${top}} but ${call.args} argument(s)`);
  }
  assert.deepEqual(missing, []);
});

test('the default translator substitutes {0}..{n} and leaves the ones it has no argument for', () => {
  assert.equal(formatMessage('{0} of {1}', [3, 'five']), '3 of five');
  assert.equal(formatMessage('{1}, {0}, {1}', ['a', 'b']), 'b, a, b');
  assert.equal(formatMessage('{0} and {2} and {x} and {}', ['a']), 'a and {2} and {x} and {}');
  assert.equal(formatMessage('no placeholders', ['unused']), 'no placeholders');
  assert.equal(formatMessage('{0}', [false]), 'false');
  assert.equal(formatMessage('{0}', ['{1}', 'x']), '{1}', 'an argument is not substituted again');
  assert.equal(t('GPU {0} · {1}', 0, 'A100'), 'GPU 0 · A100');
});

test('format-module strings go through the translator the composition root sets, and back to English without one', () => {
  const job = { id: 'j1', name: 'a.py', state: 'queued', runtimeSec: 3600, args: [] } as unknown as Job;
  const connecting = { name: 'lab', kind: 'ssh', state: 'connecting', gpus: [], probedAt: 0 } as unknown as HostStatus;
  const plan = { drainMs: new Date(2026, 0, 1, 18, 40).getTime(), unplanned: 2, queued: new Map(), running: new Map() };
  const now = new Date(2026, 0, 1, 12, 0).getTime();
  const english = {
    host: hostDescription(connecting),
    count: groupCount(3, 5),
    job: jobDescription(job, { now, waitingReason: 'Waiting for a free job slot.' }),
    drain: drainText(plan as never, now),
  };
  assert.deepEqual(english, {
    host: 'connecting…',
    count: '3 of 5',
    job: 'queued · waiting for a job slot · est. 1h',
    drain: 'Queue drains ~18:40 (2 queued jobs fit no online host)',
  });
  const seen: string[] = [];
  setTranslator((message, ...args) => {
    seen.push(message);
    return formatMessage(message.toUpperCase(), args);
  });
  try {
    assert.equal(hostDescription(connecting), 'CONNECTING…');
    assert.equal(groupCount(3, 5), '3 OF 5');
    // The state word is core's value, not a message; the rest is translated.
    assert.equal(jobDescription(job, { now, waitingReason: 'Waiting for a free job slot.' }), 'queued · WAITING FOR A JOB SLOT · EST. 1h');
    assert.equal(drainText(plan as never, now), 'QUEUE DRAINS ~18:40 (2 QUEUED JOBS FIT NO ONLINE HOST)');
    assert.ok(seen.includes('{0} of {1}') && seen.includes('Queue drains {0} ({1} queued jobs fit no online host)'), seen.join(' | '));
  } finally {
    setTranslator();
  }
  assert.equal(hostDescription(connecting), 'connecting…');
  assert.equal(groupCount(3, 5), '3 of 5');
});

// package.json against VS Code's conventions (issue 16, item 7): localised text, when clauses that
// bind as they read, Workspace Trust on every command that runs code, typed and linked settings, a strict
// trainq.hosts schema that agrees with hostConfig.ts, activation, remote kind, icons and packaging.
// The files read are the ones that ship.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { parseSlurmHostConfig, parseSshHostConfig } from '../../src/hosts/hostConfig';
import { evaluateWhen, type Context } from '../support/whenClause';

const root = path.join(__dirname, '..', '..');
const read = (file: string) => fs.readFileSync(path.join(root, file), 'utf8');
const manifestText = read('package.json');
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the manifest is untyped JSON walked by key.
const manifest = JSON.parse(manifestText) as any;
const nls = JSON.parse(read('package.nls.json')) as Record<string, string>;
const contributes = manifest.contributes;
type MenuItem = { command: string; when?: string; group?: string };
const menus = contributes.menus as Record<string, MenuItem[]>;
const settings = contributes.configuration.properties as Record<string, Record<string, unknown>>;

/** Commands that run the workspace's code: hidden wherever the workspace is not trusted. */
const RUN_COMMANDS = ['trainq.queueScript', 'trainq.queueFile', 'trainq.queueSweep', 'trainq.job.retry', 'trainq.sweep.resume', 'trainq.sweep.queueBest', 'trainq.job.editRerun'];

test('every %key% of package.json is in package.nls.json, and every key there is used', () => {
  const used = new Set([...manifestText.matchAll(/"%([^%"]+)%"/g)].map((m) => m[1]));
  assert.ok(used.size > 50, `found the placeholders (${used.size})`);
  assert.deepEqual([...used].filter((k) => !(k in nls)), [], 'placeholders without English text');
  assert.deepEqual(Object.keys(nls).filter((k) => !used.has(k)), [], 'English text no placeholder uses');
  assert.ok(Object.values(nls).every((v) => typeof v === 'string' && v.trim() !== ''), 'every text is a non-empty string');
});

test('no user-facing text of the manifest is left unlocalised', () => {
  const TEXT_KEYS = new Set(['title', 'name', 'description', 'markdownDescription', 'contents', 'contextualTitle', 'enumDescriptions', 'markdownEnumDescriptions']);
  const literal: string[] = [];
  const walk = (value: unknown, at: string, textKey: boolean) => {
    if (typeof value === 'string') {
      if (textKey && !/^%[^%]+%$/.test(value)) literal.push(`${at}: ${value.slice(0, 60)}`);
    } else if (Array.isArray(value)) {
      value.forEach((v, i) => walk(v, `${at}[${i}]`, textKey));
    } else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        // A setting or a host field may be called "name"; its schema object is not text.
        walk(v, `${at}.${k}`, TEXT_KEYS.has(k) && (typeof v === 'string' || Array.isArray(v)));
      }
    }
  };
  walk(contributes, 'contributes', false);
  walk({ description: manifest.description, capabilities: manifest.capabilities }, 'manifest', false);
  assert.deepEqual(literal, []);
  assert.equal(manifest.l10n, './l10n', 'the bundle folder of vscode.l10n.t strings');
});

test('every command has a localised title and the TrainQ category; every menu and keybinding names a command', () => {
  const ids = new Set<string>();
  for (const c of contributes.commands) {
    assert.match(c.title, /^%command\.[^%]+%$/, `${c.command} title`);
    assert.equal(c.category, 'TrainQ', `${c.command} category`);
    assert.ok(!ids.has(c.command), `${c.command} declared twice`);
    ids.add(c.command);
  }
  for (const [menu, items] of Object.entries(menus)) {
    for (const item of items) assert.ok(ids.has(item.command), `${menu} names the unknown command ${item.command}`);
  }
  for (const k of contributes.keybindings) assert.ok(ids.has(k.command), `keybinding ${k.key} names the unknown command ${k.command}`);
});

/** The contexts a menu's clause is evaluated in: files of several kinds, on disk and not, trusted and not. */
function resourceContexts(): Context[] {
  const files = ['train.py', 'run_train.sh', 'notes.txt', 'grid.sweep.json', 'other.json', 'script.PY.bak', 'py', '.sh.txt'];
  const out: Context[] = [];
  for (const file of files) {
    for (const scheme of ['file', 'vscode-remote', 'untitled', 'git', 'vscode-userdata']) {
      for (const trusted of [true, false]) {
        const ext = /(\.[^./]+)$/.exec(file)?.[1] ?? '';
        out.push({ resourceFilename: file, resourceExtname: ext, resourceScheme: scheme, isWorkspaceTrusted: trusted });
      }
    }
  }
  return out;
}

test('file menus (the editor-title ▷ included) show Queue for .py/.sh on disk (local or remote) in trusted workspaces only', () => {
  const expected = (cmd: string, c: Context) => {
    const script = c.resourceExtname === '.py' || c.resourceExtname === '.sh';
    const sweep = cmd === 'trainq.queueSweep' && /\.sweep\.json$/.test(String(c.resourceFilename));
    return (script || sweep) && (c.resourceScheme === 'file' || c.resourceScheme === 'vscode-remote') && c.isWorkspaceTrusted === true;
  };
  let checked = 0;
  for (const [menu, items] of Object.entries(menus)) {
    for (const item of items.filter((i) => /resource(Extname|Filename)/.test(i.when ?? ''))) {
      for (const c of resourceContexts()) {
        assert.equal(evaluateWhen(item.when!, c), expected(item.command, c), `${menu} ${item.command} in ${JSON.stringify(c)}: ${item.when}`);
        checked++;
      }
    }
  }
  assert.ok(checked >= 6 * resourceContexts().length, 'all file menus were evaluated');
  const play = menus['editor/title'].find((i) => i.command === 'trainq.queueFile')!;
  // The bug this replaces: `.py || .sh && scheme` showed ▷ on any .py, e.g. a git diff's or an untitled one.
  assert.equal(evaluateWhen(play.when!, { resourceExtname: '.py', resourceScheme: 'git', isWorkspaceTrusted: true }), false);
  assert.equal(evaluateWhen(play.when!, { resourceExtname: '.py', resourceScheme: 'vscode-remote', isWorkspaceTrusted: true }), true);
});

test('the evaluator binds && tighter than ||, as VS Code does (so the test above can catch the old clause)', () => {
  const old = 'resourceExtname == .py || resourceExtname == .sh && resourceScheme == file';
  assert.equal(evaluateWhen(old, { resourceExtname: '.py', resourceScheme: 'git' }), true);
  assert.equal(evaluateWhen(old, { resourceExtname: '.sh', resourceScheme: 'git' }), false);
  assert.equal(evaluateWhen('(a || b) && c', { a: true, c: false }), false);
  assert.equal(evaluateWhen('!a && b =~ /^x$/', { a: false, b: 'x' }), true);
  assert.throws(() => evaluateWhen('a && (b', { a: true }), /unbalanced/);
});

test('commands that run code are hidden in untrusted workspaces, in every menu and the palette', () => {
  for (const [menu, items] of Object.entries(menus)) {
    for (const item of items.filter((i) => RUN_COMMANDS.includes(i.command))) {
      assert.match(item.when ?? '', /(^|&& )isWorkspaceTrusted( &&|$)|^false$/, `${menu} ${item.command}: ${item.when}`);
    }
  }
  for (const cmd of RUN_COMMANDS) {
    assert.ok(menus.commandPalette.some((i) => i.command === cmd), `${cmd} has a palette entry (with the trust clause)`);
  }
  // Everything that every menu shows in a trusted workspace still evaluates; untrusted, run commands never show.
  const view: Context = { view: 'trainq.jobQueue', viewItem: 'job.finished', isWorkspaceTrusted: false, 'trainq.hasSweeps': true };
  for (const item of Object.values(menus).flat().filter((i) => RUN_COMMANDS.includes(i.command) && i.when)) {
    assert.equal(evaluateWhen(item.when!, { ...view, viewItem: 'sweep.paused', resourceExtname: '.py', resourceScheme: 'file' }), false, `${item.command}: ${item.when}`);
    assert.equal(evaluateWhen(item.when!, view), false, `${item.command}: ${item.when}`);
  }
});

test('Remove Host is offered for SSH hosts and Slurm clusters, never for this machine', () => {
  const item = menus['view/item/context'].find((i) => i.command === 'trainq.removeHost')!;
  const shows = (viewItem: string) => evaluateWhen(item.when!, { view: 'trainq.hosts', viewItem });
  assert.deepEqual(
    ['host.ssh.online', 'host.ssh.offline', 'host.slurm.online', 'host.slurm.unreachable', 'host.local.online', 'job.finished'].map(shows),
    [true, true, true, true, false, false],
  );
});

test('activation: after start-up (so jobs are reattached whatever the scripts are called) and for a restored dashboard', () => {
  assert.ok(manifest.activationEvents.includes('onStartupFinished'));
  assert.ok(!manifest.activationEvents.some((e: string) => e.startsWith('workspaceContains:')), 'no script-name globs');
  assert.ok(manifest.activationEvents.includes('onWebviewPanel:trainq.agentDashboard'));
  assert.match(read('src/ui/dashboardPanel.ts'), /DASHBOARD_VIEW_TYPE = 'trainq\.agentDashboard'/, 'the same view type as the serializer');
  assert.deepEqual(manifest.extensionKind, ['workspace'], 'runs where the workspace and its scripts are');
});

test('settings: integers typed integer with bounds, every setting ordered, and #links name real settings', () => {
  const orders = new Map<number, string>();
  for (const [key, s] of Object.entries(settings)) {
    if (typeof s.default === 'number' && Number.isInteger(s.default)) {
      assert.equal(s.type, 'integer', `${key} has an integer default but type ${String(s.type)}`);
    }
    if (s.type === 'integer') {
      assert.ok(typeof s.minimum === 'number' && typeof s.maximum === 'number', `${key} is bounded`);
    }
    assert.ok(Number.isInteger(s.order), `${key} has an order`);
    assert.ok(!orders.has(s.order as number), `${key} and ${orders.get(s.order as number)} share order ${String(s.order)}`);
    orders.set(s.order as number, key);
    assert.ok(!(s.description && s.markdownDescription), `${key} has one description`);
  }
  const links = Object.values(nls).flatMap((text) => [...text.matchAll(/#(trainq\.[\w.]+)#/g)].map((m) => m[1]));
  assert.ok(links.length >= 10, 'settings link to each other');
  assert.deepEqual(links.filter((k) => !(k in settings)), [], 'links to settings that do not exist');
  for (const key of ['trainq.python', 'trainq.nvidiaSmiPath', 'trainq.hosts', 'trainq.local.maxJobs']) {
    assert.equal(settings[key].scope, 'machine-overridable', key);
  }
});

test('trainq.hosts: every field described, nothing unknown, Slurm fields only on Slurm entries, as hostConfig.ts parses', () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON schema walked by key.
  const item = settings['trainq.hosts'].items as any;
  assert.equal(item.additionalProperties, false);
  for (const [k, p] of Object.entries(item.properties as Record<string, { description?: string }>)) {
    assert.match(p.description ?? '', /^%config\.hosts\.\w+\.description%$/, `${k} is described`);
  }
  assert.deepEqual(item.if, { properties: { type: { const: 'slurm' } }, required: ['type'] });
  assert.equal(item.then.additionalProperties, false);
  assert.equal(item.else.additionalProperties, false);
  const all = Object.keys(item.properties).sort();
  const slurmKeys = Object.keys(item.then.properties).sort();
  const sshKeys = Object.keys(item.else.properties).sort();
  assert.deepEqual(slurmKeys, all, 'a Slurm entry may hold every field');
  const slurmOnly = all.filter((k) => !sshKeys.includes(k));
  assert.deepEqual(slurmOnly, ['account', 'extraSbatchArgs', 'partition', 'qos', 'timeLimit']);
  // The parser agrees: an SSH entry with a Slurm field, or any entry with an undeclared one, is refused.
  const ssh = { name: 'a', type: 'ssh', target: 'a' };
  for (const k of slurmOnly) {
    assert.throws(() => parseSshHostConfig({ ...ssh, [k]: 'x' }), /unknown field/, `ssh + ${k}`);
  }
  assert.throws(() => parseSshHostConfig({ ...ssh, bogus: 1 }), /unknown field/);
  assert.throws(() => parseSlurmHostConfig({ name: 's', type: 'slurm', target: 'local', bogus: 1 }), /unknown field/);
  // And every field the schema declares is one the parser accepts (a valid value of each).
  const values: Record<string, unknown> = { workdir: '~/w', python: 'python3', sync: 'none', maxJobs: 2, speed: 1.5, env: { A: 'b' }, partition: 'gpu', account: 'acc', qos: 'normal', timeLimit: '1:00:00', extraSbatchArgs: ['--mem=1G'], labels: ['a100'] };
  for (const k of sshKeys.filter((k) => !['name', 'type', 'target'].includes(k))) {
    assert.ok(values[k] !== undefined, `the test has a valid value of ${k}`);
    assert.doesNotThrow(() => parseSshHostConfig({ ...ssh, [k]: values[k] }), `ssh accepts ${k}`);
  }
  for (const k of slurmOnly) {
    assert.doesNotThrow(() => parseSlurmHostConfig({ name: 's', type: 'slurm', target: 'local', [k]: values[k] }), `slurm accepts ${k}`);
  }
});

test('welcome views: no folder, untrusted (with a link to manage trust), and an empty queue', () => {
  const welcome = contributes.viewsWelcome as { view: string; contents: string; when?: string }[];
  const text = (w: { contents: string }) => nls[w.contents.slice(1, -1)];
  const queue = welcome.filter((w) => w.view === 'trainq.jobQueue');
  const untrusted = queue.find((w) => w.when?.includes('!isWorkspaceTrusted'));
  assert.ok(untrusted && text(untrusted).includes('(command:workbench.trust.manage)'));
  assert.ok(queue.some((w) => w.when === 'workbenchState == empty'));
  assert.ok(welcome.some((w) => w.view === 'trainq.hosts' && w.when === 'workbenchState == empty'));
  // At most one welcome of a view shows in any state (else VS Code stacks them).
  for (const state of ['empty', 'folder', 'workspace']) {
    for (const trusted of [true, false]) {
      const shown = queue.filter((w) => evaluateWhen(w.when ?? 'true', { workbenchState: state, isWorkspaceTrusted: trusted }));
      assert.equal(shown.length, 1, `${state}, trusted ${trusted}: ${shown.map((w) => w.contents).join(', ')}`);
    }
  }
});

test('views have distinct icons; the marketplace icon is a packaged 128x128 PNG; localisation files are packaged', () => {
  const views = Object.values(contributes.views).flat() as { id: string; icon: string }[];
  assert.equal(new Set(views.map((v) => v.icon)).size, views.length, 'one icon per view');
  const png = fs.readFileSync(path.join(root, manifest.icon));
  assert.equal(png.subarray(1, 4).toString('ascii'), 'PNG');
  assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [128, 128]);
  const ignore = read('.vscodeignore').split('\n');
  for (const kept of [`!${manifest.icon}`, '!package.nls.json', '!l10n/*.json']) assert.ok(ignore.includes(kept), `.vscodeignore keeps ${kept}`);
});

test('Job Queue keys: Delete cancels or removes, Enter opens the log, only while the queue (not an input) has focus', () => {
  const keys = contributes.keybindings as { key: string; command: string; when: string; args?: unknown }[];
  const del = keys.find((k) => k.key === 'delete');
  const enter = keys.find((k) => k.key === 'enter');
  assert.equal(del?.command, 'trainq.job.delete');
  assert.equal(enter?.command, 'trainq.job.openLog');
  assert.deepEqual(enter?.args, { via: 'keyboard' }, 'the handler tells a key press from a click');
  for (const k of [del!, enter!]) {
    assert.equal(evaluateWhen(k.when, { focusedView: 'trainq.jobQueue', listFocus: true }), true);
    assert.equal(evaluateWhen(k.when, { focusedView: 'trainq.jobQueue', listFocus: true, inputFocus: true }), false, 'typing in the filter');
    assert.equal(evaluateWhen(k.when, { focusedView: 'workbench.explorer.fileView', listFocus: true }), false, 'Delete in the Explorer');
  }
  assert.ok(menus.commandPalette.some((i) => i.command === 'trainq.job.delete' && i.when === 'false'), 'hidden from the palette');
});

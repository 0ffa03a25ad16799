// The queue input's steps and its Options… menu through a scripted fake QuickInput: the common path
// is still five steps, the gear leads to the environment steps and back to the step it left (with
// what was typed), bad variables are refused inline, and Escape cancels without a spec.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { PriorityDraft } from '../../src/ui/priorityOption';
import { createVscodeStub, installVscodeStub, type VscodeStub } from '../support/vscodeStub';

type Widget = {
  kind: 'box' | 'pick';
  title?: string;
  step?: number;
  value: string;
  buttons: Array<{ tooltip?: string }>;
  items?: Array<{ label: string; value: unknown }>;
  activeItems: Array<{ label: string; value: unknown }>;
  selectedItems: Array<{ label: string; value: unknown }>;
  validationMessage?: string;
  fire(event: 'accept' | 'hide' | 'button' | 'change', arg?: unknown): void;
};
/** What the fake user does with each shown input, in order. */
type Action = (w: Widget) => void;
type PickAnswer = (items: Array<{ label: string }>, opts: unknown) => unknown;
type BoxAnswer = (opts: { value?: string; validateInput?: (v: string) => string | undefined }) => string | undefined;

let stub: VscodeStub;
let uninstall: () => void;
let queueInput: typeof import('../../src/ui/queueInput');
let stepInput: typeof import('../../src/ui/stepInput');
let actions: Action[] = [];
let picks: PickAnswer[] = [];
let boxes: BoxAnswer[] = [];
const shown: Widget[] = [];

function fakeWidget(kind: 'box' | 'pick'): Widget {
  const listeners = new Map<string, Array<(arg: unknown) => void>>();
  const on = (name: string) => (fn: (arg: unknown) => void) => {
    listeners.set(name, [...(listeners.get(name) ?? []), fn]);
    return { dispose: () => listeners.set(name, (listeners.get(name) ?? []).filter((f) => f !== fn)) };
  };
  const w = {
    kind, value: '', buttons: [], activeItems: [], selectedItems: [],
    onDidAccept: on('accept'), onDidHide: on('hide'), onDidTriggerButton: on('button'), onDidChangeValue: on('change'),
    fire(event: string, arg?: unknown) { for (const fn of listeners.get(event) ?? []) fn(arg); },
    show() {
      shown.push(w as unknown as Widget);
      const action = actions.shift();
      assert.ok(action, `no scripted action for ${kind} "${(w as Widget).title}" step ${(w as Widget).step}`);
      setImmediate(() => action(w as unknown as Widget));
    },
    dispose() {},
  };
  return w as unknown as Widget;
}

/** Accept the step as it is (Enter). */
const enter: Action = (w) => (w.kind === 'pick' ? w.fire('accept') : w.fire('accept'));
const type = (value: string): Action => (w) => {
  w.value = value;
  w.fire('change', value);
  w.fire('accept');
};
const gear: Action = (w) => w.fire('button', w.buttons.find((b) => /Options/.test(b.tooltip ?? '')));
const choose = (label: RegExp): PickAnswer => (items) => items.find((i) => label.test(i.label));

before(async () => {
  stub = createVscodeStub({ packageJsonPath: path.join(__dirname, '..', '..', 'package.json') });
  const win = stub.api.window as Record<string, unknown>;
  Object.assign(win, {
    createInputBox: () => fakeWidget('box'),
    createQuickPick: () => fakeWidget('pick'),
    showQuickPick: async (items: Array<{ label: string }>, opts: unknown) => picks.shift()!(items, opts),
    showInputBox: async (opts: Parameters<BoxAnswer>[0]) => boxes.shift()!(opts),
  });
  Object.assign(stub.api.workspace as Record<string, unknown>, {
    findFiles: async () => [],
    asRelativePath: (p: unknown) => String(p),
  });
  Object.assign(stub.api, { QuickInputButtons: { Back: { tooltip: 'Back' } }, RelativePattern: class {} });
  uninstall = installVscodeStub(stub);
  queueInput = await import('../../src/ui/queueInput');
  stepInput = await import('../../src/ui/stepInput');
});
after(() => uninstall());

function script() {
  const Uri = stub.api.Uri as { file(p: string): { fsPath: string } };
  return { uri: Uri.file('/ws/train.py'), key: 'train.py', folder: { uri: Uri.file('/ws'), name: 'ws', index: 0 } } as never;
}
const PREFILL = { args: ['--lr', '3e-4'], gpus: 1, importance: 'normal' as const, runtimeSec: 3600 };

function reset(a: Action[], p: PickAnswer[] = [], b: BoxAnswer[] = []): void {
  actions = a;
  picks = p;
  boxes = b;
  shown.length = 0;
}

test('the common path is five steps and sets no optional field', async () => {
  reset([enter, enter, enter, enter, enter]);
  const spec = await queueInput.askJobSpec(script(), PREFILL);
  assert.equal(shown.length, 5);
  assert.deepEqual(spec.args, ['--lr', '3e-4']);
  assert.equal('env' in spec || 'envFile' in spec || 'interpreter' in spec, false);
  assert.ok(shown.every((w) => w.buttons.some((b) => /Options/.test(b.tooltip ?? ''))), 'the gear is on every step');
});

test('Options… → Environment variables… → Done comes back to the step with what was typed', async () => {
  let validate: ((v: string) => string | undefined) | undefined;
  reset(
    [(w) => { w.value = '--lr 1'; gear(w); }, enter, enter, enter, enter, enter],
    [choose(/Environment variables/), choose(/Done/)],
    [(opts) => ((validate = opts.validateInput), `A=1 B="x y" C='$(whoami) "q"'`)],
  );
  const spec = await queueInput.askJobSpec(script(), PREFILL);
  assert.equal(shown[1].step, 1, 'step 1 again');
  assert.equal(shown[1].value, '--lr 1', 'with the typed value');
  assert.deepEqual(spec.args, ['--lr', '1']);
  assert.deepEqual(spec.env, { A: '1', B: 'x y', C: '$(whoami) "q"' });
  assert.match(validate!('CUDA_VISIBLE_DEVICES=0') ?? '', /set by TrainQ/);
  assert.match(validate!('TRAINQ_X=1') ?? '', /reserved/);
  assert.match(validate!('A=1 oops') ?? '', /word 2 is not NAME=value/);
  assert.equal(validate!(''), undefined, 'empty clears');
});

test('an edit starts from the job: the menu shows its values, and clearing a variable list removes env', async () => {
  let described: string[] = [];
  reset(
    [enter, enter, enter, enter, gear, enter],
    [(items) => ((described = items.map((i) => `${i.label} ${(i as { description?: string }).description ?? ''}`)), items.find((i) => /Environment variables/.test(i.label))), choose(/Done/)],
    [() => ''],
  );
  const spec = await queueInput.askJobSpec(script(), PREFILL, undefined, { title: 'Edit train.py', options: { env: { HF_TOKEN: 'hf_secret', LR: '1' }, envFile: '/ws/.env', interpreter: '.venv/bin/python' } });
  assert.ok(described.some((d) => d.includes('HF_TOKEN=••••••') && d.includes('LR=1') && !d.includes('hf_secret')), described.join('\n'));
  assert.ok(described.some((d) => /\.env file/.test(d) && d.includes('/ws/.env')));
  assert.ok(described.some((d) => /interpreter/.test(d) && d.includes('.venv/bin/python')));
  assert.equal(spec.env, undefined);
  assert.deepEqual([spec.envFile, spec.interpreter], ['/ws/.env', '.venv/bin/python']);
  assert.equal(shown[0].title, 'Edit train.py');
});

test('a $(…) value is escaped in the menu, which would otherwise draw it as an icon', async () => {
  let described: string[] = [];
  reset([gear, enter, enter, enter, enter, enter], [(items) => ((described = items.map((i) => (i as { description?: string }).description ?? '')), items[0])]);
  await queueInput.askJobSpec(script(), PREFILL, undefined, { options: { env: { CMD: '$(whoami)' } } });
  assert.ok(described.includes('CMD=\\$(whoami)'), described.join(' | '));
});

test('Escape in a step cancels: InputCancelled, no spec', async () => {
  reset([enter, (w) => w.fire('hide')]);
  await assert.rejects(queueInput.askJobSpec(script(), PREFILL), stepInput.InputCancelled);
});

test('a typed bad GPU count is refused inline and the step stays', async () => {
  reset([enter, (w) => { w.value = '-1'; w.fire('change', '-1'); w.fire('accept'); assert.match(w.validationMessage ?? '', /GPU/i); type('0')(w); }, enter, enter, enter]);
  const spec = await queueInput.askJobSpec(script(), PREFILL);
  assert.equal(spec.gpus, 0);
});

test('Options… → Priority… (edits only) starts on the current choice and changes the draft; a new job has no such item', async () => {
  let offered: Array<{ label: string; description?: string }> = [];
  let labels: string[] = [];
  reset(
    [gear, enter, enter, enter, enter, enter],
    [(items) => ((labels = items.map((i) => `${i.label} ${(i as { description?: string }).description ?? ''}`)), items.find((i) => /Priority/.test(i.label))), (items) => ((offered = items), items.find((i) => i.label === 'Low')), choose(/Done/)],
  );
  const priority: PriorityDraft = { choice: 'classifier', current: 'medium' };
  await queueInput.askJobSpec(script(), PREFILL, undefined, { title: 'Edit train.py', priority });
  assert.ok(labels.some((l) => /Priority/.test(l) && /classifier decides \(now Medium\)/.test(l)), labels.join('\n'));
  assert.match(offered[0].label, /Let the classifier decide/, 'the current choice first, so Enter keeps it');
  assert.equal(offered[0].description, 'current');
  assert.deepEqual(offered.slice(1).map((i) => i.label), ['High', 'Medium', 'Low']);
  assert.equal(priority.choice, 'low');

  reset([gear, enter, enter, enter, enter, enter], [(items) => ((labels = items.map((i) => i.label)), items[0])]);
  await queueInput.askJobSpec(script(), PREFILL);
  assert.ok(!labels.some((l) => /Priority/.test(l)), labels.join('\n'));
});

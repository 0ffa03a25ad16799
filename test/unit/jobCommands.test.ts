// The Job Queue's destructive commands through the vscode stub with a fake manager: Cancel, Remove,
// Clear Finished and the Delete key ask in a modal dialog when something would be lost, do nothing at all
// when the dialog is dismissed, and ask nothing when the setting is off; Enter on a non-job row falls
// back to the tree's own Enter.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import type { Job, JobState } from '../../src/core/job';
import { createVscodeStub, installVscodeStub, type VscodeStub } from '../support/vscodeStub';

let stub: VscodeStub;
let uninstall: () => void;
let commands: typeof import('../../src/ui/commands');

/** Dialogs shown, and the answer the fake user gives to each (undefined: Cancel, Escape or closing it). */
let dialogs: Array<{ message: string; modal: boolean; actions: string[] }> = [];
let answers: Array<string | undefined> = [];
let executed: string[] = [];
/** What running a workbench command does to the fake tree (list.select selects the focused row). */
let onExecute: (id: string) => void = () => undefined;

before(async () => {
  stub = createVscodeStub({ packageJsonPath: path.join(__dirname, '..', '..', 'package.json') });
  uninstall = installVscodeStub(stub);
  const window = stub.api.window as Record<string, unknown>;
  window.showWarningMessage = async (message: string, options: { modal?: boolean } | string, ...actions: string[]) => {
    dialogs.push({ message, modal: typeof options === 'object' && options.modal === true, actions });
    return answers.shift();
  };
  (stub.api.commands as Record<string, unknown>).executeCommand = async (id: string) => {
    executed.push(id);
    onExecute(id);
  };
  commands = await import('../../src/ui/commands');
});
after(() => uninstall());

beforeEach(() => {
  dialogs = [];
  answers = [];
  executed = [];
  onExecute = () => undefined;
  stub.setConfiguration({ 'trainq.confirm.cancel': undefined, 'trainq.confirm.clearFinished': undefined });
});

function fixture(states: Record<string, JobState>, selection: string[] = []) {
  const jobs = Object.entries(states).map(([id, state]) => ({ id, name: `${id}.py`, state }) as Job);
  const calls: string[] = [];
  const manager = {
    jobs,
    job: (id: string) => jobs.find((j) => j.id === id),
    cancel: async (id: string) => void calls.push(`cancel ${id}`),
    remove: async (id: string) => void calls.push(`remove ${id}`),
    clearFinished: async () => {
      calls.push('clear');
      return 1;
    },
  };
  const config = { get value() {
    const c = (stub.api.workspace as { getConfiguration(s: string): { get(k: string): unknown } }).getConfiguration('trainq');
    return { confirmCancel: c.get('confirm.cancel') !== false, confirmClearFinished: c.get('confirm.clearFinished') !== false };
  } };
  const openLog = async (job: Job) => void calls.push(`log ${job.id}`);
  const s = { manager, config, openLog, jobIds: (args: unknown[]) => (args.filter((a) => typeof a === 'string') as string[]).concat(args.some((a) => typeof a === 'string') ? [] : selection) };
  const run = (id: string, ...args: unknown[]) => commands.COMMANDS[id](s as never)(...args);
  return { calls, run };
}

test('Cancel of a running job asks in a modal dialog; dismissing it cancels nothing', async () => {
  const { calls, run } = fixture({ r: 'running' });
  answers = [undefined];
  await run('trainq.job.cancel', 'r');
  assert.equal(dialogs.length, 1);
  assert.ok(dialogs[0].modal, 'modal');
  assert.match(dialogs[0].message, /^Cancel the running job r\.py\?$/);
  assert.deepEqual(dialogs[0].actions, ['Cancel Job']);
  assert.deepEqual(calls, [], 'the job keeps running');

  answers = ['Cancel Job'];
  await run('trainq.job.cancel', 'r');
  assert.deepEqual(calls, ['cancel r']);
});

test('Cancel of queued jobs asks nothing; with trainq.confirm.cancel off a running job is not asked about either', async () => {
  const { calls, run } = fixture({ q: 'queued', r: 'running' });
  await run('trainq.job.cancel', 'q');
  assert.deepEqual([dialogs.length, calls], [0, ['cancel q']]);
  stub.setConfiguration({ 'trainq.confirm.cancel': false });
  await run('trainq.job.cancel', 'r');
  assert.deepEqual([dialogs.length, calls], [0, ['cancel q', 'cancel r']]);
});

test('several jobs: one question for all of them, and a dismissed one cancels none of them', async () => {
  const { calls, run } = fixture({ a: 'running', b: 'running', q: 'queued' });
  answers = [undefined];
  await run('trainq.job.cancel', 'a', 'b', 'q');
  assert.equal(dialogs.length, 1);
  assert.match(dialogs[0].message, /^Cancel 2 running jobs \(a\.py and b\.py\)\?$/);
  assert.deepEqual(dialogs[0].actions, ['Cancel Jobs']);
  assert.deepEqual(calls, [], 'not even the queued one: the answer covered the whole selection');
});

test('Clear Finished and Remove from History ask; dismissed, nothing is removed; setting off, nothing is asked', async () => {
  const { calls, run } = fixture({ f: 'failed', r: 'running' });
  answers = [undefined, undefined];
  await run('trainq.clearFinished');
  await run('trainq.job.remove', 'f');
  assert.deepEqual(dialogs.map((d) => d.message), ['Remove the finished job from the history?', 'Remove f.py from the history?']);
  assert.deepEqual(calls, []);
  stub.setConfiguration({ 'trainq.confirm.clearFinished': false });
  await run('trainq.clearFinished');
  await run('trainq.job.remove', 'f');
  assert.deepEqual([dialogs.length, calls], [2, ['clear', 'remove f']]);
});

test('Delete cancels what has not finished and removes what has, each asked once, each answer kept apart', async () => {
  const { calls, run } = fixture({ q: 'queued', r: 'running', f: 'succeeded' }, ['q', 'r', 'f']);
  answers = ['Cancel Job', undefined];
  await run('trainq.job.delete');
  assert.deepEqual(dialogs.map((d) => d.message), ['Cancel the running job r.py?', 'Remove f.py from the history?']);
  assert.deepEqual(calls, ['cancel q', 'cancel r'], 'the finished job stays: its question was dismissed');
});

test('Delete with no job selected (a group row) does nothing and says nothing', async () => {
  const { calls, run } = fixture({ q: 'queued' }, []);
  await run('trainq.job.delete');
  assert.deepEqual([dialogs.length, calls, stub.messages.length], [0, [], 0]);
});

test("Enter on a row that is not a job does the tree's own Enter; on a job it opens the log", async () => {
  const { calls, run } = fixture({ f: 'failed' }, []);
  await run('trainq.job.openLog', { via: 'keyboard' });
  assert.deepEqual([executed, calls], [['list.select'], []]);
  const selected = fixture({ f: 'failed' }, ['f']);
  await selected.run('trainq.job.openLog', { via: 'keyboard' });
  assert.deepEqual([executed, selected.calls], [['list.select'], ['log f']]);
  // Focus on a job row that lost its selection in a redraw: list.select selects it, and its log opens.
  const focusedOnly: string[] = [];
  const redrawn = fixture({ f: 'failed' }, focusedOnly);
  onExecute = (id) => id === 'list.select' && focusedOnly.push('f');
  await redrawn.run('trainq.job.openLog', { via: 'keyboard' });
  assert.deepEqual(redrawn.calls, ['log f']);
  // Not from the keyboard (the palette, a script): no job is an error, never a silent tree action.
  await assert.rejects(Promise.resolve(fixture({ f: 'failed' }, []).run('trainq.job.openLog')), /Select a job in the Job Queue first/);
});

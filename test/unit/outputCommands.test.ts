// The editor's part of results back (src/ui/outputCommands.ts) against the `vscode` stub and a fake host:
// which job ends copy, that the copy at a job's end never waits for an answer, the follow-up question,
// Download Outputs' dialog, and the output folder setting's refusals. The real copy is tested in
// test/integration/outputs.test.ts, the real workbench in test/e2e/outputs.e2e.test.ts.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { Emitter } from '../../src/core/emitter';
import type { OutputReport, OutputRequest } from '../../src/core/host';
import type { Job } from '../../src/core/job';
import { silentLogger } from '../../src/core/logger';
import type { TrainQConfig } from '../../src/ui/config';
import { makeJob } from '../support/builders';
import { createVscodeStub, installVscodeStub, type VscodeStub } from '../support/vscodeStub';

let stub: VscodeStub;
let uninstall: () => void;
let outputs: typeof import('../../src/ui/outputCommands');

before(async () => {
  stub = createVscodeStub({ packageJsonPath: path.join(__dirname, '..', '..', 'package.json') });
  uninstall = installVscodeStub(stub);
  outputs = await import('../../src/ui/outputCommands');
});
after(() => uninstall());

const config = (over: Partial<TrainQConfig> = {}) => ({ outputsGlobs: ['outputs/**'], outputsFolder: '', outputsMaxBytes: 1024 ** 3, ...over }) as TrainQConfig;
const conflict = { path: 'outputs/model.ckpt', size: 3 };

/** A manager with one remote host whose fetchOutputs records each request and answers with `answer`. */
function fixture(answer: (r: OutputRequest) => Promise<OutputReport>, hostKind: 'ssh' | 'local' = 'ssh') {
  const requests: OutputRequest[] = [];
  const ended = new Emitter<Job>();
  const jobs = new Map<string, Job>();
  const host = { name: 'gpu-a', kind: hostKind, fetchOutputs: async (r: OutputRequest) => (requests.push(r), answer(r)) };
  const manager = {
    canDispatch: true,
    job: (id: string) => jobs.get(id),
    host: (name: string | undefined) => (name === 'gpu-a' ? host : undefined),
    dispatcher: { onDidEndJob: ended.event },
  };
  const end = (over: Partial<Job>) => {
    const job = makeJob({ cwd: '/ws', host: 'gpu-a', state: 'succeeded', startedAt: 1, endedAt: 2, ...over });
    jobs.set(job.id, job);
    ended.fire(job);
    return job;
  };
  return { requests, manager: manager as never, end, setCanDispatch: (v: boolean) => (manager.canDispatch = v) };
}

const settle = () => new Promise((r) => setTimeout(r, 20));
const copied = (over: Partial<Extract<OutputReport, { kind: 'copied' }>> = {}): OutputReport => ({ kind: 'copied', written: [], skipped: [], same: 0, blocked: [], bytes: 0, method: 'rsync', ms: 1, ...over });

test('a remote job that succeeded, failed or was cancelled copies its outputs at the end; lost, local, read-only and pattern-less ones do not', async () => {
  const f = fixture(async () => copied());
  const disposable = outputs.registerOutputCopyBack(f.manager, () => config(), silentLogger);
  for (const state of ['succeeded', 'failed', 'cancelled'] as const) f.end({ state });
  f.end({ state: 'lost' });
  f.end({ state: 'failed', startedAt: undefined });
  f.end({ host: 'local' });
  f.setCanDispatch(false);
  f.end({});
  f.setCanDispatch(true);
  await settle();
  assert.equal(f.requests.length, 3);
  assert.deepEqual(f.requests.map((r) => [r.job.state, r.destDir, r.globs, r.maxSetting]), [
    ['succeeded', '/ws', ['outputs/**'], 'trainq.outputs.maxMiB'],
    ['failed', '/ws', ['outputs/**'], 'trainq.outputs.maxMiB'],
    ['cancelled', '/ws', ['outputs/**'], 'trainq.outputs.maxMiB'],
  ]);
  disposable.dispose();
  const none = fixture(async () => copied());
  outputs.registerOutputCopyBack(none.manager, () => config({ outputsGlobs: [] }), silentLogger);
  none.end({});
  none.end({ outputs: ['*.ckpt'] });
  await settle();
  assert.deepEqual(none.requests.map((r) => r.globs), [['*.ckpt']], "only the job that has patterns of its own");
});

test('at the end, conflicts are answered Skip at once and offered afterwards; Keep Both runs a second copy with that answer', async () => {
  const answers: string[] = [];
  const f = fixture(async (r) => {
    answers.push(await r.resolveConflicts([conflict]));
    return copied({ written: ['outputs/a'], skipped: answers.length === 1 ? [conflict] : [] });
  });
  const window = stub.api.window as { showWarningMessage: (...a: unknown[]) => Promise<unknown> };
  const original = window.showWarningMessage;
  const asked: unknown[][] = [];
  window.showWarningMessage = async (...a: unknown[]) => (asked.push(a), 'Keep Both');
  try {
    outputs.registerOutputCopyBack(f.manager, () => config({ outputsGlobs: ['outputs/**', 'outputs/**'] }), silentLogger);
    f.end({ name: 'train.py', outputs: ['outputs/**', '*.ckpt'] });
    await settle();
    assert.deepEqual(f.requests[0].globs, ['outputs/**', '*.ckpt'], 'the setting and the job, each once');
    assert.deepEqual(answers, ['skip', 'keepBoth']);
    assert.equal(asked.length, 1);
    assert.match(String(asked[0][0]), /outputs of train\.py are back, except what differs from the workspace: outputs\/model\.ckpt/);
    assert.equal(typeof asked[0][1], 'string', 'a notification with buttons, not a modal dialog');
  } finally {
    window.showWarningMessage = original;
  }
});

test('Download Outputs asks in a modal dialog; closing it copies nothing', async () => {
  const f = fixture(async (r) => {
    await r.resolveConflicts([conflict]);
    return copied({ written: ['outputs/model.ckpt'] });
  });
  const window = stub.api.window as { showWarningMessage: (...a: unknown[]) => Promise<unknown> };
  const original = window.showWarningMessage;
  const modal: unknown[] = [];
  try {
    window.showWarningMessage = async (...a: unknown[]) => (modal.push(a[1]), undefined);
    const job = f.end({ state: 'lost' });
    await assert.rejects(outputs.downloadOutputs(f.manager, config(), silentLogger, job.id), (e: Error) => e.constructor.name === 'InputCancelled');
    assert.equal(modal.length, 1, 'asked once');
    assert.equal((modal[0] as { modal?: boolean }).modal, true, 'in a modal dialog: the user asked and waits');
    assert.match((modal[0] as { detail: string }).detail, /Keep Both puts the host's copies beside them/);
    window.showWarningMessage = async () => 'Overwrite';
    await outputs.downloadOutputs(f.manager, config(), silentLogger, job.id);
    assert.match(stub.messages.at(-1) ?? '', /1 output file of train\.py back from gpu-a/);
  } finally {
    window.showWarningMessage = original;
  }
});

test('the output folder must stay inside the job folder', () => {
  const job = makeJob({ cwd: '/ws/proj' });
  assert.equal(outputs.outputFolderOf(job, config({ outputsFolder: 'results/run1' })), '/ws/proj/results/run1');
  assert.equal(outputs.outputFolderOf(job, config({ outputsFolder: '' })), '/ws/proj');
  for (const bad of ['../elsewhere', '/tmp/x', 'a/../../b']) {
    assert.throws(() => outputs.outputFolderOf(job, config({ outputsFolder: bad })), /must be a folder inside the job's folder/, bad);
  }
});

test('a job that ran on this machine has nothing to download, and says so', async () => {
  const f = fixture(async () => copied(), 'local');
  const job = f.end({ host: 'gpu-a' });
  await assert.rejects(outputs.downloadOutputs(f.manager, config(), silentLogger, job.id), /ran on this machine/);
});

test('a second copy of the same job while one runs is refused with a message (they would share a staging folder)', async () => {
  let release = () => undefined as void;
  const gate = new Promise<void>((r) => (release = r));
  const f = fixture(async () => (await gate, copied()));
  const job = f.end({ state: 'failed' });
  const first = outputs.downloadOutputs(f.manager, config(), silentLogger, job.id);
  await assert.rejects(outputs.downloadOutputs(f.manager, config(), silentLogger, job.id), /The outputs of train\.py are being copied already/);
  release();
  await first;
  assert.equal(f.requests.length, 1);
  // Over, the job may be copied again.
  await outputs.downloadOutputs(f.manager, config(), silentLogger, job.id);
  assert.equal(f.requests.length, 2);
});

import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JobStore } from '../../src/core/jobStore';
import { silentLogger, type Logger } from '../../src/core/logger';
import { loadRuntimeModel, observationOf, rebuildModel, runQueryOf } from '../../src/core/runtimeHistory';
import { makeJob } from '../support/builders';

const FIXTURES = path.join(__dirname, '..', 'fixtures');
const QUERY = { script: 'train.py', args: ['--lr', '0.1'], gpus: 1, estimateSec: 7200 };

async function openFixture(t: { after(fn: () => Promise<void>): void }, name: string) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'trainq-history-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  await fs.copyFile(path.join(FIXTURES, name), path.join(dir, 'store.json'));
  return JobStore.open(dir, silentLogger);
}

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { ...silentLogger, warnings, warn: (m: string) => void warnings.push(m) };
}

test('a v2 store (no saved model) loads and predicts from its finished jobs, not from the estimate', async (t) => {
  const { state, notice } = await openFixture(t, 'store-v2.json');
  assert.equal(notice, undefined);
  assert.equal(state.runtimeModel, undefined);
  const { model, rebuilt } = loadRuntimeModel(state, (h) => (h === 'lab-1' ? 1 : undefined), silentLogger);
  assert.equal(rebuilt, true);
  // On the host the three 1,700–1,900 s runs ran on, the prediction is about what they took, not the
  // job's 7,200 s estimate.
  const [there] = model.predictOn(QUERY, [{ name: 'lab-1', declaredSpeed: 1 }]);
  assert.equal(there.scriptRuns, 3);
  assert.ok(Math.abs(there.medianSec / 1800 - 1) < 0.25, `median on lab-1 ${there.medianSec}`);
  // The base time (speed 1.0) is below the estimate too; how far depends on how much of the gap the
  // model puts on lab-1's speed (one host cannot tell a fast host from a pessimistic estimate).
  const p = model.predictBase(QUERY);
  assert.ok(p.medianSec < 0.8 * 7200, `base median ${p.medianSec}`);
  assert.ok(p.p80Sec >= p.medianSec);
});

test('the v1 fixture still loads and gives a model from its history', async (t) => {
  const { state } = await openFixture(t, 'store-v1.json');
  const { model } = loadRuntimeModel(state, () => undefined, silentLogger);
  assert.equal(model.predictBase({ script: 'train_resnet.py', args: ['--epochs', '90', '--lr', '0.1'], gpus: 4 }).runs, 1);
});

test('a saved model is used as saved; a damaged one is dropped with a notice and rebuilt from the jobs', async (t) => {
  const { state } = await openFixture(t, 'store-v2.json');
  const saved = rebuildModel(state.jobs, () => 1).toState();
  const fromSaved = loadRuntimeModel({ ...state, runtimeModel: saved }, () => 1, silentLogger);
  assert.equal(fromSaved.rebuilt, false);
  assert.deepEqual(fromSaved.model.predictBase(QUERY), rebuildModel(state.jobs, () => 1).predictBase(QUERY));

  const logger = recordingLogger();
  const damaged = { ...saved, spreads: 'broken' } as unknown as typeof saved;
  const rebuilt = loadRuntimeModel({ ...state, runtimeModel: damaged }, () => 1, logger);
  assert.equal(logger.warnings.length, 1);
  assert.match(logger.warnings[0], /rebuilt from the finished jobs/);
  assert.equal(rebuilt.rebuilt, true);
  assert.equal(rebuilt.model.predictBase(QUERY).runs, 3);
});

test('an ended job is censored unless it succeeded; one that never started tells the model nothing', () => {
  const ran = { startedAt: 10_000, endedAt: 70_000, host: 'lab-2', script: '/ws/sub/train.py', cwd: '/ws' };
  const ok = observationOf(makeJob({ ...ran, state: 'succeeded' }), () => 1.5);
  assert.deepEqual(
    ok && { script: ok.script, runSec: ok.runSec, censored: ok.censored, declaredSpeed: ok.declaredSpeed },
    { script: path.join('sub', 'train.py'), runSec: 60, censored: false, declaredSpeed: 1.5 },
  );
  assert.equal(observationOf(makeJob({ ...ran, state: 'cancelled' }), () => undefined)?.censored, true);
  assert.equal(observationOf(makeJob({ ...ran, state: 'lost' }), () => undefined)?.declaredSpeed, 1, 'an unknown host counts as speed 1');
  assert.equal(observationOf(makeJob({ state: 'failed', endedAt: 5 }), () => 1), undefined);
  assert.equal(runQueryOf(makeJob({ script: '/elsewhere/x.py', cwd: '/ws' })).script, '/elsewhere/x.py');
});

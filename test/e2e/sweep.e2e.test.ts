// End-to-end: a sweep of 6 trials of a fixture script in the real VS Code. Queue Sweep on the open script
// finds its train_sweep.sweep.json (grid over 6 learning rates, 2 at a time, median early stopping); the
// trials appear under the sweep in the Job Queue with their metrics updating live; the worst learning
// rate is stopped early; the window is reloaded mid-sweep and the sweep goes on to all 6 trials; Queue
// Best Configuration queues the best trial's arguments as a plain job. Screenshots in test-output/e2e/.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { outputDir } from './codeServer';
import {
  openFileByPath,
  reloadWindow,
  resizeSideBar,
  runCommand,
  runContextAction,
  screenshot,
  treeRow,
  treeRows,
  waitForStatusBarText,
  waitForTreeRow,
  withScreenshotOnFailure,
} from './workbench';
import { useWorkbenchSession } from './session';
import type { Frame, Page } from 'playwright-core';

/** The sweep panel's inner frame: the one whose document holds the trials table. */
async function sweepFrame(page: Page, timeoutMs = 30_000): Promise<Frame> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const frame of page.frames()) {
      if (await frame.locator('[data-testid="sweep-trials"]').count().catch(() => 0)) return frame;
    }
    await page.waitForTimeout(250);
  }
  throw new Error('the sweep panel did not appear');
}

const JOB_QUEUE = 'Job Queue';
const SCRIPT = 'train_sweep.py';
// val_acc rises with log10(lr) towards lr = 0.1 and is far behind for 1e-5. The grid runs the values in
// order, two at a time: trials 1-2 (lr 0.001, 0.01) finish, then trial 3 (1e-5) is behind their median
// and stopped early while trials 4-6 are not (each is above the median of those before it).
const TRAIN = `# trainq: gpus=0 runtime=5m
import argparse, math, time
p = argparse.ArgumentParser()
p.add_argument('--lr', type=float)
p.add_argument('--epochs', type=int, default=8)
a = p.parse_args()
quality = 1 - abs(math.log10(a.lr) + 1) / 5
for epoch in range(1, a.epochs + 1):
    time.sleep(0.6)
    print(f"trainq:metric val_acc={quality * (1 - 0.5 / epoch):.4f} step={epoch}", flush=True)
`;
const DEFINITION = {
  script: SCRIPT,
  name: 'lr grid',
  args: ['--epochs', '8'],
  parameters: { lr: { type: 'choice', values: [0.001, 0.01, 0.00001, 0.03, 0.1, 0.3] } },
  metric: 'val_acc',
  goal: 'max',
  budget: { trials: 6 },
  parallel: 2,
  earlyStopping: { rule: 'median', graceSteps: 2, minTrials: 2 },
  strategy: 'grid',
  gpus: 0,
};

fs.mkdirSync(outputDir, { recursive: true });

describe('a sweep in the Job Queue: live metrics, early stopping, reload, best configuration', { timeout: 420_000 }, () => {
  const session = useWorkbenchSession({
    openJobQueue: true,
    server: { settings: { 'trainq.local.maxJobs': 2 } },
    prepare: (workspace) => {
      fs.writeFileSync(path.join(workspace, SCRIPT), TRAIN);
      fs.writeFileSync(path.join(workspace, 'train_sweep.sweep.json'), `${JSON.stringify(DEFINITION, null, 2)}\n`);
    },
  });
  const page = () => session().page;
  const trials = async () => (await treeRows(page(), JOB_QUEUE)).filter((r) => /^trial \d+ · train_sweep\.py$/.test(r.label));

  it('queues the trials under the sweep and shows their metrics while they run', async () => {
    await withScreenshotOnFailure(page(), 'sweep-start', async () => {
      await resizeSideBar(page(), 650);
      await openFileByPath(page(), SCRIPT);
      await runCommand(page(), 'TrainQ: Queue Sweep…');
      await waitForTreeRow(page(), JOB_QUEUE, (r) => r.label === 'lr grid' && /trials/.test(r.description), 'the sweep node');
      const live = await waitForTreeRow(
        page(),
        JOB_QUEUE,
        (r) => /^trial \d+ · /.test(r.label) && r.description.startsWith('running') && /val_acc \d/.test(r.description),
        'a running trial with its val_acc',
        60_000,
      );
      console.log(`live trial: ${live.label} — ${live.description}`);
      // The sweep's panel opened beside the queue.
      await page().locator('.part.editor .tab', { hasText: 'Sweep: lr grid' }).first().waitFor({ timeout: 30_000 });
      await screenshot(page(), 'sweep-running');
    });
  });

  it('stops the worst trial early, goes on after a window reload mid-sweep and finishes all 6', async () => {
    await withScreenshotOnFailure(page(), 'sweep-reload', async () => {
      await waitForTreeRow(page(), JOB_QUEUE, (r) => r.label === 'trial 3 · train_sweep.py' && r.description.startsWith('stopped early'), 'trial 3 stopped early', 90_000);
      await screenshot(page(), 'sweep-stopped-early');
      const before = (await trials()).length;
      assert.ok(before < 6, `the reload comes mid-sweep (${before} trials so far)`);
      await reloadWindow(page());
      await waitForTreeRow(page(), JOB_QUEUE, (r) => r.label === 'lr grid' && /^finished/.test(r.description), 'the sweep finished', 180_000);
      const rows = await trials();
      console.log(`trials before the reload: ${before}; after: ${rows.map((r) => `${r.label}: ${r.description.split(' · ')[0]}`).join('; ')}`);
      assert.equal(rows.length, 6, 'six trials');
      const stopped = rows.filter((r) => r.description.startsWith('stopped early'));
      assert.deepEqual(
        stopped.map((r) => r.label),
        ['trial 3 · train_sweep.py'],
        'only the lr = 1e-5 trial was stopped early',
      );
      assert.equal(rows.filter((r) => r.description.startsWith('succeeded')).length, 5);
      const sweep = (await treeRows(page(), JOB_QUEUE)).find((r) => r.label === 'lr grid')!;
      assert.match(sweep.description, /6\/6 trials · best val_acc 0\.9375 \(trial 5\)/);
      await screenshot(page(), 'sweep-finished');
      // The panel (reopened from the sweep node after the reload) draws the six trials and its charts.
      await runContextAction(page(), treeRow(page(), JOB_QUEUE, 'lr grid'), 'Show Sweep');
      const frame = await sweepFrame(page());
      const deadline = Date.now() + 30_000;
      while ((await frame.locator('[data-testid="sweep-trials"] tbody tr').count()) < 6 && Date.now() < deadline) await page().waitForTimeout(250);
      assert.equal(await frame.locator('[data-testid="sweep-trials"] tbody tr').count(), 6, 'six rows in the trials table');
      assert.equal(await frame.locator('[data-testid="sweep-curves"] svg').count(), 1, 'the learning curves are drawn');
      assert.equal(await frame.locator('[data-testid="sweep-best"] svg').count(), 1, 'the best-so-far curve is drawn');
      await screenshot(page(), 'sweep-panel');
    });
  });

  it('queues the best configuration as a plain job with the best trial\'s arguments', async () => {
    await withScreenshotOnFailure(page(), 'sweep-best', async () => {
      await runContextAction(page(), treeRow(page(), JOB_QUEUE, 'lr grid'), 'Queue Best Configuration');
      const message = await waitForStatusBarText(page(), /queued trial 5's configuration/);
      assert.match(message, /--epochs 8 --lr 0\.1\b/);
      await waitForTreeRow(page(), JOB_QUEUE, (r) => r.label === SCRIPT, 'the plain job', 30_000);
    });
  });
});

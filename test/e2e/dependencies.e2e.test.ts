// End-to-end: job dependencies (issue 16, item 1) in a real VS Code (code-server). A is queued and
// holds until the test releases it; B is queued with "Run after…" A (after-ok) behind the queue
// input's Options… button. B shows what it waits for, also after a window reload; when A succeeds,
// B runs. Then C is dragged onto F in the Job Queue to wait for it; F fails, and C ends
// "dependency failed" and never runs.
// Screenshot: test-output/e2e/dependencies.png (copied to docs/screenshots/dependencies.png).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { outputDir, repoRoot } from './codeServer';
import { useWorkbenchSession } from './session';
import {
  acceptPrefilledSteps,
  chooseQuickPick,
  chooseQuickPickPath,
  hoverTextMatching,
  openViewContainer,
  queueScript,
  reloadWindow,
  resizeSideBar,
  runCommand,
  screenshot,
  stateOf,
  treeRow,
  treeRows,
  waitForTreeRow,
  withScreenshotOnFailure,
} from './workbench';

const JOB_QUEUE = 'Job Queue';
const A = 'train_prepare.py';
const B = 'train_after.py';
const F = 'train_broken.py';
const C = 'train_never.py';

/** Holds until `release_<name>` exists in the workspace, then exits 0 if it says "ok", else 1. */
const holding = (name: string) =>
  `# trainq: gpus=0 runtime=1m\nimport os, sys, time\nwhile not os.path.exists('release_${name}'):\n    time.sleep(0.2)\nprint('released', flush=True)\nsys.exit(0 if open('release_${name}').read().strip() == 'ok' else 1)\n`;
const marking = (name: string) => `# trainq: gpus=0 runtime=1m\nopen('ran_${name}', 'w').write('ran')\nprint('${name} ran', flush=True)\n`;

fs.mkdirSync(outputDir, { recursive: true });

/** Queues `script` with Run after… `dependency` (checked in the multi-select) in `mode`, all else as prefilled. */
async function queueAfter(page: Page, script: string, dependency: string, mode: 'When they succeed' | 'When they end'): Promise<void> {
  await runCommand(page, 'TrainQ: Queue Training Script…');
  await chooseQuickPickPath(page, script);
  await page.locator('.quick-input-widget .codicon-settings-gear').first().click();
  await chooseQuickPick(page, 'Run after…');
  const row = page.locator('.quick-input-widget .quick-input-list .monaco-list-row').filter({ has: page.locator('.label-name', { hasText: dependency }) });
  await row.first().waitFor({ state: 'visible' });
  await row.first().click();
  await page.locator('.quick-input-widget .quick-input-box input').press('Enter');
  await chooseQuickPick(page, mode);
  // Back in the Options… menu, which now says what the job waits for.
  const summary = page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: 'Run after…' });
  assert.match(await summary.first().innerText(), /waits for 1 job \((after-ok|after)\)/);
  await chooseQuickPick(page, 'Done');
  await acceptPrefilledSteps(page);
}

const rowOf = async (page: Page, label: string) => (await treeRows(page, JOB_QUEUE)).find((r) => r.label === label);

describe('job dependencies: Run after…, drag and drop, waiting, dependency failed, a reload', { timeout: 300_000 }, () => {
  const session = useWorkbenchSession({
    openJobQueue: true,
    prepare: (workspace) => {
      fs.writeFileSync(path.join(workspace, A), holding('a'));
      fs.writeFileSync(path.join(workspace, B), marking('b'));
      fs.writeFileSync(path.join(workspace, F), holding('f'));
      fs.writeFileSync(path.join(workspace, C), marking('c'));
    },
  });
  const page = () => session().page;
  const workspace = () => session().workspace;

  it('B waits for A (also after a reload), runs when A succeeds; C dragged onto F ends dependency failed when F fails', async () => {
    await withScreenshotOnFailure(page(), 'dependencies', async () => {
      const started = Date.now();
      await resizeSideBar(page(), 620);
      await queueScript(page(), A);
      await waitForTreeRow(page(), JOB_QUEUE, (r) => r.label === A && stateOf(r.description) === 'running', `${A} running`);

      await queueAfter(page(), B, A, 'When they succeed');
      const waiting = await waitForTreeRow(page(), JOB_QUEUE, (r) => r.label === B && /^queued · waits for train_prepare\.py/.test(r.description), `${B} waiting for ${A}`);
      console.log(`waiting row: "${waiting.description}"`);
      const tip = await hoverTextMatching(page(), treeRow(page(), JOB_QUEUE, B, 'queued'), /Runs after/);
      assert.match(tip, /Runs after: train_prepare\.py \(running\), when it succeeds/);
      await page().mouse.move(700, 450);
      await screenshot(page(), 'dependencies');
      fs.mkdirSync(path.join(repoRoot, 'docs', 'screenshots'), { recursive: true });
      fs.copyFileSync(path.join(outputDir, 'dependencies.png'), path.join(repoRoot, 'docs', 'screenshots', 'dependencies.png'));

      // A reload keeps the dependency: B still waits, A is followed again.
      await reloadWindow(page());
      await openViewContainer(page(), 'TrainQ', JOB_QUEUE);
      await waitForTreeRow(page(), JOB_QUEUE, (r) => r.label === B && /^queued · waits for train_prepare\.py/.test(r.description), `${B} still waiting after the reload`);
      assert.equal(stateOf((await rowOf(page(), A))?.description ?? ''), 'running');
      assert.ok(!fs.existsSync(path.join(workspace(), 'ran_b')), 'B has not run');

      fs.writeFileSync(path.join(workspace(), 'release_a'), 'ok');
      await waitForTreeRow(page(), JOB_QUEUE, (r) => r.label === B && stateOf(r.description) === 'succeeded', `${B} succeeded after ${A}`);
      assert.equal(stateOf((await rowOf(page(), A))?.description ?? ''), 'succeeded');
      assert.ok(fs.existsSync(path.join(workspace(), 'ran_b')), 'B ran');

      // A failing dependency, set by dragging C onto F in the Job Queue (dispatching paused so both are
      // queued): C is marked, says which one, and never runs.
      await runCommand(page(), 'TrainQ: Pause Dispatching');
      await queueScript(page(), F);
      await queueScript(page(), C);
      await waitForTreeRow(page(), JOB_QUEUE, (r) => r.label === C && stateOf(r.description) === 'queued', `${C} queued`);
      await treeRow(page(), JOB_QUEUE, C, 'queued').dragTo(treeRow(page(), JOB_QUEUE, F, 'queued'));
      await chooseQuickPick(page(), `Run after ${F} succeeds`);
      await runCommand(page(), 'TrainQ: Resume Dispatching');
      await waitForTreeRow(page(), JOB_QUEUE, (r) => r.label === F && stateOf(r.description) === 'running', `${F} running`);
      await waitForTreeRow(page(), JOB_QUEUE, (r) => r.label === C && /^queued · waits for train_broken\.py/.test(r.description), `${C} waiting`);
      fs.writeFileSync(path.join(workspace(), 'release_f'), 'fail');
      const failed = await waitForTreeRow(page(), JOB_QUEUE, (r) => r.label === C && r.description.startsWith('dependency failed'), `${C} dependency failed`);
      console.log(`dependency-failed row: "${failed.description}"`);
      assert.equal(failed.description, 'dependency failed · train_broken.py ended failed');
      assert.equal(stateOf((await rowOf(page(), F))?.description ?? ''), 'failed');
      const failedTip = await hoverTextMatching(page(), treeRow(page(), JOB_QUEUE, C, 'dependency failed'), /Reason: Dependency failed/);
      assert.match(failedTip, /Reason: Dependency failed: train_broken\.py ended failed\./);
      assert.ok(!fs.existsSync(path.join(workspace(), 'ran_c')), 'C never ran');
      await page().mouse.move(700, 450);
      await screenshot(page(), 'dependencies-failed');
      console.log(`done after ${Math.round((Date.now() - started) / 1000)} s`);
    });
  });
});

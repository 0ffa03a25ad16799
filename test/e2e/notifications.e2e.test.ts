// End-to-end: notifications when jobs end, and the GPU idle warning (issue 16, item 6), in a real VS Code.
// A CPU script that exits with code 3 raises an error notification with Open Log and Re-run; Re-run
// queues it again (a new job, which fails too), Open Log opens the log. Meanwhile a GPU job runs on the
// fixture nvidia-smi with every GPU at 0 % (TRAINQ_FAKE_GPU_UTIL=0) and, with trainq.gpuIdle.warnMinutes
// at 1, its Job Queue row turns to a warning ("GPU idle 1 min") and one notification says so.
// Screenshots: test-output/e2e/notification.png (copied to docs/screenshots/) and gpu-idle.png.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { outputDir } from './codeServer';
import {
  hoverText,
  queueScript,
  resizeSideBar,
  screenshot,
  stateOf,
  treeRow,
  treeRows,
  waitForEditorText,
  waitForNotification,
  waitForTreeRow,
  withScreenshotOnFailure,
} from './workbench';
import { useWorkbenchSession } from './session';

const JOB_QUEUE = 'Job Queue';
const FAIL = 'train_fail.py';
const IDLE = 'train_idle.py';
const FAILED_NOTICE = new RegExp(`^TrainQ: ${FAIL.replace('.', '\\.')} failed with exit code 3 on local after \\d+:\\d\\d\\.`);

fs.mkdirSync(outputDir, { recursive: true });

/** The toast whose message matches, once it has slid in. */
async function toast(page: Page, pattern: RegExp): Promise<Locator> {
  await waitForNotification(page, pattern, 60_000);
  const item = page.locator('.notifications-toasts .notification-toast').filter({ has: page.locator('.notification-list-item-message', { hasText: pattern }) }).last();
  await item.waitFor({ state: 'visible' });
  return item;
}

async function buttonsOf(item: Locator): Promise<string[]> {
  return (await item.locator('.notification-list-item-buttons-container .monaco-button').allInnerTexts()).map((t) => t.trim());
}

describe('notifications: a failed job, Re-run, and the GPU idle warning', { timeout: 300_000 }, () => {
  const session = useWorkbenchSession({
    openJobQueue: true,
    server: {
      // Two fake GPUs that never work; probes every 2 s so the idle minute is watched without gaps.
      env: { TRAINQ_FAKE_GPUS: '2', TRAINQ_FAKE_GPU_UTIL: '0' },
      settings: { 'trainq.statusBar.pollSeconds': 2, 'trainq.gpuIdle.warnMinutes': 1 },
    },
    prepare: (workspace) => {
      fs.writeFileSync(path.join(workspace, FAIL), "# trainq: gpus=0 runtime=1m\nimport sys, time\ntime.sleep(1)\nprint('about to fail', flush=True)\nsys.exit(3)\n");
      fs.writeFileSync(path.join(workspace, IDLE), "# trainq: gpus=1 runtime=30m\nimport time\nprint('loading forever', flush=True)\ntime.sleep(150)\n");
    },
  });
  const page = () => session().page;

  it('tells a failure with Open Log and Re-run, re-runs it as a new job, and marks a GPU job idle after a minute', async () => {
    await withScreenshotOnFailure(page(), 'notification', async () => {
      const started = Date.now();
      await resizeSideBar(page(), 620);
      await queueScript(page(), IDLE);
      await waitForTreeRow(page(), JOB_QUEUE, (r) => r.label === IDLE && stateOf(r.description) === 'running', `${IDLE} running`);

      await queueScript(page(), FAIL);
      const first = await toast(page(), FAILED_NOTICE);
      assert.deepEqual(await buttonsOf(first), ['Open Log', 'Re-run']);
      // The failure is an error notification.
      assert.equal(await first.locator('.codicon-error').count(), 1, 'shown as an error');
      await first.getByRole('button', { name: 'Re-run' }).click();
      // A new job: two rows of the script now, the second queued again by Re-run.
      const deadline = Date.now() + 30_000;
      let rows = await treeRows(page(), JOB_QUEUE);
      while (rows.filter((r) => r.label === FAIL).length < 2 && Date.now() < deadline) {
        await page().waitForTimeout(250);
        rows = await treeRows(page(), JOB_QUEUE);
      }
      assert.equal(rows.filter((r) => r.label === FAIL).length, 2, `Re-run queued a second job: ${JSON.stringify(rows)}`);

      // It fails too: its notice comes at least the minimum gap after the first; Open Log opens its log.
      const second = await toast(page(), FAILED_NOTICE);
      await second.getByRole('button', { name: 'Open Log' }).click();
      const log = await waitForEditorText(page(), /about to fail/);
      assert.match(log, /about to fail/);

      // The GPU job has shown 0 % for a minute of probes: its row warns, and one notification says so.
      const idleRow = await waitForTreeRow(page(), JOB_QUEUE, (r) => r.label === IDLE && /GPU idle 1 min/.test(r.description), `${IDLE} marked idle`, 90_000);
      console.log(`idle row after ${Math.round((Date.now() - started) / 1000)} s: "${idleRow.description}"`);
      assert.match(idleRow.description, /^running · local · GPU \d · \d+:\d\d · .*GPU idle 1 min/);
      assert.equal(await treeRow(page(), JOB_QUEUE, IDLE).locator('.codicon-warning').count(), 1, 'a warning icon');
      const idleNotice = await toast(page(), /^TrainQ: The GPUs of train_idle\.py \(local, GPU \d\) have shown 0 % for 1 min\./);
      assert.deepEqual(await buttonsOf(idleNotice), ['Open Log', 'Show Job Queue']);
      // A running row redraws every second (its clock): a hover may need a few tries on a busy machine.
      const tip = await hoverText(page(), treeRow(page(), JOB_QUEUE, IDLE), 40_000);
      assert.match(tip, /Warning: GPU idle 1 min/);
      await page().mouse.move(700, 450);
      await screenshot(page(), 'gpu-idle');

      // The picture for the README: a fresh failure's notification beside the idle job's row.
      await queueScript(page(), FAIL);
      const third = await toast(page(), FAILED_NOTICE);
      await third.locator('.notification-list-item-message').hover();
      await page().mouse.move(700, 450);
      await screenshot(page(), 'notification');
      console.log(`done after ${Math.round((Date.now() - started) / 1000)} s`);
    });
  });
});

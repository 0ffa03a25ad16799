// End-to-end: TrainQ learns run times from finished jobs. A short CPU script runs three times on the local
// host; the fourth time the queue input's runtime step is prefilled from that history and says so
// ("usually … on local, 3 runs"), and, queued behind a long job that holds the only local slot, the
// fourth job's Job Queue line gives its ETA ("starts ~HH:MM on local · ends ~HH:MM"). Screenshots land in
// test-output/e2e/.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { outputDir } from './codeServer';
import {
  answerInput,
  chooseQuickPickPath,
  notificationTexts,
  quickInputMessage,
  quickInputStep,
  resizeSideBar,
  runCommand,
  screenshot,
  stateOf,
  treeRows,
  queueScript,
  waitForTreeRow,
  withScreenshotOnFailure,
} from './workbench';
import { useWorkbenchSession } from './session';
import type { Page } from 'playwright-core';

const JOB_QUEUE = 'Job Queue';
const SHORT = 'train_eta.py';
const HOLD = 'train_hold.py';
const LOCAL = 'local';

fs.mkdirSync(outputDir, { recursive: true });

/** Waits for the Finished group to count `n` jobs; fails at once, with its text, on a TrainQ error toast. */
async function waitForFinished(page: Page, n: number, timeoutMs = 200_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let rows: string[] = [];
  while (Date.now() < deadline) {
    const all = await treeRows(page, JOB_QUEUE);
    rows = all.map((r) => `${r.label} ${r.description}`);
    if (all.some((r) => r.label === 'Finished' && new RegExp(`^${n}\\b`).test(r.description))) return;
    const error = (await notificationTexts(page)).find((t) => /^TrainQ:/.test(t));
    if (error !== undefined) throw new Error(`queueing run ${n} failed: "${error}"; Job Queue: ${JSON.stringify(rows)}`);
    await page.waitForTimeout(250);
  }
  throw new Error(`timed out waiting for ${n} finished jobs; Job Queue: ${JSON.stringify(rows)}`);
}

describe('TEMP 120s variant: run-time history: the runtime prefill and the Job Queue ETAs', { timeout: 900_000 }, () => {
  const session = useWorkbenchSession({
    openJobQueue: true,
    // One local slot, so a long job keeps the fourth run queued (a paused queue plans no starts).
    server: { settings: { 'trainq.local.maxJobs': 1 } },
    prepare: (workspace) => {
      fs.writeFileSync(path.join(workspace, SHORT), "# trainq: gpus=0 runtime=10m\nimport time\ntime.sleep(120)\nprint('eta: done', flush=True)\n");
      fs.writeFileSync(path.join(workspace, HOLD), "# trainq: gpus=0 runtime=30m\nimport time\ntime.sleep(600)\n");
    },
  });
  const page = () => session().page;

  it('prefills the runtime from three finished runs and shows the queued job\'s ETA', async () => {
    await withScreenshotOnFailure(page(), 'tmp120-eta', async () => {
      await resizeSideBar(page(), 650);
      for (let n = 1; n <= 3; n++) {
        await queueScript(page(), SHORT);
        await waitForFinished(page(), n);
      }
      const finished = (await treeRows(page(), JOB_QUEUE)).filter((r) => r.label === SHORT).map((r) => stateOf(r.description));
      assert.deepEqual(finished, ['succeeded', 'succeeded', 'succeeded'], 'the three runs succeeded');

      // The long job takes the only local slot.
      await queueScript(page(), HOLD);
      await waitForTreeRow(page(), JOB_QUEUE, (r) => r.label === HOLD && stateOf(r.description) === 'running', `${HOLD} running`);

      // The fourth time: arguments, GPUs, importance and expected gain as prefilled, then the runtime step.
      await runCommand(page(), 'TrainQ: Queue Training Script…');
      await chooseQuickPickPath(page(), SHORT);
      for (let k = 1; k <= 4; k++) {
        assert.equal(await quickInputStep(page()), `(${k}/5)`);
        await answerInput(page());
      }
      assert.equal(await quickInputStep(page()), '(5/5)', 'on the runtime step');
      const box = page().locator('.quick-input-widget .quick-input-box input');
      const value = await box.inputValue();
      const prompt = await quickInputMessage(page());
      console.log(`runtime step: value "${value}", prompt "${prompt}"`);
      // Three ~3 s runs: the minute floor, not the header's 10m.
      assert.match(value, /^[12]m$/, 'the runtime is prefilled from the history, not the header');
      assert.match(prompt, new RegExp(`usually [12]m on ${LOCAL}, 3 runs`), 'the prompt names the history');
      await screenshot(page(), 'tmp120-eta-prefill');
      await answerInput(page());

      const queued = await waitForTreeRow(
        page(),
        JOB_QUEUE,
        (r) => r.label === SHORT && stateOf(r.description) === 'queued' && /starts ~/.test(r.description),
        `${SHORT} queued with an ETA`,
        30_000,
      );
      console.log(`queued job: "${queued.description}"`);
      assert.match(queued.description, new RegExp(`starts ~(\\S+ )*\\d\\d:\\d\\d on ${LOCAL} · ends ~(\\S+ )*\\d\\d:\\d\\d`));
      const hold = (await treeRows(page(), JOB_QUEUE)).find((r) => r.label === HOLD);
      console.log(`running job: "${hold?.description}"`);
      assert.match(hold?.description ?? '', /ends ~(\S+ )*\d\d:\d\d · \d+ %/, 'the running job shows its end and progress');
      await page().mouse.move(700, 450);
      await screenshot(page(), 'tmp120-eta-queue');
    });
  });
});

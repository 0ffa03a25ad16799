// End-to-end: Edit and Re-run, and the per-job environment (issue 16, items 2 and 4), in a real VS Code.
// A script is queued with an argument and, behind the Options… button, an environment variable whose
// value is `$(whoami) "q"`: the job prints it literally. Edit and Re-run on the finished job, with a
// changed argument, runs a new job with it (the variable carried over). Edit… on a queued job changes
// its arguments in place: no new row, and the job runs with the new ones.
// Screenshots: test-output/e2e/edit-rerun.png and job-options.png (copied to docs/screenshots/).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { outputDir } from './codeServer';
import {
  acceptPrefilledSteps,
  answerInput,
  chooseQuickPick,
  chooseQuickPickPath,
  hoverText,
  quickInputState,
  resizeSideBar,
  runCommand,
  runContextAction,
  screenshot,
  stateOf,
  treeRow,
  treeRows,
  waitForEditorText,
  withScreenshotOnFailure,
} from './workbench';
import { useWorkbenchSession } from './session';

const JOB_QUEUE = 'Job Queue';
const SCRIPT = 'train_echo.py';
const HOSTILE = '$(whoami) "q"';

fs.mkdirSync(outputDir, { recursive: true });

/** The rows of the script, newest first as the queue lists finished jobs. */
async function scriptRows(page: Page) {
  return (await treeRows(page, JOB_QUEUE)).filter((r) => r.label === SCRIPT);
}

async function waitForRows(page: Page, count: number, state: string, what: string): Promise<void> {
  const deadline = Date.now() + 40_000;
  let rows = await scriptRows(page);
  while (Date.now() < deadline && rows.filter((r) => stateOf(r.description) === state).length < count) {
    await page.waitForTimeout(250);
    rows = await scriptRows(page);
  }
  assert.ok(rows.filter((r) => stateOf(r.description) === state).length >= count, `${what}: ${JSON.stringify(rows)}`);
}

/** Waits for the quick input to show a title|message|placeholder|value matching `pattern` (the input opens asynchronously). */
async function waitForInput(page: Page, pattern: RegExp): Promise<void> {
  const deadline = Date.now() + 15_000;
  let state = await quickInputState(page);
  while (!pattern.test(state ?? '') && Date.now() < deadline) {
    await page.waitForTimeout(100);
    state = await quickInputState(page);
  }
  assert.match(state ?? '', pattern);
}

/** Opens the log of the newest finished row (the queue lists finished jobs newest first) once it shows `expected`. */
async function newestLog(page: Page, expected: RegExp): Promise<string> {
  await runContextAction(page, treeRow(page, JOB_QUEUE, SCRIPT, 'succeeded'), 'Open Log');
  const log = await waitForEditorText(page, expected);
  assert.match(log, /MSG=/);
  return log;
}

describe('Edit and Re-run, and a literal per-job environment', { timeout: 240_000 }, () => {
  const session = useWorkbenchSession({
    openJobQueue: true,
    prepare: (workspace) => {
      fs.writeFileSync(
        path.join(workspace, SCRIPT),
        "# trainq: gpus=0 runtime=1m\nimport os, sys\nprint('ARGS ' + ' '.join(sys.argv[1:]), flush=True)\nprint('MSG=' + os.environ.get('MSG', '<unset>'), flush=True)\n",
      );
    },
  });
  const page = () => session().page;

  it('queues with an environment variable, re-runs a finished job with a changed argument, edits a queued one in place', async () => {
    await withScreenshotOnFailure(page(), 'edit-rerun', async () => {
      const started = Date.now();
      await resizeSideBar(page(), 560);

      // Queue: the argument on step 1, then the Options… button for the environment, then the rest as prefilled.
      await runCommand(page(), 'TrainQ: Queue Training Script…');
      await chooseQuickPickPath(page(), SCRIPT);
      await page().locator('.quick-input-widget .quick-input-box input').fill('--lr 0.1');
      await page().locator('.quick-input-widget .codicon-settings-gear').first().click();
      await chooseQuickPick(page(), 'Environment variables…');
      await answerInput(page(), `MSG='${HOSTILE}'`);
      await waitForInput(page(), /Options for this job/);
      const menu = await page().locator('.quick-input-widget .monaco-list-row').allInnerTexts();
      assert.ok(menu.some((row) => row.includes(`MSG=${HOSTILE}`)), `the menu shows the value as typed (no $(…) icon): ${JSON.stringify(menu)}`);
      await screenshot(page(), 'job-options');
      await chooseQuickPick(page(), 'Done');
      await waitForInput(page(), /\(1\/5\).*\|--lr 0\.1$/); // back on step 1, the typed argument kept
      await acceptPrefilledSteps(page());
      await waitForRows(page(), 1, 'succeeded', 'the first job ran');
      let log = await newestLog(page(), /ARGS --lr 0\.1/);
      assert.ok(log.includes(`MSG=${HOSTILE}`), `the value reached the script literally:\n${log}`);
      const tip = await hoverText(page(), treeRow(page(), JOB_QUEUE, SCRIPT, 'succeeded'));
      assert.ok(tip.includes('MSG=') && tip.includes('whoami'), `the tooltip shows the environment: ${tip}`);
      await page().mouse.move(700, 450);

      // Edit and Re-run the finished job: prefilled with its spec; a changed argument; a new job runs with it.
      await runContextAction(page(), treeRow(page(), JOB_QUEUE, SCRIPT, 'succeeded'), 'Edit and Re-run…');
      await waitForInput(page(), /^Re-run train_echo\.py with changes.*\|--lr 0\.1$/); // prefilled with the job
      await page().locator('.quick-input-widget .quick-input-box input').fill('--lr 0.5');
      await screenshot(page(), 'edit-rerun');
      await acceptPrefilledSteps(page());
      await waitForRows(page(), 2, 'succeeded', 'the re-run ran');
      log = await newestLog(page(), /ARGS --lr 0\.5/);
      assert.ok(log.includes(`MSG=${HOSTILE}`), 'the environment carried over');

      // Edit a queued job in place: it keeps its row (no new job) and runs with the new arguments.
      await runCommand(page(), 'TrainQ: Pause Dispatching');
      await runCommand(page(), 'TrainQ: Queue Training Script…');
      await chooseQuickPickPath(page(), SCRIPT);
      await acceptPrefilledSteps(page());
      await waitForRows(page(), 1, 'queued', 'a queued job');
      await runContextAction(page(), treeRow(page(), JOB_QUEUE, SCRIPT, 'queued'), 'Edit…');
      await waitForInput(page(), /^Edit train_echo\.py \(queued job.*\|--lr 0\.1$/);
      await answerInput(page(), '--lr 0.9');
      await acceptPrefilledSteps(page());
      assert.equal((await scriptRows(page())).length, 3, 'edited in place: still three rows');
      await runCommand(page(), 'TrainQ: Resume Dispatching');
      await waitForRows(page(), 3, 'succeeded', 'the edited job ran');
      log = await newestLog(page(), /ARGS --lr 0\.9/);
      console.log(`done after ${Math.round((Date.now() - started) / 1000)} s`);
    });
  });
});

// End-to-end: VS Code conventions of issue 16 (item 7) in a real VS Code (code-server), trusted workspace.
// The editor-title ▷ on .py and .sh files of a remote (vscode-remote) workspace; the Cancel confirmation
// (its Cancel keeps the job running, its Cancel Job stops it); Enter and Delete in the Job Queue; the Agent
// Dashboard restored by a window reload. The untrusted welcome view is in trust.e2e.test.ts.
// Screenshots land in test-output/e2e/.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import type { Frame, Locator, Page } from 'playwright-core';
import { outputDir } from './codeServer';
import { useWorkbenchSession } from './session';
import {
  openFileByPath,
  queueScript,
  reloadWindow,
  openViewContainer,
  runCommand,
  runContextAction,
  screenshot,
  stateOf,
  treeRow,
  treeRows,
  waitForEditorText,
  waitForTreeRow,
  withScreenshotOnFailure,
} from './workbench';

const JOB_QUEUE = 'Job Queue';
const LONG = 'train_long.sh';

fs.mkdirSync(outputDir, { recursive: true });

const dialog = (page: Page) => page.locator('.monaco-dialog-box');

/** The open modal dialog's message, once it is showing. */
async function dialogMessage(page: Page): Promise<string> {
  await dialog(page).waitFor({ state: 'visible' });
  return (await dialog(page).locator('.dialog-message-text').innerText()).replace(/\s+/g, ' ').trim();
}

/**
 * Runs a context action that must open a modal dialog, and returns the dialog's message. A running
 * row redraws every second (its clock); on a busy machine that can close the context menu under the
 * keyboard, so a menu that closed without running anything is opened again (at most three times).
 */
async function contextActionDialog(page: Page, row: Locator, action: string): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    await runContextAction(page, row, action);
    const shown = await dialog(page).waitFor({ state: 'visible', timeout: 10_000 }).then(() => true, () => false);
    if (shown || attempt === 3) {
      return dialogMessage(page);
    }
  }
}

/** Presses the dialog's button labelled exactly `label` and waits for the dialog to close. */
async function answerDialog(page: Page, label: string): Promise<void> {
  const buttons = dialog(page).locator('.dialog-buttons .monaco-button');
  const labels = (await buttons.allInnerTexts()).map((t) => t.trim());
  const index = labels.indexOf(label);
  assert.ok(index >= 0, `no dialog button "${label}"; shown: ${JSON.stringify(labels)}`);
  await buttons.nth(index).click();
  await dialog(page).waitFor({ state: 'hidden' });
}

/** The Agent Dashboard's webview frame (the one that holds the decisions table). */
async function dashboardFrame(page: Page, timeoutMs: number): Promise<Frame> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const frame of page.frames()) {
      if (await frame.locator('[data-testid="decisions"]').count().catch(() => 0)) return frame;
    }
    await page.waitForTimeout(250);
  }
  throw new Error(`the Agent Dashboard webview did not appear within ${timeoutMs} ms`);
}

describe('VS Code conventions', { timeout: 300_000 }, () => {
  const session = useWorkbenchSession({
    openJobQueue: true,
    prepare: (workspace) =>
      fs.writeFileSync(
        path.join(workspace, 'scripts', LONG),
        '#!/usr/bin/env bash\n# trainq: gpus=0 runtime=10m\necho "long: starting"\nfor i in $(seq 1 600); do echo "long step $i"; sleep 1; done\n',
        { mode: 0o755 },
      ),
  });
  const page = () => session().page;
  const row = (state: string) => treeRow(page(), JOB_QUEUE, LONG, state);
  /** Clicks a row until the tree shows it selected (a redraw between click and key press drops the selection). */
  const select = async (state: string) => {
    const deadline = Date.now() + 10_000;
    do {
      await row(state).click();
      await page().waitForTimeout(200);
      if ((await row(state).getAttribute('aria-selected')) === 'true') return;
    } while (Date.now() < deadline);
    throw new Error(`the ${state} ${LONG} row never showed selected`);
  };

  it('shows ▷ Queue Current File on .py and .sh editors of the remote workspace, not on other files', async () => {
    await withScreenshotOnFailure(page(), 'conventions-play', async () => {
      const play = page().locator('.part.editor .editor-actions .action-label[aria-label^="Queue Current File"]');
      // code-server's files have the vscode-remote scheme: the old clause (`… || .sh && resourceScheme == file`) hid ▷ on .sh here.
      for (const file of ['scripts/train_tiny.sh', 'train_mnist.py']) {
        await openFileByPath(page(), file);
        await play.first().waitFor({ state: 'visible' });
      }
      await screenshot(page(), 'conventions-editor-play');
      await openFileByPath(page(), 'README.md');
      await page().waitForTimeout(500);
      assert.equal(await play.count(), 0, 'no ▷ on a Markdown file');
      await runCommand(page(), 'View: Close All Editors');
    });
  });

  it("asks before cancelling a running job; the dialog's Cancel keeps it running, Cancel Job stops it", async () => {
    await withScreenshotOnFailure(page(), 'conventions-cancel', async () => {
      await queueScript(page(), `scripts/${LONG}`);
      await waitForTreeRow(page(), JOB_QUEUE, (r) => r.label === LONG && stateOf(r.description) === 'running', `${LONG} running`);

      assert.match(await contextActionDialog(page(), row('running'), 'Cancel'), new RegExp(`^Cancel the running job ${LONG}\\?$`));
      await screenshot(page(), 'conventions-cancel-dialog');
      await answerDialog(page(), 'Cancel');
      // Long enough for a cancel to have landed (the job would show "cancelled" within a poll).
      await page().waitForTimeout(3_000);
      const rows = (await treeRows(page(), JOB_QUEUE)).filter((r) => r.label === LONG);
      assert.deepEqual(rows.map((r) => stateOf(r.description)), ['running'], "the dialog's Cancel changed nothing");

      await contextActionDialog(page(), row('running'), 'Cancel');
      await answerDialog(page(), 'Cancel Job');
      await waitForTreeRow(page(), JOB_QUEUE, (r) => r.label === LONG && stateOf(r.description) === 'cancelled', `${LONG} cancelled`);
    });
  });

  it('Enter on a job opens its log; Delete on a finished job asks, then removes it', async () => {
    await withScreenshotOnFailure(page(), 'conventions-keys', async () => {
      await select('cancelled');
      await page().keyboard.press('Enter');
      await waitForEditorText(page(), /long: starting/);

      await select('cancelled');
      await page().keyboard.press('Delete');
      assert.match(await dialogMessage(page()), new RegExp(`^Remove ${LONG} from the history\\?$`));
      await screenshot(page(), 'conventions-delete-dialog');
      await answerDialog(page(), 'Cancel');
      assert.equal(await row('cancelled').count(), 1, "the dialog's Cancel kept the job");

      await select('cancelled');
      await page().keyboard.press('Delete');
      await dialogMessage(page());
      await answerDialog(page(), 'Remove');
      const deadline = Date.now() + 15_000;
      while ((await treeRows(page(), JOB_QUEUE)).some((r) => r.label === LONG)) {
        assert.ok(Date.now() < deadline, 'the job was not removed');
        await page().waitForTimeout(250);
      }
      await runCommand(page(), 'View: Close All Editors');
    });
  });

  it('restores an open Agent Dashboard after a window reload', async () => {
    await withScreenshotOnFailure(page(), 'conventions-dashboard', async () => {
      await runCommand(page(), 'TrainQ: Show Agent Dashboard');
      await dashboardFrame(page(), 30_000);
      await reloadWindow(page());
      // No command this time: the panel comes back from the serializer and fills itself (it posts `ready`).
      const frame = await dashboardFrame(page(), 90_000);
      // The header's placement is filled from the snapshot the extension sends: the revived panel is wired up.
      const placement = frame.locator('[data-testid="header-placement"]');
      const deadline = Date.now() + 30_000;
      while (!(await placement.getAttribute('data-value').catch(() => null))) {
        assert.ok(Date.now() < deadline, 'the restored dashboard never got a snapshot');
        await page().waitForTimeout(250);
      }
      const tabs = await page().locator('.part.editor .tab .label-name').allInnerTexts();
      assert.deepEqual(tabs.filter((t) => t.includes('TrainQ Agent')).length, 1, `one dashboard tab: ${JSON.stringify(tabs)}`);
      await screenshot(page(), 'conventions-dashboard-restored');
      await openViewContainer(page(), 'TrainQ', JOB_QUEUE);
    });
  });
});

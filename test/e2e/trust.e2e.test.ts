// End-to-end: TrainQ in an untrusted workspace (workspace trust on, the folder never trusted), driven
// like a user. The queue stays visible, and its welcome view says why nothing runs, with a button to
// manage trust; the commands that would run the workspace's code are not offered (palette, title bar,
// editor ▷, context menus: their when clauses need isWorkspaceTrusted), and the one that stays offered
// (Resume Dispatching) refuses with a reason; no job process ever starts. Screenshots land in test-output/e2e/.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import type { CodeServer } from './codeServer';
import {
  clearNotifications,
  closeQuickInput,
  openFileByPath,
  openViewContainer,
  quickInputState,
  reloadWindow,
  runCommand,
  screenshot,
  treeRow,
  treeRows,
  viewPane,
  waitForNotification,
  waitForStatusBarText,
  waitForTreeRow,
  waitForWorkbench,
  withScreenshotOnFailure,
} from './workbench';
import { useWorkbenchSession, type WorkbenchSession } from './session';

const JOB_QUEUE = 'Job Queue';
const SEEDED_JOB_ID = 'e2e-seeded-failed-job';
const INTERPRETER_RAN = 'interpreter-ran';

/** code-server with workspace trust on, on a fresh copy of the fixture workspace that is never trusted. */
function useUntrustedWorkbench(): () => WorkbenchSession {
  return useWorkbenchSession({
    // trainq.python is a restricted setting: VS Code ignores the workspace's value until it is trusted.
    // The interpreter it names leaves a marker if anything ever starts it.
    prepare: (workspace) => {
      fs.writeFileSync(path.join(workspace, 'fake-python'), `#!/bin/sh\ntouch "$(dirname "$0")/${INTERPRETER_RAN}"\n`, { mode: 0o755 });
      fs.mkdirSync(path.join(workspace, '.vscode'));
      fs.writeFileSync(
        path.join(workspace, '.vscode', 'settings.json'),
        JSON.stringify({ 'trainq.python': '${workspaceFolder}/fake-python' }),
      );
    },
    // startupPrompt stays "never" (the harness default): the folder opens in Restricted Mode without the
    // modal, as it does for a user who closed the prompt without trusting the authors.
    server: { workspaceTrust: 'enabled' },
  });
}

/** TrainQ's folder in the instance's workspace storage; undefined until the extension has written there. */
function trainqStorage(server: CodeServer): string | undefined {
  const root = path.join(server.userDataDir, 'User', 'workspaceStorage');
  if (!fs.existsSync(root)) return undefined;
  return fs
    .readdirSync(root)
    .map((id) => path.join(root, id, 'trainq.trainq'))
    .find((dir) => fs.existsSync(dir));
}

/** Every file under TrainQ's jobs/ folder (job logs, exit codes, pgids): none may exist here. */
function jobFilesWritten(server: CodeServer): string[] {
  const storage = trainqStorage(server);
  const jobs = storage && path.join(storage, 'jobs');
  if (!jobs || !fs.existsSync(jobs)) return [];
  return fs.readdirSync(jobs, { recursive: true }).map(String);
}

/** The TrainQ commands the palette offers now. */
/**
 * The palette's TrainQ commands matching `filter`. Narrow filters: the list is virtual, so with a broad
 * one a command below the fold is not in the page at all (found when sweeps added their commands).
 */
async function paletteTrainqCommands(page: Page, filter = 'TrainQ:'): Promise<string[]> {
  await closeQuickInput(page);
  await page.keyboard.press('F1');
  const box = page.locator('.quick-input-widget .quick-input-box input');
  await box.waitFor({ state: 'visible' });
  await box.fill(`>${filter}`);
  const rows = page.locator('.quick-input-widget .quick-input-list .monaco-list-row .label-name');
  // The list filters as typed; give it a moment to settle on the final filter. No row at all is an answer
  // too (with the run commands hidden, a filter may match nothing).
  await rows
    .first()
    .waitFor({ state: 'visible', timeout: 3_000 })
    .catch(() => undefined);
  await page.waitForTimeout(500);
  const titles = (await rows.allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
  await closeQuickInput(page);
  return titles;
}

/**
 * Closes the Workspace Trust editor, which this VS Code opens as a modal editor over the workbench: Escape,
 * else its close button, else a page reload (a modal left open would swallow every later key press).
 */
async function closeTrustEditor(page: Page, trustEditor: ReturnType<Page['getByText']>): Promise<void> {
  const gone = () => trustEditor.waitFor({ state: 'hidden', timeout: 3_000 }).then(() => true, () => false);
  await page.keyboard.press('Escape');
  if (await gone()) return;
  const close = page.locator('.action-label.codicon-close:visible, .action-label.codicon-close-dirty:visible').first();
  if (await close.isVisible().catch(() => false)) {
    await close.click();
    if (await gone()) return;
  }
  console.log('# the Workspace Trust editor closed neither on Escape nor on its close button: reloading the page');
  await page.reload();
  await waitForWorkbench(page);
  await trustEditor.waitFor({ state: 'hidden' });
}

/** The labels of a tree row's context menu, read and closed again. */
async function contextMenuLabels(page: Page, row: ReturnType<typeof treeRow>): Promise<string[]> {
  await row.click({ button: 'right' });
  const labels = page.locator('.context-view .monaco-menu .action-item .action-label');
  await labels.first().waitFor({ state: 'visible' });
  const texts = (await labels.allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim()).filter((t) => t !== '');
  await page.keyboard.press('Escape');
  await page.locator('.context-view .monaco-menu').first().waitFor({ state: 'hidden' });
  return texts;
}

/** The labels of the actions in the Job Queue's title bar (shown on hover). */
async function queueTitleActions(page: Page): Promise<string[]> {
  const header = viewPane(page, JOB_QUEUE).locator('.pane-header');
  await header.hover();
  const actions = header.locator('.actions .action-label');
  await actions.first().waitFor({ state: 'visible' });
  return (await actions.evaluateAll((els) => els.map((e) => (e as unknown as { getAttribute(n: string): string | null }).getAttribute('aria-label') ?? ''))).filter((l) => l !== '');
}

/** Asserts a refusal notification, that no quick input (script pick or job step) opened, and clears it. */
async function expectRefusal(page: Page, action: RegExp, screenshotName?: string): Promise<string> {
  const message = await waitForNotification(page, action);
  assert.match(message, /untrusted workspace/);
  assert.match(message, /would run the workspace's code/);
  assert.equal(await quickInputState(page), null, 'no quick input opens after a refusal');
  if (screenshotName) {
    // The toast slides in; the picture waits until it has.
    await page
      .locator('.notification-toast.notification-fade-in-done')
      .first()
      .waitFor({ state: 'visible', timeout: 5_000 })
      .catch(() => undefined);
    await screenshot(page, screenshotName);
  }
  await clearNotifications(page);
  // Nothing opens once the refusal is answered either.
  await page.waitForTimeout(1_000);
  assert.equal(await quickInputState(page), null, 'no quick input opens after the refusal is dismissed');
  return message;
}

describe('TrainQ in an untrusted workspace', { timeout: 600_000 }, () => {
  const session = useUntrustedWorkbench();
  const page = () => session().page;

  it('opens in Restricted Mode and still shows the TrainQ container and the Job Queue', async () => {
    await withScreenshotOnFailure(page(), 'untrusted-visible', async () => {
      // Proof that the workspace really is untrusted: the workbench's own Restricted Mode indicator.
      await waitForStatusBarText(page(), /Restricted Mode/, 90_000);
      await openViewContainer(page(), 'TrainQ', JOB_QUEUE);
      await viewPane(page(), 'Hosts').waitFor({ state: 'visible' });
      const pane = viewPane(page(), JOB_QUEUE);
      // The empty queue shows the untrusted welcome view (not the one with a Queue button), with its trust button.
      await pane.getByText(/This workspace is not trusted, so TrainQ runs none of its scripts: queueing/).waitFor({ state: 'visible' });
      const manage = pane.locator('.welcome-view-content .monaco-button', { hasText: 'Manage Workspace Trust' });
      await manage.waitFor({ state: 'visible' });
      assert.equal(await pane.locator('.welcome-view-content .monaco-button', { hasText: 'Queue Training Script' }).count(), 0, 'no Queue button');
      await waitForStatusBarText(page(), /0 running · 0 queued/);
      await screenshot(page(), 'untrusted-queue-visible');
      // The button opens VS Code's Workspace Trust editor (a modal editor in this VS Code); closed again
      // without trusting anything.
      await manage.click();
      const trustEditor = page().getByText('You are in Restricted Mode');
      await trustEditor.waitFor({ state: 'visible' });
      await screenshot(page(), 'untrusted-manage-trust');
      await closeTrustEditor(page(), trustEditor);
      await waitForStatusBarText(page(), /Restricted Mode/);
      await openViewContainer(page(), 'TrainQ', JOB_QUEUE);
    });
  });

  it('offers no command that runs code: not in the palette, not in the title bar, not in the editor', async () => {
    await withScreenshotOnFailure(page(), 'untrusted-hidden', async () => {
      const offered = await paletteTrainqCommands(page(), 'TrainQ: Queue');
      for (const title of ['TrainQ: Queue Training Script…', 'TrainQ: Queue Current File', 'TrainQ: Queue Sweep…']) {
        assert.ok(!offered.includes(title), `${title} is not in the palette: ${JSON.stringify(offered)}`);
      }
      const actions = await queueTitleActions(page());
      assert.ok(actions.includes('Clear Finished Jobs'), `the title bar is there: ${JSON.stringify(actions)}`);
      assert.ok(!actions.includes('Queue Training Script…'), `no Queue button in the title bar: ${JSON.stringify(actions)}`);
      await openFileByPath(page(), 'train_mnist.py');
      const play = page().locator('.part.editor .editor-actions .action-label[aria-label^="Queue Current File"]');
      assert.equal(await play.count(), 0, 'no ▷ in the editor title');
      assert.ok(!(await paletteTrainqCommands(page(), 'TrainQ: Queue')).includes('TrainQ: Queue Current File'), 'not offered for an open .py either');
      await screenshot(page(), 'untrusted-no-run-commands');
      assert.deepEqual(await treeRows(page(), JOB_QUEUE), [], 'nothing was queued');
    });
  });

  it('refuses TrainQ: Resume Dispatching, which the palette offers once dispatching is paused', async () => {
    await withScreenshotOnFailure(page(), 'untrusted-resume', async () => {
      // Resume is hidden while not paused (when clause trainq.paused); pausing runs nothing, so it is allowed.
      assert.ok(!(await paletteTrainqCommands(page(), 'TrainQ: Re')).includes('TrainQ: Resume Dispatching'), 'Resume is hidden while not paused');
      await runCommand(page(), 'TrainQ: Pause Dispatching');
      const deadline = Date.now() + 30_000;
      while (!(await paletteTrainqCommands(page(), 'TrainQ: Re')).includes('TrainQ: Resume Dispatching')) {
        assert.ok(Date.now() < deadline, 'Resume Dispatching never appeared in the palette after pausing');
        await page().waitForTimeout(500);
      }
      await runCommand(page(), 'TrainQ: Resume Dispatching');
      await expectRefusal(page(), /TrainQ cannot start jobs in an untrusted workspace/, 'untrusted-refusal-resume');
      // Still paused: the refusal changed nothing, so Resume is still what the palette offers.
      assert.ok((await paletteTrainqCommands(page(), 'TrainQ: Re')).includes('TrainQ: Resume Dispatching'), 'still paused after the refusal');
    });
  });

  it("offers no Retry on a finished job, in the Job Queue's context menu or the palette", async () => {
    await withScreenshotOnFailure(page(), 'untrusted-retry', async () => {
      const { server, workspace } = session();
      // The queue cannot be filled here (that is the point), so a finished job is written into the store as
      // an earlier trusted session would have left it, and the window reloads to read it.
      const storage = trainqStorage(server);
      assert.ok(storage, "pausing saved TrainQ's store in the workspace storage");
      const storeFile = path.join(storage, 'store.json');
      const envelope = JSON.parse(fs.readFileSync(storeFile, 'utf8'));
      const script = path.join(workspace, 'train_mnist.py');
      const now = Date.now();
      envelope.state.jobs.push({
        id: SEEDED_JOB_ID,
        name: 'train_mnist.py',
        script,
        args: [],
        cwd: workspace,
        gpus: 1,
        importance: 'high',
        runtimeSec: 300,
        priority: 'high',
        priorityReason: 'written by the e2e test',
        priorityOverridden: false,
        state: 'failed',
        createdAt: now - 60_000,
        startedAt: now - 50_000,
        endedAt: now - 40_000,
        host: 'local',
        gpuIndices: [0],
        exitCode: 1,
      });
      envelope.savedAt = now;
      fs.writeFileSync(storeFile, JSON.stringify(envelope, null, 2));
      await reloadWindow(page());
      await openViewContainer(page(), 'TrainQ', JOB_QUEUE);
      await waitForTreeRow(
        page(),
        JOB_QUEUE,
        (r) => r.label === 'train_mnist.py' && r.description.startsWith('failed'),
        'the seeded failed job',
      );
      assert.ok(!(await paletteTrainqCommands(page(), 'TrainQ: Re')).includes('TrainQ: Retry'), 'Retry is not in the palette');

      const menu = await contextMenuLabels(page(), treeRow(page(), JOB_QUEUE, 'train_mnist.py', 'failed'));
      assert.ok(menu.includes('Open Log') && menu.includes('Remove from History'), `the menu is there: ${JSON.stringify(menu)}`);
      assert.ok(!menu.includes('Retry'), `no Retry in the context menu: ${JSON.stringify(menu)}`);
      const inline = treeRow(page(), JOB_QUEUE, 'train_mnist.py', 'failed').locator('.actions .action-label[aria-label="Retry"]');
      assert.equal(await inline.count(), 0, 'no inline Retry button');
      const jobs = (await treeRows(page(), JOB_QUEUE)).filter((r) => r.level > 1);
      assert.deepEqual(
        jobs.map((r) => `${r.label} ${r.description.split(/\s/)[0]}`),
        ['train_mnist.py failed'],
        'the retry queued nothing',
      );
    });
  });

  it('never started a job process', async () => {
    await withScreenshotOnFailure(page(), 'untrusted-nothing-ran', async () => {
      const { server } = session();
      assert.deepEqual(jobFilesWritten(server), [], "TrainQ's jobs/ folder holds no job files");
      assert.ok(!fs.existsSync(path.join(session().workspace, INTERPRETER_RAN)), "the workspace's interpreter never ran");
      const rows = await treeRows(page(), JOB_QUEUE);
      assert.ok(
        !rows.some((r) => r.description.startsWith('running') || r.description.startsWith('queued')),
        `no running or queued job: ${JSON.stringify(rows)}`,
      );
      await waitForStatusBarText(page(), /0 running · 0 queued/);
      // The queue keeps saying why.
      await viewPane(page(), JOB_QUEUE)
        .getByText('This workspace is not trusted, so TrainQ runs none of its scripts.')
        .waitFor({ state: 'visible' });
      await screenshot(page(), 'untrusted-nothing-ran');
    });
  });
});

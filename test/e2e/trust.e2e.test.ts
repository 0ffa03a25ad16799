// End-to-end: TrainQ in an untrusted workspace (workspace trust on, the folder never trusted), driven
// like a user. The queue stays visible; every command that would run the workspace's code refuses with
// a reason, whether it is reached from the palette, the view's welcome button or a context menu; and no
// job process ever starts. Screenshots land in test-output/e2e/.
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
  runContextAction,
  screenshot,
  treeRow,
  treeRows,
  viewPane,
  waitForNotification,
  waitForStatusBarText,
  waitForTreeRow,
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
  await rows.first().waitFor({ state: 'visible' });
  // The list filters as typed; give it a moment to settle on the final filter.
  await page.waitForTimeout(500);
  const titles = (await rows.allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
  await closeQuickInput(page);
  return titles;
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
      await pane.getByText('This workspace is not trusted, so TrainQ runs none of its scripts.').waitFor({ state: 'visible' });
      await waitForStatusBarText(page(), /0 running · 0 queued/);
      await screenshot(page(), 'untrusted-queue-visible');
    });
  });

  it('refuses TrainQ: Queue Training Script… from the palette, with the reason, and offers no script', async () => {
    await withScreenshotOnFailure(page(), 'untrusted-queue-script', async () => {
      await runCommand(page(), 'TrainQ: Queue Training Script…');
      await expectRefusal(page(), /TrainQ cannot queue a training script in an untrusted workspace/, 'untrusted-refusal');
      assert.deepEqual(await treeRows(page(), JOB_QUEUE), [], 'nothing was queued');
    });
  });

  it("refuses the same from the Job Queue's title-bar button", async () => {
    await withScreenshotOnFailure(page(), 'untrusted-title-button', async () => {
      const header = viewPane(page(), JOB_QUEUE).locator('.pane-header');
      await header.hover();
      await header.locator('.action-label[aria-label="Queue Training Script…"]').click();
      await expectRefusal(page(), /TrainQ cannot queue a training script in an untrusted workspace/);
    });
  });

  it('refuses TrainQ: Queue Current File on an open train_mnist.py', async () => {
    await withScreenshotOnFailure(page(), 'untrusted-queue-file', async () => {
      await openFileByPath(page(), 'train_mnist.py');
      // The palette offers the command for a .py editor; the handler, not a when clause, refuses.
      assert.ok((await paletteTrainqCommands(page(), 'TrainQ: Queue')).includes('TrainQ: Queue Current File'), 'Queue Current File is in the palette');
      await runCommand(page(), 'TrainQ: Queue Current File');
      await expectRefusal(page(), /TrainQ cannot queue a training script in an untrusted workspace/, 'untrusted-refusal-queue-file');
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

  it("refuses Retry on a finished job from the Job Queue's context menu (the palette hides Retry)", async () => {
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

      await runContextAction(page(), treeRow(page(), JOB_QUEUE, 'train_mnist.py', 'failed'), 'Retry');
      await expectRefusal(page(), /TrainQ cannot retry a job in an untrusted workspace/, 'untrusted-refusal-retry');
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

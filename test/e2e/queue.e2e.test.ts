// End-to-end: TrainQ installed from its VSIX into a real VS Code (code-server), driven through Chromium
// like a user: queue both fixture scripts from the command palette, watch them run, read a log, reload.
// Screenshots, the server's log, the editor's logs and the browser console land in test-output/e2e/.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { describe, it } from 'node:test';
import { outputDir } from './codeServer';
import {
  activeEditorText,
  openViewContainer,
  reloadWindow,
  runCommand,
  runContextAction,
  screenshot,
  stateOf,
  statusBarItem,
  treeRow,
  treeRows,
  viewPane,
  waitForEditorText,
  waitForStatusBarText,
  waitForTreeRow,
  queueScript,
  trainqLog,
  withScreenshotOnFailure,
} from './workbench';
import { useWorkbenchSession } from './session';

const JOB_QUEUE = 'Job Queue';
const SCRIPTS = [
  { pick: 'train_mnist.py', label: 'train_mnist.py' },
  { pick: 'scripts/train_tiny.sh', label: 'train_tiny.sh' },
];
const TERMINAL = new Set(['succeeded', 'failed', 'cancelled', 'lost']);

// The npm script empties test-output/e2e once before all suites; suites only add to it.
fs.mkdirSync(outputDir, { recursive: true });

describe('code-server harness', { timeout: 240_000 }, () => {
  const session = useWorkbenchSession({ trainq: false });
  const page = () => session().page;

  it('serves the workbench with the fixture workspace open', async () => {
    await withScreenshotOnFailure(page(), 'harness', async () => {
      const explorerRow = page().locator('.explorer-folders-view .monaco-list-row[aria-label="train_mnist.py"]');
      await explorerRow.waitFor({ state: 'visible', timeout: 60_000 });
      await screenshot(page(), 'harness-workbench');
    });
  });
});

describe('TrainQ in code-server', { timeout: 600_000 }, () => {
  // Hosts are polled rarely here: each poll refreshes the Job Queue, and the suite below shows that a
  // context-menu action landing in a refresh can get lost; this scenario is about everything else.
  const session = useWorkbenchSession();
  const page = () => session().page;

  it('activates and shows the Job Queue, the Hosts view and the status-bar item', async () => {
    await withScreenshotOnFailure(page(), 'activation', async () => {
      await openViewContainer(page(), 'TrainQ', JOB_QUEUE);
      await viewPane(page(), 'Hosts').waitFor({ state: 'visible' });
      // The fake nvidia-smi's four GPUs, under the local host.
      await waitForTreeRow(page(), 'Hosts', (r) => /A100/.test(`${r.label} ${r.description}`), 'a fake A100 GPU');
      await waitForStatusBarText(page(), /0 running · 0 queued/);
      await screenshot(page(), 'trainq-empty-queue');
    });
  });

  it('queues both scripts through the command palette', async () => {
    await withScreenshotOnFailure(page(), 'queue', async () => {
      // Paused, the jobs stay queued long enough to be seen queued.
      await runCommand(page(), 'TrainQ: Pause Dispatching');
      for (const script of SCRIPTS) {
        await queueScript(page(), script.pick);
        await waitForTreeRow(
          page(),
          JOB_QUEUE,
          (r) => r.label === script.label && stateOf(r.description) === 'queued',
          `${script.label} queued`,
        );
      }
      await waitForStatusBarText(page(), /0 running · 2 queued/);
      assert.match(await viewPane(page(), JOB_QUEUE).innerText(), /Dispatching is paused\./, 'the paused queue says so');
      await screenshot(page(), 'queue-with-jobs');
    });
  });

  it('runs them: queued → running → succeeded, with the status bar counting along', async () => {
    await withScreenshotOnFailure(page(), 'run', async () => {
      // Each script runs 2–3 s; polling every 100 ms records every state each job shows, starting with
      // the state they had while dispatching was paused.
      const seen = new Map<string, string[]>(SCRIPTS.map((s) => [s.label, []]));
      const lastDescription = new Map<string, string>();
      for (const row of await treeRows(page(), JOB_QUEUE)) seen.get(row.label)?.push(stateOf(row.description));
      await runCommand(page(), 'TrainQ: Resume Dispatching');
      const statusTexts = new Set<string>();
      let screenshotTaken = false;
      const deadline = Date.now() + 120_000;
      while (Date.now() < deadline) {
        for (const row of await treeRows(page(), JOB_QUEUE)) {
          const states = seen.get(row.label);
          if (!states) continue;
          const state = stateOf(row.description);
          if (states.at(-1) !== state) states.push(state);
          lastDescription.set(row.label, row.description);
        }
        statusTexts.add(
          (
            await statusBarItem(page(), /running ·/)
              .innerText()
              .catch(() => '')
          )
            .replace(/\s+/g, ' ')
            .trim(),
        );
        // The workbench applies a view's message a few hundred ms after its rows; wait for both in the picture.
        const paneText = await viewPane(page(), JOB_QUEUE)
          .innerText()
          .catch(() => '');
        if (!screenshotTaken && !/Dispatching is paused/.test(paneText) && [...seen.values()].some((s) => s.at(-1) === 'running')) {
          screenshotTaken = true;
          await screenshot(page(), 'jobs-running');
        }
        if ([...seen.values()].every((s) => TERMINAL.has(s.at(-1) ?? ''))) break;
        await page().waitForTimeout(100);
      }
      assert.doesNotMatch(await viewPane(page(), JOB_QUEUE).innerText(), /Dispatching is paused/, 'the notice goes once resumed');
      for (const [label, states] of seen) {
        const detail = `${label} went through ${states.join(' → ')}; last shown as "${lastDescription.get(label)}"`;
        assert.deepEqual(states, ['queued', 'running', 'succeeded'], detail);
      }
      assert.ok(
        [...statusTexts].some((t) => /[12] running/.test(t)),
        `the status bar never counted a running job: ${[...statusTexts].join(' | ')}`,
      );
      await waitForStatusBarText(page(), /0 running · 0 queued/);
      await screenshot(page(), 'jobs-succeeded');
    });
  });

  it('placed them with the DQN agent, training on WASM in its worker', async () => {
    const log = trainqLog(session().server.userDataDir);
    assert.match(log, /Agent backend: wasm \(.*dist\); setting was 'auto'\./, 'the bundled WASM kernels load in the worker');
    assert.match(log, /Placement agent ready \(shipped weights/);
    assert.doesNotMatch(log, /could not load its weights|did not start|does not learn/);
    // Both jobs started after the agent was ready, so the agent chose their host.
    const ready = log.indexOf('Placement agent ready');
    for (const script of SCRIPTS) {
      assert.ok(log.indexOf(`Started ${script.label}`) > ready, `${script.label} started after the agent was ready`);
    }
  });

  it('focuses the Job Queue when the status-bar item is clicked', async () => {
    await withScreenshotOnFailure(page(), 'status-click', async () => {
      await runCommand(page(), 'View: Show Explorer');
      await viewPane(page(), JOB_QUEUE).waitFor({ state: 'hidden' });
      await statusBarItem(page(), /running ·/).click();
      await viewPane(page(), JOB_QUEUE).waitFor({ state: 'visible' });
    });
  });

  it("opens a finished job's log as a read-only editor with the script's output", async () => {
    await withScreenshotOnFailure(page(), 'log', async () => {
      await runContextAction(page(), treeRow(page(), JOB_QUEUE, 'train_mnist.py', 'succeeded'), 'Open Log');
      const text = await waitForEditorText(page(), /epoch 5 loss/);
      assert.match(text, /CUDA_VISIBLE_DEVICES=\d/, 'the job was given a (fake) GPU');
      assert.match(text, /epoch 1 loss[\s\S]*epoch 5 loss/);
      await screenshot(page(), 'log-editor');
      // Typing into a read-only editor changes nothing.
      await page().locator('.part.editor .editor-group-container.active .monaco-editor .view-lines').first().click();
      await page().keyboard.type('typed-into-the-log');
      await page().waitForTimeout(500);
      assert.doesNotMatch(await activeEditorText(page()), /typed-into-the-log/);
    });
  });

  it('keeps the queue across a window reload', async () => {
    await withScreenshotOnFailure(page(), 'reload', async () => {
      await reloadWindow(page());
      await openViewContainer(page(), 'TrainQ', JOB_QUEUE);
      for (const script of SCRIPTS) {
        await waitForTreeRow(
          page(),
          JOB_QUEUE,
          (r) => r.label === script.label && stateOf(r.description) === 'succeeded',
          `${script.label} succeeded after the reload`,
        );
      }
      await waitForStatusBarText(page(), /0 running · 0 queued/);
      await screenshot(page(), 'after-reload');
    });
  });

  it('dispatches from the reloaded window', async () => {
    // The old window's extension host must have let go of the queue (the dispatch lock) for this to run.
    await withScreenshotOnFailure(page(), 'after-reload-run', async () => {
      await queueScript(page(), 'scripts/train_tiny.sh');
      await waitForTreeRow(page(), JOB_QUEUE, (r) => r.label === 'Finished' && /^3\b/.test(r.description), 'three finished jobs', 90_000);
      const tiny = (await treeRows(page(), JOB_QUEUE)).filter((r) => r.label === 'train_tiny.sh').map((r) => stateOf(r.description));
      assert.deepEqual(tiny, ['succeeded', 'succeeded']);
    });
  });
});

describe('Job Queue context menu while hosts are polled every second', { timeout: 300_000 }, () => {
  // Hosts are probed every second while the menu is used: those polls must not redraw the Job Queue
  // under the menu, so every Open Log opens the log. (A redraw does follow a job's own state change;
  // VS Code drops a menu's element for the ~0.3 s that takes, so the loop starts once the job's end
  // has been drawn and settled, and the command then says "Select a job" rather than nothing.)
  const session = useWorkbenchSession({ server: { settings: { 'trainq.statusBar.pollSeconds': 1 } } });
  const page = () => session().page;

  it('opens the log every time', async () => {
    await withScreenshotOnFailure(page(), 'menu-during-refresh', async () => {
      await openViewContainer(page(), 'TrainQ', JOB_QUEUE);
      await queueScript(page(), 'scripts/train_tiny.sh');
      await waitForTreeRow(
        page(),
        JOB_QUEUE,
        (r) => r.label === 'train_tiny.sh' && stateOf(r.description) === 'succeeded',
        'train_tiny.sh succeeded',
      );
      await page().waitForTimeout(1500);
      const attempts = 8;
      let opened = 0;
      for (let i = 0; i < attempts; i++) {
        await runContextAction(page(), treeRow(page(), JOB_QUEUE, 'train_tiny.sh', 'succeeded'), 'Open Log');
        const tab = page().locator('.part.editor .tab.active .label-name', { hasText: 'train_tiny.sh' });
        if (
          await tab
            .first()
            .waitFor({ timeout: 10_000 })
            .then(
              () => true,
              () => false,
            )
        )
          opened++;
        await runCommand(page(), 'View: Close All Editors');
        await page().locator('.part.editor .tab').first().waitFor({ state: 'hidden' });
      }
      assert.equal(opened, attempts, `Open Log opened the log ${opened} times out of ${attempts}`);
    });
  });
});

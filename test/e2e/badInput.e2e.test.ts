// End-to-end: bad input through the real UI gets a clear message and changes nothing. Out-of-range GPU
// counts, unbalanced quotes and a NUL character are refused in the input itself (a NUL in a script's
// header is ignored rather than prefilled); a script named ..name.sh is inside the workspace and runs; a
// missing interpreter fails the job with the reason and leaves the queue working; a script deleted under
// the pick or the editor, and a file outside the workspace, are refused; an unreadable log says so;
// arguments with quotes, spaces, $(…) and ; reach the script literally. Screenshots land in test-output/e2e/.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import type { CodeServer } from './codeServer';
import {
  acceptPrefilledSteps,
  answerInput,
  chooseQuickPickPath,
  clearNotifications,
  closeQuickInput,
  hoverText,
  openFileByPath,
  quickInputMessage,
  quickInputState,
  quickInputStep,
  runCommand,
  runContextAction,
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
const MISSING_PYTHON = 'python9-does-not-exist';
const PWNED = '/tmp/trainq-e2e-pwned';

/** The jobs the Job Queue shows, as "name state". */
async function jobsShown(page: Page): Promise<string[]> {
  return (await treeRows(page, JOB_QUEUE)).filter((r) => r.level > 1).map((r) => `${r.label} ${stateOf(r.description)}`);
}

/** Polls the open quick input's message until it matches. */
async function waitForInputMessage(page: Page, pattern: RegExp, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let message = '';
  while (Date.now() < deadline) {
    message = await quickInputMessage(page);
    if (pattern.test(message)) return message;
    await page.waitForTimeout(100);
  }
  throw new Error(`the input's message never matched ${pattern}; it shows "${message}"`);
}

/**
 * Types a value into the current step, expects the validation message, presses Enter and checks that the
 * input stays on the same step with the value and the message unchanged.
 */
async function expectRejected(page: Page, value: string, message: RegExp, screenshotName: string): Promise<void> {
  const step = await quickInputStep(page);
  const box = page.locator('.quick-input-widget .quick-input-box input');
  await box.fill(value);
  await waitForInputMessage(page, message);
  await screenshot(page, screenshotName);
  await box.press('Enter');
  // Accepting would move to the next step at once; a second is ample on a loaded machine.
  await page.waitForTimeout(1_000);
  assert.equal(await quickInputStep(page), step, `Enter on "${value}" must not advance`);
  assert.equal(await box.inputValue(), value, 'the rejected value stays for the user to fix');
  assert.match(await quickInputMessage(page), message);
}

/** Where TrainQ keeps a job's files: workspaceStorage/<id>/trainq.trainq/jobs/<job id>/. */
function jobDirs(server: CodeServer): string[] {
  const root = path.join(server.userDataDir, 'User', 'workspaceStorage');
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root)
    .map((id) => path.join(root, id, 'trainq.trainq', 'jobs'))
    .filter((dir) => fs.existsSync(dir))
    .flatMap((dir) => fs.readdirSync(dir).map((job) => path.join(dir, job)));
}

describe('bad input in a trusted workspace whose trainq.python names a missing interpreter', { timeout: 600_000 }, () => {
  const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'trainq-outside-'));
  const session = useWorkbenchSession({
    openJobQueue: true,
    prepare: (workspace) => {
      fs.mkdirSync(path.join(workspace, '.vscode'));
      fs.writeFileSync(path.join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'trainq.python': MISSING_PYTHON }, null, 2));
      // Two scripts that the tests delete from disk while TrainQ still offers or shows them.
      for (const name of ['train_gone.py', 'train_deleted.py']) {
        fs.writeFileSync(path.join(workspace, name), "# trainq: gpus=0 runtime=1m\nprint('never run')\n");
      }
      fs.writeFileSync(path.join(outside, 'train_outside.py'), "# trainq: gpus=0 runtime=1m\nprint('never run')\n");
      // A header whose args hold a NUL (U+0000): that line is ignored, with a warning in the TrainQ log.
      fs.writeFileSync(path.join(workspace, 'train_nul_header.py'), "# trainq: gpus=0 runtime=1m\n# trainq: args=\"--name a\u0000b\"\nprint('never run')\n");
      // A name that begins with '..' but is no parent folder; a .sh job, since trainq.python names nothing.
      fs.writeFileSync(path.join(workspace, '..train_dots.sh'), "# trainq: gpus=0 runtime=1m\necho 'dots: done'\n");
    },
  });
  after(() => fs.rmSync(outside, { recursive: true, force: true }));
  const page = () => session().page;

  it('refuses -1 and 1000 GPUs in the GPUs step, naming the 0–64 range, and does not advance', async () => {
    await withScreenshotOnFailure(page(), 'bad-gpus', async () => {
      await runCommand(page(), 'TrainQ: Queue Training Script…');
      await chooseQuickPickPath(page(), 'scripts/train_tiny.sh');
      await answerInput(page()); // arguments, as prefilled
      assert.equal(await quickInputStep(page()), '(2/5)', 'on the GPUs step');
      // Each message names the value it refuses, so a wait never accepts the previous value's message.
      await expectRejected(page(), '-1', /from 0 to 64 \(got -1\)/, 'bad-input-gpus-negative');
      await expectRejected(page(), '1000', /from 0 to 64 \(got 1000\)/, 'bad-input-gpus-absurd');
      await expectRejected(page(), 'two', /must be a number \(got "two"\)/, 'bad-input-gpus-not-a-number');
      await closeQuickInput(page());
      assert.deepEqual(await jobsShown(page()), [], 'nothing was queued');
    });
  });

  it('refuses an unbalanced quote in the arguments step and does not advance', async () => {
    await withScreenshotOnFailure(page(), 'bad-quote', async () => {
      await runCommand(page(), 'TrainQ: Queue Training Script…');
      await chooseQuickPickPath(page(), 'scripts/train_tiny.sh');
      assert.equal(await quickInputStep(page()), '(1/5)', 'on the arguments step');
      await expectRejected(page(), `--name "my run --lr 3e-4`, /Unclosed double quote \("\) at character 8/, 'bad-input-unbalanced-quote');
      await expectRejected(page(), `--note 'it`, /Unclosed single quote \('\) at character 8/, 'bad-input-unbalanced-single-quote');
      await closeQuickInput(page());
      assert.deepEqual(await jobsShown(page()), [], 'nothing was queued');
    });
  });

  it('refuses a NUL character in the arguments step with TrainQ\'s message, and does not prefill one from a header', async () => {
    await withScreenshotOnFailure(page(), 'nul-argument', async () => {
      await runCommand(page(), 'TrainQ: Queue Training Script…');
      await chooseQuickPickPath(page(), 'train_nul_header.py');
      assert.equal(await quickInputStep(page()), '(1/5)', 'on the arguments step');
      assert.equal(await page().locator('.quick-input-widget .quick-input-box input').inputValue(), '', "the header's args line was ignored");
      await expectRejected(page(), '--name a\u0000b', /A NUL character \(U\+0000\) at character 9: no program can receive one/, 'bad-input-nul-argument');
      await closeQuickInput(page());
      assert.deepEqual(await jobsShown(page()), [], 'nothing was queued');
    });
  });

  it('fails a .py job whose interpreter is not found, says why, and keeps the queue working', async () => {
    await withScreenshotOnFailure(page(), 'missing-interpreter', async () => {
      await clearNotifications(page());
      await runCommand(page(), 'TrainQ: Queue Training Script…');
      await chooseQuickPickPath(page(), 'train_mnist.py');
      await acceptPrefilledSteps(page());
      const notice = await waitForNotification(page(), /could not start train_mnist\.py/);
      assert.match(notice, new RegExp(`Interpreter '${MISSING_PYTHON}' was not found on PATH`));
      await waitForTreeRow(
        page(),
        JOB_QUEUE,
        (r) => r.label === 'train_mnist.py' && stateOf(r.description) === 'failed',
        'train_mnist.py failed',
      );
      await screenshot(page(), 'bad-input-missing-interpreter');
      const tooltip = await hoverText(page(), treeRow(page(), JOB_QUEUE, 'train_mnist.py', 'failed'));
      assert.match(tooltip, new RegExp(`Reason: Could not start: Interpreter '${MISSING_PYTHON}' was not found on PATH`));
      await screenshot(page(), 'bad-input-missing-interpreter-tooltip');
      await page().mouse.move(700, 450);

      // A .sh job needs no Python: it runs, so the failure left the queue working.
      await clearNotifications(page());
      await runCommand(page(), 'TrainQ: Queue Training Script…');
      await chooseQuickPickPath(page(), 'scripts/train_tiny.sh');
      await acceptPrefilledSteps(page());
      await waitForTreeRow(
        page(),
        JOB_QUEUE,
        (r) => r.label === 'train_tiny.sh' && stateOf(r.description) === 'succeeded',
        'train_tiny.sh succeeded',
        90_000,
      );
      assert.deepEqual((await jobsShown(page())).sort(), ['train_mnist.py failed', 'train_tiny.sh succeeded']);
    });
  });

  it('queues and runs a top-level script whose name begins with ..: it is inside the workspace', async () => {
    await withScreenshotOnFailure(page(), 'dot-dot-name', async () => {
      await clearNotifications(page());
      await runCommand(page(), 'TrainQ: Queue Training Script…');
      await chooseQuickPickPath(page(), '..train_dots.sh');
      await acceptPrefilledSteps(page());
      await waitForTreeRow(
        page(),
        JOB_QUEUE,
        (r) => r.label === '..train_dots.sh' && stateOf(r.description) === 'succeeded',
        '..train_dots.sh succeeded',
        90_000,
      );
      await runContextAction(page(), treeRow(page(), JOB_QUEUE, '..train_dots.sh', 'succeeded'), 'Open Log');
      await waitForEditorText(page(), /dots: done/);
      await screenshot(page(), 'bad-input-dot-dot-name');
      await runCommand(page(), 'View: Close All Editors');
    });
  });

  it('refuses a script deleted while the script pick is open', async () => {
    await withScreenshotOnFailure(page(), 'deleted-under-pick', async () => {
      await clearNotifications(page());
      const before = await jobsShown(page());
      await runCommand(page(), 'TrainQ: Queue Training Script…');
      await page().locator('.quick-input-widget .quick-input-box input').fill('train_gone.py');
      await page()
        .locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: 'train_gone.py' })
        .first()
        .waitFor({ state: 'visible' });
      fs.rmSync(path.join(session().workspace, 'train_gone.py'));
      await chooseQuickPickPath(page(), 'train_gone.py');
      const notice = await waitForNotification(page(), /no longer exists/);
      assert.equal(notice, 'TrainQ: train_gone.py no longer exists.');
      assert.equal(await quickInputState(page()), null, 'no job step opens for the deleted script');
      await screenshot(page(), 'bad-input-deleted-under-pick');
      assert.deepEqual(await jobsShown(page()), before, 'nothing was queued');
    });
  });

  it('refuses Queue Current File on an editor whose file was deleted on disk', async () => {
    await withScreenshotOnFailure(page(), 'deleted-editor', async () => {
      await clearNotifications(page());
      const before = await jobsShown(page());
      await openFileByPath(page(), 'train_deleted.py');
      // The extension host learns about the new active editor a moment after the tab shows.
      await page().waitForTimeout(1000);
      fs.rmSync(path.join(session().workspace, 'train_deleted.py'));
      await runCommand(page(), 'TrainQ: Queue Current File');
      const notice = await waitForNotification(page(), /no longer exists/);
      assert.equal(notice, 'TrainQ: train_deleted.py no longer exists.');
      assert.equal(await quickInputState(page()), null, 'no job step opens for the deleted script');
      await screenshot(page(), 'bad-input-deleted-editor');
      assert.deepEqual(await jobsShown(page()), before, 'nothing was queued');
    });
  });

  it('refuses Queue Current File on a file outside the workspace', async () => {
    await withScreenshotOnFailure(page(), 'outside-workspace', async () => {
      await clearNotifications(page());
      const before = await jobsShown(page());
      await openFileByPath(page(), path.join(outside, 'train_outside.py'));
      await page().waitForTimeout(1000);
      await runCommand(page(), 'TrainQ: Queue Current File');
      const notice = await waitForNotification(page(), /outside the workspace/);
      assert.equal(notice, "TrainQ: train_outside.py is outside the workspace; TrainQ only runs the workspace's own scripts.");
      assert.equal(await quickInputState(page()), null, 'no job step opens for the outside file');
      await screenshot(page(), 'bad-input-outside-workspace');
      assert.deepEqual(await jobsShown(page()), before, 'nothing was queued');
    });
  });

  it("says a job's log is not readable when its file cannot be read", async () => {
    await withScreenshotOnFailure(page(), 'unreadable-log', async () => {
      // Root reads any file whatever its mode, so the log is made unreadable by putting a folder in its place.
      const logOf = (dir: string) =>
        fs.existsSync(path.join(dir, 'output.log')) ? fs.readFileSync(path.join(dir, 'output.log'), 'utf8') : '';
      const tiny = jobDirs(session().server).find((dir) => /tiny: done/.test(logOf(dir)));
      assert.ok(tiny, "train_tiny.sh's job folder has its log");
      const log = path.join(tiny, 'output.log');
      fs.rmSync(log);
      fs.mkdirSync(log);
      await runContextAction(page(), treeRow(page(), JOB_QUEUE, 'train_tiny.sh', 'succeeded'), 'Open Log');
      const text = await waitForEditorText(page(), /not readable/);
      assert.match(text, /The log of this job is not readable: .*EISDIR/);
      assert.ok(text.includes(log), `the message names the log file: ${text}`);
      // The log opens scrolled to its end; back to the start, so the picture shows the message.
      await page().keyboard.press('Control+Home');
      await page().mouse.move(700, 600);
      await page()
        .locator('.workbench-hover')
        .first()
        .waitFor({ state: 'hidden', timeout: 5_000 })
        .catch(() => undefined);
      await screenshot(page(), 'bad-input-unreadable-log');
      await runCommand(page(), 'View: Close All Editors');
    });
  });
});

describe('arguments with quotes, spaces, $(…) and ; reach the script literally', { timeout: 300_000 }, () => {
  const session = useWorkbenchSession({
    openJobQueue: true,
    prepare: (workspace) => {
      fs.writeFileSync(
        path.join(workspace, 'train_echo.py'),
        [
          '# trainq: gpus=0 runtime=1m',
          '"""Prints the arguments it was given as JSON, so a test sees exactly what reached it."""',
          'import json',
          'import sys',
          '',
          'print("ARGV=" + json.dumps(sys.argv[1:]), flush=True)',
          'for i, arg in enumerate(sys.argv[1:], 1):',
          '    print(f"argv[{i}] = {json.dumps(arg)}", flush=True)',
          '',
        ].join('\n'),
      );
    },
  });
  const page = () => session().page;

  it('passes every word through unchanged and runs none of it', async () => {
    await withScreenshotOnFailure(page(), 'literal-args', async () => {
      fs.rmSync(PWNED, { force: true });
      const typed = `--name "my run" --cmd '$(touch ${PWNED})' ; echo hi \`touch ${PWNED}\` $HOME *.py | cat &`;
      const expected = [
        '--name',
        'my run',
        '--cmd',
        `$(touch ${PWNED})`,
        ';',
        'echo',
        'hi',
        `\`touch`,
        `${PWNED}\``,
        '$HOME',
        '*.py',
        '|',
        'cat',
        '&',
      ];
      await runCommand(page(), 'TrainQ: Queue Training Script…');
      await chooseQuickPickPath(page(), 'train_echo.py');
      assert.equal(await quickInputStep(page()), '(1/5)', 'on the arguments step');
      await answerInput(page(), typed);
      await acceptPrefilledSteps(page());
      await waitForTreeRow(
        page(),
        JOB_QUEUE,
        (r) => r.label === 'train_echo.py' && stateOf(r.description) === 'succeeded',
        'train_echo.py succeeded',
        90_000,
      );
      // The tooltip lists the words as the job got them. (It writes "$(" as "$", a zero-width space, "(" so
      // that Markdown does not take "$(touch …)" for an icon.)
      const tooltip = (await hoverText(page(), treeRow(page(), JOB_QUEUE, 'train_echo.py', 'succeeded'))).replace(/\u200b/g, '');
      assert.match(tooltip, /Arguments:\s*--name\s+my run\s+--cmd\s+\$\(touch \/tmp\/trainq-e2e-pwned\)\s+;\s+echo\s+hi/);
      await page().mouse.move(700, 600);
      await runContextAction(page(), treeRow(page(), JOB_QUEUE, 'train_echo.py', 'succeeded'), 'Open Log');
      const text = await waitForEditorText(page(), /ARGV=\[.*\]/);
      const line = text.split('\n').find((l) => l.startsWith('ARGV='))!;
      assert.deepEqual(JSON.parse(line.slice('ARGV='.length)), expected);
      assert.ok(!fs.existsSync(PWNED), `${PWNED} exists: an argument was run by a shell`);
      await page().mouse.move(700, 600);
      await screenshot(page(), 'bad-input-literal-args');
    });
  });
});

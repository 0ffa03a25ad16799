// End-to-end: results back from an SSH host (issue 16 item 3) in a real VS Code (code-server). A job that
// can only run on the loopback SSH host writes outputs/model.ckpt and a nested file there; when it ends
// they appear in the workspace's Explorer. Then a local edit of the checkpoint: Download Outputs asks
// before touching it (Keep Both puts the host's copy beside it, Overwrite replaces it).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ensureOpenSsh, SshdFixture } from '../support/sshd';
import { assertCodeServerInstalled, outputDir, packagedExtension, repoRoot, startCodeServer } from './codeServer';
import type { CodeServer } from './codeServer';
import {
  acceptPrefilledSteps,
  chooseQuickPickPath,
  launchBrowser,
  openFileByPath,
  openViewContainer,
  openWorkbench,
  resizeSideBar,
  runCommand,
  runContextAction,
  screenshot,
  stateOf,
  treeRow,
  treeRows,
  waitForNotification,
  withScreenshotOnFailure,
} from './workbench';

const JOB_QUEUE = 'Job Queue';
const SSH_HOST = 'gpu-box';
const SCRIPT = 'train_outputs.py';
const TERMINAL = new Set(['succeeded', 'failed', 'cancelled', 'lost']);
/** One GPU: the local machine has none, so only the SSH host can take it. */
const SCRIPT_TEXT = `# trainq: gpus=1 runtime=1m importance=high
"""Writes a checkpoint and a nested metrics file, as a training run leaves them."""
import os

os.makedirs("outputs/nested", exist_ok=True)
with open("outputs/model.ckpt", "w") as f:
    f.write("weights from the host\\n")
with open("outputs/nested/metrics.json", "w") as f:
    f.write('{"loss": 0.125}\\n')
print("saved outputs/model.ckpt", flush=True)
`;
const HOST_COPY = `outputs/model (${SSH_HOST}).ckpt`;

fs.mkdirSync(outputDir, { recursive: true });

const dialog = (page: Page) => page.locator('.monaco-dialog-box');

async function dialogMessage(page: Page): Promise<string> {
  await dialog(page).waitFor({ state: 'visible', timeout: 60_000 });
  return (await dialog(page).innerText()).replace(/\s+/g, ' ').trim();
}

async function answerDialog(page: Page, label: string): Promise<void> {
  const buttons = dialog(page).locator('.dialog-buttons .monaco-button');
  const labels = (await buttons.allInnerTexts()).map((t) => t.trim());
  const index = labels.indexOf(label);
  assert.ok(index >= 0, `no dialog button "${label}"; shown: ${JSON.stringify(labels)}`);
  await buttons.nth(index).click();
  await dialog(page).waitFor({ state: 'hidden' });
}

/** The Explorer's rows (label and depth), with every collapsed folder expanded. */
async function explorerRows(page: Page): Promise<Array<{ label: string; level: number }>> {
  const rows = page.locator('.explorer-folders-view .monaco-list-row');
  await rows.first().waitFor({ state: 'visible' });
  for (let round = 0; round < 4; round++) {
    const collapsed = page.locator('.explorer-folders-view .monaco-list-row[aria-expanded="false"]');
    if ((await collapsed.count()) === 0) break;
    await collapsed.first().click();
    await page.waitForTimeout(200);
  }
  return rows.evaluateAll((els) =>
    els.map((el) => ({ label: (el.querySelector('.label-name')?.textContent ?? '').trim(), level: Number(el.getAttribute('aria-level') ?? '1') })),
  );
}

async function waitForFile(file: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fs.existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`${file} did not appear within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('Results back from an SSH host', { timeout: 600_000 }, () => {
  let fixture: SshdFixture | undefined;
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let page: Page | undefined;
  let workspace = '';
  const ui = (): Page => {
    if (!page) throw new Error("the workbench did not open (see the before hook's error)");
    return page;
  };
  const local = (rel: string) => path.join(workspace, ...rel.split('/'));

  before(async () => {
    const missing = ensureOpenSsh();
    if (missing) throw new Error(`${missing}: apt-get install -y openssh-server openssh-client rsync`);
    assertCodeServerInstalled();
    const vsix = packagedExtension();
    fixture = await SshdFixture.start([{ name: SSH_HOST, gpus: 2 }]);
    // As in sshHost.e2e.test.ts: the system ssh by name, pointed at the fixture's config by a wrapper.
    const clientBin = path.join(fixture.root, 'client-bin');
    fs.mkdirSync(clientBin);
    fs.writeFileSync(path.join(clientBin, 'ssh'), `#!/bin/sh\nexec /usr/bin/ssh -F '${fixture.sshConfig}' "$@"\n`, { mode: 0o755 });
    workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'trainq-ws-'));
    fs.cpSync(path.join(repoRoot, 'test', 'fixtures', 'workspace'), workspace, { recursive: true });
    fs.writeFileSync(path.join(workspace, SCRIPT), SCRIPT_TEXT);
    server = await startCodeServer({
      workspace,
      install: [vsix],
      pathPrefix: [clientBin, path.join(repoRoot, 'test', 'fixtures', 'bin')],
      env: { TRAINQ_FAKE_GPUS: '0' },
      settings: { 'trainq.statusBar.pollSeconds': 300, 'trainq.outputs.globs': ['outputs/**'], 'files.exclude': { '**/.trainq-incoming-*': true } },
    });
    const machineSettings = path.join(server.userDataDir, 'Machine', 'settings.json');
    fs.mkdirSync(path.dirname(machineSettings), { recursive: true });
    fs.writeFileSync(machineSettings, JSON.stringify({ ...JSON.parse(fs.readFileSync(machineSettings, 'utf8')), 'trainq.hosts': [{ name: SSH_HOST, type: 'ssh', target: SSH_HOST }] }, null, 2));
    browser = await launchBrowser();
    page = await openWorkbench(browser, server.workbenchUrl);
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await server?.stop();
    await fixture?.stop();
    if (workspace) fs.rmSync(workspace, { recursive: true, force: true });
  });

  it('a job on the SSH host writes outputs; when it ends they are in the workspace Explorer', async () => {
    await withScreenshotOnFailure(ui(), 'outputs-back', async () => {
      await openViewContainer(ui(), 'TrainQ', JOB_QUEUE);
      await resizeSideBar(ui(), 560);
      await runCommand(ui(), 'TrainQ: Queue Training Script…');
      await chooseQuickPickPath(ui(), SCRIPT);
      await acceptPrefilledSteps(ui());
      let last = '';
      const deadline = Date.now() + 180_000;
      while (Date.now() < deadline) {
        last = (await treeRows(ui(), JOB_QUEUE)).find((r) => r.label === SCRIPT)?.description ?? last;
        if (TERMINAL.has(stateOf(last))) break;
        await ui().waitForTimeout(250);
      }
      assert.match(last, new RegExp(`^succeeded · ${SSH_HOST}`), `the job ran on ${SSH_HOST}: "${last}"`);
      assert.ok(fs.existsSync(path.join(fixture!.server(SSH_HOST).home, 'trainq', path.basename(workspace), 'outputs', 'model.ckpt')), 'the job wrote its outputs on the host');
      // Copied back right after the end: no command, no question (nothing conflicts).
      await waitForFile(local('outputs/nested/metrics.json'), 30_000);
      assert.equal(fs.readFileSync(local('outputs/model.ckpt'), 'utf8'), 'weights from the host\n');
      assert.equal(fs.readFileSync(local('outputs/nested/metrics.json'), 'utf8'), '{"loss": 0.125}\n');
      assert.deepEqual(fs.readdirSync(workspace).filter((n) => n.startsWith('.trainq-incoming')), [], 'no staging folder left');

      await runCommand(ui(), 'View: Show Explorer');
      const rows = await explorerRows(ui());
      const labels = rows.map((r) => `${r.level}:${r.label}`);
      for (const expected of ['1:outputs', '2:nested', '3:metrics.json', '2:model.ckpt']) {
        assert.ok(labels.includes(expected), `Explorer shows ${expected}: ${JSON.stringify(labels)}`);
      }
      await openFileByPath(ui(), 'outputs/model.ckpt');
      await ui().waitForTimeout(500);
      await screenshot(ui(), 'outputs');
    });
  });

  it('Download Outputs asks before overwriting a changed file: Keep Both keeps it, Overwrite replaces it', async () => {
    await withScreenshotOnFailure(ui(), 'outputs-download', async () => {
      fs.writeFileSync(local('outputs/model.ckpt'), 'my local edits\n');
      await openViewContainer(ui(), 'TrainQ', JOB_QUEUE);
      await runContextAction(ui(), treeRow(ui(), JOB_QUEUE, SCRIPT, 'succeeded'), 'Download Outputs');
      const message = await dialogMessage(ui());
      assert.match(message, new RegExp(`An output file of ${SCRIPT} differs from the one in the workspace: outputs/model\\.ckpt`));
      await screenshot(ui(), 'outputs-conflict');
      // Nothing was written while the question waits.
      assert.equal(fs.readFileSync(local('outputs/model.ckpt'), 'utf8'), 'my local edits\n');
      await answerDialog(ui(), 'Keep Both');
      await waitForFile(local(HOST_COPY), 30_000);
      assert.equal(fs.readFileSync(local('outputs/model.ckpt'), 'utf8'), 'my local edits\n', 'Keep Both leaves the local file');
      assert.equal(fs.readFileSync(local(HOST_COPY), 'utf8'), 'weights from the host\n');
      await waitForNotification(ui(), new RegExp(`1 output file of ${SCRIPT} back from ${SSH_HOST} \\(22 bytes, rsync\\); 1 already there`));

      await runContextAction(ui(), treeRow(ui(), JOB_QUEUE, SCRIPT, 'succeeded'), 'Download Outputs');
      assert.match(await dialogMessage(ui()), /differs from the one in the workspace: outputs\/model\.ckpt/);
      await answerDialog(ui(), 'Overwrite');
      const deadline = Date.now() + 30_000;
      while (fs.readFileSync(local('outputs/model.ckpt'), 'utf8') !== 'weights from the host\n' && Date.now() < deadline) await ui().waitForTimeout(200);
      assert.equal(fs.readFileSync(local('outputs/model.ckpt'), 'utf8'), 'weights from the host\n', 'Overwrite replaced it');
      assert.equal(fs.readFileSync(local(HOST_COPY), 'utf8'), 'weights from the host\n', 'the earlier copy stays');
    });
  });

  it('at the end of a run, files that differ are not copied; a notification that blocks nothing offers Keep Both', async () => {
    await withScreenshotOnFailure(ui(), 'outputs-at-end', async () => {
      fs.writeFileSync(local('outputs/model.ckpt'), 'my second edits\n');
      await runContextAction(ui(), treeRow(ui(), JOB_QUEUE, SCRIPT, 'succeeded'), 'Retry');
      const toast = ui().locator('.notifications-toasts .notification-list-item').filter({ hasText: `the outputs of ${SCRIPT} are back, except what differs` });
      await toast.first().waitFor({ state: 'visible', timeout: 120_000 });
      assert.match((await toast.first().innerText()).replace(/\s+/g, ' '), /except what differs from the workspace: outputs\/model\.ckpt/);
      // The copy-back follows the job's end at once; the Job Queue redraws on its own throttle, so the
      // second succeeded row may land a moment after the toast.
      let rows = (await treeRows(ui(), JOB_QUEUE)).filter((r) => r.label === SCRIPT);
      for (const deadline = Date.now() + 15_000; rows.filter((r) => stateOf(r.description) === 'succeeded').length < 2 && Date.now() < deadline; ) {
        await ui().waitForTimeout(250);
        rows = (await treeRows(ui(), JOB_QUEUE)).filter((r) => r.label === SCRIPT);
      }
      assert.equal(rows.filter((r) => stateOf(r.description) === 'succeeded').length, 2, JSON.stringify(rows));
      // Nothing waited for an answer: the rest is in place, the edited file untouched.
      assert.equal(fs.readFileSync(local('outputs/model.ckpt'), 'utf8'), 'my second edits\n');
      await screenshot(ui(), 'outputs-at-end');
      await toast.first().locator('.monaco-button', { hasText: 'Keep Both' }).click();
      // The first Keep Both name is taken by the earlier copy: this one is numbered.
      await waitForFile(local(`outputs/model (${SSH_HOST} 2).ckpt`), 30_000);
      assert.equal(fs.readFileSync(local('outputs/model.ckpt'), 'utf8'), 'my second edits\n');
      assert.equal(fs.readFileSync(local(`outputs/model (${SSH_HOST} 2).ckpt`), 'utf8'), 'weights from the host\n');
    });
  });
});

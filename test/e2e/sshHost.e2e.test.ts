// End-to-end: a real VS Code (code-server) with TrainQ whose `trainq.hosts` names a real sshd on loopback
// (test/support/sshd.ts). The local machine has no GPU, so a 1-GPU job can only run on the SSH host; the
// test queues one from the command palette and follows it to `succeeded`, through the editor's own views.
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
  openViewContainer,
  openWorkbench,
  resizeSideBar,
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
import type { TreeRow } from './workbench';

const JOB_QUEUE = 'Job Queue';
const HOSTS = 'Hosts';
/** The test server's ssh alias and its TrainQ host name. */
const SSH_HOST = 'gpu-box';
const SCRIPT = 'train_mnist.py';
/** The fixture nvidia-smi's UUID for GPU 0 of a TRAINQ_FAKE_GPUS set. */
const REMOTE_GPU0_UUID = 'GPU-fa4e0000-0000-4000-8000-000000000000';
/**
 * GPU 0 of the host is busy with a process TrainQ did not start, so the job must get GPU 1, which a plain
 * first-free-GPU pick that missed the busy mark would not give it.
 */
const EXPECTED_GPU = 1;
const TERMINAL = new Set(['succeeded', 'failed', 'cancelled', 'lost']);

/** The GPU rows shown under a host row (level 2, up to the next host). */
function gpuRowsOf(rows: TreeRow[], host: string): TreeRow[] {
  const at = rows.findIndex((r) => r.level === 1 && r.label === host);
  if (at < 0) return [];
  const end = rows.findIndex((r, i) => i > at && r.level === 1);
  return rows.slice(at + 1, end < 0 ? undefined : end).filter((r) => r.level === 2);
}

fs.mkdirSync(outputDir, { recursive: true });

describe('TrainQ with a remote GPU host over SSH', { timeout: 600_000 }, () => {
  let fixture: SshdFixture | undefined;
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let page: Page | undefined;
  let workspace: string | undefined;
  const ui = (): Page => {
    if (!page) throw new Error("the workbench did not open (see the before hook's error)");
    return page;
  };

  before(async () => {
    // An e2e run without sshd fails with the reason; it never passes by skipping.
    const missing = ensureOpenSsh();
    if (missing) throw new Error(`${missing}: apt-get install -y openssh-server openssh-client rsync`);
    assertCodeServerInstalled();
    const vsix = packagedExtension();
    fixture = await SshdFixture.start([{ name: SSH_HOST, gpus: 2 }]);
    fs.writeFileSync(fixture.server(SSH_HOST).computeAppsFile, `${REMOTE_GPU0_UUID}, ${process.pid}\n`);

    // The extension runs the system `ssh` by name, as a user's terminal would, and never passes -F. ssh
    // finds ~/.ssh/config through the password database, not $HOME, so a HOME override cannot point it
    // at the fixture's config; a wrapper first on the server's PATH does, for rsync's ssh as well, and
    // leaves the real ~/.ssh alone. Host-key checking stays on (the fixture's known_hosts).
    const clientBin = path.join(fixture.root, 'client-bin');
    fs.mkdirSync(clientBin);
    fs.writeFileSync(path.join(clientBin, 'ssh'), `#!/bin/sh\nexec /usr/bin/ssh -F '${fixture.sshConfig}' "$@"\n`, { mode: 0o755 });

    workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'trainq-ws-'));
    fs.cpSync(path.join(repoRoot, 'test', 'fixtures', 'workspace'), workspace, { recursive: true });
    server = await startCodeServer({
      workspace,
      install: [vsix],
      // The fixture nvidia-smi with TRAINQ_FAKE_GPUS=0: the local machine answers, with no GPU.
      pathPrefix: [clientBin, path.join(repoRoot, 'test', 'fixtures', 'bin')],
      env: { TRAINQ_FAKE_GPUS: '0' },
      // Rare polls: a refresh of the Job Queue under an open context menu is another suite's subject.
      settings: { 'trainq.statusBar.pollSeconds': 300 },
    });
    // `trainq.hosts` is machine-overridable, and to the workbench code-server is a remote: the browser's user
    // settings do not apply machine settings there, the server's machine settings do. (TrainQ: Add SSH Host…
    // writes there too: VS Code sends a Global update of a machine setting to the remote side.) Written
    // before the window connects, so the extension starts with the host.
    const machineSettings = path.join(server.userDataDir, 'Machine', 'settings.json');
    fs.mkdirSync(path.dirname(machineSettings), { recursive: true });
    fs.writeFileSync(machineSettings, JSON.stringify({ ...JSON.parse(fs.readFileSync(machineSettings, 'utf8')), 'trainq.hosts': [{ name: SSH_HOST, type: 'ssh', target: SSH_HOST }] }, null, 2));
    browser = await launchBrowser();
    page = await openWorkbench(browser, server.workbenchUrl);
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    // code-server first: its stop also ends the ssh master connections the extension left behind.
    await server?.stop();
    await fixture?.stop();
    if (workspace) fs.rmSync(workspace, { recursive: true, force: true });
  });

  it('shows the SSH host online with its two GPUs next to a local machine without any', async () => {
    await withScreenshotOnFailure(ui(), 'ssh-hosts', async () => {
      await openViewContainer(ui(), 'TrainQ', JOB_QUEUE);
      // Wide enough for whole descriptions ("succeeded · gpu-box · GPU 1 · 0:03") in the screenshots.
      await resizeSideBar(ui(), 640);
      // The first probe opens the ssh connection; on two busy cores that can take a while.
      await waitForTreeRow(
        ui(),
        HOSTS,
        (r) => r.level === 1 && r.label === SSH_HOST && r.description.startsWith('online · 2 GPUs'),
        `${SSH_HOST} online with 2 GPUs`,
        120_000,
      );
      await waitForTreeRow(
        ui(),
        HOSTS,
        (r) => r.label === 'local' && r.description.startsWith('online · no GPU'),
        'local online without GPUs',
      );
      // The busy mark arrives with the same probe as the GPUs; wait for both rows to render.
      await waitForTreeRow(ui(), HOSTS, (r) => r.level === 2 && /busy outside TrainQ/.test(r.description), 'GPU 0 busy outside TrainQ');
      const gpus = gpuRowsOf(await treeRows(ui(), HOSTS), SSH_HOST);
      assert.deepEqual(
        gpus.map((r) => r.label),
        ['GPU 0 · NVIDIA A100-SXM4-40GB', 'GPU 1 · NVIDIA A100-SXM4-40GB'],
        `the fixture's two GPUs under ${SSH_HOST}`,
      );
      assert.match(gpus[0].description, /busy outside TrainQ/);
      assert.doesNotMatch(gpus[1].description, /busy|held by/);
      const local = gpuRowsOf(await treeRows(ui(), HOSTS), 'local').map((r) => r.label);
      assert.ok(local.length === 1 && local[0].startsWith('no GPU'), `local shows no GPU: ${JSON.stringify(local)}`);
      await screenshot(ui(), 'ssh-hosts-view');
    });
  });

  it(`queues ${SCRIPT} from the command palette and it runs to succeeded on ${SSH_HOST}`, async () => {
    await withScreenshotOnFailure(ui(), 'ssh-job', async () => {
      await runCommand(ui(), 'TrainQ: Queue Training Script…');
      await chooseQuickPickPath(ui(), SCRIPT);
      await acceptPrefilledSteps(ui());
      // Every description the job shows, in order; the sync, the launch and the 2 s poll of the remote
      // exit file each take a moment, so this runs well past the script's 3 s.
      const seen: string[] = [];
      // What the Hosts view said about the host's GPUs while the job ran.
      const gpusWhileRunning = new Set<string>();
      const deadline = Date.now() + 180_000;
      while (Date.now() < deadline) {
        const row = (await treeRows(ui(), JOB_QUEUE)).find((r) => r.label === SCRIPT);
        if (row && seen.at(-1) !== row.description) seen.push(row.description);
        if (row && TERMINAL.has(stateOf(row.description))) break;
        if (row && stateOf(row.description) === 'running') {
          for (const gpu of gpuRowsOf(await treeRows(ui(), HOSTS), SSH_HOST)) gpusWhileRunning.add(`${gpu.label}: ${gpu.description}`);
        }
        await ui().waitForTimeout(200);
      }
      const last = seen.at(-1) ?? '';
      const states = seen.map(stateOf).filter((s, i, all) => all[i - 1] !== s);
      assert.equal(stateOf(last), 'succeeded', `${SCRIPT} went through ${states.join(' → ')}; last shown as "${last}"`);
      // Once placed, the job names its host and GPU in every state it shows.
      for (const description of seen.filter((d) => stateOf(d) !== 'queued')) {
        assert.match(description, new RegExp(`^\\w+ · ${SSH_HOST} · GPU ${EXPECTED_GPU}( · |$)`), `shown as "${description}"`);
      }
      assert.ok(
        seen.some((d) => stateOf(d) === 'running'),
        `${SCRIPT} was never shown running: ${states.join(' → ')}`,
      );
      const held = [...gpusWhileRunning].filter((g) => g.includes(`held by ${SCRIPT}`));
      assert.ok(
        held.length > 0 && held.every((g) => g.startsWith(`GPU ${EXPECTED_GPU} `)),
        `the Hosts view showed GPU ${EXPECTED_GPU} of ${SSH_HOST} held by the job: ${JSON.stringify([...gpusWhileRunning])}`,
      );
      await screenshot(ui(), 'ssh-job-succeeded');
    });
  });

  it("left the job's files on the SSH host: the synced script, its exit code and its log", async () => {
    const remote = path.join(fixture!.server(SSH_HOST).home, 'trainq');
    assert.ok(fs.existsSync(path.join(remote, path.basename(workspace!), SCRIPT)), "the workspace was synced to the host's workdir");
    const jobsDir = path.join(remote, '.trainq', 'jobs');
    const jobs = fs.readdirSync(jobsDir);
    assert.equal(jobs.length, 1, `one job folder on the host: ${jobs.join(', ')}`);
    const jobDir = path.join(jobsDir, jobs[0]);
    assert.equal(fs.readFileSync(path.join(jobDir, 'exit'), 'utf8').trim(), '0');
    assert.match(fs.readFileSync(path.join(jobDir, 'output.log'), 'utf8'), new RegExp(`^CUDA_VISIBLE_DEVICES=${EXPECTED_GPU}$`, 'm'));
  });

  it("opens the remote job's log with the script's output and its GPU", async () => {
    await withScreenshotOnFailure(ui(), 'ssh-log', async () => {
      await runContextAction(ui(), treeRow(ui(), JOB_QUEUE, SCRIPT, 'succeeded'), 'Open Log');
      const text = await waitForEditorText(ui(), /epoch 5 loss/, 60_000);
      assert.match(text, new RegExp(`^CUDA_VISIBLE_DEVICES=${EXPECTED_GPU}$`, 'm'), "the job was given the host's free GPU");
      assert.match(text, /epoch 1 loss[\s\S]*epoch 5 loss/);
      assert.match(text, /done: saved model to mnist\.pt/, 'stderr is in the log too');
      // The job's tooltip, raised by the right-click, would cover the views in the picture; only cosmetic,
      // so a hover that lingers (the pointer can land on another hoverable) does not fail the test.
      await ui().mouse.move(1000, 700);
      await ui().keyboard.press('Escape');
      await ui()
        .locator('.workbench-hover')
        .first()
        .waitFor({ state: 'hidden', timeout: 5000 })
        .catch(() => undefined);
      await screenshot(ui(), 'ssh-job-log');
    });
  });

  it("Remove from History deletes the job's folder on the host and keeps the synced project", async () => {
    await withScreenshotOnFailure(ui(), 'ssh-remove', async () => {
      const remote = path.join(fixture!.server(SSH_HOST).home, 'trainq');
      const jobsDir = path.join(remote, '.trainq', 'jobs');
      assert.equal(fs.readdirSync(jobsDir).length, 1, 'the job folder is there before');
      await runContextAction(ui(), treeRow(ui(), JOB_QUEUE, SCRIPT, 'succeeded'), 'Remove from History');
      // Removing a finished job asks first (trainq.confirm.clearFinished): answered Remove.
      const dialog = ui().locator('.monaco-dialog-box');
      await dialog.waitFor({ state: 'visible' });
      await dialog.locator('.dialog-buttons .monaco-button', { hasText: /^\s*Remove\s*$/ }).click();
      await dialog.waitFor({ state: 'hidden' });
      const deadline = Date.now() + 30_000;
      while (fs.readdirSync(jobsDir).length > 0 && Date.now() < deadline) await ui().waitForTimeout(250);
      assert.deepEqual(fs.readdirSync(jobsDir), [], "the job's folder on the host is gone");
      assert.ok(fs.existsSync(path.join(remote, path.basename(workspace!), SCRIPT)), 'the synced project stays');
      const rows = await treeRows(ui(), JOB_QUEUE);
      assert.ok(!rows.some((r) => r.label === SCRIPT && stateOf(r.description) === 'succeeded'), `the job left the history: ${JSON.stringify(rows)}`);
    });
  });
});

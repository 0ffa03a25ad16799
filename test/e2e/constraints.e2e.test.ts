// End-to-end: host constraints (issue 16, item 5) in a real VS Code (code-server). This machine is
// labelled "workstation" (trainq.local.labels) and is the only host. A script whose header excludes
// the local machine and requires a label no host has stays queued and the Job Queue says no host can
// run it, naming why; a job queued with Options… → Host constraints… → Require "workstation" runs here.
// Screenshot: test-output/e2e/constraints.png (copied to docs/screenshots/constraints.png).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { outputDir, repoRoot } from './codeServer';
import { useWorkbenchSession } from './session';
import {
  acceptPrefilledSteps,
  chooseQuickPick,
  chooseQuickPickPath,
  hoverText,
  queueScript,
  resizeSideBar,
  runCommand,
  screenshot,
  stateOf,
  treeRow,
  waitForTreeRow,
  withScreenshotOnFailure,
} from './workbench';

const JOB_QUEUE = 'Job Queue';
const NOWHERE = 'train_nowhere.py';
const HERE = 'train_here.py';

fs.mkdirSync(outputDir, { recursive: true });

describe('host constraints: an impossible job says so, a required label runs where it is', { timeout: 240_000 }, () => {
  const session = useWorkbenchSession({
    openJobQueue: true,
    prepare: (workspace) => {
      // A machine-overridable setting: code-server (a remote) reads it from the workspace, not the user settings.
      fs.mkdirSync(path.join(workspace, '.vscode'), { recursive: true });
      fs.writeFileSync(path.join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'trainq.local.labels': ['workstation'] }));
      fs.writeFileSync(path.join(workspace, NOWHERE), '# trainq: gpus=0 runtime=1m exclude=local hosts=a100\nprint("should never run")\n');
      fs.writeFileSync(path.join(workspace, HERE), "# trainq: gpus=0 runtime=1m\nopen('ran_here', 'w').write('ran')\n");
    },
  });
  const page = () => session().page;

  it('the header job shows "no host can run this job" with the reasons; Host constraints… → workstation runs locally', async () => {
    await withScreenshotOnFailure(page(), 'constraints', async () => {
      const started = Date.now();
      await resizeSideBar(page(), 620);
      await queueScript(page(), NOWHERE);
      const row = await waitForTreeRow(page(), JOB_QUEUE, (r) => r.label === NOWHERE && r.description.startsWith('queued · no host can run this job'), `${NOWHERE} impossible`);
      console.log(`impossible row: "${row.description}"`);
      const tip = await hoverText(page(), treeRow(page(), JOB_QUEUE, NOWHERE, 'queued'));
      assert.match(tip, /Host constraints: requires a100 · excludes local/);
      assert.match(tip, /Waiting: No host can run this job \(requires a100 · excludes local\): local is excluded\./);
      await page().mouse.move(700, 450);
      await screenshot(page(), 'constraints');
      fs.mkdirSync(path.join(repoRoot, 'docs', 'screenshots'), { recursive: true });
      fs.copyFileSync(path.join(outputDir, 'constraints.png'), path.join(repoRoot, 'docs', 'screenshots', 'constraints.png'));

      // The queue input's Options… → Host constraints… → Require: the local machine's label.
      await runCommand(page(), 'TrainQ: Queue Training Script…');
      await chooseQuickPickPath(page(), HERE);
      await page().locator('.quick-input-widget .codicon-settings-gear').first().click();
      await chooseQuickPick(page(), 'Host constraints…');
      await chooseQuickPick(page(), 'Require hosts or labels…');
      const label = page().locator('.quick-input-widget .quick-input-list .monaco-list-row').filter({ has: page().locator('.label-name', { hasText: 'workstation' }) });
      await label.first().waitFor({ state: 'visible' });
      await label.first().click();
      await page().locator('.quick-input-widget .quick-input-box input').press('Enter');
      await chooseQuickPick(page(), 'Done');
      const summary = page().locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: 'Host constraints…' });
      assert.match(await summary.first().innerText(), /requires workstation/);
      await chooseQuickPick(page(), 'Done');
      await acceptPrefilledSteps(page());
      await waitForTreeRow(page(), JOB_QUEUE, (r) => r.label === HERE && stateOf(r.description) === 'succeeded', `${HERE} succeeded`);
      assert.ok(fs.existsSync(path.join(session().workspace, 'ran_here')), `${HERE} ran`);
      const hereTip = await hoverText(page(), treeRow(page(), JOB_QUEUE, HERE, 'succeeded'));
      assert.match(hereTip, /Host constraints: requires workstation/);
      assert.match(hereTip, /Host: local/);
      // The impossible job is still queued, never started.
      await waitForTreeRow(page(), JOB_QUEUE, (r) => r.label === NOWHERE && r.description.startsWith('queued · no host can run this job'), `${NOWHERE} still impossible`);
      console.log(`done after ${Math.round((Date.now() - started) / 1000)} s`);
    });
  });
});

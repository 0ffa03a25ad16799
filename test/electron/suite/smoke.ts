// Smoke tests in a desktop VS Code: the extension activates in the fixture workspace and registers every
// command its manifest contributes.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';

const EXTENSION_ID = 'trainq.trainq';

interface Manifest {
  contributes: { commands: Array<{ command: string }> };
}

function extension(): vscode.Extension<unknown> {
  const found = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(found, `${EXTENSION_ID} is not installed in this editor`);
  return found;
}

export const smokeTests: Array<[string, () => Promise<void>]> = [
  [
    'activates in a workspace with training scripts',
    async () => {
      await extension().activate();
      assert.equal(extension().isActive, true);
    },
  ],
  [
    'registers every contributed command',
    async () => {
      const registered = new Set(await vscode.commands.getCommands(true));
      const contributed = (extension().packageJSON as Manifest).contributes.commands.map((c) => c.command);
      assert.ok(contributed.length > 0, 'the manifest contributes no commands');
      assert.deepEqual(
        contributed.filter((id) => !registered.has(id)),
        [],
        'contributed but not registered',
      );
    },
  ],
  [
    'shows the Job Queue',
    async () => {
      await vscode.commands.executeCommand('trainq.showQueue');
    },
  ],
];

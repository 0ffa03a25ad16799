// Panels restored by a window reload: the manifest activates TrainQ for both webview types, and a sweep
// panel's saved state gives back its sweep id only when it really holds one (an old or damaged state,
// from any version of the page, closes the panel instead of opening the wrong sweep).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { createVscodeStub, installVscodeStub } from '../support/vscodeStub';

const packageJsonPath = path.join(__dirname, '..', '..', 'package.json');
let uninstall: () => void;
let sweepPanel: typeof import('../../src/ui/sweepPanel');
let dashboardPanel: typeof import('../../src/ui/dashboardPanel');

before(async () => {
  uninstall = installVscodeStub(createVscodeStub({ packageJsonPath }));
  sweepPanel = await import('../../src/ui/sweepPanel');
  dashboardPanel = await import('../../src/ui/dashboardPanel');
});
after(() => uninstall());

test('TrainQ activates for a restored dashboard or sweep panel, by the view types the panels use', () => {
  const events = (JSON.parse(fs.readFileSync(packageJsonPath, 'utf8')) as { activationEvents: string[] }).activationEvents;
  for (const viewType of [dashboardPanel.DASHBOARD_VIEW_TYPE, sweepPanel.SWEEP_VIEW_TYPE]) {
    assert.ok(events.includes(`onWebviewPanel:${viewType}`), viewType);
  }
});

test("a sweep panel's saved state names its sweep, and nothing else does", () => {
  assert.equal(sweepPanel.sweepIdOfState({ version: 1, sort: { key: 'trial', dir: 'asc' }, sweep: { id: 'abc', name: 'lr' } }), 'abc');
  for (const junk of [undefined, null, 0, 'abc', [], {}, { sweep: null }, { sweep: 'abc' }, { sweep: { id: 7 } }, { sweep: { id: '' } }, { sweep: { name: 'lr' } }]) {
    assert.equal(sweepPanel.sweepIdOfState(junk), undefined, JSON.stringify(junk));
  }
});

// ui/config.ts through the `vscode` stub, whose settings come from package.json like VS Code's: every
// setting reaches TrainQConfig, nothing else is read, and trainq.hosts is written to the scope in effect.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { SettingSchema } from '../../src/ui/settingReaders';
import { createVscodeStub, installVscodeStub, type VscodeStub } from '../support/vscodeStub';

const PACKAGE_JSON = path.join(__dirname, '..', '..', 'package.json');
const contributed = (JSON.parse(fs.readFileSync(PACKAGE_JSON, 'utf8')) as { contributes: { configuration: { properties: Record<string, SettingSchema> } } })
  .contributes.configuration.properties;

let stub: VscodeStub;
let uninstall: () => void;
// Loaded after the stub is in place: config.ts imports `vscode` at load time.
let config: typeof import('../../src/ui/config');

before(async () => {
  stub = createVscodeStub({ packageJsonPath: PACKAGE_JSON });
  uninstall = installVscodeStub(stub);
  config = await import('../../src/ui/config');
});
after(() => uninstall());

/** Clears every setting a test wrote, in both scopes. */
function resetSettings(): void {
  const none = Object.fromEntries(Object.keys(contributed).map((k) => [k, undefined]));
  stub.setConfiguration(none, 'user');
  stub.setConfiguration(none, 'workspace');
}

/** A valid value other than the default, from the manifest entry alone. */
function otherValue(schema: SettingSchema): unknown {
  const d = schema.default;
  if (schema.enum) {
    return schema.enum.find((v) => v !== d);
  }
  if (typeof d === 'number') {
    return d + 1 <= (schema.maximum ?? Infinity) ? d + 1 : d - 1;
  }
  if (typeof d === 'boolean') {
    return !d;
  }
  if (typeof d === 'string') {
    return `${d}other`;
  }
  // A host entry, a glob, and a label (trainq.local.labels keeps only names fit for labels).
  return [{ name: 'other', type: 'ssh', target: 'other' }, '**/other/**', 'other'].slice(d === undefined || (d as unknown[]).length === 0 ? 0 : 1);
}

test('with nothing set, the config holds the manifest defaults (trainq.scriptExcludes included)', () => {
  resetSettings();
  const value = config.readConfig();
  assert.deepEqual(value.scriptExcludes, contributed['trainq.scriptExcludes'].default);
  assert.equal(value.sshMaxLogBytes, (contributed['trainq.ssh.maxLogMiB'].default as number) * 1024 * 1024);
  assert.equal(value.sshLostAfterMs, (contributed['trainq.ssh.lostAfterMinutes'].default as number) * 60_000);
  assert.deepEqual([...stub.undeclaredSettings], [], 'config.ts read a trainq setting that package.json does not contribute');
});

test('every contributed setting reaches TrainQConfig', () => {
  resetSettings();
  const baseline = JSON.stringify(config.readConfig());
  const unread: string[] = [];
  for (const [key, schema] of Object.entries(contributed)) {
    stub.setConfiguration({ [key]: otherValue(schema) });
    if (JSON.stringify(config.readConfig()) === baseline) {
      unread.push(key);
    }
    stub.setConfiguration({ [key]: undefined });
  }
  assert.deepEqual(unread, [], 'changing these settings changes nothing TrainQ sees');
});

test('host entries are added to user settings unless the workspace defines the list, and removed from both', async () => {
  resetSettings();
  const a = { name: 'a', type: 'ssh', target: 'a' };
  const b = { name: 'b', type: 'ssh', target: 'b' };
  const c = { name: 'c', type: 'ssh', target: 'c' };
  const hosts = () => stub.api.workspace as { getConfiguration(s: string): { inspect(k: string): { globalValue?: unknown; workspaceValue?: unknown } } };
  const scopes = () => hosts().getConfiguration('trainq').inspect('hosts');

  await config.addHostEntry(a);
  assert.deepEqual(scopes(), { key: 'trainq.hosts', defaultValue: [], globalValue: [a], workspaceValue: undefined });

  stub.setConfiguration({ 'trainq.hosts': [b] }, 'workspace');
  await config.addHostEntry(c);
  assert.deepEqual(scopes().workspaceValue, [b, c], 'a workspace list shadows the user list: the new entry goes where it is seen');
  assert.deepEqual(scopes().globalValue, [a]);
  assert.deepEqual(config.hostEntries(), [b, c]);

  stub.setConfiguration({ 'trainq.hosts': [a, c] }, 'user');
  await config.removeHostEntry('c');
  assert.deepEqual([scopes().globalValue, scopes().workspaceValue], [[a], [b]], 'removed from every scope that had it');
  await config.removeHostEntry('nobody');
  assert.deepEqual([scopes().globalValue, scopes().workspaceValue], [[a], [b]]);
});

test('a trainq.hosts that is not a list gives no entries, and removing from it changes nothing', async () => {
  resetSettings();
  stub.setConfiguration({ 'trainq.hosts': { name: 'a' } });
  assert.deepEqual(config.hostEntries(), []);
  await config.removeHostEntry('a');
  assert.deepEqual(config.readConfig().hosts, { name: 'a' }, 'hostConfig.ts reports the bad value; it is passed on as written');
});

// The Hosts view's rows through a do-nothing `vscode` stub: a host's labels (trainq.hosts[].labels,
// trainq.local.labels), which host constraints match, are in its row and its tooltip.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { Host, HostStatus } from '../../src/core/host';
import { createVscodeStub, installVscodeStub } from '../support/vscodeStub';

let uninstall: () => void;
// Loaded after the stub is in place: the view module imports `vscode` at load time.
let views: typeof import('../../src/ui/hostsView');

before(async () => {
  uninstall = installVscodeStub(createVscodeStub({ packageJsonPath: path.join(__dirname, '..', '..', 'package.json') }));
  views = await import('../../src/ui/hostsView');
});
after(() => uninstall());

const status = (name: string, over: Partial<HostStatus> = {}): HostStatus => ({ name, kind: 'ssh', state: 'online', gpus: [], probedAt: 1_700_000_000_000, ...over });

function view(statuses: HostStatus[], labels: Record<string, readonly string[]>) {
  const none = () => ({ dispose() {} });
  const hosts = new Map(Object.entries(labels).map(([name, l]) => [name, { name, speed: 1, labels: l } as unknown as Host]));
  return new views.HostsView({
    jobs: [], onDidChangeJobs: none, onDidChangeHosts: none, hostStatuses: () => statuses, refreshHosts: async () => undefined,
    host: (name: string | undefined) => hosts.get(name ?? ''),
  } as unknown as ConstructorParameters<typeof views.HostsView>[0]);
}

test("a host's labels are in its row and its tooltip, offline too; a host without labels shows none", () => {
  const v = view([status('gpu-a'), status('local', { kind: 'local' }), status('gpu-b', { state: 'offline' })], { 'gpu-a': ['a100', 'lab_1'], local: [], 'gpu-b': ['h100'] });
  const [a, local, b] = v.getChildren().map((n) => v.getTreeItem(n) as { description?: string; tooltip?: { value: string } });
  assert.match(a.description ?? '', / · labels a100, lab_1$/);
  assert.ok(a.tooltip!.value.includes('- Labels: a100, lab\\_1'), a.tooltip!.value);
  assert.doesNotMatch(local.description ?? '', /labels/);
  assert.ok(!local.tooltip!.value.includes('Labels'));
  assert.match(b.description ?? '', /^offline.* · labels h100$/);
  assert.ok(b.tooltip!.value.includes('- Labels: h100'));
  v.dispose();
});

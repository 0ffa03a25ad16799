/**
 * Adding, removing and testing remote hosts. Entries live in the `trainq.hosts` setting (user
 * settings by default, so every workspace sees the same boxes); a connection is tested before saving.
 */
import * as vscode from 'vscode';
import { parseHostConfigs, parseSshHostConfig, type SshHostConfig } from '../hosts/hostConfig';
import type { HostStatus } from '../hosts/host';
import { listSshConfigHosts } from '../hosts/sshConfigFile';
import { hostDescription } from '../core/jobFormat';

export interface HostCommandServices {
  /** Probes a host built from `config` once, without adding it, and disposes it. */
  probeConfig(config: SshHostConfig): Promise<HostStatus>;
  /** Probes a configured host, skipping its backoff. */
  probeHost(name: string): Promise<HostStatus | undefined>;
}

const SETTING = 'hosts';

function configuredEntries(): unknown[] {
  const value = vscode.workspace.getConfiguration('trainq').get<unknown>(SETTING);
  return Array.isArray(value) ? value : [];
}

export async function addSshHost(s: HostCommandServices): Promise<void> {
  const known = await listSshConfigHosts().catch(() => []);
  const typed = { label: '$(edit) Enter a target…', description: 'user@host[:port] or an ssh alias', alias: undefined as string | undefined };
  const picked = await vscode.window.showQuickPick(
    [typed, ...known.map((h) => ({ label: h.alias, description: [h.user && `${h.user}@`, h.hostName, h.port && `:${h.port}`].filter(Boolean).join(''), detail: `${h.file}:${h.line}`, alias: h.alias as string | undefined }))],
    { title: 'Add SSH Host', placeHolder: 'A Host from your ~/.ssh/config, or type a target' },
  );
  if (!picked) {
    return;
  }
  const target =
    picked.alias ??
    (await vscode.window.showInputBox({
      title: 'Add SSH Host',
      prompt: 'SSH target',
      placeHolder: 'user@gpu-box.example.org:22',
      validateInput: (v) => messageOf(() => parseSshHostConfig({ name: 'check', type: 'ssh', target: v.trim() })),
    }));
  if (!target) {
    return;
  }
  const defaultName = target.trim().replace(/^.*@/, '').replace(/:\d+$/, '').replace(/[^A-Za-z0-9_.-]/g, '-');
  const taken = new Set(parseHostConfigs(configuredEntries()).hosts.map((h) => h.name.toLowerCase()));
  const name = await vscode.window.showInputBox({
    title: 'Add SSH Host',
    prompt: 'Name shown in TrainQ',
    value: defaultName,
    validateInput: (v) =>
      taken.has(v.trim().toLowerCase()) ? `A host named '${v.trim()}' exists already.` : messageOf(() => parseSshHostConfig({ name: v.trim(), type: 'ssh', target: target.trim() })),
  });
  if (!name) {
    return;
  }
  const entry = { name: name.trim(), type: 'ssh', target: target.trim() };
  const status = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `TrainQ: testing the connection to ${entry.target}…` },
    () => s.probeConfig(parseSshHostConfig(entry)),
  );
  if (status.state !== 'online') {
    const save = 'Save Anyway';
    const answer = await vscode.window.showWarningMessage(`TrainQ could not use ${entry.target}: ${hostDescription(status)}`, save);
    if (answer !== save) {
      return;
    }
  }
  await vscode.workspace.getConfiguration('trainq').update(SETTING, [...configuredEntries(), entry], vscode.ConfigurationTarget.Global);
  vscode.window.setStatusBarMessage(`TrainQ: added ${entry.name} (${status.gpus.length} GPUs).`, 5000);
}

export async function removeHost(arg?: unknown): Promise<void> {
  const names = parseHostConfigs(configuredEntries()).hosts.map((h) => h.name);
  const name = hostNameOf(arg) ?? (await vscode.window.showQuickPick(names, { title: 'Remove Host', placeHolder: 'TrainQ stops dispatching to this host' }));
  if (!name) {
    return;
  }
  const inspect = vscode.workspace.getConfiguration('trainq').inspect<unknown[]>(SETTING);
  const without = (list: unknown[] | undefined) => list?.filter((e) => (e as { name?: unknown })?.name !== name);
  const c = vscode.workspace.getConfiguration('trainq');
  // The entry may live in user or workspace settings; remove it wherever it is.
  if (inspect?.globalValue?.some((e) => (e as { name?: unknown })?.name === name)) {
    await c.update(SETTING, without(inspect.globalValue), vscode.ConfigurationTarget.Global);
  }
  if (inspect?.workspaceValue?.some((e) => (e as { name?: unknown })?.name === name)) {
    await c.update(SETTING, without(inspect.workspaceValue), vscode.ConfigurationTarget.Workspace);
  }
}

export async function testConnection(s: HostCommandServices, arg?: unknown): Promise<void> {
  const names = parseHostConfigs(configuredEntries()).hosts.map((h) => h.name);
  const name = hostNameOf(arg) ?? (await vscode.window.showQuickPick(['local', ...names], { title: 'Test Connection' }));
  if (!name) {
    return;
  }
  const status = await s.probeHost(name);
  if (!status) {
    throw new Error(`There is no host named '${name}'.`);
  }
  const text = `${name}: ${hostDescription(status)}`;
  if (status.state === 'online') {
    void vscode.window.showInformationMessage(`TrainQ: ${text}`);
  } else {
    void vscode.window.showWarningMessage(`TrainQ: ${text}${status.error ? `\n${status.error}` : ''}`);
  }
}

/** Commands from a Hosts view item receive its node: `{ kind: 'host', status }`. */
function hostNameOf(arg: unknown): string | undefined {
  const node = arg as { kind?: unknown; status?: { name?: unknown } } | undefined;
  return node?.kind === 'host' && typeof node.status?.name === 'string' ? node.status.name : undefined;
}

function messageOf(check: () => unknown): string | undefined {
  try {
    check();
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

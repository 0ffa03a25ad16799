/**
 * Adding, removing and testing remote hosts. Entries live in the `trainq.hosts` setting, read and
 * written through config.ts (which decides user or workspace scope); a connection is tested before saving.
 */
import * as vscode from 'vscode';
import { addHostEntry, hostEntries, removeHostEntry } from './config';
import { parseHostConfigs, parseSlurmHostConfig, parseSshHostConfig, type SlurmHostConfig, type SshHostConfig } from '../hosts/hostConfig';
import type { HostStatus } from '../core/host';
import { listSshConfigHosts } from '../hosts/ssh/sshConfigFile';
import { hostDescription } from './hostFormat';

export interface HostCommandServices {
  /** Probes a host built from `config` once, without adding it, and disposes it. */
  probeConfig(config: SshHostConfig): Promise<HostStatus>;
  /** Like probeConfig for a Slurm cluster (runs sinfo through its target); Add Slurm Cluster needs it. */
  probeSlurmConfig?(config: SlurmHostConfig): Promise<HostStatus>;
  /** Probes a configured host, skipping its backoff. */
  probeHost(name: string): Promise<HostStatus | undefined>;
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
  const taken = new Set(parseHostConfigs(hostEntries()).hosts.map((h) => h.name.toLowerCase()));
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
  await addHostEntry(entry);
  vscode.window.setStatusBarMessage(`TrainQ: added ${entry.name} (${status.gpus.length} GPUs).`, 5000);
}

/** TrainQ: Add Slurm Cluster…: name, target (local or an ssh login node), partition; sinfo is tried before saving. */
export async function addSlurmCluster(s: HostCommandServices): Promise<void> {
  if (!s.probeSlurmConfig) {
    throw new Error('This build of TrainQ cannot use Slurm clusters.');
  }
  const title = 'Add Slurm Cluster';
  const check = (entry: Record<string, unknown>) => messageOf(() => parseSlurmHostConfig({ type: 'slurm', ...entry }));
  const known = await listSshConfigHosts().catch(() => []);
  const local = { label: '$(vm) This machine', description: 'sbatch on the local PATH; the workspace is on the cluster\'s file system', target: 'local' as string | undefined };
  const typed = { label: '$(edit) Enter a login node…', description: 'user@host[:port] or an ssh alias', target: undefined as string | undefined };
  const picked = await vscode.window.showQuickPick(
    [local, typed, ...known.map((h) => ({ label: h.alias, description: `login node · ${h.hostName ?? h.alias}`, target: h.alias as string | undefined }))],
    { title, placeHolder: 'Where TrainQ runs sbatch: this machine or a login node over ssh' },
  );
  if (!picked) {
    return;
  }
  const target =
    picked.target ??
    (await vscode.window.showInputBox({ title, prompt: 'SSH target of a login node', placeHolder: 'me@login.cluster.org', validateInput: (v) => check({ name: 'check', target: v.trim() }) }))?.trim();
  if (!target) {
    return;
  }
  const taken = new Set(parseHostConfigs(hostEntries()).hosts.map((h) => h.name.toLowerCase()));
  const name = (
    await vscode.window.showInputBox({
      title,
      prompt: 'Name shown in TrainQ',
      value: target === 'local' ? 'slurm' : target.replace(/^.*@/, '').replace(/:\d+$/, '').replace(/[^A-Za-z0-9_.-]/g, '-'),
      validateInput: (v) => (taken.has(v.trim().toLowerCase()) ? `A host named '${v.trim()}' exists already.` : check({ name: v.trim(), target })),
    })
  )?.trim();
  if (!name) {
    return;
  }
  const partition = (
    await vscode.window.showInputBox({ title, prompt: 'Partition (empty: the cluster\'s default partition)', placeHolder: 'gpu', validateInput: (v) => (v.trim() === '' ? undefined : check({ name, target, partition: v.trim() })) })
  )?.trim();
  if (partition === undefined) {
    return;
  }
  const entry = { name, type: 'slurm', target, ...(partition ? { partition } : {}) };
  const status = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `TrainQ: asking ${target === 'local' ? 'the local Slurm' : target} for its partitions (sinfo)…` }, () =>
    s.probeSlurmConfig!(parseSlurmHostConfig(entry)),
  );
  if (status.state !== 'online') {
    const save = 'Save Anyway';
    const answer = await vscode.window.showWarningMessage(`TrainQ could not use Slurm through ${target}: ${status.error ?? hostDescription(status)}`, save);
    if (answer !== save) {
      return;
    }
  }
  await addHostEntry(entry);
  vscode.window.setStatusBarMessage(`TrainQ: added ${name}${status.gpuNote ? ` (${status.gpuNote})` : ''}.`, 5000);
}

export async function removeHost(arg?: unknown): Promise<void> {
  const names = parseHostConfigs(hostEntries()).hosts.map((h) => h.name);
  const name = hostNameOf(arg) ?? (await vscode.window.showQuickPick(names, { title: 'Remove Host', placeHolder: 'TrainQ stops dispatching to this host' }));
  if (!name) {
    return;
  }
  await removeHostEntry(name);
}

export async function testConnection(s: HostCommandServices, arg?: unknown): Promise<void> {
  const names = parseHostConfigs(hostEntries()).hosts.map((h) => h.name);
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

/**
 * Adding, removing and testing remote hosts. Entries live in the `trainq.hosts` setting, read and
 * written through config.ts (which decides user or workspace scope); a connection is tested before saving.
 */
import * as vscode from 'vscode';
import { validationMessage } from './stepInput';
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
  const typed = { label: vscode.l10n.t('$(edit) Enter a target…'), description: vscode.l10n.t('user@host[:port] or an ssh alias'), alias: undefined as string | undefined };
  const picked = await vscode.window.showQuickPick(
    [typed, ...known.map((h) => ({ label: h.alias, description: [h.user && `${h.user}@`, h.hostName, h.port && `:${h.port}`].filter(Boolean).join(''), detail: `${h.file}:${h.line}`, alias: h.alias as string | undefined }))],
    { title: vscode.l10n.t('Add SSH Host'), placeHolder: vscode.l10n.t('A Host from your ~/.ssh/config, or type a target') },
  );
  if (!picked) {
    return;
  }
  const target =
    picked.alias ??
    (await vscode.window.showInputBox({
      title: vscode.l10n.t('Add SSH Host'),
      prompt: vscode.l10n.t('SSH target'),
      placeHolder: 'user@gpu-box.example.org:22',
      validateInput: (v) => validationMessage(() => parseSshHostConfig({ name: 'check', type: 'ssh', target: v.trim() })),
    }));
  if (!target) {
    return;
  }
  const defaultName = target.trim().replace(/^.*@/, '').replace(/:\d+$/, '').replace(/[^A-Za-z0-9_.-]/g, '-');
  const taken = new Set(parseHostConfigs(hostEntries()).hosts.map((h) => h.name.toLowerCase()));
  const name = await vscode.window.showInputBox({
    title: vscode.l10n.t('Add SSH Host'),
    prompt: vscode.l10n.t('Name shown in TrainQ'),
    value: defaultName,
    validateInput: (v) =>
      taken.has(v.trim().toLowerCase()) ? vscode.l10n.t("A host named '{0}' exists already.", v.trim()) : validationMessage(() => parseSshHostConfig({ name: v.trim(), type: 'ssh', target: target.trim() })),
  });
  if (!name) {
    return;
  }
  const entry = { name: name.trim(), type: 'ssh', target: target.trim() };
  const status = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('TrainQ: testing the connection to {0}…', entry.target) },
    () => s.probeConfig(parseSshHostConfig(entry)),
  );
  if (status.state !== 'online') {
    const save = vscode.l10n.t('Save Anyway');
    const answer = await vscode.window.showWarningMessage(vscode.l10n.t('TrainQ could not use {0}: {1}', entry.target, hostDescription(status)), save);
    if (answer !== save) {
      return;
    }
  }
  await addHostEntry(entry);
  vscode.window.setStatusBarMessage(vscode.l10n.t('TrainQ: added {0} ({1} GPUs).', entry.name, status.gpus.length), 5000);
}

/** TrainQ: Add Slurm Cluster…: name, target (local or an ssh login node), partition; sinfo is tried before saving. */
export async function addSlurmCluster(s: HostCommandServices): Promise<void> {
  if (!s.probeSlurmConfig) {
    throw new Error(vscode.l10n.t('This build of TrainQ cannot use Slurm clusters.'));
  }
  const title = vscode.l10n.t('Add Slurm Cluster');
  const check = (entry: Record<string, unknown>) => validationMessage(() => parseSlurmHostConfig({ type: 'slurm', ...entry }));
  const known = await listSshConfigHosts().catch(() => []);
  const local = { label: vscode.l10n.t('$(vm) This machine'), description: vscode.l10n.t("sbatch on the local PATH; the workspace is on the cluster's file system"), target: 'local' as string | undefined };
  const typed = { label: vscode.l10n.t('$(edit) Enter a login node…'), description: vscode.l10n.t('user@host[:port] or an ssh alias'), target: undefined as string | undefined };
  const picked = await vscode.window.showQuickPick(
    [local, typed, ...known.map((h) => ({ label: h.alias, description: vscode.l10n.t('login node · {0}', h.hostName ?? h.alias), target: h.alias as string | undefined }))],
    { title, placeHolder: vscode.l10n.t('Where TrainQ runs sbatch: this machine or a login node over ssh') },
  );
  if (!picked) {
    return;
  }
  const target =
    picked.target ??
    (await vscode.window.showInputBox({ title, prompt: vscode.l10n.t('SSH target of a login node'), placeHolder: 'me@login.cluster.org', validateInput: (v) => check({ name: 'check', target: v.trim() }) }))?.trim();
  if (!target) {
    return;
  }
  const taken = new Set(parseHostConfigs(hostEntries()).hosts.map((h) => h.name.toLowerCase()));
  const name = (
    await vscode.window.showInputBox({
      title,
      prompt: vscode.l10n.t('Name shown in TrainQ'),
      value: target === 'local' ? 'slurm' : target.replace(/^.*@/, '').replace(/:\d+$/, '').replace(/[^A-Za-z0-9_.-]/g, '-'),
      validateInput: (v) => (taken.has(v.trim().toLowerCase()) ? vscode.l10n.t("A host named '{0}' exists already.", v.trim()) : check({ name: v.trim(), target })),
    })
  )?.trim();
  if (!name) {
    return;
  }
  const partition = (
    await vscode.window.showInputBox({ title, prompt: vscode.l10n.t("Partition (empty: the cluster's default partition)"), placeHolder: 'gpu', validateInput: (v) => (v.trim() === '' ? undefined : check({ name, target, partition: v.trim() })) })
  )?.trim();
  if (partition === undefined) {
    return;
  }
  const entry = { name, type: 'slurm', target, ...(partition ? { partition } : {}) };
  const status = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: target === 'local' ? vscode.l10n.t('TrainQ: asking the local Slurm for its partitions (sinfo)…') : vscode.l10n.t('TrainQ: asking {0} for its partitions (sinfo)…', target) }, () =>
    s.probeSlurmConfig!(parseSlurmHostConfig(entry)),
  );
  if (status.state !== 'online') {
    const save = vscode.l10n.t('Save Anyway');
    const answer = await vscode.window.showWarningMessage(vscode.l10n.t('TrainQ could not use Slurm through {0}: {1}', target, status.error ?? hostDescription(status)), save);
    if (answer !== save) {
      return;
    }
  }
  await addHostEntry(entry);
  vscode.window.setStatusBarMessage(status.gpuNote ? vscode.l10n.t('TrainQ: added {0} ({1}).', name, status.gpuNote) : vscode.l10n.t('TrainQ: added {0}.', name), 5000);
}

/**
 * Remove Host…, for SSH hosts and Slurm clusters alike. The pick lists every named entry of the setting,
 * also one that fails validation (it is not in the Hosts view, and removing it is the usual fix).
 */
export async function removeHost(arg?: unknown): Promise<void> {
  const entries = hostEntries().filter((e): e is { name: string; type?: unknown; target?: unknown } => typeof (e as { name?: unknown } | null)?.name === 'string');
  const items = entries.map((e) => ({ label: e.name, description: [e.type, e.target].filter((v) => typeof v === 'string').join(' · ') }));
  const name =
    hostNameOf(arg) ??
    (await vscode.window.showQuickPick(items, { title: vscode.l10n.t('Remove Host'), placeHolder: vscode.l10n.t('TrainQ stops dispatching to this host') }))?.label;
  if (!name) {
    return;
  }
  await removeHostEntry(name);
  vscode.window.setStatusBarMessage(vscode.l10n.t('TrainQ: removed {0} from trainq.hosts.', name), 5000);
}

export async function testConnection(s: HostCommandServices, arg?: unknown): Promise<void> {
  const names = parseHostConfigs(hostEntries()).hosts.map((h) => h.name);
  const name = hostNameOf(arg) ?? (await vscode.window.showQuickPick(['local', ...names], { title: vscode.l10n.t('Test Connection') }));
  if (!name) {
    return;
  }
  const status = await s.probeHost(name);
  if (!status) {
    throw new Error(vscode.l10n.t("There is no host named '{0}'.", name));
  }
  const text = vscode.l10n.t('TrainQ: {0}: {1}', name, hostDescription(status));
  if (status.state === 'online') {
    void vscode.window.showInformationMessage(text);
  } else {
    void vscode.window.showWarningMessage(`${text}${status.error ? `\n${status.error}` : ''}`);
  }
}

/** Commands from a Hosts view item receive its node: `{ kind: 'host', status }`. */
function hostNameOf(arg: unknown): string | undefined {
  const node = arg as { kind?: unknown; status?: { name?: unknown } } | undefined;
  return node?.kind === 'host' && typeof node.status?.name === 'string' ? node.status.name : undefined;
}


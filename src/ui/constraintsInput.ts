/**
 * The queue input's "Host constraints…" option: which hosts (by name or label) a job requires or
 * excludes, a GPU model and a minimum of free GPU memory. Values are read by core/constraintInput.ts,
 * the same reader as the script header's `hosts=`, `exclude=`, `gpu-model=` and `min-gpu-mem=` keys.
 * Every sub-step works on a copy: Escape leaves the draft as it was, and a contradiction (a name both
 * required and excluded) is refused with a message before anything is kept.
 */
import * as vscode from 'vscode';
import { ConstraintInputError, contradiction, withConstraint, type ConstraintKey } from '../core/constraintInput';
import { constraintsText, hasConstraints, memText } from '../core/hostConstraints';
import type { HostConstraints } from '../core/job';
import { parseHostConfigs } from '../hosts/hostConfig';
import { hostEntries, readConfig } from './config';
import type { JobOptionFields } from './environmentInput';

/** A host and its labels, as the settings give them (the pick offers both). */
interface HostChoice {
  name: string;
  labels: readonly string[];
}

function configuredHosts(): HostChoice[] {
  const remote = parseHostConfigs(hostEntries()).hosts.map((h) => ({ name: h.name, labels: h.labels }));
  return [{ name: 'local', labels: readConfig().localLabels }, ...remote];
}

/** The Options… menu's summary: the constraints in one line, or "any host". */
export function constraintsSummary(c: HostConstraints | undefined): string {
  return hasConstraints(c) ? constraintsText(c) : vscode.l10n.t('any host');
}

type MenuItem = vscode.QuickPickItem & { key?: ConstraintKey | 'clear' | 'done' };

/** The constraints menu: each item edits one field of a working copy; Done keeps it, Escape drops it. */
export async function askConstraints(draft: JobOptionFields, title: string, hosts: () => HostChoice[] = configuredHosts): Promise<void> {
  let work: HostConstraints = { ...draft.constraints };
  for (;;) {
    const items: MenuItem[] = [
      { label: vscode.l10n.t('$(check) Done'), description: constraintsSummary(work), key: 'done' },
      { label: vscode.l10n.t('Require hosts or labels…'), description: work.require?.join(', ') ?? vscode.l10n.t('any'), key: 'require' },
      { label: vscode.l10n.t('Exclude hosts or labels…'), description: work.exclude?.join(', ') ?? vscode.l10n.t('none'), key: 'exclude' },
      { label: vscode.l10n.t('GPU model…'), description: work.gpuModel ?? vscode.l10n.t('any'), key: 'gpuModel' },
      {
        label: vscode.l10n.t('Minimum free memory per GPU…'),
        description: work.minGpuMemMiB ? memText(work.minGpuMemMiB) : vscode.l10n.t('none'),
        key: 'minGpuMemMiB',
      },
      { label: vscode.l10n.t('$(clear-all) Clear all constraints'), key: 'clear' },
    ];
    const picked = await vscode.window.showQuickPick(items, { title, placeHolder: vscode.l10n.t('Where this job may run'), ignoreFocusOut: true });
    if (!picked || picked.key === undefined) {
      return;
    }
    if (picked.key === 'done') {
      const clash = contradiction(work);
      if (clash) {
        void vscode.window.showErrorMessage(vscode.l10n.t('TrainQ: {0}; the job could run nowhere. Change one of the lists.', clash));
        continue;
      }
      draft.constraints = hasConstraints(work) ? work : undefined;
      return;
    }
    if (picked.key === 'clear') {
      work = {};
      continue;
    }
    work = picked.key === 'require' || picked.key === 'exclude' ? await askNames(work, picked.key, title, hosts()) : await askValue(work, picked.key, title);
  }
}

/** A multi-select of every host name and label, the current ones checked; Escape keeps the list as it was. */
async function askNames(work: HostConstraints, key: 'require' | 'exclude', title: string, hosts: HostChoice[]): Promise<HostConstraints> {
  type NameItem = vscode.QuickPickItem & { name: string };
  const current = new Set((work[key] ?? []).map((n) => n.toLowerCase()));
  const items: NameItem[] = [];
  const seen = new Set<string>();
  const add = (name: string, description: string): void => {
    if (!seen.has(name.toLowerCase())) {
      seen.add(name.toLowerCase());
      items.push({ label: name, description, name, picked: current.has(name.toLowerCase()) });
    }
  };
  hosts.forEach((h) => add(h.name, h.labels.length > 0 ? vscode.l10n.t('host · labels {0}', h.labels.join(', ')) : vscode.l10n.t('host')));
  for (const label of hosts.flatMap((h) => h.labels)) {
    add(label, vscode.l10n.t('label of {0}', hosts.filter((h) => h.labels.some((l) => l.toLowerCase() === label.toLowerCase())).map((h) => h.name).join(', ')));
  }
  // Names the job already has but no host carries now stay visible, so they can be removed.
  (work[key] ?? []).forEach((n) => add(n, vscode.l10n.t('no host has this name or label now')));
  const placeHolder =
    key === 'require'
      ? vscode.l10n.t('The job runs only on hosts with one of the checked names or labels (none checked: any host)')
      : vscode.l10n.t('The job never runs on hosts with a checked name or label');
  const picked = await vscode.window.showQuickPick(items, { title, placeHolder, canPickMany: true, ignoreFocusOut: true });
  if (picked === undefined) {
    return work;
  }
  const next = { ...work };
  if (picked.length === 0) {
    delete next[key];
  } else {
    next[key] = picked.map((p) => p.name);
  }
  return next;
}

/** An input box for the GPU model or the memory minimum, validated as the header's value would be; empty clears it. */
async function askValue(work: HostConstraints, key: 'gpuModel' | 'minGpuMemMiB', title: string): Promise<HostConstraints> {
  const isModel = key === 'gpuModel';
  const value = await vscode.window.showInputBox({
    title,
    prompt: isModel
      ? vscode.l10n.t('Text the GPU model must contain, case-insensitive (e.g. A100, RTX 4090); empty for any')
      : vscode.l10n.t('Free memory each of the job’s GPUs must have, e.g. 20GiB or 512MiB; empty for none'),
    value: isModel ? (work.gpuModel ?? '') : work.minGpuMemMiB ? memText(work.minGpuMemMiB).replace(' ', '') : '',
    ignoreFocusOut: true,
    validateInput: (text) => (text.trim() === '' ? undefined : problemOf(() => withConstraint(work, key, text))),
  });
  if (value === undefined) {
    return work;
  }
  if (value.trim() === '') {
    const next = { ...work };
    delete next[key];
    return next;
  }
  return withConstraint(work, key, value);
}

function problemOf(check: () => unknown): string | undefined {
  try {
    check();
    return undefined;
  } catch (e) {
    if (e instanceof ConstraintInputError) {
      return e.message;
    }
    throw e;
  }
}

/**
 * Text the views show for hosts and the status bar: Hosts view descriptions and tooltips, GPU rows,
 * the status-bar indicator. Editor-free, like jobFormat.ts, so every string is unit-tested in plain Node.
 */
import type { GpuInfo, HostStatus } from '../core/host';
import { leftoverGpuText } from '../core/scheduler';
import { plural } from '../core/text';
import { escapeMarkdown, formatElapsed, formatGiB, formatTimestamp, mibToGiB, SEP, shortTime } from './jobFormat';

const PROBLEM_TEXT: Partial<Record<NonNullable<HostStatus['problem']>, string>> = {
  auth: 'authentication failed',
  hostKeyChanged: 'host key changed',
  hostKeyUnknown: 'host key not known',
  unreachable: 'unreachable',
  timeout: 'timed out',
};

/** `online · 4 GPUs · CPU 23% · mem 12.1/31.2 GiB`, or `offline: <problem or error> · retry in 40s`. */
export function hostDescription(status: HostStatus, now = Date.now()): string {
  if (status.state === 'offline') {
    const problem = status.problem ? PROBLEM_TEXT[status.problem] : undefined;
    const error = problem ?? status.error?.split(/\r?\n/)[0].trim();
    const retry = status.retryAt !== undefined && status.retryAt > now ? `${SEP}retry in ${formatElapsed(status.retryAt - now)}` : '';
    const since = status.offlineSince !== undefined ? ` since ${shortTime(status.offlineSince, now)}` : '';
    return (error ? `offline${since}: ${error}` : `offline${since}`) + retry;
  }
  if (status.state === 'connecting') {
    return 'connecting…';
  }
  if (status.slurm) {
    const { partition, nodes, gpusTotal, gpusIdle, expectedWaitSec } = status.slurm;
    const wait = expectedWaitSec !== undefined ? `${SEP}queue wait ~${formatElapsed(expectedWaitSec * 1000)}` : '';
    return `online${SEP}partition ${partition}${SEP}${plural(nodes, 'node')}${SEP}${plural(gpusTotal, 'GPU')}, ${gpusIdle} idle${wait}`;
  }
  const parts = ['online', status.gpus.length === 0 ? 'no GPU' : plural(status.gpus.length, 'GPU')];
  if (status.cpuLoadPct !== undefined) {
    parts.push(`CPU ${Math.round(status.cpuLoadPct)}%`);
  }
  if (status.memUsedBytes !== undefined && status.memTotalBytes !== undefined) {
    parts.push(`mem ${formatGiB(status.memUsedBytes)}/${formatGiB(status.memTotalBytes)} GiB`);
  }
  return parts.join(SEP);
}

export function gpuLabel(gpu: GpuInfo): string {
  return `GPU ${gpu.index} · ${gpu.name}`;
}

/** `41% · 10.2/40 GiB`, then the TrainQ jobs holding the GPU, then what ended jobs left on it. */
export function gpuDescription(gpu: GpuInfo, heldBy: readonly string[] = []): string {
  const parts = [gpu.utilizationPct === undefined ? 'n/a' : `${Math.round(gpu.utilizationPct)}%`];
  if (gpu.memoryUsedMiB !== undefined && gpu.memoryTotalMiB !== undefined) {
    parts.push(`${mibToGiB(gpu.memoryUsedMiB)}/${mibToGiB(gpu.memoryTotalMiB)} GiB`);
  }
  if (heldBy.length > 0) {
    parts.push(`held by ${heldBy.join(', ')}`);
  } else if ((gpu.foreignProcesses ?? 0) > 0) {
    parts.push('busy outside TrainQ');
  }
  parts.push(...(gpu.leftoverJobs ?? []).map((job) => leftoverGpuText(job)));
  return parts.join(SEP);
}

export function noGpuLabel(status: HostStatus): string {
  return status.gpuNote ? `no GPU (${status.gpuNote})` : 'no GPU';
}

export interface QueueCounts {
  running: number;
  queued: number;
}

/** Mean utilisation over the GPUs of online hosts that report one; undefined when there are none. */
function meanGpuUtilization(statuses: readonly HostStatus[]): number | undefined {
  const values = statuses
    .filter((s) => s.state === 'online')
    .flatMap((s) => s.gpus.map((g) => g.utilizationPct))
    .filter((v): v is number => v !== undefined);
  return values.length > 0 ? values.reduce((a, b) => a + b, 0) / values.length : undefined;
}

function meanCpuLoad(statuses: readonly HostStatus[]): number | undefined {
  const values = statuses.filter((s) => s.state === 'online' && s.cpuLoadPct !== undefined).map((s) => s.cpuLoadPct!);
  return values.length > 0 ? values.reduce((a, b) => a + b, 0) / values.length : undefined;
}

/** The status-bar parts without icons, shared by the text and its screen-reader label. */
function statusParts(counts: QueueCounts, statuses: readonly HostStatus[]): string[] {
  const parts = [`${counts.running} running`, `${counts.queued} queued`];
  // Before the first probe nothing is known about the machine: show no resource figures rather than guess.
  if (statuses.length > 0) {
    const hasGpu = statuses.some((s) => s.state === 'online' && s.gpus.length > 0);
    const gpu = meanGpuUtilization(statuses);
    parts.push(!hasGpu ? 'no GPU' : gpu === undefined ? 'GPU n/a' : `GPU ${Math.round(gpu)}%`);
    const cpu = meanCpuLoad(statuses);
    if (cpu !== undefined) {
      parts.push(`CPU ${Math.round(cpu)}%`);
    }
  }
  return parts;
}

/** `$(pulse) 2 running · 3 queued · GPU 41% · CPU 23%`; with no GPU, `no GPU` replaces the GPU figure. */
export function statusBarText(counts: QueueCounts, statuses: readonly HostStatus[]): string {
  return `$(pulse) ${statusParts(counts, statuses).join(SEP)}`;
}

export function statusBarAccessibilityLabel(counts: QueueCounts, statuses: readonly HostStatus[]): string {
  return `TrainQ: ${statusParts(counts, statuses).join(', ')}`;
}

/** `labels a100, lab`: a host's `labels` setting for its row in the Hosts view; undefined when it has none. */
export function hostLabelsText(labels: readonly string[] | undefined): string | undefined {
  return labels && labels.length > 0 ? `labels ${labels.join(', ')}` : undefined;
}

/** Markdown for one host and its GPUs, used by the status-bar tooltip and (with the host's labels) the Hosts view. */
export function hostTooltipMarkdown(status: HostStatus, labels?: readonly string[]): string {
  const lines = [`**${escapeMarkdown(status.name)}** (${status.kind}) — ${escapeMarkdown(hostDescription(status))}`];
  if (labels && labels.length > 0) {
    // Whatever the state: labels are settings, what host constraints match, not something probed.
    lines.push(`- Labels: ${escapeMarkdown(labels.join(', '))}`);
  }
  if (status.state === 'online') {
    if (status.cpuCount !== undefined) {
      lines.push(`- ${plural(status.cpuCount, 'CPU')}`);
    }
    for (const gpu of status.gpus) {
      lines.push(`- ${escapeMarkdown(gpuLabel(gpu))}: ${gpuDescription(gpu)}`);
    }
    if (status.gpus.length === 0) {
      lines.push(`- ${escapeMarkdown(noGpuLabel(status))}`);
    }
  }
  lines.push('', `_Probed ${formatTimestamp(status.probedAt)}_`);
  return lines.join('\n');
}

export function statusBarTooltipMarkdown(counts: QueueCounts, statuses: readonly HostStatus[]): string {
  const head = `**TrainQ** — ${plural(counts.running, 'job')} running, ${counts.queued} queued`;
  const hosts = statuses.length > 0 ? statuses.map((s) => hostTooltipMarkdown(s)) : ['_Hosts not probed yet._'];
  return [head, ...hosts, '_Click to show the Job Queue._'].join('\n\n---\n\n');
}

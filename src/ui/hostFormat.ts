/**
 * Text the views show for hosts and the status bar: Hosts view descriptions and tooltips, GPU rows,
 * the status-bar indicator. Editor-free, like jobFormat.ts, so every string is unit-tested in plain Node.
 */
import type { GpuInfo, HostStatus } from '../core/host';
import { leftoverGpuText } from '../core/scheduler';
import { t } from './l10nText';
import { escapeMarkdown, formatElapsed, formatGiB, formatTimestamp, mibToGiB, SEP, shortTime } from './jobFormat';

// Functions, not strings: the translator is set at activation, after this module loads.
const PROBLEM_TEXT: Partial<Record<NonNullable<HostStatus['problem']>, () => string>> = {
  auth: () => t('authentication failed'),
  hostKeyChanged: () => t('host key changed'),
  hostKeyUnknown: () => t('host key not known'),
  unreachable: () => t('unreachable'),
  timeout: () => t('timed out'),
};

const gpuCount = (n: number) => (n === 1 ? t('{0} GPU', n) : t('{0} GPUs', n));

/** `online · 4 GPUs · CPU 23% · mem 12.1/31.2 GiB`, or `offline: <problem or error> · retry in 40s`. */
export function hostDescription(status: HostStatus, now = Date.now()): string {
  if (status.state === 'offline') {
    const problem = status.problem ? PROBLEM_TEXT[status.problem]?.() : undefined;
    const error = problem ?? status.error?.split(/\r?\n/)[0].trim();
    const retry = status.retryAt !== undefined && status.retryAt > now ? `${SEP}${t('retry in {0}', formatElapsed(status.retryAt - now))}` : '';
    const since = status.offlineSince !== undefined ? shortTime(status.offlineSince, now) : undefined;
    const offline =
      since === undefined
        ? error
          ? t('offline: {0}', error)
          : t('offline')
        : error
          ? t('offline since {0}: {1}', since, error)
          : t('offline since {0}', since);
    return offline + retry;
  }
  if (status.state === 'connecting') {
    return t('connecting…');
  }
  if (status.slurm) {
    const { partition, nodes, gpusTotal, gpusIdle, expectedWaitSec } = status.slurm;
    const parts = [
      t('online'),
      t('partition {0}', partition),
      nodes === 1 ? t('{0} node', nodes) : t('{0} nodes', nodes),
      gpusTotal === 1 ? t('{0} GPU, {1} idle', gpusTotal, gpusIdle) : t('{0} GPUs, {1} idle', gpusTotal, gpusIdle),
    ];
    if (expectedWaitSec !== undefined) {
      parts.push(t('queue wait ~{0}', formatElapsed(expectedWaitSec * 1000)));
    }
    return parts.join(SEP);
  }
  const parts = [t('online'), status.gpus.length === 0 ? t('no GPU') : gpuCount(status.gpus.length)];
  if (status.cpuLoadPct !== undefined) {
    parts.push(t('CPU {0}%', Math.round(status.cpuLoadPct)));
  }
  if (status.memUsedBytes !== undefined && status.memTotalBytes !== undefined) {
    parts.push(t('mem {0}/{1} GiB', formatGiB(status.memUsedBytes), formatGiB(status.memTotalBytes)));
  }
  return parts.join(SEP);
}

export function gpuLabel(gpu: GpuInfo): string {
  return t('GPU {0} · {1}', gpu.index, gpu.name);
}

/** `41% · 10.2/40 GiB`, then the TrainQ jobs holding the GPU, then what ended jobs left on it. */
export function gpuDescription(gpu: GpuInfo, heldBy: readonly string[] = []): string {
  const parts = [gpu.utilizationPct === undefined ? t('n/a') : `${Math.round(gpu.utilizationPct)}%`];
  if (gpu.memoryUsedMiB !== undefined && gpu.memoryTotalMiB !== undefined) {
    parts.push(`${mibToGiB(gpu.memoryUsedMiB)}/${mibToGiB(gpu.memoryTotalMiB)} GiB`);
  }
  if (heldBy.length > 0) {
    parts.push(t('held by {0}', heldBy.join(', ')));
  } else if ((gpu.foreignProcesses ?? 0) > 0) {
    parts.push(t('busy outside TrainQ'));
  }
  parts.push(...(gpu.leftoverJobs ?? []).map((job) => leftoverGpuText(job)));
  return parts.join(SEP);
}

export function noGpuLabel(status: HostStatus): string {
  return status.gpuNote ? t('no GPU ({0})', status.gpuNote) : t('no GPU');
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
  const parts = [t('{0} running', counts.running), t('{0} queued', counts.queued)];
  // Before the first probe nothing is known about the machine: show no resource figures rather than guess.
  if (statuses.length > 0) {
    const hasGpu = statuses.some((s) => s.state === 'online' && s.gpus.length > 0);
    const gpu = meanGpuUtilization(statuses);
    parts.push(!hasGpu ? t('no GPU') : gpu === undefined ? t('GPU n/a') : t('GPU {0}%', Math.round(gpu)));
    const cpu = meanCpuLoad(statuses);
    if (cpu !== undefined) {
      parts.push(t('CPU {0}%', Math.round(cpu)));
    }
  }
  return parts;
}

/** `$(pulse) 2 running · 3 queued · GPU 41% · CPU 23%`; with no GPU, `no GPU` replaces the GPU figure. */
export function statusBarText(counts: QueueCounts, statuses: readonly HostStatus[]): string {
  return `$(pulse) ${statusParts(counts, statuses).join(SEP)}`;
}

export function statusBarAccessibilityLabel(counts: QueueCounts, statuses: readonly HostStatus[]): string {
  return t('TrainQ: {0}', statusParts(counts, statuses).join(', '));
}

/** `labels a100, lab`: a host's `labels` setting for its row in the Hosts view; undefined when it has none. */
export function hostLabelsText(labels: readonly string[] | undefined): string | undefined {
  return labels && labels.length > 0 ? t('labels {0}', labels.join(', ')) : undefined;
}

/** Markdown for one host and its GPUs, used by the status-bar tooltip and (with the host's labels) the Hosts view. */
export function hostTooltipMarkdown(status: HostStatus, labels?: readonly string[]): string {
  const lines = [`**${escapeMarkdown(status.name)}** (${status.kind}) — ${escapeMarkdown(hostDescription(status))}`];
  if (labels && labels.length > 0) {
    // Whatever the state: labels are settings, what host constraints match, not something probed.
    lines.push(`- ${t('Labels: {0}', escapeMarkdown(labels.join(', ')))}`);
  }
  if (status.state === 'online') {
    if (status.cpuCount !== undefined) {
      lines.push(`- ${status.cpuCount === 1 ? t('{0} CPU', status.cpuCount) : t('{0} CPUs', status.cpuCount)}`);
    }
    for (const gpu of status.gpus) {
      lines.push(`- ${escapeMarkdown(gpuLabel(gpu))}: ${gpuDescription(gpu)}`);
    }
    if (status.gpus.length === 0) {
      lines.push(`- ${escapeMarkdown(noGpuLabel(status))}`);
    }
  }
  lines.push('', t('_Probed {0}_', formatTimestamp(status.probedAt)));
  return lines.join('\n');
}

export function statusBarTooltipMarkdown(counts: QueueCounts, statuses: readonly HostStatus[]): string {
  const head =
    counts.running === 1
      ? t('**TrainQ** — {0} job running, {1} queued', counts.running, counts.queued)
      : t('**TrainQ** — {0} jobs running, {1} queued', counts.running, counts.queued);
  const hosts = statuses.length > 0 ? statuses.map((s) => hostTooltipMarkdown(s)) : [t('_Hosts not probed yet._')];
  return [head, ...hosts, t('_Click to show the Job Queue._')].join('\n\n---\n\n');
}

/**
 * CPU and memory figures of the local machine for the host status, cheap enough to poll every few
 * seconds from the extension host. CPU load comes from the kernel's per-CPU time counters via
 * os.cpus() (no child process): systeminformation's currentLoad() runs a synchronous shell pipeline
 * on Linux, which the extension benchmark measured blocking the extension host for up to 200 ms.
 * Memory comes from systeminformation's mem(), which reads /proc/meminfo asynchronously.
 */
import * as os from 'node:os';
import * as si from 'systeminformation';
import type { Logger } from '../../core/logger';

export interface ResourceSnapshot {
  cpuCount?: number;
  cpuLoadPct?: number;
  memUsedBytes?: number;
  memTotalBytes?: number;
}

interface CpuTimes {
  busy: number;
  total: number;
}

function cpuTimes(cpus: readonly os.CpuInfo[]): CpuTimes {
  let busy = 0;
  let total = 0;
  for (const { times } of cpus) {
    const all = times.user + times.nice + times.sys + times.idle + times.irq;
    total += all;
    busy += all - times.idle;
  }
  return { busy, total };
}

/** CPU load between consecutive readings; the first reading compares with a short sample. */
export class CpuLoadMeter {
  private last: CpuTimes | undefined;

  constructor(
    private readonly read: () => readonly os.CpuInfo[] = os.cpus,
    private readonly firstSampleMs = 100,
  ) {}

  async loadPct(): Promise<number | undefined> {
    if (!this.last) {
      this.last = cpuTimes(this.read());
      await new Promise((resolve) => setTimeout(resolve, this.firstSampleMs));
    }
    const now = cpuTimes(this.read());
    const total = now.total - this.last.total;
    const busy = now.busy - this.last.busy;
    this.last = now;
    return total > 0 ? Math.min(100, Math.max(0, (busy / total) * 100)) : undefined;
  }
}

/** Reads CPU load and memory; a failing part is left undefined and logged, never thrown. */
export async function probeResources(logger: Logger, meter: CpuLoadMeter): Promise<ResourceSnapshot> {
  const snapshot: ResourceSnapshot = {};
  const [count, load, mem] = await Promise.allSettled([Promise.resolve(os.cpus().length), meter.loadPct(), si.mem()]);
  if (count.status === 'fulfilled' && count.value > 0) {
    snapshot.cpuCount = count.value;
  }
  if (load.status === 'fulfilled') {
    snapshot.cpuLoadPct = load.value;
  } else {
    logger.warn('Could not read the CPU load', load.reason);
  }
  if (mem.status === 'fulfilled') {
    const m = mem.value;
    snapshot.memTotalBytes = finite(m.total);
    // `used` counts the page cache on Linux, which would make every machine look full;
    // total - available is what programs actually hold (si's `active` is the same on Linux).
    snapshot.memUsedBytes = finite(m.available > 0 ? m.total - m.available : m.active);
  } else {
    logger.warn('Could not read memory usage', mem.reason);
  }
  return snapshot;
}

function finite(value: number | undefined): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

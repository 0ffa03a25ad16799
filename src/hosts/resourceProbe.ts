/**
 * CPU and memory figures of the local machine for the host status.
 * systeminformation's currentLoad() and mem() read /proc asynchronously on Linux, unlike
 * its graphics(), so they are safe to call from the extension host.
 */
import * as os from 'node:os';
import * as si from 'systeminformation';
import type { Logger } from '../core/logger';

export interface ResourceSnapshot {
  cpuCount?: number;
  cpuLoadPct?: number;
  memUsedBytes?: number;
  memTotalBytes?: number;
}

function finite(value: number | undefined): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** Reads CPU load and memory; a failing part is left undefined and logged, never thrown. */
export async function probeResources(logger: Logger): Promise<ResourceSnapshot> {
  const snapshot: ResourceSnapshot = {};
  try {
    const count = os.cpus().length;
    snapshot.cpuCount = count > 0 ? count : undefined;
  } catch (err) {
    logger.warn('Could not count CPUs', err);
  }
  const [load, mem] = await Promise.allSettled([si.currentLoad(), si.mem()]);
  if (load.status === 'fulfilled') {
    snapshot.cpuLoadPct = finite(load.value.currentLoad);
  } else {
    logger.warn('Could not read the CPU load', load.reason);
  }
  if (mem.status === 'fulfilled') {
    const m = mem.value;
    snapshot.memTotalBytes = finite(m.total);
    // `used` counts the page cache on Linux, which would make every machine look full;
    // total - available is what programs actually hold (si's `active` is the same on Linux).
    const used = m.available > 0 ? m.total - m.available : m.active;
    snapshot.memUsedBytes = finite(used);
  } else {
    logger.warn('Could not read memory usage', mem.reason);
  }
  return snapshot;
}

/**
 * The hosts JobManager dispatches to, what their last probes said, and what they offer a dispatch
 * round. Kept apart from the job state: probes and host events come at their own pace (status-bar
 * polling, a remote host leaving its backoff), and only the offers reach the scheduler.
 */
import type { Disposable } from './emitter';
import type { Job } from './job';
import type { Logger } from './logger';
import type { HostOffer } from './scheduler';
import type { HostTraits } from './hostConstraints';
import type { ExitReport, Host, HostStatus, JobNote } from './host';

/** Items by the host they name (items without one are left out), each host's in their given order. */
export function groupByHost<T extends { host?: string }>(items: readonly T[]): Map<string, T[]> {
  const byHost = new Map<string, T[]>();
  for (const item of items) {
    if (item.host !== undefined) {
      const list = byHost.get(item.host);
      if (list) {
        list.push(item);
      } else {
        byHost.set(item.host, [item]);
      }
    }
  }
  return byHost;
}

/** What the roster passes on from its hosts. */
export interface HostRosterListener {
  exited(host: Host, report: ExitReport): void;
  /** A host reported a new status by itself (a remote host back from its backoff). */
  statusChanged(): void;
  noted(host: Host, note: JobNote): void;
}

/**
 * What host constraints are checked against: the host's labels and, once it answered a probe, its GPUs
 * (a Slurm partition's GPUs carry no model or memory). Offline, the GPUs are unknown, not absent.
 */
function traitsOf(host: Host, status: HostStatus | undefined): HostTraits {
  const traits: HostTraits = host.labels?.length ? { labels: host.labels } : {};
  if (host.kind === 'slurm') {
    traits.opaqueGpus = true;
  } else if (status?.state === 'online') {
    traits.gpuSpecs = status.gpus.map((g) => ({ index: g.index, name: g.name, memoryUsedMiB: g.memoryUsedMiB, memoryTotalMiB: g.memoryTotalMiB }));
  }
  return traits;
}

export class HostRoster implements Disposable {
  private hosts: readonly Host[] = [];
  private readonly statuses = new Map<string, HostStatus>();
  private subscriptions: Disposable[] = [];

  constructor(
    private readonly listener: HostRosterListener,
    private readonly now: () => number,
    private readonly logger: Logger,
  ) {}

  /** True once any host has been probed: a round before that would see every host offline. */
  get probed(): boolean {
    return this.statuses.size > 0;
  }

  /** Adopts a new host set and returns the hosts that were not in the old one. */
  set(hosts: readonly Host[]): Host[] {
    const added = hosts.filter((h) => !this.hosts.includes(h));
    this.subscriptions.forEach((d) => d.dispose());
    this.subscriptions = [];
    this.hosts = hosts;
    for (const host of hosts) {
      this.subscriptions.push(host.onDidExit((report) => this.listener.exited(host, report)));
      const status = host.onDidChangeStatus?.((s) => {
        this.statuses.set(s.name, s);
        this.listener.statusChanged();
      });
      const notes = host.onDidUpdateJob?.((note) => this.listener.noted(host, note));
      this.subscriptions.push(...[status, notes].filter((d): d is Disposable => d !== undefined));
    }
    for (const name of [...this.statuses.keys()]) {
      if (!hosts.some((h) => h.name === name)) {
        this.statuses.delete(name);
      }
    }
    return added;
  }

  /** The hosts in use, in order: the one host list (the settings are turned into it, never kept beside it). */
  list(): readonly Host[] {
    return this.hosts;
  }

  host(name: string | undefined): Host | undefined {
    return this.hosts.find((h) => h.name === name);
  }

  /** The latest status of each host probed so far, in host order. */
  statusList(): HostStatus[] {
    return this.hosts.map((h) => this.statuses.get(h.name)).filter((s): s is HostStatus => s !== undefined);
  }

  /** Probes every host in parallel. */
  async probeAll(force = false): Promise<void> {
    await Promise.all(this.hosts.map((host) => this.probe(host, force)));
  }

  /** A host that fails its probe is shown offline with the error, never thrown. */
  async probe(host: Host, force = false): Promise<void> {
    try {
      this.statuses.set(host.name, await host.probe({ force }));
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      this.statuses.set(host.name, { name: host.name, kind: host.kind, state: 'offline', gpus: [], error, probedAt: this.now() });
    }
  }

  /** What each host offers a dispatch round, from its last probe. */
  offers(): HostOffer[] {
    return this.hosts.map((h) => {
      const status = this.statuses.get(h.name);
      const gpus = status?.gpus ?? [];
      // The GPUs an ended job's processes still use; the waiting reasons name the job.
      const leftovers = gpus.flatMap((g) => (g.leftoverJobs ?? []).map((jobId) => ({ gpu: g.index, jobId })));
      return {
        name: h.name,
        online: status?.state === 'online',
        // GPUs busy with processes TrainQ did not start, or that an ended job left behind, are not
        // offered: sharing them slows both jobs, or runs out of GPU memory.
        gpuIndices: gpus.filter((g) => !(g.foreignProcesses ?? 0) && !g.leftoverJobs?.length).map((g) => g.index),
        ...(leftovers.length > 0 ? { leftovers } : {}),
        speed: h.speed,
        maxJobs: h.maxJobs,
        // A Slurm host's learned queue wait: the agent weighs it against starting elsewhere now.
        ...(status?.slurm?.expectedWaitSec !== undefined ? { expectedWaitSec: status.slurm.expectedWaitSec } : {}),
        ...traitsOf(h, status),
      };
    });
  }

  /**
   * What remote hosts keep of removed jobs (their job folders), one call per host. The history is
   * already updated: a host that cannot be reached keeps the folders, and the log says where.
   */
  async forget(jobs: readonly Job[]): Promise<void> {
    await Promise.all(
      [...groupByHost(jobs)].map(async ([name, list]) => {
        const host = this.host(name);
        if (!host?.forget) {
          return;
        }
        try {
          const { removed, kept } = await host.forget(list);
          if (removed + kept > 0) {
            this.logger.info(`${name}: deleted ${removed} job folder(s) of removed jobs${kept > 0 ? `; kept ${kept} whose process still runs` : ''}.`);
          }
        } catch (err) {
          this.logger.warn(`${name}: could not delete the folders of ${list.length} removed job(s) (${(err as Error).message}); they stay under its .trainq/jobs.`);
        }
      }),
    );
  }

  dispose(): void {
    this.subscriptions.forEach((d) => d.dispose());
    this.subscriptions = [];
  }
}

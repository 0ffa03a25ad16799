/**
 * Builds the hosts TrainQ dispatches to from the settings: the local machine plus a host per remote
 * entry. It holds no list of its own (the dispatcher's roster is the one host list): given the hosts in
 * use, it keeps each one whose entry did not change (its shared connection and the jobs it follows
 * survive an unrelated edit of another host), builds the new and edited ones, and disposes the rest.
 */
import type { Host } from '../core/host';
import type { HostConfig, SlurmHostConfig, SshHostConfig } from './hostConfig';

export class HostRegistry {
  /** The settings entry each remote host was built from, to tell an unchanged entry from an edited one. */
  private readonly keys = new WeakMap<Host, string>();

  /** Without `createSlurm`, Slurm entries are left out (a build that cannot run them). */
  constructor(
    private readonly local: Host,
    private readonly createRemote: (config: SshHostConfig) => Host,
    private readonly createSlurm?: (config: SlurmHostConfig) => Host,
  ) {}

  /** The host list for these entries (already validated: parseHostConfigs reserves 'local'), reusing `current`'s hosts. */
  hostsFor(configs: readonly HostConfig[], current: readonly Host[]): Host[] {
    const next: Host[] = [this.local];
    for (const config of configs) {
      if (config.type === 'slurm' && !this.createSlurm) {
        continue;
      }
      const key = JSON.stringify(config);
      const kept = current.find((h) => h !== this.local && h.name === config.name && this.keys.get(h) === key);
      if (kept) {
        next.push(kept);
        continue;
      }
      const host = config.type === 'slurm' ? this.createSlurm!(config) : this.createRemote(config);
      this.keys.set(host, key);
      next.push(host);
    }
    for (const host of current) {
      if (host !== this.local && !next.includes(host)) {
        host.dispose();
      }
    }
    return next;
  }
}

/**
 * The set of hosts TrainQ dispatches to: the local machine plus the remote hosts of the settings.
 * Rebuilt from configuration on every change, but a host whose entry did not change is kept (its
 * shared connection and the jobs it follows survive an unrelated edit of another host).
 */
import type { Disposable } from '../core/emitter';
import type { Host } from '../core/host';
import type { HostConfig, SlurmHostConfig, SshHostConfig } from './hostConfig';

export class HostRegistry implements Disposable {
  private readonly remotes = new Map<string, { key: string; host: Host }>();

  /** Without `createSlurm`, Slurm entries are left out (a build that cannot run them). */
  constructor(
    private readonly local: Host,
    private readonly createRemote: (config: SshHostConfig) => Host,
    private readonly createSlurm?: (config: SlurmHostConfig) => Host,
  ) {}

  get all(): Host[] {
    return [this.local, ...[...this.remotes.values()].map((r) => r.host)];
  }

  /** Applies the configured remote hosts (already validated: parseHostConfigs reserves 'local'). */
  update(configs: readonly HostConfig[]): void {
    const wanted = new Map(configs.filter((c) => c.type === 'ssh' || this.createSlurm).map((c) => [c.name, c]));
    for (const [name, entry] of this.remotes) {
      const config = wanted.get(name);
      if (!config || JSON.stringify(config) !== entry.key) {
        entry.host.dispose();
        this.remotes.delete(name);
      }
    }
    for (const [name, config] of wanted) {
      if (!this.remotes.has(name)) {
        const host = config.type === 'slurm' ? this.createSlurm!(config) : this.createRemote(config);
        this.remotes.set(name, { key: JSON.stringify(config), host });
      }
    }
  }

  dispose(): void {
    this.remotes.forEach((r) => r.host.dispose());
    this.remotes.clear();
  }
}

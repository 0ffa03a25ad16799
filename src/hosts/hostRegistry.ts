/**
 * The set of hosts TrainQ dispatches to: the local machine plus the remote hosts of the settings.
 * Rebuilt from configuration on every change, but a host whose entry did not change is kept (its
 * shared connection and the jobs it follows survive an unrelated edit of another host).
 */
import type { Disposable } from '../core/emitter';
import type { Host } from './host';
import type { SshHostConfig } from './hostConfig';

export class HostRegistry implements Disposable {
  private readonly remotes = new Map<string, { key: string; host: Host }>();

  constructor(
    private readonly local: Host,
    private readonly createRemote: (config: SshHostConfig) => Host,
  ) {}

  get all(): Host[] {
    return [this.local, ...[...this.remotes.values()].map((r) => r.host)];
  }

  /** Applies the configured remote hosts (already validated: parseHostConfigs reserves 'local'). */
  update(configs: readonly SshHostConfig[]): void {
    const wanted = new Map(configs.map((c) => [c.name, c]));
    for (const [name, entry] of this.remotes) {
      const config = wanted.get(name);
      if (!config || JSON.stringify(config) !== entry.key) {
        entry.host.dispose();
        this.remotes.delete(name);
      }
    }
    for (const [name, config] of wanted) {
      if (!this.remotes.has(name)) {
        this.remotes.set(name, { key: JSON.stringify(config), host: this.createRemote(config) });
      }
    }
  }

  dispose(): void {
    this.remotes.forEach((r) => r.host.dispose());
    this.remotes.clear();
  }
}

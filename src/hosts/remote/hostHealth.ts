/**
 * Whether a remote host can be used right now: after a failed connection it is offline and backs
 * off exponentially (no calls, no placements) until its next attempt; one success clears it all.
 * Plain state with an injectable clock, so the backoff arithmetic is testable without sockets.
 */
import type { HostKind, HostProblem, HostStatus } from '../../core/host';
import { HostUnreachableError } from '../../core/hostErrors';
import { SshError } from './sshTransport';

export interface Backoff {
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { baseMs: 5_000, maxMs: 5 * 60_000 };

export class HostHealth {
  private failures = 0;
  private retryAtMs: number | undefined;
  private last: { kind: HostProblem; message: string; at: number } | undefined;
  private up = true;
  /** When the current outage began (the first failure after a success). */
  private downSince: number | undefined;

  constructor(
    private readonly name: string,
    private readonly kind: HostKind,
    private readonly backoff: Backoff = DEFAULT_BACKOFF,
    private readonly now: () => number = Date.now,
  ) {}

  get online(): boolean {
    return this.up;
  }
  get retryAt(): number | undefined {
    return this.retryAtMs;
  }
  get problem(): string | undefined {
    return this.last?.message;
  }

  /** True while no connection should be tried. */
  inBackoff(): boolean {
    return !this.up && this.retryAtMs !== undefined && this.now() < this.retryAtMs;
  }

  /** Returns true when the host was offline until now. */
  noteSuccess(): boolean {
    const wasOffline = !this.up;
    this.failures = 0;
    this.retryAtMs = undefined;
    this.last = undefined;
    this.up = true;
    this.downSince = undefined;
    return wasOffline;
  }

  /** Records a failure and returns the wait until the next attempt: base, 2×base, 4×base … up to max. */
  noteFailure(kind: HostProblem, message: string): number {
    this.failures += 1;
    const wait = Math.min(this.backoff.maxMs, this.backoff.baseMs * 2 ** Math.min(this.failures - 1, 30));
    const now = this.now();
    this.retryAtMs = now + wait;
    this.last = { kind, message, at: now };
    this.up = false;
    this.downSince ??= now;
    return wait;
  }

  offlineStatus(): HostStatus {
    return {
      name: this.name,
      kind: this.kind,
      state: 'offline',
      gpus: [],
      error: this.last?.message,
      problem: this.last?.kind,
      retryAt: this.retryAtMs,
      offlineSince: this.downSince,
      probedAt: this.last?.at ?? this.now(),
    };
  }

  unreachableError(mayHaveStarted: boolean): HostUnreachableError {
    return new HostUnreachableError(this.name, this.last?.kind ?? 'unreachable', `${this.name}: ${this.last?.message ?? 'not reachable'}`, {
      mayHaveStarted,
      retryAt: this.retryAtMs,
    });
  }

  /**
   * Runs a remote step: an ssh failure becomes this host's HostUnreachableError (one already thrown
   * passes through), anything else `other(e)`, or itself.
   */
  async connected<T>(fn: () => Promise<T>, other?: (e: unknown) => Error): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof HostUnreachableError) {
        throw e;
      }
      if (e instanceof SshError) {
        throw this.unreachableError(false);
      }
      throw other ? other(e) : e;
    }
  }
}

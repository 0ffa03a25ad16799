/**
 * Errors a host throws that the scheduler must tell apart from a job's own failure. A host that
 * cannot be reached is a host state: the job goes back to its queue instead of failing.
 */
import type { HostProblem } from './host';

export class HostUnreachableError extends Error {
  readonly host: string;
  readonly problem: HostProblem;
  /**
   * True when the connection broke after the start command may already have reached the host
   * (a timeout mid-call). The job must then not be queued again, or it could run twice: the host
   * keeps following it and reports its end (or its loss) through onDidExit.
   */
  readonly mayHaveStarted: boolean;
  /** Epoch ms of the host's next connection attempt, when it backs off. */
  readonly retryAt?: number;

  constructor(host: string, problem: HostProblem, message: string, opts: { mayHaveStarted?: boolean; retryAt?: number } = {}) {
    super(message);
    this.name = 'HostUnreachableError';
    this.host = host;
    this.problem = problem;
    this.mayHaveStarted = opts.mayHaveStarted ?? false;
    this.retryAt = opts.retryAt;
  }
}

export function isHostUnreachableError(err: unknown): err is HostUnreachableError {
  return err instanceof HostUnreachableError;
}

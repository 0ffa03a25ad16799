/** Waiting helpers for tests that drive real processes and servers. */
import type { ExitReport, Host } from '../../src/core/host';

/** Resolves with the host's exit report for `jobId`, or rejects after `timeoutMs`. */
export function nextExit(host: Pick<Host, 'onDidExit'>, jobId: string, timeoutMs = 20_000): Promise<ExitReport> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no exit for ${jobId} within ${timeoutMs} ms`)), timeoutMs);
    const sub = host.onDidExit((report) => {
      if (report.jobId === jobId) {
        clearTimeout(timer);
        sub.dispose();
        resolve(report);
      }
    });
  });
}

/** Polls `check` every 25 ms until it holds; throws naming `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

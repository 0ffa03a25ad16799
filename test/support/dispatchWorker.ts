/**
 * One "window" for the two-process dispatch-lock test: the real DispatchLock, JobStore and JobManager
 * wired as src/extension.ts wires them, a fake host whose CPU jobs end after a moment, and a user who
 * queues a job every few milliseconds while this window may dispatch.
 *
 * It appends what a test must count to files in the shared folder (appendFileSync: a line is on disk
 * before the next step, even if the process is stopped right after):
 *   acks.log     `ack <epoch> <jobId> <ms>`    the user was told the job is queued
 *   launches.log `launch <epoch> <jobId> <ms> <checkedMs>` the host was asked to start the job, and when
 *                the fence check just before it passed
 * Usage: node --import tsx dispatchWorker.ts <dir> <name> <staleMs>
 */
import { appendFileSync } from 'node:fs';
import * as path from 'node:path';
import { Emitter } from '../../src/core/emitter';
import { JobManager } from '../../src/core/jobManager';
import { JobStore } from '../../src/core/jobStore';
import type { Logger } from '../../src/core/logger';
import { MostFreeGpusPlacement } from '../../src/core/placement';
import { DispatchLock } from '../../src/core/storeLock';
import type { ExitReport, Host, HostStatus, LaunchRequest, LaunchResult, ReattachResult } from '../../src/core/host';

const [dir, name, staleArg] = process.argv.slice(2);
const staleMs = Number(staleArg);
const logFile = path.join(dir, `${name}.log`);
const say = (level: string) => (message: unknown) => appendFileSync(logFile, `${Date.now()} ${level} ${String(message)}\n`);
const logger: Logger = { trace: () => undefined, debug: () => undefined, info: say('info'), warn: say('warn'), error: say('error') };

/** When the fence check before the latest start passed (starts on the one host run one after another). */
let lastCheckAt = 0;
const lock = DispatchLock.create(path.join(dir, 'dispatch.lock'), { logger, staleMs, heartbeatMs: Math.round(staleMs / 4) });

/** CPU jobs without processes: the launch is logged with the epoch that started it, and ends 30 ms later. */
class LoggingHost implements Host {
  readonly name = 'local';
  readonly kind = 'local' as const;
  readonly speed = 1;
  readonly maxJobs = 1000;
  private readonly exits = new Emitter<ExitReport>();
  readonly onDidExit = this.exits.event;
  async probe(): Promise<HostStatus> {
    return { name: this.name, kind: 'local', state: 'online', gpus: [], probedAt: Date.now() };
  }
  async launch({ job, assertCurrent }: LaunchRequest): Promise<LaunchResult> {
    // As the real hosts do: the last check right before the step that starts the job.
    assertCurrent?.();
    appendFileSync(path.join(dir, 'launches.log'), `launch ${lock.epoch} ${job.id} ${Date.now()} ${lastCheckAt}\n`);
    setTimeout(() => this.exits.fire({ jobId: job.id, exitCode: 0 }), 30);
    return { kind: 'process', pgid: process.pid };
  }
  async cancel(): Promise<void> {}
  async reattach(): Promise<ReattachResult> {
    return { kind: 'running' };
  }
  logPath(jobId: string): string {
    return path.join(dir, `${jobId}.log`);
  }
  dispose(): void {
    this.exits.dispose();
  }
}

async function main(): Promise<void> {
  const opened = await JobStore.open(dir, logger, { fence: lock });
  let seq = 0;
  const manager = new JobManager({
    persistence: opened.store,
    state: opened.state,
    hosts: [new LoggingHost()],
    placement: new MostFreeGpusPlacement(),
    classifier: { classify: () => ({ priority: 'medium', path: 'test' }), retrain: () => undefined },
    logger,
    settings: () => ({ agingMinutes: 60, cancelGraceSeconds: 1, retries: 0 }),
    removeJobFiles: async () => undefined,
    confirmDispatch: () => lock.refresh(),
    fence: {
      assertCurrent: () => {
        lock.assertCurrent();
        lastCheckAt = Date.now();
      },
    },
    newId: () => `${name}-${++seq}`,
  });
  const becomeDispatcher = async () => {
    manager.replaceState((await opened.store.load()).state);
    manager.setWritable(true);
    await manager.reconcile();
  };
  lock.onDidChangeHeld((held) => {
    if (held) {
      void becomeDispatcher();
    } else {
      manager.setWritable(false);
      void opened.store.load().then((loaded) => manager.replaceState(loaded.state));
    }
  });
  if (await lock.tryAcquire()) {
    await becomeDispatcher();
  }
  lock.startRetrying(Math.round(staleMs / 4));

  // The user: queues a job whenever this window says it can, one at a time, and notes each acknowledgement.
  let stopping = false;
  let inFlight: Promise<void> = Promise.resolve();
  const user = setInterval(() => {
    if (stopping || !manager.canDispatch) {
      return;
    }
    // The epoch of the window that let the user act, read with canDispatch: read later, inside the
    // chain, it could be the epoch this window is just acquiring (set before its fence is raised and
    // before it may dispatch), which made a plain queueing look like an act of the next dispatcher.
    const epoch = lock.epoch;
    inFlight = inFlight.then(async () => {
      try {
        const job = await manager.queue({ script: '/ws/train.py', args: [], cwd: '/ws', gpus: 0, importance: 'normal', runtimeSec: 60 }, 'train.py');
        appendFileSync(path.join(dir, 'acks.log'), `ack ${epoch} ${job.id} ${Date.now()}\n`);
      } catch (err) {
        logger.info(`queue refused: ${err instanceof Error ? err.message : err}`);
      }
    });
  }, 15);
  process.on('SIGTERM', () => {
    stopping = true;
    clearInterval(user);
    void inFlight.then(async () => {
      await manager.kick();
      await lock.release();
      manager.dispose();
      process.exit(0);
    });
  });
  process.send?.('ready');
}

main().catch((err) => {
  logger.error(err instanceof Error ? err.stack ?? err.message : String(err));
  process.exit(1);
});

/**
 * Which window of a workspace dispatches. One window holds the dispatch lock and runs the queue; the
 * others show it read-only, follow the store as the dispatcher saves it, and keep trying the lock so
 * one takes over when the dispatcher closes, crashes or stops responding. Editor-free: the extension
 * wires it to the real lock and store, the unit tests to fakes.
 */
import type { Disposable, Event } from './emitter';
import type { LoadResult } from './jobStore';
import type { Logger } from './logger';
import type { LockInfo } from './lockFile';
import type { WorkspaceState } from './workspaceState';

export interface LeaderLock {
  tryAcquire(): Promise<boolean>;
  owner(): Promise<LockInfo | undefined>;
  startRetrying(intervalMs: number): Disposable;
  readonly onDidChangeHeld: Event<boolean>;
  dispose(): void;
}

export interface LeaderQueue {
  replaceState(state: WorkspaceState): void;
  setWritable(writable: boolean): void;
  reconcile(): Promise<void>;
}

export interface LeadershipDeps {
  lock: LeaderLock;
  /** `changedSinceLoad` lets a window that takes the lock skip re-reading a store nobody else wrote. */
  store: { load(): Promise<LoadResult>; changedSinceLoad?(): Promise<boolean> };
  queue: LeaderQueue;
  /** Calls back when the store file changes on disk (another window saved); polling is fine. */
  watchStore: (changed: () => void) => Disposable;
  logger: Logger;
  /** How often a read-only window tries the lock. */
  retryMs?: number;
}

/** Takes the lock if it can and keeps the window's mode in step with it until disposed. */
export async function followLeadership(deps: LeadershipDeps): Promise<Disposable> {
  const { lock, store, queue, logger } = deps;
  const retryMs = deps.retryMs ?? 5000;
  let watching: Disposable | undefined;
  let retrying: Disposable | undefined;
  const reload = async () => queue.replaceState((await store.load()).state);
  const readOnly = () => {
    watching ??= deps.watchStore(() => void reload().catch((e) => logger.warn(`TrainQ could not re-read the job store: ${e}`)));
    retrying?.dispose();
    retrying = lock.startRetrying(retryMs);
  };
  const dispatcher = async () => {
    watching?.dispose();
    watching = undefined;
    retrying?.dispose();
    retrying = undefined;
    // Read after the lock is ours: the previous dispatcher may have saved until its fence was retired.
    if (!store.changedSinceLoad || (await store.changedSinceLoad())) {
      await reload();
    }
    queue.setWritable(true);
    await queue.reconcile();
  };

  if (await lock.tryAcquire()) {
    await dispatcher();
  } else {
    const owner = await lock.owner();
    logger.info(`Another window (pid ${owner?.pid ?? '?'}) dispatches TrainQ jobs; this one shows the queue read-only.`);
    readOnly();
  }
  const held = lock.onDidChangeHeld((isHeld) => {
    if (isHeld) {
      void dispatcher()
        .then(() => logger.info('This window dispatches TrainQ jobs for the workspace.'))
        .catch((e) => logger.error(`TrainQ could not take over dispatching: ${e}`));
    } else {
      queue.setWritable(false);
      // What this window holds in memory may include changes that were refused: show what was saved.
      void reload().catch((e) => logger.warn(`TrainQ could not re-read the job store: ${e}`));
      readOnly();
    }
  });
  return {
    dispose: () => {
      held.dispose();
      watching?.dispose();
      retrying?.dispose();
      lock.dispose();
    },
  };
}

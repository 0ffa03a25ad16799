/**
 * Benchmarks run inside the benchmark's own process on the real sources: saving the job store, and
 * refreshing the Job Queue tree (the real JobQueueView and ConfigWatcher over the vscode stub, fed by
 * a real JobManager).
 */
import { performance } from 'node:perf_hooks';
import { Emitter } from '../../src/core/emitter';
import type { Job } from '../../src/core/job';
import { JobManager } from '../../src/core/jobManager';
import { JobStore, type WriteInfo } from '../../src/core/jobStore';
import { silentLogger } from '../../src/core/logger';
import { MostFreeGpusPlacement } from '../../src/core/placement';
import { PriorityClassifier } from '../../src/core/priorityClassifier';
import type { WorkspaceState } from '../../src/core/workspaceState';
import type { ExitReport, Host, HostStatus } from '../../src/core/host';
import { createVscodeStub, installVscodeStub } from '../../test/support/vscodeStub';

export interface StoreSaveResult {
  /** save() until its promise resolves: serialise, write, fsync, rotate the backup, rename, fsync the folder. */
  totalMs: number[];
  /** The synchronous part of save() (JSON.stringify of the envelope): how long the extension host is blocked. */
  blockingMs: number[];
  bytes: number;
}

export async function measureStoreSave(dir: string, state: WorkspaceState, warmup: number, iterations: number): Promise<StoreSaveResult> {
  let last: WriteInfo | undefined;
  const { store } = await JobStore.open(dir, silentLogger, { onWrite: (info) => (last = info) });
  const result: StoreSaveResult = { totalMs: [], blockingMs: [], bytes: 0 };
  for (let i = 0; i < warmup + iterations; i++) {
    const t0 = performance.now();
    const saved = store.save(state);
    const t1 = performance.now();
    await saved;
    const t2 = performance.now();
    if (i >= warmup) {
      result.blockingMs.push(t1 - t0);
      result.totalMs.push(t2 - t0);
    }
  }
  result.bytes = last?.bytes ?? 0;
  return result;
}

/**
 * The local machine as the view sees it after a probe: four GPUs and as many job slots as there
 * are running jobs, so every queued job waits with a real reason and nothing is launched.
 */
function busyHost(maxJobs: number): Host {
  const exits = new Emitter<ExitReport>();
  const refuse = () => Promise.reject(new Error('the benchmark host runs nothing'));
  return {
    name: 'local',
    kind: 'local',
    speed: 1,
    maxJobs,
    onDidExit: exits.event,
    probe: async (): Promise<HostStatus> => ({
      name: 'local',
      kind: 'local',
      state: 'online',
      gpus: [0, 1, 2, 3].map((index) => ({ index, uuid: `GPU-${index}`, name: 'NVIDIA A100-SXM4-40GB', utilizationPct: 90, memoryUsedMiB: 30_000, memoryTotalMiB: 40_960 })),
      probedAt: Date.now(),
    }),
    launch: refuse,
    cancel: refuse,
    reattach: async () => ({ kind: 'running' }),
    logPath: (id) => `/tmp/${id}.log`,
    dispose: () => exits.dispose(),
  };
}

export interface TreeRefreshResult {
  finishedHistory: number;
  ms: number[];
  /** Tree items built per refresh (groups + jobs). */
  items: number;
  groups: Record<string, number>;
}

/** The view's own refresh (debounce skipped), then everything VS Code asks for after it. */
export async function measureTreeRefresh(
  packageJsonPath: string,
  state: WorkspaceState,
  finishedHistories: number[],
  warmup: number,
  iterations: number,
): Promise<{ results: TreeRefreshResult[]; misses: string[] }> {
  const stub = createVscodeStub({ packageJsonPath, focused: true });
  const uninstall = installVscodeStub(stub);
  try {
    const { JobQueueView } = await import('../../src/ui/queueView');
    const { ConfigWatcher } = await import('../../src/ui/config');
    const config = new ConfigWatcher();
    const running = state.jobs.filter((j: Job) => j.state === 'running').length;
    const manager = new JobManager({
      persistence: { save: async () => undefined },
      state,
      hosts: [busyHost(running)],
      placement: new MostFreeGpusPlacement(),
      classifier: new PriorityClassifier(),
      logger: silentLogger,
      settings: () => config.value,
      removeJobFiles: async () => undefined,
    });
    manager.setWritable(true);
    await manager.kick();
    const view = new JobQueueView(manager, config);
    const refresh = (view as unknown as { refresh?: () => void }).refresh;
    if (typeof refresh !== 'function') {
      throw new Error('JobQueueView has no refresh() any more: update scripts/bench/inProcess.ts to the view\'s new refresh path');
    }
    const results: TreeRefreshResult[] = [];
    for (const finishedHistory of finishedHistories) {
      stub.setConfiguration({ 'trainq.finishedHistory': finishedHistory });
      const result: TreeRefreshResult = { finishedHistory, ms: [], items: 0, groups: {} };
      for (let i = 0; i < warmup + iterations; i++) {
        const t0 = performance.now();
        refresh.call(view);
        let items = 0;
        for (const group of view.getChildren()) {
          view.getTreeItem(group);
          const children = view.getChildren(group);
          children.forEach((child) => view.getTreeItem(child));
          items += 1 + children.length;
          if (group.kind === 'group') {
            result.groups[group.key] = children.length;
          }
        }
        const elapsed = performance.now() - t0;
        if (i >= warmup) {
          result.ms.push(elapsed);
        }
        result.items = items;
      }
      results.push(result);
    }
    view.dispose();
    manager.dispose();
    config.dispose();
    return { results, misses: stub.misses };
  } finally {
    uninstall();
  }
}

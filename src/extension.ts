/**
 * Composition root: builds the services, registers the UI, and hands every disposable to VS Code.
 * Behaviour lives in core/, hosts/ and ui/; this file only wires them together.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Job } from './core/job';
import { JobManager } from './core/jobManager';
import { JobStore } from './core/jobStore';
import type { Logger } from './core/logger';
import type { Disposable } from './core/emitter';
import { planEtas } from './core/etaPlanner';
import { AgentService } from './agent/agentService';
import { AgentStats } from './agent/agentStats';
import { MostFreeGpusPlacement } from './core/placement';
import { PriorityClassifier } from './core/priorityClassifier';
import { followLeadership } from './core/leadership';
import { DispatchLock } from './core/storeLock';
import type { Host, HostStatus } from './core/host';
import { parseHostConfigs, type SlurmHostConfig, type SshHostConfig } from './hosts/hostConfig';
import { HostRegistry } from './hosts/hostRegistry';
import { LocalHost } from './hosts/local/localHost';
import { SlurmHost } from './hosts/slurm/slurmHost';
import { SshHost } from './hosts/ssh/sshHost';
import { AgentEvaluation } from './ui/agentEvaluation';
import { COMMANDS, registerCommands } from './ui/commands';
import { AgentDashboard, DASHBOARD_VIEW_TYPE } from './ui/dashboardPanel';
import { ConfigWatcher } from './ui/config';
import { HostsView } from './ui/hostsView';
import { createLog } from './ui/log';
import { JobLogProvider } from './ui/logDocuments';
import { pythonResolver } from './ui/pythonInterpreter';
import { JobQueueView } from './ui/queueView';
import { jobsFromArgs } from './ui/queueNodes';
import { ResourceStatusBar } from './ui/statusBar';
import { EtaCache } from './ui/etaCache';
import { GpuIdleWarnings } from './ui/gpuIdleWarnings';
import { JobEndNotifications } from './ui/jobNotifications';
import { registerOutputCopyBack } from './ui/outputCommands';
import { createSweeps } from './ui/sweepSetup';
import { UNTRUSTED_REASON } from './ui/trust';
import { setTranslator } from './ui/l10nText';

/** ETAs are replanned this often as time passes (a running job overdue, a drain time drifting), besides after each change. */
const ETA_REFRESH_MS = 15_000;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const started = Date.now();
  // The editor-free format modules translate through ui/l10nText; from here on that is vscode.l10n.
  setTranslator((message, ...args) => vscode.l10n.t(message, ...args));
  const { channel, logger } = createLog();
  const config = new ConfigWatcher();
  context.subscriptions.push(channel, config);

  if (!context.storageUri) {
    // TrainQ's queue belongs to a workspace; without a folder there is nowhere to keep it.
    for (const id of Object.keys(COMMANDS)) {
      context.subscriptions.push(
        vscode.commands.registerCommand(id, () => vscode.window.showInformationMessage(vscode.l10n.t('TrainQ: open a folder to queue training jobs.'))),
      );
    }
    // A dashboard left open in a window that now has no folder has nothing to show: closed, not left blank.
    context.subscriptions.push(vscode.window.registerWebviewPanelSerializer(DASHBOARD_VIEW_TYPE, { deserializeWebviewPanel: async (panel) => panel.dispose() }));
    return;
  }

  const storageDir = context.storageUri.fsPath;
  const jobsRoot = path.join(storageDir, 'jobs');
  // The lock fences the store: a save from a window that lost the lock while it was stopped cannot land.
  const lock = DispatchLock.create(path.join(storageDir, 'dispatch.lock'), { logger });
  const opened = await JobStore.open(storageDir, logger, { fence: lock });
  if (opened.notice) {
    void vscode.window.showWarningMessage(vscode.l10n.t('TrainQ: {0}', opened.notice));
  }

  const local = new LocalHost({
    jobsRoot,
    maxJobs: config.value.localMaxJobs,
    labels: config.value.localLabels,
    nvidiaSmi: config.value.nvidiaSmiPath,
    logger,
    // One log cap for every job: local logs on disk, remote ones in their local copies.
    maxLogBytes: config.value.sshMaxLogBytes,
    sweepGraceSec: config.value.cancelGraceSeconds,
    // The local host builds each job's argv; `.py` scripts run with the Python extension's interpreter.
    resolvePython: pythonResolver(() => config.value.python, logger),
  });
  // What SSH hosts and Slurm clusters (reached over SSH or locally) share, read when each host is made.
  const remoteOptions = () => ({
    jobsRoot,
    controlDir: path.join(context.globalStorageUri.fsPath, 'ssh'),
    logger,
    projectRootFor: (job: Job) => job.cwd,
    syncExcludes: config.value.sshSyncExcludes,
    maxLogBytes: config.value.sshMaxLogBytes,
    lostAfterMs: config.value.sshLostAfterMs,
    sweepGraceSec: config.value.cancelGraceSeconds,
  });
  const sshHost = (hostConfig: SshHostConfig) => new SshHost({ config: hostConfig, ...remoteOptions() });
  const slurmHost = (hostConfig: SlurmHostConfig) => new SlurmHost({ config: hostConfig, ...remoteOptions() });
  const registry = new HostRegistry(local, sshHost, slurmHost);
  const agent = createAgent(context, config, logger);
  const manager = new JobManager({
    persistence: opened.store,
    state: opened.state,
    hosts: [local],
    placement: agent,
    classifier: new PriorityClassifier(opened.state.priorityExamples),
    logger,
    settings: () => config.value,
    removeJobFiles: (id) => fs.promises.rm(path.join(jobsRoot, id), { recursive: true, force: true }),
    confirmDispatch: () => lock.refresh(),
    fence: lock,
  });
  // Remote hosts live in the roster: disposed with it when the window closes (local has its own entry).
  context.subscriptions.push(local, { dispose: () => manager.hosts.forEach((h) => h !== local && h.dispose()) }, manager);
  const applyHosts = () => {
    const { hosts, errors } = parseHostConfigs(vscode.workspace.isTrusted ? config.value.hosts : []);
    errors.forEach((e) => void vscode.window.showWarningMessage(vscode.l10n.t('TrainQ: trainq.hosts: {0}', e)));
    manager.setHosts(registry.hostsFor(hosts, manager.hosts));
  };
  applyHosts();
  // The dispatcher probes and dispatches on its own clock; the window's focus only tells it how often
  // (in the background not at all, as the status bar always did: probing runs nvidia-smi and reads /proc).
  const pollMs = () => config.value.statusBarPollSeconds * 1000;
  manager.dispatcher.start(pollMs());
  manager.dispatcher.setFocused(vscode.window.state.focused);
  context.subscriptions.push(vscode.window.onDidChangeWindowState((state) => manager.dispatcher.setFocused(state.focused)));

  const evaluation = new AgentEvaluation({
    extensionUri: context.extensionUri,
    logger,
    currentWeights: () => agent.weightsFile(),
    agingMinutes: () => config.value.agingMinutes,
  });
  const dashboard = new AgentDashboard({
    extensionUri: context.extensionUri,
    stats: agent.stats,
    placementName: () => agent.name,
    manager,
    evaluation,
    logger,
    maxPoints: () => 2_000,
    historyLength: () => agent.stats.series.loss.capacity,
  });
  context.subscriptions.push(evaluation, dashboard, dashboard.registerSerializer());
  let agentSettings = { backend: config.value.agentBackend, learning: config.value.agentLearning };
  let pausedKey: boolean | undefined;
  const logs = new JobLogProvider(manager);
  const { etas, disposables: etaDisposables } = queueEtas(manager, () => config.value.agingMinutes * 60_000, logger);
  const gpuIdle = new GpuIdleWarnings(manager, () => config.value);
  const queueView = new JobQueueView(manager, config, etas, gpuIdle);
  const sweepParts = createSweeps(context.extensionUri, manager, logger, (job) => logs.open(job));
  context.subscriptions.push(
    ...etaDisposables,
    ...sweepParts.disposables,
    logs,
    queueView,
    gpuIdle,
    new JobEndNotifications(manager, () => config.value),
    registerOutputCopyBack(manager, () => config.value, logger),
    new HostsView(manager),
    new ResourceStatusBar(manager, etas),
    ...registerCommands({
      manager,
      sweeps: sweepParts.sweeps,
      showSweep: sweepParts.showSweep,
      sweepExport: sweepParts.sweepExport,
      config,
      logger,
      channel,
      openLog: (job) => logs.open(job),
      jobIds: (args) => jobsFromArgs(args, queueView.selection()),
      hosts: {
        probeConfig: (hostConfig) => probeOnce(sshHost(hostConfig)),
        probeSlurmConfig: (hostConfig) => probeOnce(slurmHost(hostConfig)),
        probeHost: async (name) => (await manager.refreshHosts(true)).find((h) => h.name === name),
      },
      agent: {
        reset: () => agent.reset(),
        stats: agent.stats,
        dashboard,
        evaluate: () => evaluation.start(),
      },
    }),
    manager.onDidFailToStart(({ job, message }) => void vscode.window.showErrorMessage(vscode.l10n.t('TrainQ could not start {0}: {1}', job.name, message))),
    manager.onDidChangeJobs(() => {
      // The pause/resume buttons swap on this context key; set it only when it changes.
      if (manager.paused !== pausedKey) {
        pausedKey = manager.paused;
        void vscode.commands.executeCommand('setContext', 'trainq.paused', pausedKey);
      }
    }),
  );

  context.subscriptions.push(
    config.onDidChange((c) => {
      if (c.agentBackend !== agentSettings.backend) {
        agentSettings = { backend: c.agentBackend, learning: c.agentLearning };
        void agent.restart();
      } else if (c.agentLearning !== agentSettings.learning) {
        agentSettings = { backend: c.agentBackend, learning: c.agentLearning };
        agent.setLearning(c.agentLearning);
      }
      agent.stats.setPointCapacity(c.agentStatsHistory);
      local.maxJobs = c.localMaxJobs;
      local.labels = c.localLabels;
      local.nvidiaSmi = c.nvidiaSmiPath;
      local.maxLogBytes = c.sshMaxLogBytes;
      local.sweepGraceSec = c.cancelGraceSeconds;
      applyHosts();
      manager.dispatcher.start(pollMs());
      void manager.refreshHosts();
    }),
  );
  applyTrust(manager);
  context.subscriptions.push(
    vscode.workspace.onDidGrantWorkspaceTrust(() => {
      applyTrust(manager);
      applyHosts();
    }),
  );
  const storeFile = opened.store.file;
  const watchStore = (changed: () => void) => {
    fs.watchFile(storeFile, { interval: 2000, persistent: false }, changed);
    return { dispose: () => fs.unwatchFile(storeFile, changed) };
  };
  context.subscriptions.push(await followLeadership({ lock, store: opened.store, queue: manager, watchStore, logger }));
  logger.info(`TrainQ activated in ${Date.now() - started} ms (storage ${storageDir}).`);
  // Started after activation: until it is ready (a fraction of a second) the fallback heuristic places jobs.
  void agent.start().then(() => manager.kick());
}

/** Set while active: deactivate waits for the agent's last save (disposables cannot be awaited). */
let stopAgent: (() => Promise<void>) | undefined;

/**
 * The DQN placement agent. It learns across workspaces, so its weights live in global storage;
 * two windows that both dispatch save in turn (each save is atomic, the later one wins).
 */
function createAgent(context: vscode.ExtensionContext, config: ConfigWatcher, logger: Logger): AgentService {
  const agent = new AgentService({
    savedWeights: path.join(context.globalStorageUri.fsPath, 'agent', 'dqn-weights.json'),
    shippedWeights: context.asAbsolutePath(path.join('media', 'agent', 'dqn-weights.json')),
    workerScript: context.asAbsolutePath(path.join('dist', 'trainingWorker.js')),
    wasmDir: context.asAbsolutePath('dist'),
    searchPaths: [context.extensionPath],
    logger,
    settings: () => ({ backend: config.value.agentBackend, learning: config.value.agentLearning }),
    fallback: new MostFreeGpusPlacement(),
    stats: new AgentStats('none', { decisions: 1_000, points: config.value.agentStatsHistory }),
  });
  stopAgent = () => agent.dispose();
  return agent;
}

/** Add Host commands test an entry before saving it: a throwaway host, probed once and disposed. */
async function probeOnce(host: Host): Promise<HostStatus> {
  try {
    return await host.probe({ force: true });
  } finally {
    host.dispose();
  }
}

/**
 * The queue's ETA plan, replanned (at most once a second) after job and host changes and every
 * ETA_REFRESH_MS as time passes. While dispatching is paused queued jobs start never, so only the
 * running jobs are planned and the queue has no drain time.
 */
function queueEtas(manager: JobManager, agingMs: () => number, logger: Logger): { etas: EtaCache; disposables: Disposable[] } {
  const etas = new EtaCache(
    () => {
      const jobs = manager.paused ? manager.jobs.filter((j) => j.state !== 'queued') : manager.jobs;
      const plan = planEtas({ jobs, offers: manager.hostOffers(), nowMs: Date.now(), agingMs: agingMs() }, manager.runtimeModel);
      return manager.paused ? { ...plan, drainMs: undefined } : plan;
    },
    (e) => logger.warn(`TrainQ could not plan the queue's ETAs: ${e instanceof Error ? e.message : String(e)}`),
  );
  const ticker = setInterval(() => etas.invalidate(), ETA_REFRESH_MS);
  etas.invalidate();
  return {
    etas,
    disposables: [
      manager.onDidChangeJobs(() => etas.invalidate()),
      manager.onDidChangeHosts(() => etas.invalidate()),
      { dispose: () => clearInterval(ticker) },
      etas,
    ],
  };
}

function applyTrust(manager: JobManager): void {
  manager.blockDispatch(vscode.workspace.isTrusted ? undefined : UNTRUSTED_REASON);
}

export async function deactivate(): Promise<void> {
  // Everything else is disposed through context.subscriptions; jobs keep running on purpose.
  await stopAgent?.();
  stopAgent = undefined;
}

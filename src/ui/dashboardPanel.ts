/**
 * The Agent Dashboard webview panel: one per window, created on demand. It moves messages only; what
 * they contain comes from dashboardModel.ts, and the page itself is src/webview/.
 *
 * Protocol: the page posts `ready` whenever it (re)loads, including after being hidden and shown, since
 * the panel does not retain its context; each `ready` gets a full snapshot. Live changes are batched
 * (UpdateBatcher, at most four a second) and not sent while the panel is hidden.
 *
 * A reload restores an open dashboard: VS Code keeps the panel and hands it to the serializer registered
 * here, which wires it up as show() would; the page then posts `ready` and gets a fresh snapshot (the
 * page keeps no state of its own worth restoring: everything comes from the extension).
 */
import * as vscode from 'vscode';
import { webviewPage } from './webviewHtml';
import type { AgentStats } from '../agent/agentStats';
import type { JobManager } from '../core/jobManager';
import type { Logger } from '../core/logger';
import { checkToWebview, parseFromWebview, type Charts, type Snapshot, type ToWebview } from '../shared/dashboardProtocol';
import type { AgentEvaluation } from './agentEvaluation';
import { chartsOf, headerView, hostViews, predictionsView, recentDecisions, UpdateBatcher } from './dashboardModel';

export interface DashboardDeps {
  extensionUri: vscode.Uri;
  stats: AgentStats;
  /** 'dqn', or the fallback heuristic's name while the agent is not deciding. */
  placementName(): string;
  manager: JobManager;
  evaluation: AgentEvaluation;
  logger: Logger;
  /** Most points per chart in a snapshot (after down-sampling). */
  maxPoints(): number;
  historyLength(): number;
}

/** The webview panel type, also named in package.json's `onWebviewPanel:` activation event. */
export const DASHBOARD_VIEW_TYPE = 'trainq.agentDashboard';

export class AgentDashboard implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly deps: DashboardDeps) {}

  show(): void {
    if (this.panel) {
      this.panel.reveal();
      return;
    }
    this.attach(vscode.window.createWebviewPanel(DASHBOARD_VIEW_TYPE, vscode.l10n.t('TrainQ Agent'), vscode.ViewColumn.Active, this.options()));
  }

  /** Lets VS Code hand back the dashboard it kept open across a reload (registered during activation). */
  registerSerializer(): vscode.Disposable {
    return vscode.window.registerWebviewPanelSerializer(DASHBOARD_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel) => {
        if (this.panel) {
          // One dashboard per window: a second restored copy would only duplicate the first.
          panel.dispose();
          return;
        }
        panel.webview.options = this.options();
        this.attach(panel);
      },
    });
  }

  private options(): vscode.WebviewOptions {
    return { enableScripts: true, localResourceRoots: [this.root()] };
  }

  private root(): vscode.Uri {
    return vscode.Uri.joinPath(this.deps.extensionUri, 'media', 'dashboard');
  }

  private attach(panel: vscode.WebviewPanel): void {
    const root = this.root();
    panel.iconPath = vscode.Uri.joinPath(this.deps.extensionUri, 'media', 'trainq.svg');
    this.panel = panel;
    const refused = new Set<string>();
    const post = (message: ToWebview): void => {
      // The page drops what fails the protocol's checks; checking here too names the field in the TrainQ
      // log (once per problem, as updates repeat it four times a second) instead of leaving a stale panel.
      const checked = checkToWebview(message);
      if (!checked.ok) {
        if (!refused.has(checked.error) && refused.size < 20) {
          refused.add(checked.error);
          this.deps.logger.warn(`Agent dashboard: not sending a message the page would refuse: ${checked.error}`);
        }
        return;
      }
      void panel.webview.postMessage(message);
    };
    const batcher = new UpdateBatcher((append) => post(this.update(append)));
    const { stats, manager, evaluation } = this.deps;
    this.subscriptions.push(
      panel.onDidDispose(() => this.closed()),
      panel.onDidChangeViewState(() => batcher.setPaused(!panel.visible)),
      panel.webview.onDidReceiveMessage((raw: unknown) => {
        const message = parseFromWebview(raw);
        if (!message) {
          this.deps.logger.warn(`Agent dashboard: ignored a malformed message from the page: ${JSON.stringify(raw)?.slice(0, 200)}`);
          return;
        }
        switch (message.type) {
          case 'ready':
            batcher.reset();
            post({ type: 'snapshot', snapshot: this.snapshot() });
            break;
          case 'evaluate':
            void evaluation.start();
            break;
          case 'cancelEvaluation':
            evaluation.cancel();
            break;
          case 'export':
            void vscode.commands.executeCommand('trainq.exportAgentStats');
            break;
          case 'timing':
            this.deps.logger.info(`Agent dashboard: ${message.what} of ${message.points} chart points applied in ${message.ms.toFixed(1)} ms.`);
            break;
        }
      }),
      { dispose: () => batcher.dispose() },
      stats.onPoint(({ name, point }) => batcher.addPoint(name, point)),
      stats.onDecision(() => batcher.markDirty()),
      stats.onOutcome(() => batcher.markDirty()),
      stats.onFigures(() => batcher.markDirty()),
      manager.onDidChangeHosts(() => batcher.markDirty()),
      // The run-time model learns when a job ends, which is a change of the jobs.
      manager.onDidChangeJobs(() => batcher.markDirty()),
      evaluation.onDidChange((view) => post({ type: 'evaluation', evaluation: view })),
    );
    panel.webview.html = this.html(panel.webview, root);
  }

  private snapshot(): Snapshot {
    const { stats, evaluation } = this.deps;
    return {
      header: headerView(stats.figures, this.deps.placementName()),
      charts: chartsOf(stats, this.deps.maxPoints()),
      decisions: recentDecisions(stats),
      hosts: this.hosts(),
      evaluation: evaluation.view,
      predictions: this.predictions(),
      historyLength: this.deps.historyLength(),
    };
  }

  private update(append: Charts): ToWebview {
    const { stats } = this.deps;
    return {
      type: 'update',
      header: headerView(stats.figures, this.deps.placementName()),
      append,
      decisions: recentDecisions(stats),
      hosts: this.hosts(),
      predictions: this.predictions(),
    };
  }

  private predictions() {
    const { manager } = this.deps;
    const hosts = manager.hostStatuses().map((s) => ({ name: s.name, declaredSpeed: manager.host(s.name)?.speed ?? 1 }));
    return predictionsView(manager.runtimeModel, hosts);
  }

  private hosts() {
    const { manager } = this.deps;
    const statuses = manager.hostStatuses();
    return hostViews(statuses, new Map(statuses.map((s) => [s.name, manager.host(s.name)?.speed ?? 1])), manager.jobs);
  }

  private html(webview: vscode.Webview, root: vscode.Uri): string {
    return webviewPage(webview, root, { script: 'dashboard.js', style: 'dashboard.css', title: vscode.l10n.t('TrainQ Agent') });
  }

  private closed(): void {
    this.panel = undefined;
    this.subscriptions.splice(0).forEach((d) => d.dispose());
  }

  dispose(): void {
    this.panel?.dispose();
    this.closed();
  }
}

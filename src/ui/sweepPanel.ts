/**
 * The sweep view: one webview panel per sweep, created on demand (showing an open sweep again reveals
 * its panel). It moves messages only; what they contain comes from sweepViewModel.ts, the page is
 * src/webview/sweepMain.ts, and what the buttons do is the caller's (SweepActions).
 *
 * Protocol, as the agent dashboard's: the panel does not retain its context when hidden (a sweep view
 * is cheap to rebuild, and a retained page costs memory for as long as it is open), so the page posts
 * `ready` whenever it (re)loads and gets a full snapshot. refresh() sends the whole view again as an
 * `update`, at most twice a second and not while the panel is hidden (showing it reloads the page).
 */
import * as vscode from 'vscode';
import { webviewPage } from './webviewHtml';
import type { Logger } from '../core/logger';
import type { SweepRecord } from '../core/sweep/sweepRecord';
import { checkSweepToWebview, parseSweepFromWebview, TRIAL_ACTIONS } from '../shared/sweepProtocol';
import type { SweepFromWebview, SweepToWebview } from '../shared/sweepProtocol';
import { RefreshThrottle, sweepView } from './sweepViewModel';

/** What the panel's buttons do; the caller implements them (a rejected promise is shown as an error). */
export interface SweepActions {
  pause(): void | Promise<void>;
  resume(): void | Promise<void>;
  stop(): void | Promise<void>;
  stopTrial(trial: number): void | Promise<void>;
  /** Queue the trial's configuration again as a plain job (the page passes the best trial). */
  queueBest(trial: number): void | Promise<void>;
  /** Ask where to save, then write sweepCsv / sweepJson of the sweep. */
  exportData(format: 'csv' | 'json'): void | Promise<void>;
  openLog(trial: number): void | Promise<void>;
}

type Action = Extract<SweepFromWebview, { type: 'action' }>;

/** The webview panel type, also named in package.json's `onWebviewPanel:` activation event. */
export const SWEEP_VIEW_TYPE = 'trainq.sweep';

/**
 * The sweep a panel restored by a reload showed: the page saves its last view (with the sweep's id) with
 * setState, and VS Code hands that state back. Anything else (an old or damaged state) gives undefined.
 */
export function sweepIdOfState(state: unknown): string | undefined {
  const id = (state as { sweep?: { id?: unknown } } | null | undefined)?.sweep?.id;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

export class SweepPanel implements vscode.Disposable {
  /** Open panels by sweep id: one per sweep. */
  private static readonly open = new Map<string, SweepPanel>();

  /**
   * Shows the sweep's panel, creating it when it is not open; undefined when the sweep does not exist.
   * `revived` is a panel VS Code restored after a reload: used instead of a new one, or closed when the
   * sweep is gone or already has a panel.
   */
  static show(
    extensionUri: vscode.Uri,
    sweepId: string,
    getRecord: () => SweepRecord | undefined,
    actions: SweepActions,
    logger: Logger,
    revived?: vscode.WebviewPanel,
  ): SweepPanel | undefined {
    const existing = SweepPanel.open.get(sweepId);
    if (existing) {
      revived?.dispose();
      existing.panel.reveal();
      existing.refresh();
      return existing;
    }
    const record = getRecord();
    if (!record) {
      if (revived) {
        revived.dispose();
      } else {
        void vscode.window.showErrorMessage(vscode.l10n.t('TrainQ: that sweep no longer exists.'));
      }
      return undefined;
    }
    const panel = new SweepPanel(extensionUri, sweepId, record.spec.name, getRecord, actions, logger, revived);
    SweepPanel.open.set(sweepId, panel);
    return panel;
  }

  /** The open panel of a sweep, if any (for the caller to refresh() when the sweep changes). */
  static get(sweepId: string): SweepPanel | undefined {
    return SweepPanel.open.get(sweepId);
  }

  /** Refreshes every open panel: the simplest answer to SweepManager.onDidChange. */
  static refreshAll(): void {
    SweepPanel.open.forEach((p) => p.refresh());
  }

  static disposeAll(): void {
    [...SweepPanel.open.values()].forEach((p) => p.dispose());
  }

  private readonly panel: vscode.WebviewPanel;
  private readonly subscriptions: vscode.Disposable[] = [];
  private readonly throttle: RefreshThrottle;
  /** Problems already logged, so that a refusal repeated twice a second is logged once. */
  private readonly refused = new Set<string>();
  private disposed = false;

  constructor(
    extensionUri: vscode.Uri,
    readonly sweepId: string,
    name: string,
    private readonly getRecord: () => SweepRecord | undefined,
    private readonly actions: SweepActions,
    private readonly logger: Logger,
    revived?: vscode.WebviewPanel,
  ) {
    const root = vscode.Uri.joinPath(extensionUri, 'media', 'sweep');
    const options = { enableScripts: true, localResourceRoots: [root] };
    this.panel = revived ?? vscode.window.createWebviewPanel(SWEEP_VIEW_TYPE, vscode.l10n.t('Sweep: {0}', name), vscode.ViewColumn.Active, options);
    if (revived) {
      revived.webview.options = options;
      revived.title = vscode.l10n.t('Sweep: {0}', name);
    }
    this.panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'trainq.svg');
    this.throttle = new RefreshThrottle(() => this.send('update'));
    this.subscriptions.push(
      this.panel.onDidDispose(() => this.closed()),
      this.panel.webview.onDidReceiveMessage((raw: unknown) => this.received(raw)),
      this.throttle,
    );
    this.panel.webview.html = this.html(this.panel.webview, root);
  }

  /** Sends the sweep's view again (throttled to twice a second); call it when the sweep changes. */
  refresh(): void {
    if (!this.disposed && this.panel.visible) {
      this.throttle.request();
    }
  }

  private send(type: SweepToWebview['type']): void {
    if (this.disposed) {
      return;
    }
    const record = this.getRecord();
    if (!record) {
      // The sweep was removed: its view has nothing left to show.
      this.logger.info(`Sweep view: sweep ${this.sweepId} no longer exists; closing its panel.`);
      this.dispose();
      return;
    }
    this.panel.title = vscode.l10n.t('Sweep: {0}', record.spec.name);
    const message: SweepToWebview = { type, sweep: sweepView(record) };
    // The page drops what fails the protocol's checks; checking here too names the field in the log.
    const checked = checkSweepToWebview(message);
    if (!checked.ok) {
      if (!this.refused.has(checked.error) && this.refused.size < 20) {
        this.refused.add(checked.error);
        this.logger.warn(`Sweep view: not sending a message the page would refuse: ${checked.error}`);
      }
      return;
    }
    void this.panel.webview.postMessage(message);
  }

  private received(raw: unknown): void {
    const message = parseSweepFromWebview(raw);
    if (!message) {
      this.logger.warn(`Sweep view: ignored a malformed message from the page: ${JSON.stringify(raw)?.slice(0, 200)}`);
      return;
    }
    if (message.type === 'ready') {
      this.throttle.cancel();
      this.send('snapshot');
      return;
    }
    void this.run(message);
  }

  /** Runs an action; failures reach the user as an error message and the log. */
  private async run(action: Action): Promise<void> {
    try {
      const trial = action.trial;
      if (TRIAL_ACTIONS.includes(action.kind) && !this.getRecord()?.trials.some((t) => t.trial === trial)) {
        // The page may show a trial a moment after it is gone (updates are throttled).
        throw new Error(vscode.l10n.t('the sweep has no trial {0}.', String(trial)));
      }
      await this.dispatch(action.kind, trial ?? 0);
    } catch (e) {
      const text = e instanceof Error ? e.message : String(e);
      this.logger.error(`Sweep view: ${action.kind} failed: ${text}`);
      void vscode.window.showErrorMessage(vscode.l10n.t('TrainQ: {0}', text));
    }
    this.refresh();
  }

  private dispatch(kind: Action['kind'], trial: number): void | Promise<void> {
    const a = this.actions;
    switch (kind) {
      case 'pause':
        return a.pause();
      case 'resume':
        return a.resume();
      case 'stop':
        return a.stop();
      case 'stopTrial':
        return a.stopTrial(trial);
      case 'queueBest':
        return a.queueBest(trial);
      case 'exportCsv':
        return a.exportData('csv');
      case 'exportJson':
        return a.exportData('json');
      case 'openLog':
        return a.openLog(trial);
    }
  }

  private html(webview: vscode.Webview, root: vscode.Uri): string {
    return webviewPage(webview, root, { script: 'sweep.js', style: 'sweep.css', title: vscode.l10n.t('TrainQ Sweep') });
  }

  private closed(): void {
    this.disposed = true;
    if (SweepPanel.open.get(this.sweepId) === this) {
      SweepPanel.open.delete(this.sweepId);
    }
    this.subscriptions.splice(0).forEach((d) => d.dispose());
  }

  dispose(): void {
    if (!this.disposed) {
      this.panel.dispose();
    }
    this.closed();
  }
}

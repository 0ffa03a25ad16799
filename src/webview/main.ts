/**
 * The Agent Dashboard webview's entry point: restores the saved state, announces `ready`, applies the
 * extension's messages and reports how long each took. Bundled by scripts/build.mjs into
 * media/dashboard/dashboard.js (with dashboard.css beside it).
 */
import 'uplot/dist/uPlot.min.css';
import './dashboard.css';
import { checkToWebview } from '../shared/dashboardProtocol';
import type { FromWebview } from '../shared/dashboardProtocol';
import { watchTheme } from './chartTheme';
import { Dashboard } from './dashboard';
import { restoreState, StateSaver } from './state';
import type { PersistedState, VsCodeApi } from './state';

type Timing = Extract<FromWebview, { type: 'timing' }>;

declare function acquireVsCodeApi(): VsCodeApi;

declare global {
  interface Window {
    /** Every timing the page posted, for the end-to-end test to read. */
    __trainqTimings: Timing[];
  }
}

/** Runs `callback` after the next frame has been laid out and painted (rAF runs just before paint). */
function afterNextPaint(callback: () => void): void {
  // A hidden page gets no frames; it has nothing to paint either.
  if (document.hidden) {
    callback();
    return;
  }
  requestAnimationFrame(() => setTimeout(callback, 0));
}

function start(): void {
  const vscode = acquireVsCodeApi();
  const state: PersistedState = restoreState(vscode.getState());
  window.__trainqTimings = [];

  const post = (message: FromWebview): void => vscode.postMessage(message);
  const postTiming = (what: Timing['what'], ms: number, points: number): void => {
    const timing: Timing = { type: 'timing', what, ms: Math.round(ms * 100) / 100, points };
    window.__trainqTimings.push(timing);
    post(timing);
  };

  const dashboard = new Dashboard(state.ui, {
    evaluate: () => post({ type: 'evaluate' }),
    cancelEvaluation: () => post({ type: 'cancelEvaluation' }),
    exportStats: () => post({ type: 'export' }),
    uiChanged: () => saver.saveNow(),
  });
  const saver = new StateSaver(vscode, () => ({ version: 1, ui: state.ui, snapshot: dashboard.snapshot }));
  const host = document.getElementById('app') ?? document.body;
  host.replaceChildren(dashboard.root);

  // Draw what the page showed before it was hidden, so it is not blank until the snapshot arrives.
  if (state.snapshot) {
    dashboard.applySnapshot(state.snapshot);
  }

  window.addEventListener('message', (event: MessageEvent<unknown>) => {
    const started = performance.now();
    // Checked field by field, so that nothing the page cannot draw (a time no Date can hold, say) reaches it.
    const checked = checkToWebview(event.data);
    if (!checked.ok) {
      console.warn(`TrainQ dashboard: ignoring a message it does not understand (${checked.error})`, event.data);
      return;
    }
    const message = checked.value;
    switch (message.type) {
      case 'snapshot': {
        const points = dashboard.applySnapshot(message.snapshot);
        afterNextPaint(() => postTiming('snapshot', performance.now() - started, points));
        break;
      }
      case 'update': {
        const points = dashboard.applyUpdate(message);
        if (points === undefined) {
          console.warn('TrainQ dashboard: an update arrived before any snapshot; ignored');
          return;
        }
        postTiming('update', performance.now() - started, points);
        break;
      }
      case 'evaluation':
        dashboard.applyEvaluation(message.evaluation);
        break;
    }
    saver.saveSoon();
  });

  watchTheme(() => dashboard.rebuildCharts());
  setInterval(() => dashboard.tick(Date.now()), 30_000);
  // Hiding the panel discards the page; save what a pending (coalesced) save would have saved.
  document.addEventListener('visibilitychange', () => {
    if (document.hidden) {
      saver.saveNow();
    }
  });
  window.addEventListener('pagehide', () => saver.saveNow());

  post({ type: 'ready' });
}

start();

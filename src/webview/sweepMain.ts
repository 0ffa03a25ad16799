/**
 * The sweep view page's entry point: restores the saved state, announces `ready`, and applies the
 * extension's snapshots and updates (both carry the whole view). Bundled by scripts/build.mjs into
 * media/sweep/sweep.js, with sweep.css beside it.
 *
 * The panel does not retain its context, so VS Code rebuilds this page when it is shown again; the
 * sort order and the last view are saved with setState, so it draws at once and keeps its order
 * while the fresh snapshot is on its way.
 */
// The dashboard's stylesheet gives the base (theme, buttons, header fields, tables); sweep.css adds the charts.
import './dashboard.css';
import './sweep.css';
import { parseSweepToWebview, checkSweepToWebview } from '../shared/sweepProtocol';
import type { SweepFromWebview, SweepView } from '../shared/sweepProtocol';
import { SweepPage } from './sweepPage';
import { DEFAULT_SORT } from './sweepText';
import type { SortOrder } from './sweepText';

/** The webview API VS Code injects; acquireVsCodeApi may be called only once per page. */
interface VsCodeApi {
  postMessage(message: SweepFromWebview): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

interface SavedState {
  version: 1;
  sort: SortOrder;
  sweep?: SweepView;
}

/** Reads back a saved state, trusting nothing: whatever does not check out falls back to the default. */
function restore(raw: unknown): SavedState {
  const state: SavedState = { version: 1, sort: DEFAULT_SORT };
  if (typeof raw !== 'object' || raw === null || (raw as { version?: unknown }).version !== 1) {
    return state;
  }
  const { sort, sweep } = raw as { sort?: Partial<SortOrder>; sweep?: unknown };
  const fixed = ['trial', 'state', 'best', 'steps'];
  if (
    typeof sort?.key === 'string' &&
    (fixed.includes(sort.key) || sort.key.startsWith('param:')) &&
    (sort.dir === 'ascending' || sort.dir === 'descending')
  ) {
    state.sort = { key: sort.key as SortOrder['key'], dir: sort.dir };
  }
  const message = parseSweepToWebview({ type: 'snapshot', sweep });
  if (message) {
    state.sweep = message.sweep;
  }
  return state;
}

function start(): void {
  const vscode = acquireVsCodeApi();
  const saved = restore(vscode.getState());
  const post = (message: SweepFromWebview): void => vscode.postMessage(message);
  const save = (): void => vscode.setState({ version: 1, sort: page.sortOrder, sweep: page.current } satisfies SavedState);

  const page: SweepPage = new SweepPage(saved.sort, {
    action: (kind, trial) => post(trial === undefined ? { type: 'action', kind } : { type: 'action', kind, trial }),
    sortChanged: () => save(),
  });
  (document.getElementById('app') ?? document.body).replaceChildren(page.root);
  if (saved.sweep) {
    page.apply(saved.sweep);
  }

  window.addEventListener('message', (event: MessageEvent<unknown>) => {
    // Checked field by field, so that nothing the page cannot draw reaches it.
    const checked = checkSweepToWebview(event.data);
    if (!checked.ok) {
      console.warn(`TrainQ sweep view: ignoring a message it does not understand (${checked.error})`);
      return;
    }
    page.apply(checked.value.sweep);
    // At most twice a second, and a sweep view is small: saving each time is cheap.
    save();
  });

  post({ type: 'ready' });
}

start();

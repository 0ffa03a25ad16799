/**
 * What the page keeps across being hidden and shown. VS Code rebuilds a hidden webview's page (the panel
 * does not retain its context), so the UI choices and the last data are saved with setState and read
 * back on load: the charts draw at once from the saved data while the fresh snapshot is on its way.
 */
import { parseToWebview } from '../shared/dashboardProtocol';
import type { FromWebview, Snapshot } from '../shared/dashboardProtocol';
import type { XAxisMode } from '../shared/seriesWindow';

/** The webview API VS Code injects; acquireVsCodeApi may be called only once per page. */
export interface VsCodeApi {
  postMessage(message: FromWebview): void;
  getState(): unknown;
  setState(state: unknown): void;
}

export type ChartId = 'loss' | 'reward' | 'epsilon' | 'predictionError';
export const CHART_IDS: readonly ChartId[] = ['loss', 'reward', 'epsilon', 'predictionError'];

export interface UiState {
  xAxis: XAxisMode;
  /** Charts whose table view is open. */
  openTables: ChartId[];
}

export interface PersistedState {
  version: 1;
  ui: UiState;
  /** The dashboard's data as last drawn (charts windowed, evaluation included). */
  snapshot?: Snapshot;
}

export function defaultUiState(): UiState {
  return { xAxis: 'time', openTables: [] };
}

/**
 * Reads back a saved state, trusting nothing: a state from an older build of the page, or a damaged one,
 * yields the defaults for whatever part does not check out.
 */
export function restoreState(raw: unknown): PersistedState {
  const restored: PersistedState = { version: 1, ui: defaultUiState() };
  if (typeof raw !== 'object' || raw === null || (raw as { version?: unknown }).version !== 1) {
    return restored;
  }
  const { ui, snapshot } = raw as { ui?: Partial<UiState>; snapshot?: unknown };
  if (ui?.xAxis === 'time' || ui?.xAxis === 'step') {
    restored.ui.xAxis = ui.xAxis;
  }
  if (Array.isArray(ui?.openTables)) {
    restored.ui.openTables = CHART_IDS.filter((id) => ui.openTables?.includes(id));
  }
  const message = parseToWebview({ type: 'snapshot', snapshot });
  if (message?.type === 'snapshot') {
    restored.snapshot = message.snapshot;
  }
  return restored;
}

/**
 * Saves the state. UI choices are saved at once; data changes are coalesced, since serialising
 * ~40,000 chart numbers four times a second would cost more than applying the updates themselves.
 */
export class StateSaver {
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly api: VsCodeApi,
    private readonly current: () => PersistedState,
    private readonly delayMs = 2_000,
  ) {}

  saveNow(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.api.setState(this.current());
  }

  saveSoon(): void {
    this.timer ??= setTimeout(() => this.saveNow(), this.delayMs);
  }
}

/**
 * The dashboard page: builds the layout once, keeps the current data (a Snapshot whose chart series are
 * bounded windows, appended in place) and hands each part its slice when a message arrives.
 */
import { CHART_NAMES } from '../shared/dashboardProtocol';
import type { Charts, EvaluationView, Snapshot, ToWebview } from '../shared/dashboardProtocol';
import { appendToWindow, lastPoints } from '../shared/seriesWindow';
import type { XAxisMode } from '../shared/seriesWindow';
import { CHART_SPECS, DashboardChart } from './charts';
import { readChartTheme } from './chartTheme';
import { DecisionList } from './decisions';
import { el, section } from './dom';
import { EvaluationPanel } from './evaluation';
import { DashboardHeader } from './header';
import { HostsTable } from './hostsTable';
import { PredictionsPanel } from './predictions';
import type { ChartId, UiState } from './state';

type UpdateMessage = Extract<ToWebview, { type: 'update' }>;

export interface DashboardActions {
  evaluate(): void;
  cancelEvaluation(): void;
  exportStats(): void;
  /** The user changed the x axis or opened or closed a table view. */
  uiChanged(ui: UiState): void;
}

const X_AXIS_LABELS: Record<XAxisMode, string> = { time: 'wall time', step: 'training step' };

export class Dashboard {
  readonly root: HTMLElement;
  private readonly header = new DashboardHeader();
  private readonly decisions = new DecisionList();
  private readonly hosts = new HostsTable();
  private readonly evaluation: EvaluationPanel;
  private readonly predictions: PredictionsPanel;
  private readonly charts: DashboardChart[];
  private readonly xAxisButton: HTMLButtonElement;
  private readonly waiting: HTMLElement;
  private model: Snapshot | undefined;

  constructor(
    private readonly ui: UiState,
    private readonly actions: DashboardActions,
  ) {
    this.evaluation = new EvaluationPanel({ evaluate: actions.evaluate, cancel: actions.cancelEvaluation });
    const context = { theme: readChartTheme(), xAxis: ui.xAxis };
    this.charts = CHART_SPECS.map(
      (spec) => new DashboardChart(spec, context, ui.openTables.includes(spec.id), (open) => this.tableToggled(spec.id, open)),
    );
    this.predictions = new PredictionsPanel(context, ui.openTables.includes('predictionError'), (open) =>
      this.tableToggled('predictionError', open),
    );

    this.xAxisButton = el('button', { className: 'button secondary', testId: 'x-axis', attrs: { type: 'button' } });
    this.xAxisButton.addEventListener('click', () => this.setXAxis(this.ui.xAxis === 'time' ? 'step' : 'time'));
    this.showXAxis();
    const exportButton = el('button', {
      className: 'button secondary',
      text: 'Export Agent Stats',
      testId: 'export',
      attrs: { type: 'button' },
    });
    exportButton.addEventListener('click', () => actions.exportStats());
    this.waiting = el('p', { className: 'waiting', text: 'Waiting for the agent’s stats…', attrs: { role: 'status' } });

    const top = el('header', { className: 'dashboard-header' }, [
      el('div', { className: 'title-row' }, [el('h1', { text: 'Agent Dashboard' }), el('div', { className: 'actions' }, [exportButton])]),
      this.waiting,
      this.header.root,
    ]);
    const training = section('training', 'Training', [
      el('div', { className: 'toolbar' }, [this.xAxisButton]),
      el(
        'div',
        { className: 'charts-grid' },
        this.charts.map((c) => c.root),
      ),
    ]);
    this.root = el('main', { className: 'dashboard' }, [
      top,
      training,
      section('decisions', 'Recent decisions', [this.decisions.root]),
      section('hosts', 'Hosts', [this.hosts.root]),
      section('predictions', 'Predictions', [this.predictions.root]),
      section('evaluation', 'Simulator check', [this.evaluation.root]),
    ]);
  }

  /** The data as last drawn, for setState. */
  get snapshot(): Snapshot | undefined {
    return this.model;
  }

  /** Replaces everything; returns the number of chart points drawn. */
  applySnapshot(snapshot: Snapshot): number {
    const charts = Object.fromEntries(
      CHART_NAMES.map((name) => [name, lastPoints(snapshot.charts[name], snapshot.historyLength)]),
    ) as Charts;
    this.model = { ...snapshot, charts };
    // Charts first: drawing text on a canvas brings the page's style up to date, which is cheaper before the DOM changes below.
    const points = this.drawCharts();
    this.waiting.hidden = true;
    this.header.render(snapshot.header);
    this.decisions.render(snapshot.decisions);
    this.hosts.render(snapshot.hosts);
    this.evaluation.render(snapshot.evaluation);
    return points + this.predictions.render(snapshot.predictions);
  }

  /** Appends chart points and replaces the rest; returns the number of points appended, or undefined before any snapshot. */
  applyUpdate(update: UpdateMessage): number | undefined {
    const model = this.model;
    if (!model) {
      return undefined;
    }
    let appended = 0;
    for (const name of CHART_NAMES) {
      appendToWindow(model.charts[name], update.append[name], model.historyLength);
      appended += update.append[name].v.length;
    }
    model.header = update.header;
    model.decisions = update.decisions;
    model.hosts = update.hosts;
    // An update without predictions (from a sender that predates them) leaves the section as it is.
    if (update.predictions) {
      model.predictions = update.predictions;
    }
    this.drawCharts();
    this.header.render(update.header);
    this.decisions.render(update.decisions);
    this.hosts.render(update.hosts);
    this.predictions.render(model.predictions);
    return appended;
  }

  applyEvaluation(evaluation: EvaluationView): void {
    if (this.model) {
      this.model.evaluation = evaluation;
    }
    this.evaluation.render(evaluation);
  }

  /** Rebuilds the charts with the theme's current colours (after a theme switch) and the chosen x axis. */
  rebuildCharts(): void {
    const context = { theme: readChartTheme(), xAxis: this.ui.xAxis };
    this.charts.forEach((c) => c.setContext(context));
    this.predictions.setContext(context);
  }

  tick(nowMs: number): void {
    this.header.refreshSaved(nowMs);
  }

  private drawCharts(): number {
    const charts = this.model?.charts;
    return charts ? this.charts.reduce((sum, c) => sum + c.setData(charts), 0) : 0;
  }

  private setXAxis(mode: XAxisMode): void {
    this.ui.xAxis = mode;
    this.showXAxis();
    this.rebuildCharts();
    this.actions.uiChanged(this.ui);
  }

  private showXAxis(): void {
    const mode = this.ui.xAxis;
    const other: XAxisMode = mode === 'time' ? 'step' : 'time';
    this.xAxisButton.textContent = `X axis: ${X_AXIS_LABELS[mode]}`;
    this.xAxisButton.title = `Show the charts over ${X_AXIS_LABELS[other]}`;
    this.xAxisButton.dataset.mode = mode;
  }

  private tableToggled(id: ChartId, open: boolean): void {
    const others = this.ui.openTables.filter((t) => t !== id);
    const next = open ? [...others, id] : others;
    if (next.length !== this.ui.openTables.length) {
      this.ui.openTables = next;
      this.actions.uiChanged(this.ui);
    }
  }
}

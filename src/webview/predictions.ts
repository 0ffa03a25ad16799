/**
 * The Predictions section: how well the run-time model predicts, as the windowed median error over time
 * (a chart with its table view, like the training charts), the last finished jobs predicted against
 * actual, and each host's learned speed beside its declared one.
 */
import type { PredictionsView } from '../shared/dashboardProtocol';
import { DashboardChart } from './charts';
import type { ChartContext, ChartSpec } from './charts';
import { el } from './dom';
import { hostSpeedText, PREDICTIONS_EMPTY, predictionRowText, predictionsSummary } from './predictionText';

export const PREDICTION_CHART: ChartSpec = {
  id: 'predictionError',
  title: 'Prediction error (median |log(predicted ÷ actual)|)',
  lines: [{ name: 'predictionError', label: 'Median error', color: 'orange', style: 'line' }],
  stepLabel: 'job',
};

const ROW_COLUMNS: ReadonlyArray<[label: string, numeric: boolean]> = [
  ['Ended', false],
  ['Script', false],
  ['Host', false],
  ['Predicted', true],
  ['Actual', true],
  ['Error', true],
  ['Runs before', true],
];

const SPEED_COLUMNS: ReadonlyArray<[label: string, numeric: boolean]> = [
  ['Host', false],
  ['Declared speed', true],
  ['Learned speed', true],
  ['Rests on', true],
];

function table(caption: string, testId: string, columns: typeof ROW_COLUMNS, body: HTMLTableSectionElement): HTMLElement {
  const t = el('table', { className: 'data-table predictions-table', testId }, [
    el('caption', { className: 'visually-hidden', text: caption }),
    el('thead', {}, [
      el(
        'tr',
        {},
        columns.map(([label, numeric]) => el('th', { text: label, className: numeric ? 'num' : undefined, attrs: { scope: 'col' } })),
      ),
    ]),
    body,
  ]);
  // Narrow panels scroll the table sideways instead of squeezing its columns.
  return el('div', { className: 'table-scroll', attrs: { tabindex: '0', role: 'region', 'aria-label': caption } }, [t]);
}

export class PredictionsPanel {
  readonly root: HTMLElement;
  readonly chart: DashboardChart;
  private readonly summary: HTMLElement;
  private readonly content: HTMLElement;
  private readonly rows = el('tbody');
  private readonly speeds = el('tbody');
  private signature: string | undefined;

  constructor(context: ChartContext, tableOpen: boolean, onTableToggle: (open: boolean) => void) {
    // Its x axis is always wall time: a training step means nothing for a finished job.
    this.chart = new DashboardChart(PREDICTION_CHART, { ...context, xAxis: 'time' }, tableOpen, onTableToggle);
    this.summary = el('p', { className: 'predictions-summary', testId: 'predictions-summary', text: PREDICTIONS_EMPTY, attrs: { role: 'status' } });
    this.content = el('div', { className: 'predictions-content' }, [
      el('div', { className: 'charts-grid' }, [this.chart.root]),
      el('h3', { text: 'Predicted vs actual, last finished jobs' }),
      table('Predicted vs actual run time of the last finished jobs, newest first', 'predictions', ROW_COLUMNS, this.rows),
      el('h3', { text: 'Learned host speeds' }),
      table('Declared and learned speed per host', 'learned-speeds', SPEED_COLUMNS, this.speeds),
    ]);
    this.content.hidden = true;
    this.root = el('div', {}, [this.summary, this.content]);
  }

  setContext(context: ChartContext): void {
    this.chart.setContext({ ...context, xAxis: 'time' });
  }

  /** Redraws when the data changed (updates repeat it four times a second); returns the chart points drawn. */
  render(view: PredictionsView | undefined): number {
    const signature = JSON.stringify(view ?? null);
    if (signature === this.signature) {
      return 0;
    }
    this.signature = signature;
    const empty = !view || view.recent.length === 0;
    this.summary.textContent = predictionsSummary(empty ? undefined : view);
    this.content.hidden = empty;
    this.rows.replaceChildren(
      ...(view?.recent ?? []).map((p) => {
        const t = predictionRowText(p);
        const cell = (text: string, className = 'num'): HTMLTableCellElement => el('td', { text, className });
        return el('tr', {}, [
          el('td', {}, [el('time', { text: t.time, attrs: { datetime: new Date(p.atMs).toISOString(), title: t.fullTime } })]),
          el('th', { text: t.script, attrs: { scope: 'row' } }),
          cell(t.host, ''),
          cell(t.predicted),
          cell(t.actual),
          cell(t.error, `num prediction-error ${t.errorClass}`),
          cell(t.runs),
        ]);
      }),
    );
    this.speeds.replaceChildren(
      ...(view?.speeds ?? []).map((h) => {
        const t = hostSpeedText(h);
        return el('tr', {}, [
          el('th', { text: t.name, attrs: { scope: 'row' } }),
          el('td', { text: t.declared, className: 'num' }),
          el('td', { text: t.learned, className: 'num' }),
          el('td', { text: t.basis, className: 'num muted' }),
        ]);
      }),
    );
    return this.chart.setData({ predictionError: view?.error });
  }
}

/**
 * The dashboard's three charts: uPlot canvases themed from VS Code, each with a summary for screen
 * readers and a table view. Each chart owns its plot's lifetime: it builds the plot once it has a width,
 * rebuilds it when the theme or the x axis changes, and follows the panel's width.
 */
import uPlot from 'uplot';
import type { ChartName, Series } from '../shared/dashboardProtocol';
import { alignColumns } from '../shared/seriesWindow';
import type { AlignedColumns, XAxisMode } from '../shared/seriesWindow';
import { ChartTable } from './chartTable';
import { withAlpha } from './chartTheme';
import type { ChartTheme } from './chartTheme';
import { el } from './dom';
import { formatCount, formatValue } from './format';
import type { ChartId } from './state';

/** A line's data: one of the training charts, or the Predictions section's error (predictions.ts). */
export type LineName = ChartName | 'predictionError';
export type LineData = Partial<Record<LineName, Series>>;

interface LineSpec {
  name: LineName;
  label: string;
  color: keyof ChartTheme['colors'];
  /**
   * Rewards per decision scatter widely, so they are drawn faint under their moving average (as
   * TensorBoard draws raw and smoothed curves). Not as dots: 10,000 arcs per redraw cost more than an update may.
   */
  style: 'line' | 'faint';
}

export interface ChartSpec {
  id: ChartId;
  title: string;
  lines: LineSpec[];
  /** What a point's step counts, in the summary and the table view; 'step' (a training step) unless given. */
  stepLabel?: string;
}

export const CHART_SPECS: readonly ChartSpec[] = [
  { id: 'loss', title: 'Training loss (TD error)', lines: [{ name: 'loss', label: 'Loss', color: 'blue', style: 'line' }] },
  {
    id: 'reward',
    title: 'Reward per decision',
    lines: [
      { name: 'reward', label: 'Reward', color: 'purple', style: 'faint' },
      { name: 'rewardAvg', label: 'Moving average', color: 'orange', style: 'line' },
    ],
  },
  { id: 'epsilon', title: 'Exploration rate ε', lines: [{ name: 'epsilon', label: 'ε', color: 'green', style: 'line' }] },
];

export interface ChartContext {
  theme: ChartTheme;
  xAxis: XAxisMode;
}

const PLOT_HEIGHT = 180;

// Label widths by font and text. Measured on an OffscreenCanvas: measureText on the plot's own canvas
// makes the browser bring the whole page's style up to date first, which after a DOM update costs more
// than the redraw itself.
const labelWidths = new Map<string, number>();
let measureContext: OffscreenCanvasRenderingContext2D | null | undefined;

function labelWidth(font: string, text: string): number {
  const key = `${font}\n${text}`;
  let width = labelWidths.get(key);
  if (width === undefined) {
    measureContext ??= typeof OffscreenCanvas === 'function' ? new OffscreenCanvas(1, 1).getContext('2d') : null;
    if (measureContext) {
      measureContext.font = font;
      width = measureContext.measureText(text).width;
    } else {
      width = text.length * 7;
    }
    // Axis labels repeat from redraw to redraw; the bound only stops a long run from growing the map forever.
    if (labelWidths.size > 2_000) {
      labelWidths.clear();
    }
    labelWidths.set(key, width);
  }
  return width;
}

/** Sizes the y axis to its longest label (uPlot's fixed default clips values like "-1.25e-3"). */
function yAxisSize(font: string): uPlot.Axis.Size {
  return (_self, values) => {
    const widest = (values ?? []).reduce((max, v) => Math.max(max, labelWidth(font, v)), 0);
    return Math.ceil(widest) + 14;
  };
}

function plotOptions(spec: ChartSpec, context: ChartContext, width: number): uPlot.Options {
  const { theme, xAxis } = context;
  const axis: uPlot.Axis = {
    stroke: theme.foreground,
    font: theme.font,
    grid: { stroke: theme.grid, width: 1 },
    ticks: { stroke: theme.grid, width: 1 },
  };
  const lines = spec.lines.map((line): uPlot.Series => {
    const faint = line.style === 'faint';
    return {
      label: line.label,
      stroke: faint ? withAlpha(theme.colors[line.color], theme.faintAlpha) : theme.colors[line.color],
      width: faint ? 1 : theme.lineWidth,
      value: (_: uPlot, v: number | null): string => (v === null || v === undefined ? '—' : formatValue(v)),
      spanGaps: true,
      points: { show: false },
    };
  });
  return {
    width,
    height: PLOT_HEIGHT,
    // Wall times arrive in epoch milliseconds.
    ms: 1,
    scales: { x: { time: xAxis === 'time' } },
    // Live updates reset the scales, so a drag-zoom would be undone within a quarter second.
    cursor: { drag: { x: false, y: false } },
    series: [{ label: xAxis === 'time' ? 'Time' : 'Step' }, ...lines],
    axes: [{ ...axis }, { ...axis, size: yAxisSize(theme.font), values: (_, splits) => splits.map(formatValue) }],
  };
}

export class DashboardChart {
  readonly root: HTMLElement;
  private readonly plotHost: HTMLElement;
  private readonly latest: HTMLElement;
  private readonly table: ChartTable;
  private readonly resizeObserver: ResizeObserver;
  private plot: uPlot | undefined;
  private series: Series[] = [];
  private columns: AlignedColumns;
  private resizeQueued = false;

  constructor(
    private readonly spec: ChartSpec,
    private context: ChartContext,
    tableOpen: boolean,
    onTableToggle: (open: boolean) => void,
  ) {
    // uPlot needs one column per line even before any point arrives.
    this.columns = { x: [], ys: spec.lines.map(() => []) };
    const headingId = `chart-${spec.id}-title`;
    this.latest = el('p', { className: 'chart-latest', attrs: { 'aria-live': 'off' } });
    this.plotHost = el('div', { className: 'chart-plot' }, [el('p', { className: 'chart-empty-note', text: 'No points yet.' })]);
    this.table = new ChartTable(spec.title, spec.lines, tableOpen, onTableToggle, spec.stepLabel);
    this.root = el(
      'figure',
      { className: 'chart is-empty', testId: `chart-${spec.id}`, attrs: { 'aria-labelledby': headingId, 'data-points': '0' } },
      [el('figcaption', {}, [el('h3', { text: spec.title, attrs: { id: headingId } }), this.latest]), this.plotHost, this.table.root],
    );
    this.resizeObserver = new ResizeObserver(() => this.queueResize());
    this.resizeObserver.observe(this.plotHost);
  }

  /** Draws the chart's lines from `charts`; returns the number of points drawn. */
  setData(charts: LineData): number {
    this.series = this.spec.lines.map((line) => charts[line.name] ?? { t: [], step: [], v: [] });
    this.columns = alignColumns(this.series, this.context.xAxis);
    const plot = this.plot;
    if (plot) {
      // batch() draws synchronously instead of in a microtask, so the caller's timing includes the draw.
      plot.batch(() => plot.setData(this.plotData()));
    } else {
      this.createPlot();
    }
    this.table.setSeries(this.series);
    this.describe();
    return this.series.reduce((sum, s) => sum + s.v.length, 0);
  }

  /** New colours or a new x axis: uPlot fixes both at construction, so the plot is rebuilt. */
  setContext(context: ChartContext): void {
    const axisChanged = context.xAxis !== this.context.xAxis;
    this.context = context;
    if (axisChanged && this.series.length > 0) {
      this.columns = alignColumns(this.series, context.xAxis);
    }
    this.plot?.destroy();
    this.plot = undefined;
    this.createPlot();
  }

  dispose(): void {
    this.resizeObserver.disconnect();
    this.plot?.destroy();
  }

  private plotData(): uPlot.AlignedData {
    return [this.columns.x, ...this.columns.ys];
  }

  private createPlot(): void {
    const width = this.plotHost.clientWidth;
    // A panel that is hidden or not laid out yet has no width; the resize observer builds the plot later.
    if (width <= 0) {
      return;
    }
    this.plot = new uPlot(plotOptions(this.spec, this.context, width), this.plotData(), this.plotHost);
    const canvas = this.plot.root.querySelector('canvas');
    canvas?.setAttribute('role', 'img');
    // The legend only follows the mouse; the summary and the table view carry the same values as text.
    this.plot.root.querySelector('.u-legend')?.setAttribute('aria-hidden', 'true');
    this.describe();
  }

  private queueResize(): void {
    if (this.resizeQueued) {
      return;
    }
    this.resizeQueued = true;
    requestAnimationFrame(() => {
      this.resizeQueued = false;
      const width = this.plotHost.clientWidth;
      if (!this.plot) {
        this.createPlot();
      } else if (width > 0 && width !== this.plot.width) {
        this.plot.setSize({ width, height: PLOT_HEIGHT });
      }
    });
  }

  /** The visible "latest" line, the canvas's accessible name and the test hook's point count. */
  private describe(): void {
    const count = this.columns.x.length;
    const latest = this.spec.lines
      .map((line, i) => {
        const v = this.series[i]?.v;
        return v && v.length > 0 ? `${line.label} ${formatValue(v[v.length - 1])}` : undefined;
      })
      .filter((text): text is string => text !== undefined);
    const primary = this.series[0];
    const lastStep = primary && primary.step.length > 0 ? primary.step[primary.step.length - 1] : undefined;
    const summary =
      count === 0 ? 'No points yet' : `Latest: ${latest.join(', ')}${lastStep === undefined ? '' : ` at ${this.spec.stepLabel ?? 'step'} ${formatCount(lastStep)}`}`;
    this.latest.textContent = count === 0 ? '' : `${summary} · ${formatCount(count)} points`;
    this.root.dataset.points = String(count);
    this.root.classList.toggle('is-empty', count === 0);
    const axis = this.context.xAxis === 'time' ? 'wall time' : 'training step';
    this.plot?.root
      .querySelector('canvas')
      ?.setAttribute('aria-label', `${this.spec.title} over ${axis}, ${formatCount(count)} points. ${summary}.`);
  }
}

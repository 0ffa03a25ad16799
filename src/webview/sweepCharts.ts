/**
 * The sweep view's charts, redrawn whole from each SweepView (an update replaces the view, and a few
 * hundred SVG nodes build in well under a frame): every trial's learning curve, the best value found
 * so far against the trial number, and one scatter per parameter of its values against the metric.
 */
import type { ParamValueView, ParamView, SweepView, TrialView } from '../shared/sweepProtocol';
import { el } from './dom';
import { formatCount, formatValue } from './format';
import { bandScale, extent, linearScale, logScale } from './sweepScales';
import type { Scale } from './sweepScales';
import { chartFrame, LARGE, plotRanges, polylinePoints, SMALL, svg, tooltip } from './sweepSvg';
import { bestSoFar, curvesToDraw, isCutShort, metricText, paramText, STATE_LABELS } from './sweepText';

/** Most learning curves drawn at once (curvesToDraw picks which). */
export const MAX_CURVES = 300;

function figure(testId: string, title: string, body: Element, note?: string): HTMLElement {
  return el('figure', { className: 'sweep-figure', testId }, [
    el('figcaption', {}, [el('h3', { text: title }), note ? el('p', { className: 'muted', text: note }) : undefined]),
    body,
  ]);
}

function empty(text: string): HTMLElement {
  return el('p', { className: 'empty-note', text });
}

/** The classes that say how a trial's line or dot looks: its state, cut short (dashed, faint), the best. */
function trialClasses(base: string, trial: TrialView, bestTrial: number | null): string {
  return [base, `state-${trial.state}`, isCutShort(trial.state) ? 'cut-short' : '', trial.trial === bestTrial ? 'best' : ''].filter(Boolean).join(' ');
}

/** One line per trial: metric against step. The best trial is drawn last, so it is on top. */
export function learningCurves(view: SweepView): HTMLElement {
  const title = `Learning curves (${view.metric})`;
  const drawn = curvesToDraw(view, MAX_CURVES);
  if (drawn.length === 0) {
    return figure('sweep-curves', title, empty('No trial has reported the metric yet.'));
  }
  const xr = extent(drawn.flatMap((t) => t.curve.step)) ?? [0, 1];
  const yr = extent(drawn.flatMap((t) => t.curve.value)) ?? [0, 1];
  const ranges = plotRanges(LARGE);
  const x = linearScale(xr, ranges.x, 6);
  const y = linearScale(yr, ranges.y, 5);
  const label = `${title}: ${formatCount(drawn.length)} trials, best trial ${view.bestTrial ?? 'none yet'}.`;
  const chart = chartFrame(LARGE, x, y, { x: 'step', y: view.metric }, label);
  const ordered = [...drawn].sort((a, b) => Number(a.trial === view.bestTrial) - Number(b.trial === view.bestTrial));
  const lines = svg('g', { class: 'curves' });
  for (const t of ordered) {
    const xs = t.curve.step.map(x.map);
    const ys = t.curve.value.map(y.map);
    const text = `Trial ${t.trial} (${STATE_LABELS[t.state]}): best ${metricText(t.best)} by step ${t.curve.step[t.curve.step.length - 1]}`;
    // A single report is a dot, since a one-point polyline draws nothing.
    const mark =
      xs.length === 1
        ? svg('circle', { cx: xs[0], cy: ys[0], r: 3, class: trialClasses('curve-dot', t, view.bestTrial) }, [tooltip(text)])
        : svg('polyline', { points: polylinePoints(xs, ys), class: trialClasses('curve', t, view.bestTrial) }, [tooltip(text)]);
    lines.append(mark);
  }
  chart.append(lines);
  const omitted = view.trials.filter((t) => t.curve.step.length > 0).length - drawn.length;
  const note = omitted > 0 ? `Showing ${formatCount(drawn.length)} curves: the best, the active and the newest trials.` : legendText();
  return figure('sweep-curves', title, chart, note);
}

function legendText(): string {
  return 'Highlighted: the best trial. Dashed and faint: stopped early or cancelled.';
}

/** The best value found so far, as a step line over trial numbers, with each trial's own best as a dot. */
export function bestSoFarChart(view: SweepView): HTMLElement {
  const title = `Best ${view.metric} so far`;
  const series = bestSoFar(view.trials, view.goal);
  if (series.trial.length === 0) {
    return figure('sweep-best', title, empty('No trial has reported the metric yet.'));
  }
  const reported = view.trials.filter((t) => t.best !== null);
  const ranges = plotRanges(LARGE);
  const x = linearScale(extent(series.trial) ?? [0, 1], ranges.x, 6);
  const y = linearScale(extent(reported.map((t) => t.best as number)) ?? [0, 1], ranges.y, 5);
  const last = series.value[series.value.length - 1];
  const label = `${title}: ${formatValue(last)} after ${formatCount(series.trial.length)} trials that reported.`;
  const chart = chartFrame(LARGE, x, y, { x: 'trial', y: view.metric }, label);
  const dots = svg('g', { class: 'dots' });
  for (const t of reported) {
    dots.append(
      svg('circle', { cx: x.map(t.trial), cy: y.map(t.best as number), r: 3, class: trialClasses('dot', t, view.bestTrial) }, [
        tooltip(`Trial ${t.trial}: ${metricText(t.best)}`),
      ]),
    );
  }
  // A step line: the best so far holds until a later trial beats it.
  const xs: number[] = [];
  const ys: number[] = [];
  series.trial.forEach((trial, i) => {
    if (i > 0) {
      xs.push(x.map(trial));
      ys.push(y.map(series.value[i - 1]));
    }
    xs.push(x.map(trial));
    ys.push(y.map(series.value[i]));
  });
  chart.append(dots, svg('polyline', { points: polylinePoints(xs, ys), class: 'best-line' }));
  return figure('sweep-best', title, chart);
}

interface ParamAxis {
  scale: Scale;
  /** A trial's x position, or undefined when its value does not fit the axis. */
  position(value: ParamValueView | undefined): number | undefined;
}

function paramAxis(param: ParamView, trials: readonly TrialView[], range: [number, number]): ParamAxis {
  if (param.kind === 'choice') {
    const labels = (param.values ?? []).map((v) => paramText(v));
    const scale = bandScale(labels, range);
    return {
      scale,
      position: (v) => {
        const i = v === undefined ? -1 : scale.index(paramText(v));
        return i < 0 ? undefined : scale.map(i);
      },
    };
  }
  const values = trials.map((t) => t.params[param.name]).filter((v): v is number => typeof v === 'number');
  // The defined range, widened by any value outside it (a sweep whose definition changed).
  const domain = extent([param.min ?? 0, param.max ?? 1, ...values]) ?? [0, 1];
  if (param.log && domain[0] > 0) {
    const scale = logScale(domain, range);
    return { scale, position: (v) => (typeof v === 'number' && v > 0 ? scale.map(v) : undefined) };
  }
  const scale = linearScale(domain, range, 4);
  return { scale, position: (v) => (typeof v === 'number' ? scale.map(v) : undefined) };
}

/** One small scatter per parameter: each reporting trial's value against its best metric. */
export function paramScatters(view: SweepView): HTMLElement {
  const reported = view.trials.filter((t) => t.best !== null);
  if (view.params.length === 0) {
    return el('div', { className: 'scatter-grid' }, [empty('The sweep has no parameters.')]);
  }
  const ranges = plotRanges(SMALL);
  const y = linearScale(extent(reported.map((t) => t.best as number)) ?? [0, 1], ranges.y, 4);
  const figures = view.params.map((param) => {
    const title = `${param.name}${param.log ? ' (log scale)' : ''}`;
    if (reported.length === 0) {
      return figure(`sweep-param-${param.name}`, title, empty('No results yet.'));
    }
    const axis = paramAxis(param, reported, ranges.x);
    const label = `${view.metric} against ${param.name}, ${formatCount(reported.length)} trials.`;
    const chart = chartFrame(SMALL, axis.scale, y, { x: param.name, y: view.metric }, label);
    const dots = svg('g', { class: 'dots' });
    // The best trial last, so its dot is on top.
    const ordered = [...reported].sort((a, b) => Number(a.trial === view.bestTrial) - Number(b.trial === view.bestTrial));
    for (const t of ordered) {
      const cx = axis.position(t.params[param.name]);
      if (cx === undefined) {
        continue;
      }
      const text = `Trial ${t.trial}: ${param.name} = ${paramText(t.params[param.name])}, ${view.metric} ${metricText(t.best)}`;
      dots.append(svg('circle', { cx, cy: y.map(t.best as number), r: 3.5, class: trialClasses('dot', t, view.bestTrial) }, [tooltip(text)]));
    }
    chart.append(dots);
    return figure(`sweep-param-${param.name}`, title, chart);
  });
  return el('div', { className: 'scatter-grid' }, figures);
}

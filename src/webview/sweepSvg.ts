/**
 * SVG building blocks for the sweep view's charts: an element helper (attributes set one by one, text
 * as text nodes, never markup) and a chart frame with grid, ticks and axis titles. SVG rather than the
 * dashboard's uPlot canvases: these charts need dashed and faded lines per trial, log and categorical
 * x axes, and per-point tooltips, and a sweep has hundreds of points, not tens of thousands. Colours
 * come from classes styled with VS Code's theme variables (sweep.css); the CSP allows no inline styles.
 */
import type { Scale } from './sweepScales';

const SVG_NS = 'http://www.w3.org/2000/svg';

export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number> = {},
  children: Array<SVGElement | undefined> = [],
): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) {
    node.setAttribute(name, String(value));
  }
  for (const child of children) {
    if (child) {
      node.appendChild(child);
    }
  }
  return node;
}

/** A <title> child: the browser shows it as a tooltip, and screen readers read it as the element's name. */
export function tooltip(text: string): SVGTitleElement {
  const title = svg('title');
  title.textContent = text;
  return title;
}

export function svgText(text: string, attrs: Record<string, string | number>): SVGTextElement {
  const node = svg('text', attrs);
  node.textContent = text;
  return node;
}

export interface FrameSize {
  width: number;
  height: number;
  /** Space left for the axes: left (y labels), bottom (x labels), top, right. */
  left: number;
  bottom: number;
  top: number;
  right: number;
}

export const LARGE: FrameSize = { width: 640, height: 260, left: 56, bottom: 36, top: 10, right: 12 };
export const SMALL: FrameSize = { width: 300, height: 200, left: 50, bottom: 40, top: 10, right: 10 };

/** The plot area's pixel ranges: x left to right, y bottom to top. */
export function plotRanges(size: FrameSize): { x: [number, number]; y: [number, number] } {
  return { x: [size.left, size.width - size.right], y: [size.height - size.bottom, size.top] };
}

/**
 * An <svg> with gridlines, tick labels and axis titles, sized by its viewBox so it follows the panel's
 * width. `label` is its accessible name (the table below carries the same numbers as text).
 */
export function chartFrame(size: FrameSize, x: Scale, y: Scale, titles: { x: string; y: string }, label: string): SVGSVGElement {
  const { x: xr, y: yr } = plotRanges(size);
  const grid = svg('g', { class: 'grid', 'aria-hidden': 'true' });
  for (const t of y.ticks) {
    grid.append(
      svg('line', { x1: xr[0], x2: xr[1], y1: t.at, y2: t.at }),
      svgText(t.label, { x: xr[0] - 6, y: t.at, class: 'tick-label', 'text-anchor': 'end', 'dominant-baseline': 'middle' }),
    );
  }
  for (const t of x.ticks) {
    grid.append(
      svg('line', { x1: t.at, x2: t.at, y1: yr[0], y2: yr[1] }),
      svgText(t.label, { x: t.at, y: yr[0] + 14, class: 'tick-label', 'text-anchor': 'middle' }),
    );
  }
  grid.append(
    svgText(titles.x, { x: (xr[0] + xr[1]) / 2, y: size.height - 4, class: 'axis-title', 'text-anchor': 'middle' }),
    svgText(titles.y, {
      x: 0,
      y: 0,
      class: 'axis-title',
      'text-anchor': 'middle',
      transform: `translate(12 ${(yr[0] + yr[1]) / 2}) rotate(-90)`,
    }),
  );
  return svg('svg', { viewBox: `0 0 ${size.width} ${size.height}`, role: 'img', 'aria-label': label, class: 'sweep-chart' }, [
    tooltip(label),
    grid,
  ]);
}

/** "x1,y1 x2,y2 …" for a polyline, rounded to tenths of a pixel (shorter attributes, same picture). */
export function polylinePoints(xs: readonly number[], ys: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < xs.length; i++) {
    parts.push(`${Math.round(xs[i] * 10) / 10},${Math.round(ys[i] * 10) / 10}`);
  }
  return parts.join(' ');
}

/**
 * A chart's table view: the same points as text, for screen readers and keyboard users. It is built
 * only while open, so closed tables cost nothing on a live update.
 */
import type { Series } from '../shared/dashboardProtocol';
import { alignColumns, lastPoints } from '../shared/seriesWindow';
import { el, replaceChildren } from './dom';
import { formatClockTime, formatCount, formatValue } from './format';

/** Enough to read the recent trend; a table of 10,000 rows helps nobody. */
export const TABLE_ROWS = 200;

export interface TableColumn {
  label: string;
}

export class ChartTable {
  readonly root: HTMLDetailsElement;
  private readonly body: HTMLElement;
  private series: readonly Series[] = [];

  constructor(
    private readonly title: string,
    private readonly columns: readonly TableColumn[],
    open: boolean,
    onToggle: (open: boolean) => void,
  ) {
    this.body = el('div', { className: 'chart-table-body' });
    this.root = el('details', { className: 'chart-table' }, [el('summary', { text: `${title} as a table` }), this.body]);
    this.root.open = open;
    this.root.addEventListener('toggle', () => {
      if (this.root.open) {
        this.render();
      } else {
        this.body.replaceChildren();
      }
      onToggle(this.root.open);
    });
  }

  setSeries(series: readonly Series[]): void {
    this.series = series;
    if (this.root.open) {
      this.render();
    }
  }

  private render(): void {
    const total = this.series.length > 0 ? this.series[0].t.length : 0;
    const recent = this.series.map((s) => lastPoints(s, TABLE_ROWS));
    // Rows are joined on wall time, which every line has; the step column comes from whichever line has the point.
    const joined = alignColumns(recent, 'time');
    const stepAt = new Map<number, number>();
    for (const s of recent) {
      s.t.forEach((t, i) => stepAt.set(t, s.step[i]));
    }
    const first = Math.max(0, joined.x.length - TABLE_ROWS);
    const rows: HTMLTableRowElement[] = [];
    for (let i = joined.x.length - 1; i >= first; i--) {
      const t = joined.x[i];
      const step = stepAt.get(t);
      rows.push(
        el('tr', {}, [
          el('th', { text: formatClockTime(t), attrs: { scope: 'row' } }),
          el('td', { text: step === undefined ? '—' : formatCount(step) }),
          ...joined.ys.map((column) => {
            const value = column[i];
            return el('td', { text: value === null ? '—' : formatValue(value) });
          }),
        ]),
      );
    }
    const shown = rows.length;
    const caption =
      shown === 0
        ? `${this.title}: no points yet.`
        : `${this.title}: the most recent ${formatCount(shown)} of ${formatCount(Math.max(total, shown))} points, newest first.`;
    const table = el('table', {}, [
      el('caption', { text: caption }),
      el('thead', {}, [
        el('tr', {}, [
          el('th', { text: 'Time', attrs: { scope: 'col' } }),
          el('th', { text: 'Step', attrs: { scope: 'col' } }),
          ...this.columns.map((c) => el('th', { text: c.label, attrs: { scope: 'col' } })),
        ]),
      ]),
      el('tbody', {}, rows),
    ]);
    replaceChildren(this.body, [table]);
  }
}

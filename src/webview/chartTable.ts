/**
 * A chart's table view: the same points as text, for screen readers and keyboard users. It is built
 * only while open, so closed tables cost nothing on a live update.
 */
import type { Series } from '../shared/dashboardProtocol';
import { el, replaceChildren } from './dom';
import { chartTableText } from './viewText';

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
    private readonly stepLabel = 'step',
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
    const { caption, rows: texts } = chartTableText(this.title, this.series, TABLE_ROWS);
    const rows = texts.map(({ time, step, values }) =>
      el('tr', {}, [
        el('th', { text: time, attrs: { scope: 'row' } }),
        el('td', { text: step }),
        ...values.map((value) => el('td', { text: value })),
      ]),
    );
    const table = el('table', {}, [
      el('caption', { text: caption }),
      el('thead', {}, [
        el('tr', {}, [
          el('th', { text: 'Time', attrs: { scope: 'col' } }),
          el('th', { text: this.stepLabel.charAt(0).toUpperCase() + this.stepLabel.slice(1), attrs: { scope: 'col' } }),
          ...this.columns.map((c) => el('th', { text: c.label, attrs: { scope: 'col' } })),
        ]),
      ]),
      el('tbody', {}, rows),
    ]);
    replaceChildren(this.body, [table]);
  }
}

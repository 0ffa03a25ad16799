/**
 * The sweep's trials as a sortable table: a header button per column sorts by it (again: the other
 * way), aria-sort marks the sorted column, and each row has Stop (queued or running trials) and Open
 * Log. The body is rebuilt on each update; the focused row button is found again afterwards, so a
 * keyboard user does not lose their place twice a second.
 */
import type { SweepView, TrialView } from '../shared/sweepProtocol';
import { el, replaceChildren } from './dom';
import { formatCount } from './format';
import { isActive, lastStep, metricText, nextSort, paramText, sortTrials, STATE_LABELS, trialTooltip } from './sweepText';
import type { SortKey, SortOrder } from './sweepText';

/** Rows built at most; sorting brings any trial into them. Ten thousand rows would stall each update. */
export const MAX_ROWS = 500;

export interface TableActions {
  stopTrial(trial: number): void;
  openLog(trial: number): void;
  sortChanged(order: SortOrder): void;
}

interface Column {
  key: SortKey;
  label: string;
  numeric: boolean;
  cell(t: TrialView): string;
}

function columns(view: SweepView): Column[] {
  return [
    { key: 'trial', label: 'Trial', numeric: true, cell: (t) => String(t.trial) },
    { key: 'state', label: 'State', numeric: false, cell: (t) => STATE_LABELS[t.state] },
    ...view.params.map(
      (p): Column => ({ key: `param:${p.name}`, label: p.name, numeric: p.kind !== 'choice', cell: (t) => paramText(t.params[p.name]) }),
    ),
    { key: 'best', label: `Best ${view.metric}`, numeric: true, cell: (t) => metricText(t.best) },
    { key: 'steps', label: 'Steps', numeric: true, cell: (t) => (lastStep(t) === null ? '—' : formatCount(lastStep(t) as number)) },
  ];
}

export class SweepTable {
  readonly root: HTMLElement;
  private readonly table: HTMLTableElement;
  private readonly note: HTMLElement;
  private view: SweepView | undefined;

  constructor(
    private order: SortOrder,
    private readonly actions: TableActions,
  ) {
    this.table = el('table', { className: 'data-table trials-table', testId: 'sweep-trials' });
    this.note = el('p', { className: 'muted' });
    this.root = el('div', { className: 'table-scroll' }, [this.table, this.note]);
  }

  get sortOrder(): SortOrder {
    return this.order;
  }

  render(view: SweepView): void {
    this.view = view;
    const focused = this.focusKey();
    const cols = columns(view);
    // A saved order on a parameter this sweep does not have sorts by trial instead.
    if (!cols.some((c) => c.key === this.order.key)) {
      this.order = { key: 'trial', dir: 'ascending' };
    }
    const sorted = sortTrials(view.trials, this.order);
    const shown = sorted.slice(0, MAX_ROWS);
    const head = el('thead', {}, [
      el('tr', {}, [...cols.map((c) => this.headerCell(c, view)), el('th', { text: 'Actions', attrs: { scope: 'col' } })]),
    ]);
    const body = el(
      'tbody',
      {},
      shown.map((t) => this.row(t, cols, view)),
    );
    const caption = el('caption', { className: 'visually-hidden', text: `Trials of sweep ${view.name}, sorted by ${this.sortLabel(cols)}` });
    replaceChildren(this.table, [caption, head, body]);
    this.note.textContent =
      sorted.length > shown.length ? `Showing ${formatCount(shown.length)} of ${formatCount(sorted.length)} trials; sort by a column to see others.` : '';
    this.restoreFocus(focused);
  }

  private sortLabel(cols: readonly Column[]): string {
    const col = cols.find((c) => c.key === this.order.key);
    return `${col?.label ?? 'trial'}, ${this.order.dir}`;
  }

  private headerCell(col: Column, view: SweepView): HTMLTableCellElement {
    const sorted = col.key === this.order.key;
    const button = el('button', { className: 'sort-button', text: col.label, attrs: { type: 'button', 'data-focus': `sort:${col.key}` } });
    if (sorted) {
      button.append(el('span', { className: 'sort-arrow', text: this.order.dir === 'ascending' ? ' ▲' : ' ▼', attrs: { 'aria-hidden': 'true' } }));
    }
    button.addEventListener('click', () => {
      this.order = nextSort(this.order, col.key, view.goal);
      this.actions.sortChanged(this.order);
      if (this.view) {
        this.render(this.view);
      }
    });
    const attrs: Record<string, string> = { scope: 'col' };
    if (sorted) {
      attrs['aria-sort'] = this.order.dir;
    }
    return el('th', { className: col.numeric ? 'numeric' : '', attrs }, [button]);
  }

  private row(t: TrialView, cols: readonly Column[], view: SweepView): HTMLTableRowElement {
    const tip = trialTooltip(t);
    const classes = ['trial-row', `state-${t.state}`, t.trial === view.bestTrial ? 'best' : ''].filter(Boolean).join(' ');
    const cells = cols.map((c, i) =>
      i === 0
        ? el('th', { text: c.cell(t), className: 'numeric', attrs: { scope: 'row' } })
        : el('td', { text: c.cell(t), className: c.numeric ? 'numeric' : '' }),
    );
    const stop = el('button', {
      className: 'button secondary small',
      text: 'Stop',
      attrs: { type: 'button', 'aria-label': `Stop trial ${t.trial}`, 'data-focus': `stop:${t.trial}` },
    });
    stop.disabled = !isActive(t.state);
    stop.addEventListener('click', () => this.actions.stopTrial(t.trial));
    const log = el('button', {
      className: 'button secondary small',
      text: 'Open Log',
      attrs: { type: 'button', 'aria-label': `Open the log of trial ${t.trial}`, 'data-focus': `log:${t.trial}` },
    });
    // A queued trial has not started, so it has no log yet.
    log.disabled = t.state === 'queued';
    log.addEventListener('click', () => this.actions.openLog(t.trial));
    const attrs: Record<string, string> = { 'data-trial': String(t.trial) };
    if (tip) {
      attrs.title = tip;
    }
    return el('tr', { className: classes, attrs }, [...cells, el('td', { className: 'row-actions' }, [stop, log])]);
  }

  private focusKey(): string | undefined {
    const active = document.activeElement;
    return active instanceof HTMLElement && this.table.contains(active) ? active.dataset.focus : undefined;
  }

  private restoreFocus(key: string | undefined): void {
    if (key === undefined) {
      return;
    }
    const target = [...this.table.querySelectorAll<HTMLElement>('[data-focus]')].find((e) => e.dataset.focus === key);
    target?.focus();
  }
}

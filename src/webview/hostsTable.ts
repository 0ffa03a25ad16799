/** The hosts table: capacity, load, and how each host's observed speed compares with its configured one. */
import type { HostView } from '../shared/dashboardProtocol';
import { el } from './dom';
import { hostText } from './viewText';

const COLUMNS: ReadonlyArray<[label: string, numeric: boolean]> = [
  ['Host', false],
  ['Kind', false],
  ['State', false],
  ['GPUs used', true],
  ['Utilization', true],
  ['Jobs running', true],
  ['Configured speed', true],
  ['Observed speed', true],
];

export class HostsTable {
  readonly root: HTMLElement;
  private readonly body: HTMLTableSectionElement;
  private readonly empty: HTMLElement;
  private readonly scroller: HTMLElement;
  private signature = '';

  constructor() {
    this.body = el('tbody');
    const table = el('table', { className: 'data-table hosts-table', testId: 'hosts' }, [
      el('caption', { className: 'visually-hidden', text: 'Hosts' }),
      el('thead', {}, [
        el(
          'tr',
          {},
          COLUMNS.map(([label, numeric]) => el('th', { text: label, className: numeric ? 'num' : undefined, attrs: { scope: 'col' } })),
        ),
      ]),
      this.body,
    ]);
    this.empty = el('p', { className: 'empty-note', text: 'No hosts.' });
    // Narrow panels scroll the table sideways instead of squeezing its columns.
    this.scroller = el('div', { className: 'table-scroll', attrs: { tabindex: '0', role: 'region', 'aria-label': 'Hosts table' } }, [
      table,
    ]);
    this.scroller.hidden = true;
    this.root = el('div', {}, [this.empty, this.scroller]);
  }

  render(hosts: readonly HostView[]): void {
    const signature = JSON.stringify(hosts);
    if (signature === this.signature) {
      return;
    }
    this.signature = signature;
    this.body.replaceChildren(...hosts.map(hostRow));
    this.empty.hidden = hosts.length > 0;
    this.scroller.hidden = hosts.length === 0;
  }
}

function hostRow(h: HostView): HTMLTableRowElement {
  const cell = (text: string, className = 'num'): HTMLTableCellElement => el('td', { text, className });
  const text = hostText(h);
  const observed = text.observed
    ? el('td', { className: 'num' }, [text.observed.speed, el('span', { className: 'muted', text: text.observed.jobs })])
    : cell('—');
  const row = el('tr', {}, [
    el('th', { text: h.name, attrs: { scope: 'row' } }),
    cell(h.kind, ''),
    el('td', {}, [el('span', { className: `host-state ${text.stateClass}`, text: h.state })]),
    cell(text.gpus),
    cell(text.utilization),
    cell(text.jobsRunning),
    cell(text.speed),
    observed,
  ]);
  row.dataset.host = h.name;
  return row;
}

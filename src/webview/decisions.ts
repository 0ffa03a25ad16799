/**
 * Recent decisions, newest first: the job, its priority and why, every candidate's Q-value as a bar,
 * the hosts that could not take it and why, the chosen action, and the outcome once the job finished.
 * Rows are keyed on the decision's seq and rebuilt only when their content changed, so a live update
 * touches the DOM only for new decisions and new outcomes.
 */
import type { DecisionView } from '../shared/dashboardProtocol';
import { el } from './dom';
import { decisionText } from './viewText';
import type { CandidateText, DecisionText } from './viewText';

/** A decision row's height without candidates, and per candidate line, at VS Code's default font size. */
const ROW_BASE_PX = 105;
const ROW_LINE_PX = 17;

interface Row {
  signature: string;
  node: HTMLLIElement;
}

export class DecisionList {
  readonly root: HTMLElement;
  private readonly list: HTMLOListElement;
  private readonly empty: HTMLElement;
  private rows = new Map<number, Row>();

  constructor() {
    this.list = el('ol', { className: 'decision-list', testId: 'decisions', attrs: { 'aria-label': 'Recent decisions, newest first' } });
    this.empty = el('p', { className: 'empty-note', text: 'No decisions yet: the agent decides each time a job is dispatched.' });
    this.root = el('div', {}, [this.empty, this.list]);
  }

  render(decisions: readonly DecisionView[]): void {
    const next = new Map<number, Row>();
    const nodes = decisions.map((decision) => {
      const signature = JSON.stringify(decision);
      const previous = this.rows.get(decision.seq);
      const row = previous?.signature === signature ? previous : { signature, node: decisionRow(decision) };
      next.set(decision.seq, row);
      return row.node;
    });
    for (const [seq, row] of this.rows) {
      if (next.get(seq) !== row) {
        row.node.remove();
      }
    }
    this.rows = next;
    placeInOrder(this.list, nodes);
    this.empty.hidden = decisions.length > 0;
  }
}

/**
 * Makes `nodes` the list's children, in order, moving as few as possible: the usual update puts one new
 * decision on top, and re-inserting all fifty rows would restyle and relayout every one of them.
 */
function placeInOrder(list: HTMLElement, nodes: readonly HTMLElement[]): void {
  let cursor = list.firstElementChild;
  for (const node of nodes) {
    if (node === cursor) {
      cursor = cursor.nextElementSibling;
    } else {
      list.insertBefore(node, cursor);
    }
  }
  while (cursor) {
    const rest = cursor.nextElementSibling;
    cursor.remove();
    cursor = rest;
  }
}

function decisionRow(d: DecisionView): HTMLLIElement {
  const titleId = `decision-${d.seq}-title`;
  const text = decisionText(d);
  const mode = text.mode;
  const row = el('li', { className: 'decision', testId: 'decision', attrs: { 'aria-labelledby': titleId, 'data-seq': String(d.seq) } }, [
    el('div', { className: 'decision-head' }, [
      el('h3', { className: 'decision-job', text: d.jobName, attrs: { id: titleId, title: `${d.jobName} (${d.jobId})` } }),
      el('span', { className: `badge ${text.priorityClass}`, text: d.priority, attrs: { title: 'Priority' } }),
      el('span', {
        className: `tag tag-${mode}`,
        text: mode,
        attrs: { title: d.explored ? 'Chosen at random (exploration)' : 'Chosen for the highest Q-value' },
      }),
      el('time', {
        className: 'decision-time',
        text: text.time,
        attrs: { datetime: text.iso, title: text.fullTime },
      }),
    ]),
    el('p', { className: 'decision-path' }, [el('span', { className: 'field-label', text: 'Priority path: ' }), d.priorityPath]),
    el('p', { className: 'decision-chosen' }, [
      el('span', { className: 'field-label', text: 'Chosen: ' }),
      el('strong', { text: text.chosen }),
    ]),
    candidateList(d, text),
    outcomeLine(text),
  ]);
  // The height a skipped row reserves (see content-visibility in the stylesheet), close to its real one so
  // that the page does not jump as rows scroll into view; `auto` keeps the real height once it was drawn.
  row.style.containIntrinsicSize = `auto ${ROW_BASE_PX + ROW_LINE_PX * (d.candidates.length + d.infeasible.length)}px`;
  row.dataset.jobName = d.jobName;
  row.dataset.chosen = d.chosen ?? '';
  row.dataset.explored = String(d.explored);
  return row;
}

function candidateList(d: DecisionView, text: DecisionText): HTMLElement {
  const items = [...text.candidates.map(candidateItem), ...d.infeasible.map(infeasibleItem)];
  return el('ul', { className: 'candidates', attrs: { 'aria-label': `Candidates for ${d.jobName}, by Q-value` } }, items);
}

function candidateItem({ candidate: c, label, q, width, chosen }: CandidateText): HTMLLIElement {
  const fill = el('span', { className: 'bar-fill' });
  // CSSOM, not a style attribute: the page's CSP blocks the latter.
  fill.style.width = width;
  const item = el('li', { className: `candidate${c.host === null ? ' is-wait' : ''}${chosen ? ' is-chosen' : ''}`, testId: 'candidate' }, [
    el('span', { className: 'candidate-name', text: label, attrs: { title: label } }),
    el('span', { className: 'bar', attrs: { 'aria-hidden': 'true' } }, [fill]),
    el('span', { className: 'candidate-q', text: q }),
    el('span', { className: 'candidate-mark', text: chosen ? '✓ chosen' : '' }),
  ]);
  item.dataset.host = c.host ?? '';
  item.dataset.q = String(c.q);
  if (c.host === null) {
    item.dataset.wait = 'true';
  }
  if (chosen) {
    item.dataset.chosen = 'true';
  }
  return item;
}

function infeasibleItem(host: { host: string; reason: string }): HTMLLIElement {
  const item = el('li', { className: 'candidate is-infeasible', testId: 'infeasible' }, [
    el('span', { className: 'candidate-name', text: host.host, attrs: { title: host.host } }),
    el('span', { className: 'candidate-reason' }, [el('span', { className: 'visually-hidden', text: 'not possible: ' }), host.reason]),
  ]);
  item.dataset.host = host.host;
  return item;
}

function outcomeLine(text: DecisionText): HTMLElement {
  const line = el('p', { className: 'decision-outcome' }, [el('span', { className: 'field-label', text: 'Outcome: ' })]);
  const o = text.outcome;
  if (!o) {
    line.append(el('span', { className: 'muted', text: 'not finished yet' }));
    return line;
  }
  line.append(el('span', { className: `outcome-state ${o.stateClass}`, text: o.state }), o.text);
  line.dataset.state = o.state;
  return line;
}

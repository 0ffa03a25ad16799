/**
 * The simulator check: runs the benchmark's policies on a bundled trace slice (on the extension side)
 * and shows how the agent compares, as a table and as bars of average JCT against the lower bound.
 */
import type { EvaluationRow, EvaluationView } from '../shared/dashboardProtocol';
import { el, replaceChildren } from './dom';
import { EVALUATION_COLUMNS as COLUMNS, evaluationCaption, evaluationStatus, jctBars as jctBarsText } from './viewText';

export interface EvaluationActions {
  evaluate(): void;
  cancel(): void;
}

/** The agent's row, highlighted in the table and the bars. */
const AGENT_POLICY = 'dqn';

export class EvaluationPanel {
  readonly root: HTMLElement;
  private readonly evaluateButton: HTMLButtonElement;
  private readonly cancelButton: HTMLButtonElement;
  private readonly status: HTMLElement;
  private readonly results: HTMLElement;
  private signature = '';

  constructor(actions: EvaluationActions) {
    this.evaluateButton = el('button', {
      className: 'button',
      text: 'Evaluate Agent in Simulator',
      testId: 'evaluate',
      attrs: { type: 'button' },
    });
    this.cancelButton = el('button', {
      className: 'button secondary',
      text: 'Cancel',
      testId: 'cancel-evaluation',
      attrs: { type: 'button' },
    });
    this.evaluateButton.addEventListener('click', () => actions.evaluate());
    this.cancelButton.addEventListener('click', () => actions.cancel());
    this.cancelButton.hidden = true;
    this.status = el('div', { className: 'evaluation-status', testId: 'evaluation-status', attrs: { role: 'status' } });
    this.results = el('div', { className: 'evaluation-results' });
    this.root = el('div', {}, [el('div', { className: 'actions' }, [this.evaluateButton, this.cancelButton]), this.status, this.results]);
    this.render({ state: 'idle', rows: [] });
  }

  render(evaluation: EvaluationView): void {
    const signature = JSON.stringify(evaluation);
    if (signature === this.signature) {
      return;
    }
    this.signature = signature;
    const running = evaluation.state === 'running';
    this.evaluateButton.disabled = running;
    this.cancelButton.hidden = !running;
    this.root.dataset.state = evaluation.state;
    replaceChildren(this.status, statusContent(evaluation));
    replaceChildren(
      this.results,
      evaluation.rows.length > 0 ? [resultsCaption(evaluation), resultsTable(evaluation.rows), jctBars(evaluation)] : [],
    );
  }
}

function statusContent(e: EvaluationView): Array<Node | string> {
  const text = evaluationStatus(e);
  switch (e.state) {
    case 'running':
      return [el('progress', { attrs: { 'aria-label': 'Evaluation in progress' } }), text];
    case 'failed':
      return [el('span', { className: 'error-text', text })];
    default:
      return [text];
  }
}

function resultsCaption(e: EvaluationView): HTMLElement {
  return el('p', { className: 'evaluation-caption', testId: 'evaluation-caption', text: evaluationCaption(e) });
}

function resultsTable(rows: readonly EvaluationRow[]): HTMLElement {
  const table = el('table', { className: 'data-table evaluation-table', testId: 'evaluation-table' }, [
    el('caption', { className: 'visually-hidden', text: 'Simulator results per policy; the agent is dqn' }),
    el('thead', {}, [
      el('tr', {}, [
        el('th', { text: 'Policy', attrs: { scope: 'col' } }),
        ...COLUMNS.map(([label]) => el('th', { text: label, className: 'num', attrs: { scope: 'col' } })),
      ]),
    ]),
    el(
      'tbody',
      {},
      rows.map((r) => {
        const agent = r.policy === AGENT_POLICY;
        const tr = el('tr', { className: agent ? 'is-agent' : undefined }, [
          el('th', { attrs: { scope: 'row' } }, [
            r.policy,
            agent ? el('span', { className: 'badge agent-badge', text: 'agent' }) : undefined,
          ]),
          ...COLUMNS.map(([, cell]) => el('td', { className: 'num', text: cell(r) })),
        ]);
        tr.dataset.policy = r.policy;
        return tr;
      }),
    ),
  ]);
  return el('div', { className: 'table-scroll', attrs: { tabindex: '0', role: 'region', 'aria-label': 'Simulator results' } }, [table]);
}

/** Bars of average JCT against the lower bound (widths from jctBarsText). */
function jctBars(e: EvaluationView): HTMLElement {
  const { bars, lowerBound, caption } = jctBarsText(e);
  const items = bars.map(({ row: r, width, value }) => {
    const agent = r.policy === AGENT_POLICY;
    const fill = el('span', { className: 'bar-fill' });
    fill.style.width = width;
    const track = el('span', { className: 'bar', attrs: { 'aria-hidden': 'true' } }, [fill]);
    if (lowerBound !== undefined) {
      const marker = el('span', { className: 'lower-bound-marker' });
      marker.style.left = lowerBound;
      track.append(marker);
    }
    const item = el('li', { className: `jct-bar${agent ? ' is-agent' : ''}` }, [
      el('span', { className: 'jct-policy', text: r.policy }),
      track,
      el('span', { className: 'jct-value', text: value }),
    ]);
    item.dataset.policy = r.policy;
    return item;
  });
  return el('figure', { className: 'jct-chart', testId: 'evaluation-chart' }, [
    el('figcaption', { text: caption }),
    el('ul', { className: 'jct-bars' }, items),
  ]);
}

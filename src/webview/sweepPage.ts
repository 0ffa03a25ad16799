/**
 * The sweep page: a header (name, status, progress, strategy, early-stopping rule, budget, and the
 * sweep's buttons), the learning curves, the best-so-far curve, a scatter per parameter and the
 * trials table. The layout is built once; each SweepView replaces what the parts show.
 */
import type { SweepActionKind, SweepView } from '../shared/sweepProtocol';
import { el, replaceChildren, section } from './dom';
import { bestSoFarChart, learningCurves, paramScatters } from './sweepCharts';
import { SweepTable } from './sweepTable';
import { headerButtons, STATUS_LABELS } from './sweepText';
import type { HeaderButtons, SortOrder } from './sweepText';

export interface PageActions {
  /** A header or row button: the extension does the work. */
  action(kind: SweepActionKind, trial?: number): void;
  sortChanged(order: SortOrder): void;
}

type FieldId = 'status' | 'progress' | 'strategy' | 'rule' | 'budget';
const FIELDS: ReadonlyArray<[FieldId, string]> = [
  ['status', 'Status'],
  ['progress', 'Progress'],
  ['strategy', 'Strategy'],
  ['rule', 'Early stopping'],
  ['budget', 'Budget'],
];

type ButtonId = keyof HeaderButtons | 'exportJson';
const BUTTONS: ReadonlyArray<[ButtonId, string, SweepActionKind, 'primary' | 'secondary']> = [
  ['pause', 'Pause', 'pause', 'secondary'],
  ['resume', 'Resume', 'resume', 'secondary'],
  ['stop', 'Stop', 'stop', 'secondary'],
  ['queueBest', 'Queue Best Configuration', 'queueBest', 'primary'],
  ['exportData', 'Export CSV', 'exportCsv', 'secondary'],
  ['exportJson', 'Export JSON', 'exportJson', 'secondary'],
];

export class SweepPage {
  readonly root: HTMLElement;
  private readonly title = el('h1', { text: 'Sweep', testId: 'sweep-name' });
  private readonly reason = el('p', { className: 'muted', testId: 'sweep-reason' });
  private readonly fields = new Map<FieldId, HTMLElement>();
  private readonly buttons = new Map<ButtonId, HTMLButtonElement>();
  private readonly waiting = el('p', { className: 'waiting', text: 'Loading the sweep…' });
  private readonly curves = el('div', { className: 'chart-slot' });
  private readonly best = el('div', { className: 'chart-slot' });
  private readonly scatters = el('div', { className: 'chart-slot' });
  private readonly table: SweepTable;
  private readonly content: HTMLElement;
  private view: SweepView | undefined;

  constructor(sort: SortOrder, private readonly actions: PageActions) {
    const list = el('dl', { className: 'header-fields' });
    for (const [id, label] of FIELDS) {
      const value = el('dd', { testId: `sweep-${id}`, text: '…' });
      this.fields.set(id, value);
      list.append(el('div', { className: 'header-field' }, [el('dt', { text: label }), value]));
    }
    const toolbar = el('div', { className: 'actions', attrs: { role: 'toolbar', 'aria-label': 'Sweep actions' } });
    for (const [id, label, kind, look] of BUTTONS) {
      const button = el('button', {
        className: look === 'primary' ? 'button' : 'button secondary',
        text: label,
        testId: `sweep-button-${id}`,
        attrs: { type: 'button' },
      });
      button.disabled = true;
      // Queue Best names the best trial as the page sees it; the extension checks that it still exists.
      button.addEventListener('click', () => this.actions.action(kind, kind === 'queueBest' ? (this.view?.bestTrial ?? undefined) : undefined));
      this.buttons.set(id, button);
      toolbar.append(button);
    }
    this.table = new SweepTable(sort, {
      stopTrial: (trial) => this.actions.action('stopTrial', trial),
      openLog: (trial) => this.actions.action('openLog', trial),
      sortChanged: (order) => this.actions.sortChanged(order),
    });
    const header = el('header', { className: 'dashboard-header' }, [
      el('div', { className: 'title-row' }, [this.title, toolbar]),
      list,
      this.reason,
    ]);
    this.content = el('div', { className: 'sweep-content' }, [
      section('sweep-curves-section', 'Learning curves', [this.curves]),
      section('sweep-best-section', 'Best so far', [this.best]),
      section('sweep-params-section', 'Parameters against the metric', [this.scatters]),
      section('sweep-trials-section', 'Trials', [this.table.root]),
    ]);
    this.content.hidden = true;
    this.root = el('main', { className: 'dashboard sweep' }, [header, this.waiting, this.content]);
  }

  /** The view as last shown, for the saved page state. */
  get current(): SweepView | undefined {
    return this.view;
  }

  get sortOrder(): SortOrder {
    return this.table.sortOrder;
  }

  apply(view: SweepView): void {
    this.view = view;
    this.title.textContent = `Sweep: ${view.name}`;
    const goal = view.goal === 'max' ? 'maximise' : 'minimise';
    const texts: Record<FieldId, string> = {
      status: STATUS_LABELS[view.status],
      progress: view.progress,
      strategy: `${view.strategy} (${goal} ${view.metric})`,
      rule: view.rule,
      budget: view.budget,
    };
    for (const [id] of FIELDS) {
      const field = this.fields.get(id);
      if (field && field.textContent !== texts[id]) {
        field.textContent = texts[id];
      }
    }
    this.fields.get('status')?.setAttribute('data-value', view.status);
    this.reason.textContent = view.reason ?? '';
    this.reason.hidden = view.reason === undefined;
    const enabled = headerButtons(view);
    for (const [id] of BUTTONS) {
      const button = this.buttons.get(id);
      if (button) {
        button.disabled = !(id === 'exportJson' ? enabled.exportData : enabled[id]);
      }
    }
    const bestButton = this.buttons.get('queueBest');
    bestButton?.setAttribute('title', view.bestTrial === null ? 'No trial has reported the metric yet' : `Queue trial ${view.bestTrial}'s parameters as a new job`);
    replaceChildren(this.curves, [learningCurves(view)]);
    replaceChildren(this.best, [bestSoFarChart(view)]);
    replaceChildren(this.scatters, [paramScatters(view)]);
    this.table.render(view);
    this.waiting.hidden = true;
    this.content.hidden = false;
  }
}

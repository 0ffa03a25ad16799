/** The dashboard's header: what places jobs, how the agent trains, and when its weights were saved. */
import type { HeaderView } from '../shared/dashboardProtocol';
import { el } from './dom';
import { formatCount, formatDateTime, formatRelativeTime, formatValue } from './format';

type FieldId = 'placement' | 'backend' | 'learning' | 'steps' | 'epsilon' | 'replay' | 'decisions' | 'saved';

const FIELDS: ReadonlyArray<[FieldId, string]> = [
  ['placement', 'Placement'],
  ['backend', 'Backend'],
  ['learning', 'Learning'],
  ['steps', 'Training steps'],
  ['epsilon', 'ε'],
  ['replay', 'Replay buffer'],
  ['decisions', 'Decisions'],
  ['saved', 'Weights'],
];

export class DashboardHeader {
  readonly root: HTMLElement;
  private readonly values = new Map<FieldId, HTMLElement>();
  private savedAtMs: number | undefined;
  private shown = false;

  constructor() {
    const list = el('dl', { className: 'header-fields' });
    for (const [id, label] of FIELDS) {
      const value = el('dd', { testId: `header-${id}`, text: '…' });
      this.values.set(id, value);
      list.append(el('div', { className: `header-field header-${id}` }, [el('dt', { text: label }), value]));
    }
    this.root = list;
  }

  render(header: HeaderView): void {
    const dqn = header.placement === 'dqn';
    this.set('placement', header.placement, dqn ? 'DQN agent' : `${header.placement} (fallback)`, dqn ? 'ok' : 'warn');
    this.set('backend', header.backend, header.backend);
    this.set('learning', String(header.learning), header.learning ? 'on' : 'off', header.learning ? 'ok' : 'muted');
    this.set('steps', String(header.trainSteps), formatCount(header.trainSteps));
    this.set('epsilon', String(header.epsilon), formatValue(header.epsilon));
    this.set('replay', String(header.replaySize), formatCount(header.replaySize));
    this.set('decisions', String(header.decisions), formatCount(header.decisions));
    this.savedAtMs = header.savedAtMs;
    this.shown = true;
    this.refreshSaved(Date.now());
  }

  /** The relative time goes stale between updates (learning off sends few), so main refreshes it on a timer. */
  refreshSaved(nowMs: number): void {
    if (!this.shown) {
      return;
    }
    const saved = this.values.get('saved');
    if (this.savedAtMs === undefined) {
      this.set('saved', '', 'not saved yet', 'muted');
      saved?.removeAttribute('title');
    } else {
      this.set('saved', String(this.savedAtMs), `saved ${formatRelativeTime(this.savedAtMs, nowMs)}`);
      saved?.setAttribute('title', formatDateTime(this.savedAtMs));
    }
  }

  /** `raw` goes to data-value, for tests that should not depend on formatting or locale. */
  private set(id: FieldId, raw: string, text: string, tone?: 'ok' | 'warn' | 'muted'): void {
    const value = this.values.get(id);
    if (!value) {
      return;
    }
    value.dataset.value = raw;
    if (value.textContent !== text) {
      value.textContent = text;
    }
    value.className = tone ? `tone-${tone}` : '';
  }
}

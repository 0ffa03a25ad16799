/** The dashboard's header: what places jobs, how the agent trains, and when its weights were saved. */
import type { HeaderView } from '../shared/dashboardProtocol';
import { el } from './dom';
import { headerTexts, savedText } from './viewText';
import type { FieldText, HeaderFieldId } from './viewText';

const FIELDS: ReadonlyArray<[HeaderFieldId, string]> = [
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
  private readonly values = new Map<HeaderFieldId, HTMLElement>();
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
    const texts = headerTexts(header, Date.now());
    for (const [id] of FIELDS) {
      this.set(id, texts[id]);
    }
    this.savedAtMs = header.savedAtMs;
    this.shown = true;
  }

  /** The relative time goes stale between updates (learning off sends few), so main refreshes it on a timer. */
  refreshSaved(nowMs: number): void {
    if (!this.shown) {
      return;
    }
    this.set('saved', savedText(this.savedAtMs, nowMs));
  }

  /** `raw` goes to data-value, for tests that should not depend on formatting or locale. */
  private set(id: HeaderFieldId, { raw, text, tone, title }: FieldText): void {
    const value = this.values.get(id);
    if (!value) {
      return;
    }
    value.dataset.value = raw;
    if (value.textContent !== text) {
      value.textContent = text;
    }
    value.className = tone ? `tone-${tone}` : '';
    if (title === undefined) {
      value.removeAttribute('title');
    } else {
      value.setAttribute('title', title);
    }
  }
}

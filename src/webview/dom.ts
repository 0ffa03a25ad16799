/**
 * A tiny createElement helper. The dashboard builds every node with it (never innerHTML) so that job
 * names, host names, reasons and file names from the extension always land as text.
 */

export interface ElementOptions {
  className?: string;
  text?: string;
  /** Set with setAttribute; values are plain strings, so a hostile value stays an attribute value. */
  attrs?: Record<string, string>;
  testId?: string;
}

export type Child = Node | string | undefined | false;

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  options: ElementOptions = {},
  children: Child[] = [],
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (options.className) {
    node.className = options.className;
  }
  if (options.testId) {
    node.dataset.testid = options.testId;
  }
  for (const [name, value] of Object.entries(options.attrs ?? {})) {
    node.setAttribute(name, value);
  }
  if (options.text !== undefined) {
    node.textContent = options.text;
  }
  append(node, children);
  return node;
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child !== undefined && child !== false) {
      parent.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
    }
  }
}

/** Replaces all children of `parent`. */
export function replaceChildren(parent: Element, children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

/** A section with a heading that labels it, so screen readers list it among the page's landmarks. */
export function section(name: string, title: string, children: Child[] = []): HTMLElement {
  const heading = el('h2', { text: title, attrs: { id: `${name}-heading` } });
  return el('section', { className: `panel ${name}`, attrs: { 'aria-labelledby': heading.id } }, [heading, ...children]);
}

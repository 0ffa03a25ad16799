// Playwright helpers that drive the VS Code workbench the way a user does: the command palette, quick
// inputs, tree views, the status bar. Every wait polls the DOM for the state it needs; none sleeps blindly.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, Locator, Page } from 'playwright-core';
import { outputDir } from './codeServer';

const chromiumPath = process.env.TRAINQ_CHROMIUM ?? '/usr/bin/chromium';
const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export const defaultTimeoutMs = 30_000;

// The callbacks passed to page.evaluate run in the browser. These few declarations type them without adding
// the DOM library to the whole project, where `document` must stay an error.
interface DomElement {
  readonly textContent: string | null;
  readonly innerText: string;
  readonly style: { readonly display: string; readonly top: string };
  readonly offsetParent: unknown;
  readonly placeholder?: string;
  readonly value?: string;
  getAttribute(name: string): string | null;
  querySelector(selector: string): DomElement | null;
  querySelectorAll(selector: string): Iterable<DomElement>;
}
declare const document: { querySelector(selector: string): DomElement | null };

export async function launchBrowser(): Promise<Browser> {
  if (!fs.existsSync(chromiumPath)) {
    throw new Error(`Chromium not found at ${chromiumPath}: apt-get install -y chromium (or set TRAINQ_CHROMIUM)`);
  }
  return chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, headless: true });
}

/** Opens the workbench in a new page and waits until it is usable; browser console errors go to a log file. */
export async function openWorkbench(browser: Browser, url: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(defaultTimeoutMs);
  const consoleLog = path.join(outputDir, 'browser-console.log');
  fs.mkdirSync(outputDir, { recursive: true });
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') {
      fs.appendFileSync(consoleLog, `[${message.type()}] ${message.text()}\n`);
    }
  });
  page.on('pageerror', (error) => fs.appendFileSync(consoleLog, `[pageerror] ${error.stack ?? error.message}\n`));
  await page.goto(url);
  await waitForWorkbench(page);
  return page;
}

/** The workbench has rendered its parts; views and the status bar fill in as the extension host comes up. */
export async function waitForWorkbench(page: Page, timeoutMs = 90_000): Promise<void> {
  for (const part of ['activitybar', 'sidebar', 'editor', 'statusbar']) {
    await page.locator(`.monaco-workbench .part.${part}`).first().waitFor({ state: 'visible', timeout: timeoutMs });
  }
}

/** Reloads the window through the command palette, as a user would, and waits for the new workbench. */
export async function reloadWindow(page: Page): Promise<void> {
  await Promise.all([page.waitForEvent('framenavigated', { timeout: 60_000 }), runCommand(page, 'Developer: Reload Window')]);
  await waitForWorkbench(page);
}

const quickInput = (page: Page) => page.locator('.quick-input-widget');
const quickInputBox = (page: Page) => page.locator('.quick-input-widget .quick-input-box input');
const quickInputRows = (page: Page) => page.locator('.quick-input-widget .quick-input-list .monaco-list-row');

/** Runs a command by its palette title, e.g. "TrainQ: Pause Dispatching". */
export async function runCommand(page: Page, title: string): Promise<void> {
  await closeQuickInput(page);
  await page.keyboard.press('F1');
  await quickInput(page).waitFor({ state: 'visible' });
  await quickInputBox(page).fill(`>${title}`);
  await pickRow(page, title);
}

/**
 * Chooses the quick-pick row whose label is exactly `label` (the filter box is typed into first), so
 * "Medium" never picks "Medium-high".
 */
export async function chooseQuickPick(page: Page, label: string): Promise<void> {
  await quickInput(page).waitFor({ state: 'visible' });
  await quickInputBox(page).fill(label);
  await pickRow(page, label);
}

/**
 * Chooses the row of a workspace file by its relative path; the label may also start with the workspace
 * folder's name ("ws/scripts/train.sh"), as vscode.workspace.asRelativePath(uri, true) writes it.
 */
export async function chooseQuickPickPath(page: Page, relativePath: string): Promise<void> {
  await quickInput(page).waitFor({ state: 'visible' });
  await quickInputBox(page).fill(relativePath);
  await pickRow(page, relativePath, true);
}

async function pickRow(page: Page, label: string, pathSuffix = false): Promise<void> {
  const text = pathSuffix ? new RegExp(`^\\s*(.*/)?${escapeRegExp(label)}\\s*$`) : exactly(label);
  const row = quickInputRows(page).filter({ has: page.locator('.label-name', { hasText: text }) });
  try {
    await row.first().waitFor({ state: 'visible' });
  } catch (error) {
    const shown = await quickInputRows(page).allInnerTexts();
    throw new Error(`no quick-pick row "${label}"; shown: ${JSON.stringify(shown)}`, { cause: error });
  }
  const before = await quickInputState(page);
  await row.first().click();
  await waitForQuickInputChange(page, before);
}

/**
 * Answers the current input box step: replaces its value when `value` is given, otherwise accepts the
 * prefilled one, then waits for the next step or for the input to close. Fails on a validation message.
 */
export async function answerInput(page: Page, value?: string): Promise<void> {
  await quickInput(page).waitFor({ state: 'visible' });
  if (value !== undefined) await quickInputBox(page).fill(value);
  const before = await quickInputState(page);
  await quickInputBox(page).press('Enter');
  await waitForQuickInputChange(page, before);
}

/**
 * Accepts every step of a multi-step input as prefilled (Enter on each), following the "(k/n)" step counter
 * in the title: after step n the input must close.
 */
export async function acceptPrefilledSteps(page: Page, maxSteps = 12): Promise<void> {
  for (let i = 0; i < maxSteps; i++) {
    const title = await quickInputTitle(page);
    if (title === null) return;
    const step = /\((\d+)\/(\d+)\)\s*$/.exec(title);
    if (!step) throw new Error(`the quick input "${title}" has no step counter`);
    const [k, n] = [Number(step[1]), Number(step[2])];
    await quickInputBox(page).press('Enter');
    const next = k === n ? null : `(${k + 1}/${n})`;
    try {
      await page.waitForFunction(
        (expected) => {
          const widget = document.querySelector('.quick-input-widget');
          const open = !!widget && widget.style.display !== 'none' && widget.offsetParent !== null;
          const text = widget?.querySelector('.quick-input-title')?.innerText ?? '';
          return expected === null ? !open : open && text.trim().endsWith(expected);
        },
        next,
        { timeout: 10_000 },
      );
    } catch (error) {
      const message = await page
        .locator('.quick-input-widget .quick-input-message')
        .innerText()
        .catch(() => '');
      throw new Error(`step ${k}/${n} of "${title}" was not accepted${message ? `: ${message}` : ''}`, { cause: error });
    }
  }
  throw new Error(`the quick input was still open after ${maxSteps} steps`);
}

/** The title of the open quick input (waiting briefly for one to appear between steps), or null. */
async function quickInputTitle(page: Page, waitMs = 2_000): Promise<string | null> {
  const visible = await quickInput(page)
    .waitFor({ state: 'visible', timeout: waitMs })
    .then(
      () => true,
      () => false,
    );
  if (!visible) return null;
  return (await page.locator('.quick-input-widget .quick-input-title').innerText()).trim();
}

/** The title, prompt and value of the open quick input, or null when none is open. */
export async function quickInputState(page: Page): Promise<string | null> {
  // No named helpers inside page callbacks: tsx's esbuild wraps them in a __name() the page lacks.
  return page
    .evaluate(() => {
      const widget = document.querySelector('.quick-input-widget');
      if (!widget || widget.style.display === 'none' || widget.offsetParent === null) return null;
      const input = widget.querySelector('.quick-input-box input');
      return [
        widget.querySelector('.quick-input-title')?.innerText ?? '',
        widget.querySelector('.quick-input-message')?.innerText ?? '',
        input?.placeholder,
        input?.value,
      ].join('|');
    })
    .catch((error: Error) => {
      // A command that reloads the window takes the quick input with it.
      if (/context was destroyed|navigat/i.test(error.message)) return null;
      throw error;
    });
}

async function waitForQuickInputChange(page: Page, before: string | null, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const now = await quickInputState(page);
    if (now !== before) return;
    const severity = await page
      .locator('.quick-input-widget .quick-input-message .codicon-error, .quick-input-widget .inputValidationError')
      .count();
    if (severity > 0) {
      throw new Error(`the input was rejected: ${await page.locator('.quick-input-widget .quick-input-message').innerText()}`);
    }
    await page.waitForTimeout(100);
  }
  // Two consecutive steps may look alike; the caller's next wait decides whether this one was accepted.
}

export async function closeQuickInput(page: Page): Promise<void> {
  if ((await quickInputState(page)) !== null) {
    await page.keyboard.press('Escape');
    await page.waitForFunction(() => {
      const widget = document.querySelector('.quick-input-widget');
      return !widget || widget.style.display === 'none' || widget.offsetParent === null;
    });
  }
}

export interface TreeRow {
  label: string;
  description: string;
  ariaLabel: string;
  /** 1 for top-level items. */
  level: number;
  expanded: boolean | null;
}

/** The pane of a view, found by its title as shown in the pane header, e.g. "Job Queue". */
export function viewPane(page: Page, viewTitle: string): Locator {
  return page
    .locator('.pane')
    .filter({ has: page.locator('.pane-header .title', { hasText: exactly(viewTitle) }) })
    .first();
}

/**
 * Shows a view container from the activity bar (e.g. "TrainQ") until `viewTitle` is visible. Clicking the
 * active container's icon hides the side bar, and after a reload the restored state arrives late, so the
 * click happens only while the view is not showing, and is retried.
 */
export async function openViewContainer(page: Page, containerTitle: string, viewTitle: string): Promise<void> {
  const item = page.locator(`.part.activitybar .action-item a[aria-label^="${containerTitle}"]`).first();
  // The container appears once the extension host has read the extension's manifest.
  await item.waitFor({ state: 'visible', timeout: 90_000 });
  const pane = viewPane(page, viewTitle);
  for (let attempt = 0; attempt < 4; attempt++) {
    if (
      await pane.waitFor({ state: 'visible', timeout: 2_000 }).then(
        () => true,
        () => false,
      )
    )
      return;
    await item.click();
    // Away from the icon, so its hover does not cover the screenshots.
    await page.mouse.move(700, 450);
  }
  await pane.waitFor({ state: 'visible' });
}

/** Expands a collapsed pane and returns the rows its tree renders (all of them, for a short tree). */
export async function treeRows(page: Page, viewTitle: string): Promise<TreeRow[]> {
  const pane = viewPane(page, viewTitle);
  await pane.waitFor({ state: 'visible' });
  const header = pane.locator('.pane-header').first();
  if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
  return pane.locator('.pane-body .monaco-list-row').evaluateAll((rows) =>
    (rows as unknown as DomElement[]).map((row) => ({
      label: (row.querySelector('.label-name')?.textContent ?? '').trim(),
      description: (row.querySelector('.label-description')?.textContent ?? '').trim(),
      ariaLabel: row.getAttribute('aria-label') ?? '',
      level: Number(row.getAttribute('aria-level') ?? '1'),
      expanded: row.getAttribute('aria-expanded') === null ? null : row.getAttribute('aria-expanded') === 'true',
    })),
  );
}

/** Polls a view until a row satisfies `predicate`; the error lists the rows last seen. */
export async function waitForTreeRow(
  page: Page,
  viewTitle: string,
  predicate: (row: TreeRow) => boolean,
  what: string,
  timeoutMs = 60_000,
): Promise<TreeRow> {
  const deadline = Date.now() + timeoutMs;
  let rows: TreeRow[] = [];
  while (Date.now() < deadline) {
    rows = await treeRows(page, viewTitle);
    const match = rows.find(predicate);
    if (match) return match;
    await expandCollapsedRows(page, viewTitle);
    await page.waitForTimeout(250);
  }
  throw new Error(`timed out waiting for ${what} in ${viewTitle}; rows: ${JSON.stringify(rows, null, 1)}`);
}

/** Expands every collapsed row of a view, so that job items inside group nodes render. */
export async function expandCollapsedRows(page: Page, viewTitle: string): Promise<void> {
  const collapsed = viewPane(page, viewTitle).locator('.pane-body .monaco-list-row[aria-expanded="false"]');
  for (let i = await collapsed.count(); i > 0; i--) {
    await collapsed.first().locator('.monaco-tl-twistie').click();
  }
}

/** The row locator of a tree item by its label (and, optionally, a description prefix). */
export function treeRow(page: Page, viewTitle: string, label: string, descriptionPrefix?: string): Locator {
  let row = viewPane(page, viewTitle)
    .locator('.pane-body .monaco-list-row')
    .filter({ has: page.locator('.label-name', { hasText: exactly(label) }) });
  if (descriptionPrefix !== undefined) {
    row = row.filter({ has: page.locator('.label-description', { hasText: startsWith(descriptionPrefix) }) });
  }
  return row.first();
}

/**
 * Runs an item's context-menu action, e.g. "Open Log": right-clicks its row, then walks the menu with the
 * arrow keys and presses Enter. (A mouse click straight after the menu opens is ignored by the workbench.)
 */
export async function runContextAction(page: Page, row: Locator, action: string): Promise<void> {
  await row.click({ button: 'right' });
  const menu = page.locator('.context-view .monaco-menu');
  const labels = menu.locator('.action-item:not(.disabled) .action-label');
  const wanted = menu.locator('.action-item .action-label', { hasText: exactly(action) });
  try {
    await wanted.first().waitFor({ state: 'visible' });
  } catch (error) {
    const shown = await labels.allInnerTexts();
    await page.keyboard.press('Escape');
    throw new Error(`no context action "${action}"; shown: ${JSON.stringify(shown)}`, { cause: error });
  }
  const focused = menu.locator('.action-item.focused .action-label');
  for (let i = await labels.count(); i >= 0; i--) {
    await page.keyboard.press('ArrowDown');
    if (
      exactly(action).test(
        (await focused
          .first()
          .textContent()
          .catch(() => null)) ?? '',
      )
    ) {
      await page.keyboard.press('Enter');
      await menu.first().waitFor({ state: 'hidden' });
      return;
    }
  }
  await page.keyboard.press('Escape');
  throw new Error(`could not focus the context action "${action}"`);
}

/** The text of the first status-bar item matching `pattern`, codicons left out; null when none matches. */
export async function statusBarText(page: Page, pattern: RegExp): Promise<string | null> {
  const texts = await page.locator('.part.statusbar .statusbar-item').allInnerTexts();
  return texts.map((text) => text.replace(/\s+/g, ' ').trim()).find((text) => pattern.test(text)) ?? null;
}

export async function waitForStatusBarText(page: Page, pattern: RegExp, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const text = await statusBarText(page, pattern);
    if (text !== null) return text;
    await page.waitForTimeout(250);
  }
  const all = await page.locator('.part.statusbar .statusbar-item').allInnerTexts();
  throw new Error(`no status-bar item matches ${pattern}; items: ${JSON.stringify(all)}`);
}

export function statusBarItem(page: Page, pattern: RegExp): Locator {
  return page.locator('.part.statusbar .statusbar-item', { hasText: pattern }).first();
}

/** The title of the active editor tab. */
export async function activeEditorTitle(page: Page): Promise<string> {
  const tab = page.locator('.part.editor .tab.active .label-name').first();
  await tab.waitFor({ state: 'visible' });
  return (await tab.textContent())?.trim() ?? '';
}

/** The visible text of the active editor (Monaco renders only the lines in view: enough for short logs). */
export async function activeEditorText(page: Page): Promise<string> {
  const lines = page.locator('.part.editor .editor-group-container.active .monaco-editor .view-lines').first();
  await lines.waitFor({ state: 'visible' });
  return lines.evaluate((element) => {
    const rows = [...(element as unknown as DomElement).querySelectorAll('.view-line')];
    // Lines are absolutely positioned and not in DOM order; their `top` gives the order.
    rows.sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top));
    return rows.map((row) => (row.textContent ?? '').replace(/\u00a0/g, ' ')).join('\n');
  });
}

/** Polls the active editor until its text matches. */
export async function waitForEditorText(page: Page, pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let text = '';
  while (Date.now() < deadline) {
    text = await activeEditorText(page).catch(() => '');
    if (pattern.test(text)) return text;
    await page.waitForTimeout(250);
  }
  throw new Error(`the active editor never matched ${pattern}; it shows:\n${text}`);
}

export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(outputDir, { recursive: true });
  const file = path.join(outputDir, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function exactly(text: string): RegExp {
  return new RegExp(`^\\s*${escapeRegExp(text)}\\s*$`);
}

function startsWith(text: string): RegExp {
  return new RegExp(`^\\s*${escapeRegExp(text)}`);
}

/** The messages of the notification toasts on screen now, newest last. */
export async function notificationTexts(page: Page): Promise<string[]> {
  const texts = await page.locator('.notifications-toasts .notification-list-item-message').allInnerTexts();
  return texts.map((text) => text.replace(/\s+/g, ' ').trim());
}

/**
 * Polls the notification toasts until one matches, and returns its message. Toasts without actions hide
 * themselves after a while, so a test should look soon after the action that raises one.
 */
export async function waitForNotification(page: Page, pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let seen: string[] = [];
  while (Date.now() < deadline) {
    seen = await notificationTexts(page);
    const match = seen.find((text) => pattern.test(text));
    if (match !== undefined) return match;
    await page.waitForTimeout(200);
  }
  throw new Error(`no notification matches ${pattern}; shown: ${JSON.stringify(seen)}`);
}

/** Dismisses every notification, so the next wait sees only new ones. */
export async function clearNotifications(page: Page): Promise<void> {
  await runCommand(page, 'Notifications: Clear All Notifications');
  await page.locator('.notifications-toasts .notification-list-item-message').first().waitFor({ state: 'hidden' });
}

/** The validation message (or prompt) under the open quick input's box; "" when none is open. */
export async function quickInputMessage(page: Page): Promise<string> {
  const message = page.locator('.quick-input-widget .quick-input-message');
  if (!(await message.isVisible().catch(() => false))) return '';
  return (await message.innerText()).replace(/\s+/g, ' ').trim();
}

/** The step counter "(k/n)" at the end of the open quick input's title, or null. */
export async function quickInputStep(page: Page): Promise<string | null> {
  const title = await page
    .locator('.quick-input-widget .quick-input-title')
    .innerText()
    .catch(() => '');
  return /\(\d+\/\d+\)\s*$/.exec(title)?.[0].trim() ?? null;
}

/** Hovers an element until the workbench shows its hover (e.g. a tree item's tooltip) and returns the text. */
export async function hoverText(page: Page, target: Locator, timeoutMs = 15_000): Promise<string> {
  const hover = page.locator('.workbench-hover, .monaco-hover:not(.hidden)').filter({ hasText: /\S/ }).last();
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    await page.mouse.move(5, 5);
    await target.hover();
    if (
      await hover.waitFor({ state: 'visible', timeout: 3_000 }).then(
        () => true,
        () => false,
      )
    ) {
      return (await hover.innerText()).replace(/\u00a0/g, ' ');
    }
  }
  throw new Error('no hover appeared over the element');
}

/**
 * Hovers `target` until its hover reads `pattern`: a hover of another element (a group row the mouse
 * crossed, a drag's leftover) can still be on screen for a moment, and is not the one asked for.
 */
export async function hoverTextMatching(page: Page, target: Locator, pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let text = '';
  while (Date.now() < deadline) {
    text = await hoverText(page, target, Math.max(3_000, deadline - Date.now())).catch(() => '');
    if (pattern.test(text)) return text;
    await page.mouse.move(5, 5);
    await page.waitForTimeout(300);
  }
  throw new Error(`the hover never read ${pattern}; last: ${JSON.stringify(text)}`);
}

/** Opens a file through Go to File (quick open), by workspace-relative or absolute path, and waits for its tab. */
export async function openFileByPath(page: Page, filePath: string): Promise<void> {
  await closeQuickInput(page);
  await runCommand(page, 'Go to File...');
  await quickInputBox(page).fill(filePath);
  const name = path.basename(filePath);
  // File search can take seconds on a cold workspace.
  await quickInputRows(page).filter({ hasText: name }).first().waitFor({ state: 'visible', timeout: 60_000 });
  await quickInputBox(page).press('Enter');
  // The tab shows the name without its extension in .label-name (the extension is a suffix element).
  await page.locator(`.part.editor .tab.active[data-resource-name="${name}"]`).first().waitFor({ state: 'visible' });
}

/**
 * Drags the side bar's edge until the bar is about `width` pixels wide, so that tree descriptions (a host's
 * load, a job's host and GPU) show in full in screenshots instead of ending in "…".
 */
export async function resizeSideBar(page: Page, width: number): Promise<void> {
  const sideBar = page.locator('.monaco-workbench .part.sidebar').first();
  const box = await sideBar.boundingBox();
  if (!box) throw new Error('the side bar is not showing');
  const y = box.y + box.height / 2;
  await page.mouse.move(box.x + box.width, y);
  await page.mouse.down();
  await page.mouse.move(box.x + width, y, { steps: 10 });
  await page.mouse.up();
  await page.mouse.move(box.x + width + 300, y);
  await page.waitForFunction(
    ([min]) => {
      const bar = document.querySelector('.monaco-workbench .part.sidebar') as unknown as {
        getBoundingClientRect(): { width: number };
      } | null;
      return !!bar && bar.getBoundingClientRect().width >= min;
    },
    [width - 20],
  );
}

/** Runs a step and leaves a screenshot named after it when it fails. */
export async function withScreenshotOnFailure(page: Page, name: string, step: () => Promise<void>): Promise<void> {
  try {
    await step();
  } catch (error) {
    await screenshot(page, `FAILED-${name}`).catch(() => undefined);
    throw error;
  }
}

/** The job state a Job Queue description starts with ("running · local · GPU 0 · 0:02"). */
export function stateOf(description: string): string {
  return description.split(/\s/)[0] ?? '';
}

/** Queues a workspace script through the command palette, accepting every prefilled step. */
export async function queueScript(page: Page, relativePath: string): Promise<void> {
  await runCommand(page, 'TrainQ: Queue Training Script…');
  await chooseQuickPickPath(page, relativePath);
  await acceptPrefilledSteps(page);
}

/** The TrainQ output channel's log file in the editor's log folder (all sessions of this server). */
export function trainqLog(userDataDir: string): string {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name === 'TrainQ.log') found.push(full);
    }
  };
  walk(path.join(userDataDir, 'logs'));
  assert.ok(found.length > 0, `no TrainQ.log under ${userDataDir}/logs`);
  return found.map((f) => fs.readFileSync(f, 'utf8')).join('\n');
}

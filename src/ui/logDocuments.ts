/**
 * Job logs as read-only editor documents (scheme `trainq-log`). While a job runs, an open log is
 * re-read when its file grows, and editors scrolled to the end keep following new output, like
 * `tail -f`; editors the user scrolled up stay where they are.
 */
import { promises as fs } from 'node:fs';
import * as vscode from 'vscode';
import { isFinished, type Job } from '../core/job';
import { cleanLogText, truncatedLogNotice } from './jobFormat';
import type { JobManager } from '../core/jobManager';

export const LOG_SCHEME = 'trainq-log';
/** More than this is shown from the tail: an editor holding hundreds of MB of log would freeze. */
const MAX_SHOWN_BYTES = 2 * 1024 * 1024;
const POLL_MS = 500;
/** Re-reading a large tail twice a second costs more than following it that closely is worth. */
const LARGE_LOG_BYTES = 1024 * 1024;
const LARGE_LOG_MIN_GAP_MS = 2000;

export type LogManager = Pick<JobManager, 'job' | 'host'>;

interface Watch {
  timer: NodeJS.Timeout;
  size: number;
  mtimeMs: number;
  state: Job['state'] | undefined;
  lastFire: number;
  busy: boolean;
}

/**
 * The tab shows the path's last segment, so the script name goes there (`train_mnist.py (3f2a1c).log`,
 * the `.log` extension also picks the Log language); the full job id rides in the query.
 */
export function jobLogUri(job: Pick<Job, 'id' | 'name'>): vscode.Uri {
  return vscode.Uri.from({ scheme: LOG_SCHEME, path: `/${job.name} (${job.id.slice(0, 6)}).log`, query: job.id });
}

/** Opens a job's log in a (non-preview) editor, scrolled to the end so it follows new output. */
export async function openJobLog(job: Pick<Job, 'id' | 'name'>): Promise<void> {
  let doc = await vscode.workspace.openTextDocument(jobLogUri(job));
  if (doc.languageId !== 'log') {
    doc = await vscode.languages.setTextDocumentLanguage(doc, 'log');
  }
  const editor = await vscode.window.showTextDocument(doc, { preview: false });
  revealEnd(editor, true);
}

export class JobLogProvider implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changeEmitter.event;
  private readonly watches = new Map<string, Watch>();
  /** Editors that showed the last line when their document was told to change, by document URI. */
  private readonly following = new Map<string, vscode.TextEditor[]>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly manager: LogManager) {
    this.disposables.push(
      this.changeEmitter,
      vscode.workspace.registerTextDocumentContentProvider(LOG_SCHEME, this),
      vscode.workspace.onDidCloseTextDocument((doc) => {
        if (doc.uri.scheme === LOG_SCHEME) {
          this.unwatch(doc.uri.toString());
        }
      }),
      vscode.workspace.onDidChangeTextDocument((e) => this.followAfterChange(e.document)),
    );
  }

  open(job: Pick<Job, 'id' | 'name'>): Promise<void> {
    return openJobLog(job);
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const id = uri.query;
    const job = this.manager.job(id);
    if (job && !isFinished(job.state)) {
      this.watch(uri, job);
    }
    const { text, size, mtimeMs } = await this.read(id, job);
    const watch = this.watches.get(uri.toString());
    if (watch) {
      watch.size = size;
      watch.mtimeMs = mtimeMs;
    }
    return text;
  }

  private async read(id: string, job: Job | undefined): Promise<{ text: string; size: number; mtimeMs: number }> {
    const none = (text: string) => ({ text, size: -1, mtimeMs: -1 });
    if (!job) {
      return none(vscode.l10n.t("This job ({0}) is no longer in TrainQ's history, so its log is gone.", id));
    }
    if (job.state === 'queued') {
      return none(vscode.l10n.t('{0} has not started yet; its output appears here once it runs.', job.name));
    }
    if (job.startedAt === undefined || job.host === undefined) {
      return none(`${vscode.l10n.t('{0} never started, so it has no log.', job.name)}${job.reason ? `\n\n${job.reason}` : ''}`);
    }
    const host = this.manager.host(job.host);
    if (!host) {
      return none(vscode.l10n.t("{0} ran on host '{1}', which is not configured any more, so its log cannot be read.", job.name, job.host ?? ''));
    }
    const file = host.logPath(job.id);
    try {
      return await readTail(file);
    } catch (e) {
      return none(vscode.l10n.t('The log of this job is not readable: {0}\n\nLog file: {1}', e instanceof Error ? e.message : String(e), file));
    }
  }

  private watch(uri: vscode.Uri, job: Job): void {
    const key = uri.toString();
    if (this.watches.has(key)) {
      return;
    }
    const watch: Watch = {
      timer: setInterval(() => void this.poll(uri, watch), POLL_MS),
      size: -1,
      mtimeMs: -1,
      state: job.state,
      lastFire: 0,
      busy: false,
    };
    this.watches.set(key, watch);
  }

  private unwatch(key: string): void {
    const watch = this.watches.get(key);
    if (watch) {
      clearInterval(watch.timer);
      this.watches.delete(key);
    }
    this.following.delete(key);
  }

  private async poll(uri: vscode.Uri, watch: Watch): Promise<void> {
    if (watch.busy) {
      return;
    }
    watch.busy = true;
    try {
      const job = this.manager.job(uri.query);
      if (!job || isFinished(job.state)) {
        // The last output may have landed after the previous poll: one final read, then stop.
        this.unwatch(uri.toString());
        this.fire(uri);
        return;
      }
      const host = job.host === undefined ? undefined : this.manager.host(job.host);
      const stat = host ? await fs.stat(host.logPath(job.id)).catch(() => undefined) : undefined;
      const size = stat?.size ?? -1;
      const mtimeMs = stat?.mtimeMs ?? -1;
      const changed = job.state !== watch.state || size !== watch.size || mtimeMs !== watch.mtimeMs;
      const tooSoon = size > LARGE_LOG_BYTES && Date.now() - watch.lastFire < LARGE_LOG_MIN_GAP_MS;
      if (changed && !tooSoon) {
        watch.state = job.state;
        watch.size = size;
        watch.mtimeMs = mtimeMs;
        watch.lastFire = Date.now();
        this.fire(uri);
      }
    } finally {
      watch.busy = false;
    }
  }

  /** Notes which editors are at the end before the content changes, so only those follow. */
  private fire(uri: vscode.Uri): void {
    const key = uri.toString();
    const atEnd = vscode.window.visibleTextEditors.filter((e) => e.document.uri.toString() === key && showsLastLine(e));
    if (atEnd.length > 0) {
      this.following.set(key, atEnd);
    }
    this.changeEmitter.fire(uri);
  }

  private followAfterChange(doc: vscode.TextDocument): void {
    if (doc.uri.scheme !== LOG_SCHEME) {
      return;
    }
    const key = doc.uri.toString();
    const editors = this.following.get(key);
    if (!editors) {
      return;
    }
    this.following.delete(key);
    const visible = new Set(vscode.window.visibleTextEditors);
    editors.filter((e) => visible.has(e)).forEach((e) => revealEnd(e, false));
  }

  dispose(): void {
    [...this.watches.keys()].forEach((key) => this.unwatch(key));
    this.disposables.forEach((d) => d.dispose());
  }
}

/** The last MAX_SHOWN_BYTES of the file, from a line start, with a first line saying the rest was cut. */
async function readTail(file: string): Promise<{ text: string; size: number; mtimeMs: number }> {
  const handle = await fs.open(file, 'r');
  try {
    const { size, mtimeMs } = await handle.stat();
    const start = Math.max(0, size - MAX_SHOWN_BYTES);
    const buffer = Buffer.alloc(size - start);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, start);
    let text = buffer.subarray(0, bytesRead).toString('utf8');
    if (start > 0) {
      // Dropping the partial first line also drops any UTF-8 sequence the cut split.
      const newline = text.indexOf('\n');
      text = text.slice(newline + 1);
      text = `${truncatedLogNotice(size, Buffer.byteLength(text), file)}\n${text}`;
    }
    return { text: cleanLogText(text), size, mtimeMs };
  } finally {
    await handle.close();
  }
}

function showsLastLine(editor: vscode.TextEditor): boolean {
  const last = editor.visibleRanges[editor.visibleRanges.length - 1];
  // A trailing newline leaves an empty last line that may sit just below the fold.
  return last !== undefined && last.end.line >= editor.document.lineCount - 2;
}

/** Following scrolls only; the cursor moves to the end only on open, so a selection being copied survives. */
function revealEnd(editor: vscode.TextEditor, moveCursor: boolean): void {
  const doc = editor.document;
  const end = doc.lineAt(doc.lineCount - 1).range.end;
  if (moveCursor) {
    editor.selection = new vscode.Selection(end, end);
  }
  editor.revealRange(new vscode.Range(end, end), vscode.TextEditorRevealType.Default);
}

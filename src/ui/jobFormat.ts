/**
 * Text the views show for jobs: tree descriptions, Markdown tooltips, log text (hosts: hostFormat.ts).
 * Editor-free so every string the user sees is unit-tested in plain Node; the ui/ files only wrap
 * these strings in TreeItems, MarkdownStrings and status-bar items.
 */
import { formatDuration } from '../core/duration';
import { displayEnv } from '../core/envNames';
import { constraintsText, hasConstraints } from '../core/hostConstraints';
import { isFinished, priorityLabel, type Job, type Priority } from '../core/job';
import { t, translatorGeneration } from './l10nText';

export const SEP = ' · ';

/** Elapsed wall-clock time as a stopwatch shows it: `m:ss`, or `h:mm:ss` from an hour on. */
export function formatElapsed(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** Local date and time, `YYYY-MM-DD HH:MM:SS`: sortable and unambiguous, unlike locale formats. */
export function formatTimestamp(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** `HH:MM` today, `YYYY-MM-DD HH:MM` on another day. */
export function shortTime(ms: number, now: number): string {
  const full = formatTimestamp(ms).slice(0, 16);
  return full.slice(0, 10) === formatTimestamp(now).slice(0, 10) ? full.slice(11) : full;
}

/** Bytes (or MiB via mibToGiB) as GiB with one decimal, dropping a trailing `.0` (`40`, `12.1`). */
export function formatGiB(bytes: number): string {
  return trimZero(bytes / 1024 ** 3);
}

export function mibToGiB(mib: number): string {
  return trimZero(mib / 1024);
}

function trimZero(value: number): string {
  return value.toFixed(1).replace(/\.0$/, '');
}


/**
 * Escapes a user string (file name, argument, error text) for Markdown shown with theme icons on:
 * punctuation that could start formatting, links, bare-URL autolinks or HTML is backslash-escaped,
 * newlines become spaces, and `$(name)` is escaped so a file name cannot render as an icon.
 * Parentheses stay as they are: with `[` `]` escaped they cannot form a link, and escaping them
 * would break the icon escape.
 */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/\r\n|\r|\n/g, ' ')
    .replace(/[\\`*_{}[\]#+\-.!|<>&~:]/g, '\\$&')
    .replace(/\$\(/g, '\\$(');
}

/**
 * A Markdown code span that shows `text` verbatim: the fence is one backtick longer than any run
 * inside it, and padded with spaces so leading or trailing backticks survive. Escapes don't work in
 * code spans, so a `$(` is broken with a zero-width space to keep it from rendering as an icon.
 */
export function codeSpan(text: string): string {
  const body = text.replace(/\r\n|\r|\n/g, ' ').replace(/\$\(/g, '$\u200b(');
  if (body.trim() === '') {
    return body === '' ? t('_(empty)_') : t('_(blank)_');
  }
  const longest = Math.max(0, ...(body.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  return `${fence} ${body} ${fence}`;
}

/**
 * Caches a string function of few distinct inputs: a refresh formats thousands of jobs that share a
 * handful of waiting reasons and estimates, and the regexes would otherwise dominate its cost.
 */
function memoize<K, V>(fn: (key: K) => V, max = 500): (key: K) => V {
  const cache = new Map<K, V>();
  let generation = translatorGeneration();
  return (key) => {
    if (generation !== translatorGeneration()) {
      // Translated text: a new translator (set at activation) makes every cached value stale.
      cache.clear();
      generation = translatorGeneration();
    }
    let value = cache.get(key);
    if (value === undefined) {
      if (cache.size >= max) {
        cache.clear();
      }
      value = fn(key);
      cache.set(key, value);
    }
    return value;
  };
}

const estimateText = memoize((sec: number) => t('est. {0}', formatDuration(sec)));

/** The scheduler's sentences in the few words of a tree description; a GPU an ended job's leftover holds stays in. */
export const shortWaitingReason = memoize(shortenReason);

function shortenReason(reason: string): string {
  const text = reason.trim();
  const held = / \(.*GPU \d+ still used by a process of job .+ after it ended\)/.exec(text)?.[0] ?? '';
  let m: RegExpMatchArray | null;
  if (/^Dispatching is paused/i.test(text)) {
    return t('paused');
  }
  if (/^Another VS Code window/i.test(text)) {
    return t('another window dispatches');
  }
  if (/not trusted/i.test(text)) {
    return t('workspace not trusted');
  }
  if (/^No host is online/i.test(text)) {
    return t('no host online');
  }
  if ((m = text.match(/^Needs (\d+) GPUs? on one host; the largest host has (\d+)/i))) {
    return Number(m[1]) === 1 ? t('needs {0} GPU (largest host: {1}){2}', Number(m[1]), m[2], held) : t('needs {0} GPUs (largest host: {1}){2}', Number(m[1]), m[2], held);
  }
  if (/^Waiting for a free job slot/i.test(text)) {
    return t('waiting for a job slot');
  }
  if ((m = text.match(/^Waits for (.+) to (?:succeed|end)\.$/))) {
    // Names (with dots and parentheses) are the point here: the generic clause cut below would split them.
    return t('waits for {0}', m[1].length > 60 ? `${m[1].slice(0, 59).trimEnd()}…` : m[1]);
  }
  if ((m = text.match(/^Waiting for (\d+) free GPUs?/i))) {
    return Number(m[1]) === 1 ? t('waiting for {0} free GPU{1}', Number(m[1]), held) : t('waiting for {0} free GPUs{1}', Number(m[1]), held);
  }
  const clause = text.split(/[(;:]|\.(?:\s|$)/)[0].trim();
  const lowered = clause.charAt(0).toLowerCase() + clause.slice(1);
  return lowered.length > 40 ? `${lowered.slice(0, 39).trimEnd()}…` : lowered;
}

/** Where a job stands in the queue, as the view knows it (aging and waiting are not stored on the job). */
export interface JobContext {
  now: number;
  /** The priority the job is dispatched at (its own, raised by aging); queued jobs only. */
  effective?: Priority;
  /** Levels gained by waiting; queued jobs only. */
  promotedLevels?: number;
  waitingReason?: string;
  /** What a queued job waits for (core/dependencies.ts runsAfterText), shown whatever holds it now. */
  runsAfter?: string;
  /** How long a running job's GPUs have shown 0 %, set only once that reaches the warning threshold (core/gpuIdle.ts). */
  gpuIdleMs?: number;
}

/** `h:mm:ss` so far for a running job, total run time for a finished one; undefined if it never started. */
export function jobRunTime(job: Job, now: number): string | undefined {
  if (job.startedAt === undefined) {
    return undefined;
  }
  const end = isFinished(job.state) ? (job.endedAt ?? job.startedAt) : now;
  return formatElapsed(end - job.startedAt);
}

function gpuPart(job: Job): string {
  if (job.gpuIndices && job.gpuIndices.length > 0) {
    return t('GPU {0}', job.gpuIndices.join(','));
  }
  return t('CPU');
}

/**
 * The tree description: the state word first, then what matters in that state —
 * `running · local · GPU 0,1 · 1:23`, `queued · waiting for 2 free GPUs · ↑ aged · est. 1h 30m`.
 */
export function jobDescription(job: Job, ctx: JobContext): string {
  // A trial an early-stopping rule ended is not something the user cancelled.
  const parts: string[] = [job.state === 'cancelled' ? cancelledWord(job) : job.state];
  if (job.state === 'queued') {
    if (ctx.waitingReason) {
      parts.push(shortWaitingReason(ctx.waitingReason));
    }
    if ((ctx.promotedLevels ?? 0) > 0) {
      parts.push(t('↑ aged'));
    }
    parts.push(estimateText(job.runtimeSec));
    return parts.join(SEP);
  }
  if (job.dependencyFailed !== undefined && job.state === 'cancelled') {
    // Which dependency, from its reason ("Dependency failed: prep.py ended failed.").
    parts.push((job.reason ?? '').replace(/^Dependency failed: /, '').replace(/\.$/, ''));
  }
  // A job cancelled while queued never got a host; its description is just the state.
  if (job.host !== undefined) {
    parts.push(job.host, gpuPart(job));
  }
  const time = jobRunTime(job, ctx.now);
  if (time !== undefined) {
    parts.push(time);
  }
  if (job.state === 'running' && job.reason) {
    // What the host says of a job it holds, e.g. Slurm's "Pending in Slurm (job 12): Resources".
    parts.push(job.reason);
  }
  if (job.state === 'running' && ctx.gpuIdleMs !== undefined) {
    parts.push(gpuIdleText(ctx.gpuIdleMs));
  }
  return parts.join(SEP);
}

/** `GPU idle 12 min`, `GPU idle 1h 5m` (see idleMinutesText). */
export function gpuIdleText(ms: number): string {
  return t('GPU idle {0}', idleMinutesText(ms));
}

/** `12 min`, `1h 5m`: whole minutes, as the warning threshold is set. */
export function idleMinutesText(ms: number): string {
  const minutes = Math.max(0, Math.floor(ms / 60_000));
  return minutes < 60 ? t('{0} min', minutes) : formatDuration(minutes * 60);
}

/** A cancelled job the user did not cancel says why it ended: an early-stopping rule or a failed dependency. */
function cancelledWord(job: Job): string {
  return job.stoppedEarly !== undefined ? t('stopped early') : job.dependencyFailed !== undefined ? t('dependency failed') : 'cancelled';
}

export interface TooltipOptions {
  /** The script path as the user knows it (workspace-relative when possible); defaults to the absolute path. */
  scriptDisplay?: string;
}

/** Every field of a job as Markdown, one per line; user strings are escaped (see escapeMarkdown). */
export function jobTooltipMarkdown(job: Job, ctx: JobContext, opts: TooltipOptions = {}): string {
  const lines: string[] = [`**${escapeMarkdown(job.name)}** — ${job.state === 'cancelled' ? cancelledWord(job) : job.state}`, ''];
  const field = (label: string, value: string) => lines.push(`**${label}:** ${value}`);

  field(t('Script'), codeSpan(opts.scriptDisplay ?? job.script));
  field(t('Arguments'), job.args.length > 0 ? job.args.map(codeSpan).join(' ') : t('_none_'));
  const assigned = job.gpuIndices && job.gpuIndices.length > 0 ? job.gpuIndices.join(', ') : undefined;
  const requested = assigned === undefined ? t('{0} requested', job.gpus) : t('{0} requested · assigned {1}', job.gpus, assigned);
  field(t('GPUs'), job.gpus === 0 ? t('none (CPU job)') : requested);
  field(t('Importance'), job.importance);
  field(t('Expected gain'), job.expectedGain === undefined ? t('not given') : `${job.expectedGain}%`);
  field(t('Runtime estimate'), formatDuration(job.runtimeSec));
  // Names always; the value of a secret-looking name (…TOKEN, …KEY, …PASSWORD) is masked (envNames.ts).
  if (job.env && Object.keys(job.env).length > 0) {
    field(t('Environment'), displayEnv(job.env).map(codeSpan).join(' '));
  }
  if (job.envFile !== undefined) {
    field(t('.env file'), t('{0} (read when the job starts)', codeSpan(job.envFile)));
  }
  if (job.interpreter !== undefined) {
    field(t('Interpreter'), codeSpan(job.interpreter));
  }
  if (hasConstraints(job.constraints)) {
    field(t('Host constraints'), escapeMarkdown(constraintsText(job.constraints)));
  }
  if (job.outputs && job.outputs.length > 0) {
    field(t('Output files'), t('{0} (copied back from a remote host)', job.outputs.map(codeSpan).join(' ')));
  }

  const promoted = ctx.promotedLevels ?? 0;
  const shown = job.state === 'queued' && ctx.effective ? ctx.effective : job.priority;
  const from = priorityLabel(job.priority);
  const priority =
    promoted === 0
      ? priorityLabel(shown)
      : promoted === 1
        ? t('{0} (raised by aging from {1}, {2} level)', priorityLabel(shown), from, promoted)
        : t('{0} (raised by aging from {1}, {2} levels)', priorityLabel(shown), from, promoted);
  field(t('Priority'), priority);
  field(t('Why'), job.priorityOverridden ? t('Set by you.') : escapeMarkdown(job.priorityReason || t('unknown')));

  field(t('State'), job.state);
  if (job.host !== undefined) {
    field(t('Host'), escapeMarkdown(job.host));
  }
  if (job.exitCode !== undefined) {
    field(t('Exit code'), String(job.exitCode));
  }
  field(t('Created'), formatTimestamp(job.createdAt));
  if (job.startedAt !== undefined) {
    field(t('Started'), formatTimestamp(job.startedAt));
  }
  if (job.endedAt !== undefined) {
    field(t('Ended'), formatTimestamp(job.endedAt));
  }
  const time = jobRunTime(job, ctx.now);
  if (time !== undefined) {
    field(isFinished(job.state) ? t('Ran for') : t('Running for'), time);
  }
  if (ctx.runsAfter !== undefined) {
    field(t('Runs after'), escapeMarkdown(ctx.runsAfter));
  }
  if (job.state === 'queued') {
    field(t('Waiting'), ctx.waitingReason ? escapeMarkdown(ctx.waitingReason) : t('for the next dispatch round'));
  } else if (job.reason) {
    field(t('Reason'), escapeMarkdown(job.reason));
  }
  if (job.state === 'running' && ctx.gpuIdleMs !== undefined) {
    field(t('Warning'), t('{0} (all of its GPUs at 0 % in every probe since)', gpuIdleText(ctx.gpuIdleMs)));
  }
  if (job.retryOf) {
    field(t('Retry of'), codeSpan(job.retryOf));
  }
  field(t('Job id'), codeSpan(job.id));
  // Two trailing spaces make each line a hard break without turning the tooltip into a list.
  return lines.join('  \n');
}

/** A group's count, or `shown of total` when the Finished group is capped. */
export function groupCount(shown: number, total: number = shown): string {
  return total > shown ? t('{0} of {1}', shown, total) : String(shown);
}

/** What a terminal shows for a log: colour codes removed, each `\r`-rewritten line (progress bars) at its last state. */
export function cleanLogText(text: string): string {
  return text
    .replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, '')
    .split('\n')
    .map((line) => {
      const trimmed = line.endsWith('\r') ? line.slice(0, -1) : line;
      const cut = trimmed.lastIndexOf('\r');
      return cut < 0 ? trimmed : trimmed.slice(cut + 1);
    })
    .join('\n');
}

/** The first line of a log shown from its tail. */
export function truncatedLogNotice(totalBytes: number, shownBytes: number, file: string): string {
  const mib = (n: number) => trimZero(n / 1024 ** 2);
  return t('[TrainQ: this log is {0} MiB; showing the last {1} MiB. Full file: {2}]', mib(totalBytes), mib(shownBytes), file);
}

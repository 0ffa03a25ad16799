/**
 * Reads what running jobs report through the metrics protocol (metricsProtocol.ts) and stores it with
 * the job. One mechanism for every host kind: it reads files on this machine, the job's log (a remote
 * job's log is the local mirror its host keeps up to date on each poll) and, where the host has it
 * here, the TRAINQ_METRICS_FILE the job writes JSON lines to. What it consumed is saved as byte offsets
 * with the job, so a reload neither loses reports nor counts them twice, and only whole lines are
 * consumed, so a line being written when the file is read is taken whole on the next read.
 */
import { promises as fs } from 'node:fs';
import { Emitter, type Disposable } from './emitter';
import type { Host } from './host';
import type { Job } from './job';
import { emptyJobMetrics, parseMetricJsonLine, parseMetricLine, recordMetrics, type MetricReport } from './metricsProtocol';
import { PollClock, type Timers } from './pollClock';

/** What a poll reads of one file at most: a job printing megabytes a second is caught up over several polls. */
const CHUNK_BYTES = 256 * 1024;
/** A "line" longer than this is no report (the protocol caps lines far lower): skipped whole. */
const MAX_LINE_BYTES = 64 * 1024;
/** How long reports may sit in memory only; a crash re-reads them (a step-less report then repeats). */
const DURABLE_EVERY_MS = 10_000;
/** After its end a job is read to the end of its files, but no further than this in one go. */
const FINAL_READ_BYTES = 16 * 1024 * 1024;

export interface MetricsFollowerDeps {
  jobs: () => readonly Job[];
  host: (name: string | undefined) => Pick<Host, 'logPath' | 'metricsPath'> | undefined;
  /**
   * After a poll that recorded something: `durable` asks for a store save, otherwise only for the views
   * to redraw from memory. Saves come at most every DURABLE_EVERY_MS, and at once when a job's files
   * were read to the end, because a report not saved yet is read again after a restart (the offsets
   * are saved with the reports): writing the whole store every second to show a number was the waste.
   */
  save: (durable: boolean) => Promise<void>;
  now?: () => number;
  timers?: Timers;
  onError?: (e: unknown) => void;
}

/** A job whose metrics changed, and which metric names it reported this time. */
export interface MetricsUpdate {
  job: Job;
  names: string[];
}

export class MetricsFollower implements Disposable {
  private readonly clock: PollClock;
  private readonly reported = new Emitter<MetricsUpdate[]>();
  /** Fires after a poll recorded reports (after the save), with every job that got some. */
  readonly onDidReport = this.reported.event;
  private readonly now: () => number;
  /** Polls run one after another: two at once would read the same bytes twice. */
  private chain: Promise<unknown> = Promise.resolve();
  private lastDurableMs = -Infinity;

  constructor(private readonly deps: MetricsFollowerDeps) {
    this.now = deps.now ?? Date.now;
    this.clock = new PollClock(() => this.poll().then(() => undefined), deps.timers);
  }

  /** Polls every intervalMs (the product uses 1 s: "within one poll" of the host's own log poll). */
  start(intervalMs = 1000): void {
    this.clock.start(intervalMs, intervalMs * 5);
  }

  setFocused(focused: boolean): void {
    this.clock.setFocused(focused);
  }

  /** Reads every running job's new lines, and the rest of those that ended since the last poll. */
  poll(): Promise<MetricsUpdate[]> {
    const run = this.chain.then(() => this.pollOnce());
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** A followed job ended: its last lines are read now, not at the next tick, so its final value counts at once. */
  pollIfEnded(): void {
    if (this.deps.jobs().some((j) => j.state !== 'running' && j.metricsRead !== undefined && !j.metricsRead.final)) {
      void this.poll().catch((e) => this.deps.onError?.(e));
    }
  }

  private async pollOnce(): Promise<MetricsUpdate[]> {
    const updates: MetricsUpdate[] = [];
    let finalized = 0;
    for (const job of this.deps.jobs()) {
      const running = job.state === 'running';
      // A job that ended after it was followed is read to the end once; older history is left alone.
      const ending = !running && job.metricsRead !== undefined && !job.metricsRead.final;
      if (!running && !ending) {
        continue;
      }
      try {
        const names = await this.readJob(job, ending);
        finalized += ending ? 1 : 0;
        if (names.length > 0) {
          updates.push({ job, names });
        }
      } catch (e) {
        this.deps.onError?.(e);
      }
    }
    if (updates.length > 0 || finalized > 0) {
      const durable = finalized > 0 || this.now() - this.lastDurableMs >= DURABLE_EVERY_MS;
      if (durable) {
        this.lastDurableMs = this.now();
      }
      await this.deps.save(durable);
    }
    if (updates.length > 0) {
      this.reported.fire(updates);
    }
    return updates;
  }

  private async readJob(job: Job, ending: boolean): Promise<string[]> {
    const host = this.deps.host(job.host);
    if (!host) {
      return [];
    }
    const read = (job.metricsRead ??= { log: 0, file: 0 });
    const names = new Set<string>();
    const take = (report: MetricReport | undefined) => {
      if (report && recordMetrics((job.metrics ??= emptyJobMetrics()), report, this.now())) {
        Object.keys(report.values).forEach((n) => names.add(n));
      }
    };
    const limit = ending ? FINAL_READ_BYTES : CHUNK_BYTES;
    read.log = await readLines(host.logPath(job.id), read.log, limit, ending, (line) => take(parseMetricLine(line)));
    const file = host.metricsPath?.(job.id);
    if (file) {
      read.file = await readLines(file, read.file, limit, ending, (line) => take(parseMetricJsonLine(line)));
    }
    if (ending) {
      read.final = true;
    }
    return [...names];
  }

  dispose(): void {
    this.clock.dispose();
    this.reported.dispose();
  }
}

/**
 * Hands each whole line after `offset` to `onLine` (at most `limit` bytes read) and returns the offset
 * after the last whole line. At a job's end (`ending`) a last line without a newline counts too.
 * A missing file is "nothing yet".
 */
export async function readLines(file: string, offset: number, limit: number, ending: boolean, onLine: (line: string) => void): Promise<number> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      return offset;
    }
    throw e;
  }
  try {
    const size = (await handle.stat()).size;
    // A file that shrank was replaced (a retry reusing the folder): read it from the start.
    let pos = size < offset ? 0 : offset;
    let budget = limit;
    while (pos < size && budget > 0) {
      const want = Math.min(size - pos, budget, CHUNK_BYTES);
      const buf = Buffer.alloc(want);
      const { bytesRead } = await handle.read(buf, 0, want, pos);
      if (bytesRead <= 0) {
        break;
      }
      budget -= bytesRead;
      const chunk = buf.subarray(0, bytesRead);
      const lastNl = chunk.lastIndexOf(0x0a);
      const atEnd = pos + bytesRead >= size;
      if (lastNl < 0) {
        if (bytesRead >= MAX_LINE_BYTES || (ending && atEnd)) {
          // No newline in a whole window: no report can be this long; skip it rather than stall here.
          if (ending && atEnd) {
            onLine(chunk.toString('utf8'));
          }
          pos += bytesRead;
          continue;
        }
        break;
      }
      const whole = ending && atEnd ? chunk : chunk.subarray(0, lastNl + 1);
      // Cut at a newline byte, which is never inside a UTF-8 character; `\r` ends a line too, so a
      // report printed after a progress bar's carriage returns is read on its own.
      for (const line of whole.toString('utf8').split(/\r\n|\r|\n/)) {
        if (line.length > 0) {
          onLine(line);
        }
      }
      pos += whole.length;
    }
    return pos;
  } finally {
    await handle.close();
  }
}

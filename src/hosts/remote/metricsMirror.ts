/**
 * The local copy of a remote job's metrics.jsonl (the TRAINQ_METRICS_FILE its script writes JSON lines
 * to), so the MetricsFollower reads it like a local job's file. A plain append-only file: its size is
 * the remote offset, so a reload resumes where the copy stopped, and the follower keeps its own read
 * offsets. Capped: a metrics file this large is abuse, and copying stops at a whole line below the cap.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/** Beyond this the metrics copy stops growing. */
export const METRICS_CAP = 8 * 1024 * 1024;
/** Metrics bytes per job per routine poll; far more than any sane rate of JSON lines. */
export const METRICS_POLL_CHUNK = 256 * 1024;

export class MetricsMirror {
  /** Set once a chunk did not fit under the cap: nothing more is asked for. */
  private full = false;

  private constructor(
    readonly file: string,
    readonly capBytes: number,
    private size: number,
  ) {}

  static async open(file: string, capBytes = METRICS_CAP): Promise<MetricsMirror> {
    const size = (await fs.stat(file).catch(() => undefined))?.size ?? 0;
    return new MetricsMirror(file, capBytes, size);
  }

  /** The offset to ask the poll for, or -1 for nothing (the copy is full). */
  get offset(): number {
    return this.full ? -1 : this.size;
  }

  /** Starts over for a freshly launched job (a leftover copy would be read as its metrics). */
  async reset(): Promise<void> {
    await fs.rm(this.file, { force: true });
    this.size = 0;
    this.full = false;
  }

  /**
   * Appends bytes that start at the current offset of the remote file. What would pass the cap is cut
   * at the last whole line that fits, so the copy never ends in a torn JSON line.
   */
  async append(data: Buffer): Promise<void> {
    if (this.full || data.length === 0) {
      return;
    }
    let part = data;
    if (this.size + data.length > this.capBytes) {
      const fits = data.subarray(0, Math.max(0, this.capBytes - this.size));
      part = fits.subarray(0, fits.lastIndexOf(0x0a) + 1);
      this.full = true;
    }
    if (part.length > 0) {
      await fs.mkdir(path.dirname(this.file), { recursive: true });
      await fs.appendFile(this.file, part);
      this.size += part.length;
    }
  }

  /**
   * At a job's end: copies what the polls had not brought yet, in pieces of `max` bytes, never past
   * the cap. `fetch(offset, max)` reads the remote file (its size, and at most max bytes from offset).
   */
  async drain(knownSize: number, max: number, fetch: (offset: number, max: number) => Promise<{ size: number; data: Buffer } | undefined>): Promise<void> {
    let size = knownSize;
    while (!this.full && this.size < size) {
      const entry = await fetch(this.size, max);
      size = entry?.size ?? 0;
      if (!entry || entry.data.length === 0) break;
      await this.append(entry.data);
    }
  }
}

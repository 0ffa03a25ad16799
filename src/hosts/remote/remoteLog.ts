/**
 * The local copy of a remote job's log: appended from the remote file by byte offset while the job
 * runs, so Open Log follows it like a local log, and kept after the job ends, so the history
 * survives the remote folder being cleaned. It is capped: the first half of the cap streams in,
 * and when the job ends the last half is copied after a note saying what was left out.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { replaceFile } from '../../core/durableFile';

interface MirrorState {
  /** Remote bytes copied into the head part. */
  offset: number;
  capped: boolean;
  finished: boolean;
}

export class LogMirror {
  private constructor(
    readonly file: string,
    readonly capBytes: number,
    private state: MirrorState,
  ) {}

  /** Resumes from the local file: its size is the offset, unless the sidecar says the head was capped. */
  static async open(file: string, capBytes: number): Promise<LogMirror> {
    const sidecar = await fs.readFile(LogMirror.sidecarOf(file), 'utf8').catch(() => undefined);
    if (sidecar !== undefined) {
      try {
        const parsed = JSON.parse(sidecar) as MirrorState;
        if (Number.isInteger(parsed.offset) && parsed.offset >= 0) {
          return new LogMirror(file, capBytes, parsed);
        }
      } catch {
        // A torn sidecar: fall back to the file size below.
      }
    }
    const size = (await fs.stat(file).catch(() => undefined))?.size ?? 0;
    return new LogMirror(file, capBytes, { offset: size, capped: false, finished: false });
  }

  private static sidecarOf(file: string): string {
    return path.join(path.dirname(file), 'log-mirror.json');
  }

  get offset(): number {
    return this.state.offset;
  }
  get capped(): boolean {
    return this.state.capped;
  }
  get finished(): boolean {
    return this.state.finished;
  }
  /** Bytes of the head part; the tail part gets the rest of the cap. */
  get headLimit(): number {
    return Math.floor(this.capBytes / 2);
  }
  get tailLimit(): number {
    return this.capBytes - this.headLimit;
  }

  /** Starts over for a freshly launched job (a leftover copy would be prepended to its log). */
  async reset(): Promise<void> {
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    await fs.writeFile(this.file, '');
    await fs.rm(LogMirror.sidecarOf(this.file), { force: true });
    this.state = { offset: 0, capped: false, finished: false };
  }

  /** Appends bytes that start at `offset` in the remote log; stops at the head limit. */
  async append(data: Buffer, remotePath: string): Promise<void> {
    if (this.state.capped || this.state.finished || data.length === 0) {
      return;
    }
    const room = this.headLimit - this.state.offset;
    const part = data.subarray(0, Math.max(0, room));
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    await fs.appendFile(this.file, part);
    this.state.offset += part.length;
    if (part.length < data.length || this.state.offset >= this.headLimit) {
      this.state.capped = true;
      await fs.appendFile(this.file, `\n[TrainQ: the log passed ${formatBytes(this.headLimit)}; its end is copied here when the job ends. Full log: ${remotePath}]\n`);
      await this.save();
    }
  }

  /** The final copy: for a capped log, a note and the last `tail` bytes (starting at tailStart). */
  async finish(remoteSize: number, tail: Buffer | undefined, tailStart: number, remotePath: string): Promise<void> {
    if (this.state.finished) {
      return;
    }
    if (this.state.capped && tail !== undefined) {
      const skipped = Math.max(0, tailStart - this.state.offset);
      await fs.appendFile(this.file, `\n[TrainQ: ${formatBytes(skipped)} left out of ${formatBytes(remoteSize)}; the full log stays at ${remotePath}]\n`);
      await fs.appendFile(this.file, tail);
    }
    this.state.finished = true;
    if (this.state.capped) {
      await this.save();
    }
  }

  /** The sidecar says where the head stopped; a torn one would make a reopened mirror copy past the cap. */
  private async save(): Promise<void> {
    await replaceFile(LogMirror.sidecarOf(this.file), JSON.stringify(this.state));
  }
}

function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} bytes`;
}

/** Log bytes per job per routine poll; a fast-growing log catches up over several polls. */
export const POLL_CHUNK = 1024 * 1024;
/** Larger pieces once the job ended, to copy the rest quickly. */
export const FINAL_CHUNK = 4 * 1024 * 1024;

/**
 * Copies the rest of an ended job's log into its copy: all of it, or for a capped copy its last part.
 * `fetch(offset, max)` reads the remote log (its size, and at most max bytes from offset).
 */
export async function drainLog(
  mirror: LogMirror,
  knownSize: number,
  fetch: (offset: number, max: number) => Promise<{ size: number; data: Buffer } | undefined>,
  remotePath: string,
): Promise<void> {
  let size = knownSize;
  while (!mirror.capped && mirror.offset < size) {
    const entry = await fetch(mirror.offset, FINAL_CHUNK);
    size = entry?.size ?? 0;
    if (!entry || entry.data.length === 0) break;
    await mirror.append(entry.data, remotePath);
  }
  if (mirror.capped && !mirror.finished) {
    const tailStart = Math.max(mirror.offset, size - mirror.tailLimit);
    const entry = await fetch(tailStart, mirror.tailLimit);
    await mirror.finish(entry?.size ?? size, entry?.data, tailStart, remotePath);
  } else {
    await mirror.finish(size, undefined, 0, remotePath);
  }
}

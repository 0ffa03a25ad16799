/**
 * What the simulator's loaders accept: every number a trace or cluster file can hold has a bound here,
 * chosen so that no time, sum or ratio the simulator and metrics.ts compute over a whole trace can
 * overflow a double, and the files themselves are read with a byte limit, so an endless input
 * (/dev/zero, a fifo fed by `yes`) ends in a clear error rather than a hang or an out-of-memory crash.
 * (A fifo that nobody ever writes still blocks the read, as it would block `cat`: a byte limit cannot end it.)
 *
 * Worst case under these bounds (N jobs, N < 256 MiB ÷ 24 bytes of the shortest row < 1.2e7):
 *   one job's time in the system  ≤ queue wait 1 y + run 10 y ÷ speed 1e-3      < 3.2e11 s
 *   makespan                      ≤ span 130 y + N × 3.2e11 s (some job always runs) < 4e18 s
 *   Σ JCT                         ≤ N × makespan                                  < 5e25 s
 *   slowdown of one job           ≤ makespan ÷ (1 ms ÷ speed 1e3)                 < 4e24, Σ < 5e31
 *   busy GPU-seconds              ≤ N × 65,536 GPUs (the widest host) × 3.2e11 s   < 3e23
 *   times in ms (Job.createdAt)   ≤ 1000 × makespan                               < 4e21
 * all far below Number.MAX_VALUE (1.8e308), and a sum of N terms is off by at most N × 2^-53 < 1.4e-9
 * of itself. Realistic traces stay much lower: submission times below 2^53 µs are exact to the µs.
 *
 * Rejected, not clamped: a value out of bounds in a file is a typo or a broken export (a year 0017 for
 * 2017 would stretch the trace by two millennia and leave every GPU idle in the metrics), and trace rows
 * are skipped with a message naming the line, the field and the bound. Clamped: only the queue wait
 * the simulator itself draws, a log-normal sample whose tail is legitimately unbounded.
 */
import * as fs from 'node:fs';

const DAY_SEC = 86_400;
/** A Julian year, as astronomers count it: 365.25 days. */
const YEAR_SEC = 365.25 * DAY_SEC;

/** A trace row's duration: at least a millisecond (a shorter job would make slowdowns astronomical); at most 10 years (Philly's longest is 54 days). */
export const MIN_DURATION_SEC = 0.001;
export const MAX_DURATION_SEC = 10 * YEAR_SEC;

/** GPUs of one trace job: far beyond any real job; a job wider than every host is counted unplaceable, not simulated. */
export const MAX_JOB_GPUS = 1_048_576;

/**
 * Submission times from the Unix epoch (a trace of relative times can start there) to the end of 2099:
 * 130 years, below 2^53 µs. Years are read as written (0099 is not 1999), then held to this range.
 */
export const EARLIEST_SUBMIT = '1970-01-01 00:00:00';
export const LATEST_SUBMIT = '2099-12-31 23:59:59';
export const EARLIEST_SUBMIT_SEC = 0;
export const LATEST_SUBMIT_SEC = Date.UTC(2099, 11, 31, 23, 59, 59) / 1000;

/** A host's speed factor: from a thousandth of the reference GPU to a thousand times it. */
export const MIN_SPEED = 1e-3;
export const MAX_SPEED = 1e3;

/**
 * GPUs of one host (a Slurm partition is one host, so more than a machine has) and of the whole
 * cluster: the simulator keeps an index per GPU and rebuilds a host's free list after each start there.
 */
export const MAX_HOST_GPUS = 65_536;
export const MAX_CLUSTER_GPUS = 1_048_576;

/**
 * Slurm queue waits: median × e^(σ·Z). A median over 30 days is no queue anyone submits to, and σ = 5
 * already spreads the middle 95% of waits over a factor of 3·10^8. The draw itself is clamped to a year:
 * with Z from a 32-bit uniform |Z| ≤ 38.6, so e^(σ·Z) is finite, but its tail is not a wait to simulate.
 */
export const MAX_QUEUE_MEDIAN_SEC = 30 * DAY_SEC;
export const MAX_QUEUE_SIGMA = 5;
export const MAX_QUEUE_WAIT_SEC = YEAR_SEC;

/** Byte limits: a million-job trace in this form is about 50 MiB (47 bytes a Philly row); a cluster file is hand-written. */
export const MAX_TRACE_BYTES = 256 * 1024 * 1024;
export const MAX_TRACE_LINE_BYTES = 64 * 1024;
export const MAX_CLUSTER_BYTES = 1024 * 1024;

/** A plain decimal number as traces write them ("976570.0", "1e3"): no sign, hex, "Infinity" or "NaN". */
const DECIMAL = /^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** The number `text` writes, or NaN when it is not a plain decimal number (Number() would take "0x1f" and " "). */
export function parseDecimal(text: string): number {
  return DECIMAL.test(text) ? Number(text) : NaN;
}

const size = (bytes: number): string => (bytes >= 1024 * 1024 ? `${bytes / (1024 * 1024)} MiB` : `${bytes / 1024} KiB`);

/**
 * The file's text, read in chunks up to `maxBytes` (its size is not trusted: a character device or a fifo
 * reports 0). With `maxLineBytes`, chunks are that long, so a line longer than the limit must cross a
 * chunk boundary, and checking the bytes around each chunk's first and last newline finds it: /dev/zero
 * ends after two reads. Failures are thrown as `Failure`, naming the file and the limit.
 */
export function readBoundedText(file: string, what: string, limits: { maxBytes: number; maxLineBytes?: number }, Failure: new (message: string) => Error): string {
  const chunkBytes = limits.maxLineBytes ?? 64 * 1024;
  const tooLarge = () => new Failure(`${file}: the ${what} is larger than ${size(limits.maxBytes)}, the most the simulator reads (is it a ${what} file?).`);
  const chunks: Buffer[] = [];
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const stat = fs.fstatSync(fd);
    if (stat.isFile() && stat.size > limits.maxBytes) {
      throw tooLarge();
    }
    let total = 0;
    let lineSoFar = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(chunkBytes);
      const n = fs.readSync(fd, chunk, 0, chunkBytes, null);
      if (n === 0) {
        break;
      }
      total += n;
      if (total > limits.maxBytes) {
        throw tooLarge();
      }
      const bytes = n === chunkBytes ? chunk : chunk.subarray(0, n);
      if (limits.maxLineBytes !== undefined) {
        const first = bytes.indexOf(10);
        if ((first < 0 ? lineSoFar + n : lineSoFar + first) > limits.maxLineBytes) {
          const line = chunks.reduce((count, c) => count + newlines(c), 1);
          throw new Failure(`${file}: line ${line} is longer than ${size(limits.maxLineBytes)}, the most a ${what} line may be (is it a ${what} file?).`);
        }
        lineSoFar = first < 0 ? lineSoFar + n : n - bytes.lastIndexOf(10) - 1;
      }
      chunks.push(bytes);
    }
    return Buffer.concat(chunks, total).toString('utf8');
  } catch (err) {
    if (err instanceof Failure) {
      throw err;
    }
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new Failure(`Cannot read the ${what} ${file}: ${why}.`);
  } finally {
    if (fd !== undefined) {
      fs.closeSync(fd);
    }
  }
}

function newlines(bytes: Buffer): number {
  let count = 0;
  for (let i = bytes.indexOf(10); i >= 0; i = bytes.indexOf(10, i + 1)) {
    count += 1;
  }
  return count;
}

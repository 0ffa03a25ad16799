/**
 * The one frame the SSH and the Slurm polls share for what they read of each job folder: the exit
 * file, and the bytes the local copies of the log and of the metrics file lack, both after a byte
 * offset and bounded by a chunk size, framed by length so arbitrary bytes (even ones that look like
 * frame markers) pass through. Only the handle (a process group or a Slurm id) differs per host kind.
 *
 *   TRAINQ-JOB <id> <alive 0|1|missing> <exit code|-> <log size> <log count> <handle|-> <metrics size> <metrics count>\n
 *   <log count bytes><metrics count bytes>
 *   \nTRAINQ-END <id>\n
 */

/**
 * `trainq_files DIR OFF MAX MOFF MMAX` reads a job folder: sets `code` (the recorded exit code, or -),
 * `size`/`count` for the log (new bytes after OFF to send, at most MAX; none when OFF is negative,
 * i.e. the copy is full) and `msize`/`mcount` for metrics.jsonl the same way.
 * `trainq_poll_jobs JOBS MAX MMAX HANDLE_FN (ID OFF MOFF)…` prints a frame per job (`missing` for a
 * folder that is gone), asking HANDLE_FN DIR to set `alive` and `handle`.
 */
export const JOB_FILES_FN = `trainq_count() {
  # $1 file, $2 offset, $3 max: sets fsize and fcount.
  fsize=0
  if [ -f "$1" ]; then fsize=$(wc -c < "$1"); fsize=$((fsize + 0)); fi
  fcount=0
  if [ "$2" -ge 0 ] && [ "$fsize" -gt "$2" ]; then
    fcount=$((fsize - $2))
    if [ "$fcount" -gt "$3" ]; then fcount=$3; fi
  fi
}
trainq_files() {
  code=-
  if [ -f "$1/exit" ]; then
    read -r c < "$1/exit"
    case $c in ''|-|*[!0-9-]*) ;; *) code=$c ;; esac
  fi
  trainq_count "$1/output.log" "$2" "$3"
  size=$fsize count=$fcount
  trainq_count "$1/metrics.jsonl" "$4" "$5"
  msize=$fsize mcount=$fcount
}
trainq_poll_jobs() {
  pj_jobs=$1 pj_max=$2 pj_mmax=$3 pj_handle=$4
  shift 4
  printf 'TRAINQ-POLL\\n'
  while [ "$#" -ge 3 ]; do
    id=$1 off=$2 moff=$3
    shift 3
    dir=$pj_jobs/$id
    if [ ! -d "$dir" ]; then printf 'TRAINQ-JOB %s missing - 0 0 - 0 0\\n\\nTRAINQ-END %s\\n' "$id" "$id"; continue; fi
    "$pj_handle" "$dir"
    trainq_files "$dir" "$off" "$pj_max" "$moff" "$pj_mmax"
    printf 'TRAINQ-JOB %s %s %s %s %s %s %s %s\\n' "$id" "$alive" "$code" "$size" "$count" "$handle" "$msize" "$mcount"
    if [ "$count" -gt 0 ]; then tail -c +"$((off + 1))" "$dir/output.log" | head -c "$count"; fi
    if [ "$mcount" -gt 0 ]; then tail -c +"$((moff + 1))" "$dir/metrics.jsonl" | head -c "$mcount"; fi
    printf '\\nTRAINQ-END %s\\n' "$id"
  done
}`;

export interface PollEntry {
  jobId: string;
  /** The job folder is gone from the host. */
  missing: boolean;
  alive: boolean;
  exitCode?: number;
  /** Size of the remote log in bytes. */
  size: number;
  pgid?: number;
  /** Log bytes from the requested offset. */
  data: Buffer;
  /** Size of the remote metrics.jsonl in bytes (0 when there is none). */
  metricsSize: number;
  /** metrics.jsonl bytes from the requested offset. */
  metrics: Buffer;
}

/**
 * Parses the frames after TRAINQ-POLL. A frame whose counts do not add up to its trailer is an error:
 * never half a chunk, which would be copied and then skipped.
 */
export function parsePoll(stdout: Buffer): PollEntry[] {
  const start = stdout.indexOf('TRAINQ-POLL\n');
  if (start < 0) {
    throw new Error('the host did not answer the job poll');
  }
  const entries: PollEntry[] = [];
  let pos = start + 'TRAINQ-POLL\n'.length;
  while (pos < stdout.length) {
    const eol = stdout.indexOf(0x0a, pos);
    if (eol < 0) break;
    const header = stdout.subarray(pos, eol).toString('utf8');
    const m = /^TRAINQ-JOB (\S+) (0|1|missing) (-|-?\d+) (\d+) (\d+) (-|\d+) (\d+) (\d+)$/.exec(header);
    if (!m) {
      throw new Error(`unexpected poll output: ${header.slice(0, 200)}`);
    }
    const count = Number(m[5]);
    const mcount = Number(m[8]);
    const data = stdout.subarray(eol + 1, eol + 1 + count);
    const metrics = stdout.subarray(eol + 1 + count, eol + 1 + count + mcount);
    const trailer = `\nTRAINQ-END ${m[1]}\n`;
    const trailerAt = eol + 1 + count + mcount;
    if (data.length !== count || metrics.length !== mcount || stdout.subarray(trailerAt, trailerAt + trailer.length).toString('utf8') !== trailer) {
      throw new Error(`the log of job ${m[1]} arrived incomplete`);
    }
    entries.push({
      jobId: m[1],
      missing: m[2] === 'missing',
      alive: m[2] === '1',
      exitCode: m[3] === '-' ? undefined : Number(m[3]),
      size: Number(m[4]),
      pgid: m[6] === '-' ? undefined : Number(m[6]),
      data: Buffer.from(data),
      metricsSize: Number(m[7]),
      metrics: Buffer.from(metrics),
    });
    pos = trailerAt + trailer.length;
  }
  return entries;
}

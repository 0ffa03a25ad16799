/**
 * The fixed POSIX sh scripts TrainQ runs on remote hosts, and parsers for what they print.
 * Values only ever arrive as positional parameters ($1…), never spliced into the text (only constant
 * scripts are: the local wrapper and the cancel watcher), so no job argument or path is parsed as shell code. Each script is one function called with stdin from
 * /dev/null: `sh -s` reads the script itself from stdin, and a command that read stdin would
 * otherwise swallow the rest of the script. Output starts with a marker line, so whatever a
 * login shell's rc file prints first is skipped.
 */
import type { GpuInfo } from '../../core/host';
import { ALIVE_FN, GPU_APPS_FNS, KILL_SCRIPT, WRAPPER_SCRIPT } from '../jobScripts';
import { parseGpuApps, parseNvidiaSmiCsv, withGpuApps } from '../nvidiaSmi';
import { JOB_FILES_FN } from './pollFrames';
import { shQuote } from './sshTransport';

// Remote scripts and remoteCleanup.ts embed it from here.
export { ALIVE_FN };

/** Wraps a script body in a function fed no stdin, so a stray read cannot swallow the script itself. */
export function main(body: string): string {
  return `trainq_main() {\n${body}\n}\ntrainq_main "$@" </dev/null\n`;
}

/** `trainq_path P` prints P with a leading ~ replaced by $HOME (paths never hold newlines). */
const PATH_FN = `trainq_path() {
  case $1 in
    "~") printf '%s\\n' "$HOME" ;;
    "~/"*) printf '%s/%s\\n' "$HOME" "\${1#"~/"}" ;;
    *) printf '%s\\n' "$1" ;;
  esac
}`;

/**
 * One round trip for the host status: CPUs, load, memory, GPUs, and what runs on the GPUs (the census
 * local probes run too), judged against the job folders under the workdir. Args: workdir.
 */
export const PROBE_SCRIPT = main(`${PATH_FN}
${GPU_APPS_FNS}
printf 'TRAINQ-PROBE\\n'
printf '@home %s\\n' "$HOME"
printf '@cpus %s\\n' "$(getconf _NPROCESSORS_ONLN 2>/dev/null || nproc 2>/dev/null)"
if [ -r /proc/loadavg ]; then read -r l1 rest < /proc/loadavg; printf '@load %s\\n' "$l1"; fi
if [ -r /proc/meminfo ]; then
  total=; avail=
  while read -r key value unit; do
    case $key in MemTotal:) total=$value ;; MemAvailable:) avail=$value ;; esac
  done < /proc/meminfo
  printf '@mem %s %s\\n' "$total" "$avail"
fi
if command -v nvidia-smi >/dev/null 2>&1; then
  limit=
  if command -v timeout >/dev/null 2>&1; then limit='timeout 10'; fi
  gpus=$($limit nvidia-smi --query-gpu=index,uuid,name,utilization.gpu,memory.used,memory.total --format=csv,noheader,nounits 2>&1)
  rc=$?
  printf '@gpus %s\\n%s\\n' "$rc" "$gpus"
  if [ "$rc" -eq 0 ]; then
    # Absolute, as the wrappers' command lines hold it (a relative workdir is relative to $HOME).
    wd=$(trainq_path "$1")
    wd=$(cd "$wd" 2>/dev/null && pwd)
    printf '@apps\\n'
    trainq_gpu_apps "$wd/.trainq/jobs" nvidia-smi
  fi
else
  printf '@gpus missing\\n'
fi
printf '@end\\n'`);

/** Creates the job folder root and reports the absolute workdir and which sync tools the host has. Args: workdir. */
export const ENSURE_SCRIPT = main(`${PATH_FN}
wd=$(trainq_path "$1")
if ! mkdir -p "$wd/.trainq/jobs"; then printf 'TRAINQ-ERROR cannot create %s\\n' "$wd/.trainq/jobs"; exit 3; fi
wd=$(cd "$wd" && pwd) || exit 3
printf 'TRAINQ-ENSURE\\n@workdir %s\\n' "$wd"
if command -v rsync >/dev/null 2>&1; then printf '@rsync 1\\n'; else printf '@rsync 0\\n'; fi
if command -v tar >/dev/null 2>&1; then printf '@tar 1\\n'; else printf '@tar 0\\n'; fi`);

/**
 * Starts a job detached (setsid nohup … &) under the same wrapper as local jobs, so the exit-file
 * protocol, the sweep of leftovers and the job's environment marker are identical. The job's
 * CUDA_VISIBLE_DEVICES and TRAINQ_JOB_ID are set by the wrapper for the job alone (see WRAPPER_SCRIPT).
 * Args: jobsDir jobId cwd cudaVisibleDevices graceDeciseconds envCount NAME=value… argv…
 * A job folder that already has a pgid was launched before (a retried dispatch whose answer was
 * lost): it is reported, not started again, so nothing runs twice.
 */
export const LAUNCH_SCRIPT = main(`jobs=$1 id=$2 cwd=$3 cvd=$4 grace=$5 n=$6
shift 6
dir=$jobs/$id
fail() { printf 'TRAINQ-ERROR %s\\n' "$1"; exit 3; }
if [ -s "$dir/pgid" ]; then read -r pg < "$dir/pgid"; printf 'TRAINQ-PGID %s existing\\n' "$pg"; exit 0; fi
mkdir -p "$dir" || fail "cannot create the job folder $dir"
[ -d "$cwd" ] || fail "the working folder $cwd does not exist on the host"
i=0
while [ "$i" -lt "$n" ]; do export "$1" || fail "invalid environment entry"; shift; i=$((i + 1)); done
unset CUDA_VISIBLE_DEVICES TRAINQ_JOB_ID
export TRAINQ_WRAP_CVD="$cvd" TRAINQ_WRAP_GRACE="$grace" PYTHONUNBUFFERED=1
case $1 in "~/"*) first=$HOME/\${1#"~/"}; shift; set -- "$first" "$@" ;; esac
cd "$cwd" || fail "cannot enter $cwd"
command -v "$1" >/dev/null 2>&1 || fail "interpreter '$1' was not found on the host"
command -v setsid >/dev/null 2>&1 || fail "setsid (util-linux) is missing on the host"
rm -f "$dir/exit" "$dir/exit.tmp" "$dir/ended"
setsid nohup sh -c ${shQuote(WRAPPER_SCRIPT)} trainq-job "$dir" "$@" </dev/null >>"$dir/output.log" 2>&1 &
# The background child is no process-group leader (no job control here), so setsid does not fork:
# $! is the new session's and group's id, the same number the wrapper writes into its pgid file.
pg=$!
printf 'TRAINQ-PGID %s\\n' "$pg"`);

/**
 * One round trip for every followed job of a host: liveness first, then the exit file (the wrapper
 * writes it before it ends, so "not alive and no exit file" really means lost), then each job's new
 * log and metrics bytes in the frame of pollFrames.ts. Args: jobsDir logChunk metricsChunk (jobId logOffset metricsOffset)…
 */
export const POLL_SCRIPT = main(`${ALIVE_FN}
${JOB_FILES_FN}
# A job's handle is its wrapper's process group, alive while the group runs the wrapper.
trainq_pgid_handle() {
  handle= alive=0
  if [ -s "$1/pgid" ]; then read -r handle < "$1/pgid"; fi
  case $handle in ''|*[!0-9]*) handle=- ;; *) if trainq_alive "$handle" "$1"; then alive=1; fi ;; esac
}
jobs=$1 max=$2 mmax=$3
shift 3
trainq_poll_jobs "$jobs" "$max" "$mmax" trainq_pgid_handle "$@"`);

/**
 * SIGTERM to the job's group now, and a detached watcher (KILL_SCRIPT's terminate) that also signals
 * what the job started outside its group and sends SIGKILL once the grace period is over: the kill
 * happens even if the connection drops, and the call returns at once. The watcher runs even when the
 * group is gone, for what the job left behind. Args: jobsDir jobId pgid graceDeciseconds
 */
export const CANCEL_SCRIPT = main(`${ALIVE_FN}
dir=$1/$2 id=$2 pg=$3 grace=$4
if [ -s "$dir/pgid" ]; then read -r pg < "$dir/pgid"; fi
case $pg in ''|*[!0-9]*|0|1) pg=- outcome=no-pgid ;; *) outcome=not-running ;; esac
if [ "$pg" != - ] && trainq_alive "$pg" "$dir"; then kill -TERM -"$pg" 2>/dev/null; outcome="signalled $pg"; fi
setsid nohup sh -c ${shQuote(KILL_SCRIPT)} trainq-kill terminate "$pg" "$dir" "$id" "$grace" </dev/null >/dev/null 2>&1 &
printf 'TRAINQ-CANCEL %s\\n' "$outcome"`);

/** Ends what a job whose wrapper died left running: SIGTERM, the grace, SIGKILL. Args: sweep jobId graceDeciseconds */
export const SWEEP_SCRIPT = main(KILL_SCRIPT);

/** Unpacks a tar stream from stdin into a folder (run with `sh -c`, since stdin carries the data). Args: dest. */
export const TAR_RECEIVE_SCRIPT = `mkdir -p "$1" && cd "$1" && tar -xof - && printf 'TRAINQ-SYNCED\\n'`;

/** Lines after the script's marker; anything a login shell printed before it is dropped. */
function afterMarker(text: string, marker: string): string[] | undefined {
  const at = text.indexOf(`${marker}\n`);
  return at < 0 ? undefined : text.slice(at + marker.length + 1).split('\n');
}

function scriptError(text: string): string | undefined {
  return /^TRAINQ-ERROR (.*)$/m.exec(text)?.[1];
}

export interface ProbeFacts {
  home?: string;
  cpuCount?: number;
  load1?: number;
  memTotalBytes?: number;
  memAvailableBytes?: number;
  gpus: GpuInfo[];
  gpuNote?: string;
}

function num(text: string | undefined): number | undefined {
  return text !== undefined && /^\d+(\.\d+)?$/.test(text) ? Number(text) : undefined;
}

export function parseProbe(stdout: string): ProbeFacts {
  const lines = afterMarker(stdout, 'TRAINQ-PROBE');
  if (!lines) {
    throw new Error('the host did not answer the probe (is its login shell POSIX sh compatible?)');
  }
  const facts: ProbeFacts = { gpus: [] };
  let section = '';
  let gpuStatus = '';
  const gpuLines: string[] = [];
  const appLines: string[] = [];
  let appsSeen = false;
  for (const line of lines) {
    const head = /^@(\w+)(?: (.*))?$/.exec(line);
    if (head) {
      section = head[1];
      const value = head[2] ?? '';
      if (section === 'home') facts.home = value;
      if (section === 'cpus') facts.cpuCount = num(value);
      if (section === 'load') facts.load1 = num(value);
      if (section === 'mem') {
        const [total, avail] = value.split(' ').map(num);
        facts.memTotalBytes = total !== undefined ? total * 1024 : undefined;
        facts.memAvailableBytes = avail !== undefined ? avail * 1024 : undefined;
      }
      if (section === 'gpus') gpuStatus = value;
      if (section === 'apps') appsSeen = true;
      continue;
    }
    if (section === 'gpus') {
      gpuLines.push(line);
    } else if (section === 'apps') {
      appLines.push(line);
    }
  }
  if (gpuStatus === 'missing') {
    facts.gpuNote = 'nvidia-smi not found';
  } else if (gpuStatus === '0') {
    facts.gpus = parseNvidiaSmiCsv(gpuLines.join('\n'));
    if (appsSeen) {
      facts.gpus = withGpuApps(facts.gpus, parseGpuApps(appLines));
    }
    if (facts.gpus.length === 0) facts.gpuNote = 'nvidia-smi reported no GPUs';
  } else {
    const first = gpuLines.map((l) => l.trim()).find((l) => l !== '') ?? 'no output';
    facts.gpuNote = gpuStatus === '124' ? 'nvidia-smi timed out after 10 s' : `nvidia-smi exited with code ${gpuStatus}: ${first}`;
  }
  return facts;
}

export interface EnsureFacts {
  workdir: string;
  rsync: boolean;
  tar: boolean;
}

export function parseEnsure(stdout: string): EnsureFacts {
  const lines = afterMarker(stdout, 'TRAINQ-ENSURE');
  const workdir = lines?.find((l) => l.startsWith('@workdir '))?.slice('@workdir '.length);
  if (!lines || !workdir || !workdir.startsWith('/')) {
    throw new Error(scriptError(stdout) ?? 'the host did not report its work folder');
  }
  return { workdir, rsync: lines.includes('@rsync 1'), tar: lines.includes('@tar 1') };
}

export function parseLaunch(stdout: string): { pgid: number; existing: boolean } {
  const m = /^TRAINQ-PGID (\d+)( existing)?$/m.exec(stdout);
  if (!m) {
    throw new Error(scriptError(stdout) ?? 'the host did not report the job\'s process group');
  }
  return { pgid: Number(m[1]), existing: m[2] !== undefined };
}

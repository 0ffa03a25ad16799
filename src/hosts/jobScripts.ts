/**
 * The shell code every host kind runs for a job's processes: the exit-code wrapper, the sweep that ends
 * whatever a job leaves behind, and the census of GPU processes. One copy, run locally with `sh -c` and
 * on remote hosts inside their scripts, so local and SSH jobs are owned, killed and counted alike.
 *
 * A job's processes are found by their environment: the wrapper exports TRAINQ_JOB_ID=<id> to the job
 * only, and every process it starts inherits it, also one that called setsid or was left running in
 * the background. The wrapper itself does not carry it (local and SSH start it without), so the sweep
 * never counts its own helpers. What escapes this (a child started with a cleared environment, another
 * user's process) is not found; a cgroup v2 per job would close that gap, but the machines TrainQ is
 * tested on have cgroup v1 only, so it is not attempted here. Linux only: elsewhere /proc is missing
 * and the sweep finds nothing, which is the old behaviour (the process group alone).
 */

/**
 * `trainq_alive PGID JOBDIR` succeeds while the job's process group runs. The group leader is the
 * wrapper, whose command line holds the job folder: a leader with another command line means the pid
 * was reused. Members left after the leader died count as the job's. `trainq_group_alive` also takes
 * `-` (or garbage) for "no group recorded".
 */
export const ALIVE_FN = `trainq_alive() {
  if { read -r trainq_st < "/proc/$1/stat"; } 2>/dev/null; then
    set -- "$1" "$2" \${trainq_st##*") "}
    if [ "$3" != Z ]; then
      [ "$5" = "$1" ] && tr '\\0' '\\n' < "/proc/$1/cmdline" 2>/dev/null | grep -qxF -- "$2"
      return
    fi
  fi
  kill -0 -"$1" 2>/dev/null || return 1
  for trainq_f in /proc/[0-9]*/stat; do
    { read -r trainq_st < "$trainq_f"; } 2>/dev/null || continue
    set -- "$1" "$2" \${trainq_st##*") "}
    [ "$5" = "$1" ] && [ "$3" != Z ] && return 0
  done
  return 1
}
trainq_group_alive() {
  case $1 in ''|-|0|1|*[!0-9]*) return 1 ;; esac
  trainq_alive "$1" "$2"
}`;

/**
 * `trainq_marked ID KEEP…` prints the pids of processes whose environment holds TRAINQ_JOB_ID=ID, except
 * KEEP. Zombies have an empty environment, so only live processes are listed. One grep -z reads every
 * environment at once; a grep without -z falls back to one tr per process.
 * A wrapper started with the marker in its own environment (Slurm's batch script exports it) passes it
 * to every subshell it forks, this listing's own included; `trainq_helper` leaves out this shell's
 * children and grandchildren (or processes already gone). No job process is one at sweep time: the
 * job's main process was reaped, and what it started was re-parented when it ended.
 */
const MARKED_FN = `trainq_helper() {
  { read -r trainq_s < "/proc/$1/stat"; } 2>/dev/null || return 0
  set -- \${trainq_s##*") "}
  [ "$2" = "$$" ] && return 0
  { read -r trainq_s < "/proc/$2/stat"; } 2>/dev/null || return 1
  set -- \${trainq_s##*") "}
  [ "$2" = "$$" ]
}
trainq_marked() {
  trainq_want="TRAINQ_JOB_ID=$1"
  shift
  if [ -z "\${trainq_grepz-}" ]; then
    if printf 'a\\0' | grep -qzx a 2>/dev/null; then trainq_grepz=1; else trainq_grepz=0; fi
  fi
  if [ "$trainq_grepz" = 1 ]; then
    grep -lzxF -- "$trainq_want" /proc/[0-9]*/environ 2>/dev/null
  else
    for trainq_f in /proc/[0-9]*/environ; do
      tr '\\0' '\\n' 2>/dev/null < "$trainq_f" | grep -qxF -- "$trainq_want" && printf '%s\\n' "$trainq_f"
    done
  fi | while IFS=/ read -r _ _ trainq_p _; do
    case " $* " in *" $trainq_p "*) continue ;; esac
    trainq_helper "$trainq_p" || printf '%s\\n' "$trainq_p"
  done
}`;

/**
 * `trainq_sweep ID GRACE KEEP…` ends the job's processes: SIGTERM, up to GRACE deciseconds for them to
 * go, then SIGKILL (repeated, for children forked meanwhile). Fails if some survive SIGKILL (a process
 * stuck in the kernel); the GPU census then keeps reporting them.
 */
const SWEEP_FN = `trainq_sweep() {
  trainq_id=$1 trainq_left=$2
  shift 2
  trainq_pids=$(trainq_marked "$trainq_id" "$@")
  [ -n "$trainq_pids" ] || return 0
  kill -TERM $trainq_pids 2>/dev/null
  while [ "$trainq_left" -gt 0 ]; do
    sleep 0.1 2>/dev/null || sleep 1
    trainq_pids=$(trainq_marked "$trainq_id" "$@")
    [ -n "$trainq_pids" ] || return 0
    trainq_left=$((trainq_left - 1))
  done
  trainq_tries=30
  while [ -n "$trainq_pids" ] && [ "$trainq_tries" -gt 0 ]; do
    kill -KILL $trainq_pids 2>/dev/null
    sleep 0.1 2>/dev/null || sleep 1
    trainq_pids=$(trainq_marked "$trainq_id" "$@")
    trainq_tries=$((trainq_tries - 1))
  done
  [ -z "$trainq_pids" ]
}`;

/**
 * `trainq_terminate PGID JOBDIR ID GRACE` cancels a job: SIGTERM to its process group and to every
 * process it started, SIGKILL to both once GRACE deciseconds passed with any of them alive. PGID may be
 * `-` when none was recorded; the job's marked processes are still found.
 */
const TERMINATE_FN = `trainq_terminate() {
  trainq_pg=$1 trainq_dir=$2 trainq_tid=$3 trainq_wait=$4
  if trainq_group_alive "$trainq_pg" "$trainq_dir"; then kill -TERM -"$trainq_pg" 2>/dev/null; fi
  trainq_pids=$(trainq_marked "$trainq_tid")
  if [ -n "$trainq_pids" ]; then kill -TERM $trainq_pids 2>/dev/null; fi
  while [ "$trainq_wait" -gt 0 ]; do
    if ! trainq_group_alive "$trainq_pg" "$trainq_dir" && [ -z "$(trainq_marked "$trainq_tid")" ]; then return 0; fi
    sleep 0.1 2>/dev/null || sleep 1
    trainq_wait=$((trainq_wait - 1))
  done
  if trainq_group_alive "$trainq_pg" "$trainq_dir"; then kill -KILL -"$trainq_pg" 2>/dev/null; fi
  trainq_sweep "$trainq_tid" 0
}`;

/** Every function a kill needs, for scripts that embed them (the remote cancel watcher). */
export const KILL_FNS = [ALIVE_FN, MARKED_FN, SWEEP_FN, TERMINATE_FN].join('\n');

/**
 * Kills from outside the wrapper, for `sh -c` locally and inside `main()` remotely:
 * `terminate PGID JOBDIR ID GRACE` (cancel) or `sweep ID GRACE` (a job whose wrapper died).
 */
export const KILL_SCRIPT = `${KILL_FNS}
case $1 in
  terminate) shift; trainq_terminate "$@" ;;
  sweep) shift; trainq_sweep "$@" ;;
esac`;

/**
 * `trainq_gpu_apps JOBSDIR NVIDIA_SMI…` prints one line per GPU compute process, `UUID PID STATE JOB`:
 * STATE `run` (a job of JOBSDIR that still runs), `ended` (a job of JOBSDIR whose script ended: a
 * leftover), `other` (marked by a job JOBSDIR does not hold: another window's TrainQ, or a folder that
 * was removed) or `none` (no marker, or an environment we may not read: another user's). JOB is `-`
 * unless the marker is a valid job id.
 */
const GPU_APPS_FN = `trainq_gpu_apps() {
  trainq_jobs=$1
  shift
  if command -v timeout >/dev/null 2>&1; then set -- timeout 10 "$@"; fi
  "$@" --query-compute-apps=gpu_uuid,pid --format=csv,noheader 2>/dev/null | while IFS=', ' read -r uuid pid rest; do
    case $pid in ''|*[!0-9]*) continue ;; esac
    id=$(tr '\\0' '\\n' 2>/dev/null < "/proc/$pid/environ" | sed -n 's/^TRAINQ_JOB_ID=//p' | head -n 1)
    st=none
    case $id in
      '') id=- ;;
      *[!A-Za-z0-9_-]*) st=other id=- ;;
      *)
        d=$trainq_jobs/$id
        pg=
        if [ ! -d "$d" ]; then st=other
        elif [ -f "$d/ended" ] || [ -f "$d/exit" ]; then st=ended
        elif { read -r pg < "$d/pgid"; } 2>/dev/null && trainq_group_alive "$pg" "$d"; then st=run
        else st=ended
        fi ;;
    esac
    printf '%s %s %s %s\\n' "$uuid" "$pid" "$st" "$id"
  done
}`;

/** For `sh -c` and remote probes: the census functions. */
export const GPU_APPS_FNS = [ALIVE_FN, GPU_APPS_FN].join('\n');

/** Local census: `sh -c GPU_APPS_SCRIPT name JOBSDIR NVIDIA_SMI`. */
export const GPU_APPS_SCRIPT = `${GPU_APPS_FNS}\ntrainq_gpu_apps "$@"`;

/**
 * `trainq_capper DIR CAP` copies stdin (the job's output) into DIR/output.log keeping about CAP bytes, as
 * remote log copies do (LogMirror): the first half streams in, then a note, and when the job ends its
 * last half. `stdbuf -o0` makes head write each piece at once, so Open Log follows the job live; GNU
 * head reads no byte past its count, so tail continues exactly where head stopped. tail holds the last
 * half in memory, at most CAP/2 bytes.
 */
const CAPPER_FN = `trainq_size() {
  if [ "$1" -ge 1048576 ]; then printf '%s.%s MiB' $(($1 / 1048576)) $(($1 * 10 / 1048576 % 10))
  elif [ "$1" -ge 1024 ]; then printf '%s.%s KiB' $(($1 / 1024)) $(($1 * 10 / 1024 % 10))
  else printf '%s bytes' "$1"; fi
}
trainq_capper() {
  trainq_log=$1/output.log trainq_head=$(($2 / 2)) trainq_tail=$(($2 - $2 / 2))
  trainq_before=$(wc -c < "$trainq_log" 2>/dev/null) || trainq_before=0
  stdbuf -o0 head -c "$trainq_head" >> "$trainq_log"
  trainq_after=$(wc -c < "$trainq_log" 2>/dev/null) || trainq_after=0
  [ $((trainq_after - trainq_before)) -ge "$trainq_head" ] || return 0
  printf '\\n[TrainQ: the log passed %s; its end is copied here when the job ends.]\\n' "$(trainq_size "$trainq_head")" >> "$trainq_log"
  tail -c "$trainq_tail" > "$1/output.tail"
  if [ -s "$1/output.tail" ]; then
    trainq_kept=$(wc -c < "$1/output.tail")
    printf '\\n[TrainQ: what came between was left out; the last %s follow.]\\n' "$(trainq_size "$trainq_kept")" >> "$trainq_log"
    cat "$1/output.tail" >> "$trainq_log"
  fi
  rm -f "$1/output.tail"
}`;

/**
 * Runs `sh -c WRAPPER_SCRIPT trainq-job <jobDir> <argv...>`. Values only ever arrive as positional
 * parameters or environment variables, so no job argument is parsed as shell code. Local and SSH hosts
 * pass TRAINQ_WRAP_CVD (the job's CUDA_VISIBLE_DEVICES), TRAINQ_WRAP_GRACE (deciseconds between SIGTERM
 * and SIGKILL for leftovers) and TRAINQ_WRAP_LOG_CAP (bytes; 0 or unset: no cap); Slurm's batch script
 * passes none of them and sets the job's variables itself. The job id is the folder's name.
 * The TERM/INT/HUP trap has a handler rather than `trap ''`: ignored signals are inherited by
 * exec'd children (the job could not be stopped), handled ones are reset to default. The
 * handler lets the wrapper outlive a group-wide SIGTERM long enough to sweep and record the code.
 * When the script ends the wrapper writes `ended` (the GPU census counts what still runs as a
 * leftover), sweeps the job's other processes, and only then writes `exit`, so the job is not over
 * while something it started still holds its GPU. exit.tmp + mv makes the exit file appear atomically.
 * Without stdbuf (not GNU coreutils) or mkfifo the log is written directly, uncapped.
 */
export const WRAPPER_SCRIPT = `${KILL_FNS}
${CAPPER_FN}
dir=$1
shift
trap 'trainq_signalled=1' TERM INT HUP
echo $$ > "$dir/pgid.tmp" && mv -f "$dir/pgid.tmp" "$dir/pgid"
trainq_job_id=\${TRAINQ_JOB_ID:-\${dir##*/}}
trainq_grace=\${TRAINQ_WRAP_GRACE:-100}
trainq_cap=\${TRAINQ_WRAP_LOG_CAP:-0}
trainq_cvd_set=\${TRAINQ_WRAP_CVD+1}
trainq_cvd=\${TRAINQ_WRAP_CVD-}
unset TRAINQ_JOB_ID TRAINQ_WRAP_GRACE TRAINQ_WRAP_LOG_CAP TRAINQ_WRAP_CVD
trainq_run() {
  (
    export TRAINQ_JOB_ID="$trainq_job_id" TRAINQ_METRICS_FILE="$dir/metrics.jsonl"
    if [ -n "$trainq_cvd_set" ]; then export CUDA_VISIBLE_DEVICES="$trainq_cvd"; fi
    exec "$@"
  )
}
capper=
if command -v "$1" >/dev/null 2>&1; then
  rm -f "$dir/output.pipe" "$dir/output.done"
  if [ "$trainq_cap" -gt 0 ] 2>/dev/null && command -v stdbuf >/dev/null 2>&1 && mkfifo "$dir/output.pipe" 2>/dev/null; then
    ( trap '' TERM INT HUP; trainq_capper "$dir" "$trainq_cap"; : > "$dir/output.done" ) < "$dir/output.pipe" &
    capper=$!
    trainq_run "$@" > "$dir/output.pipe" 2>&1
  else
    trainq_run "$@"
  fi
  code=$?
else
  printf 'trainq: interpreter %s was not found\\n' "$1" >&2
  code=127
fi
# From here on a group-wide SIGTERM (a cancel's watcher sends one) must not kill the sweep's own grep or
# sleep: an interrupted scan would read as "nothing left". SIGKILL still ends the wrapper.
trap '' TERM INT HUP
echo "$code" > "$dir/ended" 2>/dev/null
trainq_sweep "$trainq_job_id" "$trainq_grace" $$ $capper
if [ -n "$capper" ]; then
  # The copy ends when the last writer closes; one that survived the sweep must not hold the code back.
  trainq_left=50
  while [ ! -f "$dir/output.done" ] && [ "$trainq_left" -gt 0 ]; do sleep 0.1 2>/dev/null || sleep 1; trainq_left=$((trainq_left - 1)); done
  rm -f "$dir/output.pipe" "$dir/output.done"
fi
echo "$code" > "$dir/exit.tmp" && mv -f "$dir/exit.tmp" "$dir/exit"
exit "$code"
`;

/** The wrapper's settings for a local or SSH job, as environment entries (see WRAPPER_SCRIPT). */
export function wrapperSettings(opts: { cudaVisibleDevices: string; graceSec: number; logCapBytes?: number }): Record<string, string> {
  return {
    TRAINQ_WRAP_CVD: opts.cudaVisibleDevices,
    TRAINQ_WRAP_GRACE: String(graceDeciseconds(opts.graceSec)),
    TRAINQ_WRAP_LOG_CAP: String(Math.max(0, Math.floor(opts.logCapBytes ?? 0))),
  };
}

export function graceDeciseconds(sec: number): number {
  return Math.max(0, Math.round(sec * 10));
}

/**
 * Argument lists for Slurm's client commands and parsers for what they print. Only argv arrays are
 * built here; they reach Slurm as the quoted words of fixed scripts (slurmScripts.ts), locally and over
 * SSH alike, so no value is ever read as shell code. Output formats are pinned with
 * `--Format`/`--format` and a `|` separator (Slurm never puts one in ids, states, reasons or node lists).
 */

import type { GpuInfo } from '../../core/host';
import { checkExtraSbatchArgs } from './sbatchOptions';

/** What TrainQ needs of one Slurm job; squeue and sacct rows both become this. */
export interface SlurmJobRow {
  slurmId: string;
  name: string;
  /** Base state word, e.g. PENDING, RUNNING, COMPLETED, CANCELLED (sacct's "CANCELLED by 0" trimmed). */
  state: string;
  /** squeue's pending/finish reason ("Resources", "Priority", "NodeDown"); undefined when "None". */
  reason?: string;
  /** The script's exit code when Slurm knows one (squeue's wait status or sacct's code:signal). */
  exitCode?: number;
  /** Signal that ended the job, when Slurm recorded one. */
  signal?: number;
  nodes?: string;
}

export const SQUEUE_FORMAT = 'JobID:|,Name:|,State:|,Reason:|,exit_code:|,NodeList:';
export const SACCT_FORMAT = 'JobID,JobName,State,ExitCode,NodeList';
const SINFO_FORMAT = 'NodeList:|,StateLong:|,Gres:|,GresUsed:|,Partition:';

/** Slurm's job name for a TrainQ job: how a submission is found again when its id was never stored. */
export function slurmJobName(jobId: string): string {
  return `trainq-${jobId}`;
}

export function sinfoArgs(partition?: string): string[] {
  return ['sinfo', '--noheader', '--Node', `--Format=${SINFO_FORMAT}`, ...(partition ? [`--partition=${partition}`] : [])];
}

export interface SbatchOptions {
  jobId: string;
  /** The job's log; stdout and stderr both go there, like local jobs. */
  logFile: string;
  gpus: number;
  timeLimit: string;
  partition?: string;
  account?: string;
  qos?: string;
  extra: readonly string[];
}

/**
 * `sbatch` options (SUBMIT_SCRIPT runs `sbatch <these> <batch script>`). GPUs are requested with `--gres=gpu:N`, not
 * `--gpus=N`: --gres works under both select/cons_res and select/cons_tres, and with `--nodes=1` it
 * means the same as TrainQ's "N GPUs on one host". Slurm expands `%` in file names, hence `%%`.
 * The extra options were checked when the setting was read; they are checked again here, since a
 * config built some other way (a test, a future caller) must not reach sbatch unchecked either.
 */
export function sbatchOptions(o: SbatchOptions): string[] {
  const extra = checkExtraSbatchArgs(o.extra);
  const log = o.logFile.replace(/%/g, '%%');
  return [
    '--parsable',
    `--job-name=${slurmJobName(o.jobId)}`,
    `--output=${log}`,
    `--error=${log}`,
    '--nodes=1',
    `--time=${o.timeLimit}`,
    ...(o.gpus > 0 ? [`--gres=gpu:${o.gpus}`] : []),
    ...(o.partition ? [`--partition=${o.partition}`] : []),
    ...(o.account ? [`--account=${o.account}`] : []),
    ...(o.qos ? [`--qos=${o.qos}`] : []),
    ...extra,
  ];
}

/**
 * The host's `timeLimit` when set (the user knows the partition's limits); otherwise, when the
 * run-time model predicts the job on this host, its 80th percentile plus a half; else the runtime
 * estimate plus a quarter. Ten minutes on top either way (queueing the job, loading data), in whole
 * minutes: a job killed just before its end wastes the whole run. The p80 needs the wider margin: it
 * is exceeded by one run in five, the estimate is the user's own upper guess.
 */
export function timeLimitFor(runtimeSec: number, configured?: string, predictedP80Sec?: number): string {
  if (configured) {
    return configured;
  }
  if (predictedP80Sec !== undefined && Number.isFinite(predictedP80Sec) && predictedP80Sec > 0) {
    return String(Math.ceil((predictedP80Sec * 1.5 + 600) / 60));
  }
  const sec = Number.isFinite(runtimeSec) && runtimeSec > 0 ? runtimeSec : 3600;
  return String(Math.ceil((sec * 1.25 + 600) / 60));
}

/** `--parsable` prints `jobid` or `jobid;cluster`. */
export function parseSbatch(stdout: string): string | undefined {
  return /^(\d+)(?:;\S+)?\s*$/m.exec(stdout)?.[1];
}

function optional(value: string | undefined): string | undefined {
  const v = value?.trim();
  return v === undefined || v === '' || v === 'None' || v === '(null)' ? undefined : v;
}

/** A wait status as squeue prints it: exit code in the high byte, signal in the low bits. */
function fromWaitStatus(text: string): { exitCode?: number; signal?: number } {
  if (!/^\d+$/.test(text)) return {};
  const status = Number(text);
  const signal = status & 0x7f;
  return signal ? { signal } : { exitCode: (status >> 8) & 0xff };
}

export function parseSqueue(stdout: string): SlurmJobRow[] {
  const rows: SlurmJobRow[] = [];
  for (const line of stdout.split('\n')) {
    const f = line.split('|').map((s) => s.trim());
    if (f.length < 6 || !/^\d+/.test(f[0])) continue;
    rows.push({
      slurmId: f[0],
      name: f[1],
      state: f[2].split(' ')[0],
      reason: optional(f[3]),
      ...fromWaitStatus(f[4]),
      nodes: optional(f[5]),
    });
  }
  return rows;
}

export function parseSacct(stdout: string): SlurmJobRow[] {
  const rows: SlurmJobRow[] = [];
  for (const line of stdout.split('\n')) {
    const f = line.split('|');
    // --allocations leaves out steps; a stray "123.batch" line is skipped all the same.
    if (f.length < 5 || !/^\d+$/.test(f[0])) continue;
    const [code, signal] = f[3].split(':').map(Number);
    rows.push({
      slurmId: f[0],
      name: f[1],
      state: f[2].split(' ')[0],
      exitCode: Number.isInteger(code) && !signal ? code : undefined,
      signal: signal || undefined,
      nodes: optional(f[4]),
    });
  }
  return rows;
}

/** GPUs in a gres string such as `gpu:4`, `gpu:a100:2(S:0-1)`, `gpu:(null):2(IDX:0-1)`, `gpu:a:2,gpu:b:1`. */
export function gpuCount(gres: string): number {
  let total = 0;
  for (const part of gres.split(/,(?![^(]*\))/)) {
    const m = /^gpu(?::[^:]+?)?:(\d+)(?:\(|$)/.exec(part.trim());
    if (m) total += Number(m[1]);
  }
  return total;
}

export interface PartitionCapacity {
  partition: string;
  nodes: number;
  gpusTotal: number;
  gpusAllocated: number;
  gpusIdle: number;
}

/** States in which a node takes new jobs; `*` (not responding), drain, down, fail and maint do not. */
const USABLE = /^(idle|mixed|allocated|completing|planned)$/;

/**
 * Sums `sinfo --Node` rows for one partition (or, with none configured, the default one, marked `*`).
 * Idle GPUs are counted only on usable nodes: a drained node's free GPUs will not run anything.
 */
export function parseSinfo(stdout: string, partition?: string): PartitionCapacity {
  const rows = stdout
    .split('\n')
    .map((l) => l.split('|').map((s) => s.trim()))
    .filter((f) => f.length >= 5 && f[0] !== '');
  const isDefault = (p: string) => p.endsWith('*');
  const wanted = partition ?? rows.find((f) => isDefault(f[4]))?.[4].replace(/\*$/, '') ?? rows[0]?.[4].replace(/\*$/, '') ?? '';
  const seen = new Set<string>();
  const cap: PartitionCapacity = { partition: wanted, nodes: 0, gpusTotal: 0, gpusAllocated: 0, gpusIdle: 0 };
  for (const [node, state, gres, used, part] of rows) {
    if (part.replace(/\*$/, '') !== wanted || seen.has(node)) continue;
    seen.add(node);
    const total = gpuCount(gres);
    const allocated = Math.min(total, gpuCount(used));
    cap.nodes += 1;
    cap.gpusTotal += total;
    cap.gpusAllocated += allocated;
    if (USABLE.test(state.replace(/[+~#!%$@^-]+$/, ''))) cap.gpusIdle += total - allocated;
  }
  return cap;
}

/**
 * The GPU list a Slurm host shows the scheduler, which counts a host's GPUs minus those its running
 * jobs hold. Slurm's idle GPUs already exclude what TrainQ's jobs were allocated, so the held indices
 * are listed beside `gpusIdle` others: free capacity is then exactly Slurm's idle GPUs.
 */
export function schedulerGpus(cap: PartitionCapacity, held: ReadonlySet<number>): GpuInfo[] {
  const gpu = (index: number, name: string): GpuInfo => ({ index, uuid: `slurm-${cap.partition}-${index}`, name });
  const gpus = [...held].sort((a, b) => a - b).map((i) => gpu(i, 'Slurm GPU (TrainQ job)'));
  for (let index = 0, idle = 0; idle < cap.gpusIdle; index++) {
    if (!held.has(index)) {
      gpus.push(gpu(index, 'Slurm GPU (idle)'));
      idle++;
    }
  }
  return gpus;
}

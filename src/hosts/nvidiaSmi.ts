/**
 * GPU inventory of a machine through one nvidia-smi query.
 * We call nvidia-smi ourselves, asynchronously and with a hard timeout, because
 * systeminformation's graphics() runs several tools synchronously and would block the
 * extension host; a wedged driver can make nvidia-smi hang for minutes.
 */
import { execFile } from 'node:child_process';
import type { GpuInfo } from '../core/host';
import { GPU_APPS_SCRIPT } from './jobScripts';

export const NVIDIA_SMI_ARGS: readonly string[] = [
  '--query-gpu=index,uuid,name,utilization.gpu,memory.used,memory.total',
  '--format=csv,noheader,nounits',
];

export interface GpuQueryOptions {
  /** Command to run; a path or a name looked up on PATH. */
  command?: string;
  timeoutMs?: number;
}

export interface GpuQueryResult {
  gpus: GpuInfo[];
  /** Why `gpus` is empty or incomplete, in words for the user. */
  note?: string;
}

const DEFAULT_TIMEOUT_MS = 5000;
const FIELD_COUNT = 6;

/** Parses a number field; nvidia-smi writes `[N/A]`, `[Not Supported]` or `N/A` when it has no value. */
function parseMetric(field: string): number | undefined {
  if (!/^-?\d+(\.\d+)?$/.test(field)) {
    return undefined;
  }
  const value = Number(field);
  return Number.isFinite(value) ? value : undefined;
}

/** One CSV line to a GPU, or undefined for anything that is not a well-formed GPU row. */
function parseLine(line: string): GpuInfo | undefined {
  const fields = line.split(',').map((f) => f.trim());
  if (fields.length < FIELD_COUNT) {
    return undefined;
  }
  // Product names have never contained commas, but if one did it would shift every later field.
  const [indexField, uuid] = fields;
  const name = fields.slice(2, fields.length - 3).join(', ');
  const [util, used, total] = fields.slice(fields.length - 3);
  if (!/^\d+$/.test(indexField) || uuid === '' || name === '') {
    return undefined;
  }
  return {
    index: Number(indexField),
    uuid,
    name,
    utilizationPct: parseMetric(util),
    memoryUsedMiB: parseMetric(used),
    memoryTotalMiB: parseMetric(total),
  };
}

/** Parses `--format=csv,noheader,nounits` output; blank and malformed lines are skipped. */
export function parseNvidiaSmiCsv(text: string): GpuInfo[] {
  const gpus: GpuInfo[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') {
      continue;
    }
    const gpu = parseLine(line);
    if (gpu) {
      gpus.push(gpu);
    }
  }
  return gpus;
}

function firstLine(text: string): string | undefined {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find((l) => l !== '');
}

/** Runs nvidia-smi once. Never throws: failures come back as an empty list with a note. */
export function queryGpus(opts: GpuQueryOptions = {}): Promise<GpuQueryResult> {
  const command = opts.command ?? 'nvidia-smi';
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve) => {
    try {
      execFile(
        command,
        [...NVIDIA_SMI_ARGS],
        { timeout: timeoutMs, killSignal: 'SIGKILL', windowsHide: true, maxBuffer: 1024 * 1024 },
        (error, stdout, stderr) => {
          if (!error) {
            const gpus = parseNvidiaSmiCsv(stdout);
            resolve(gpus.length > 0 ? { gpus } : { gpus, note: 'nvidia-smi reported no GPUs' });
            return;
          }
          resolve({ gpus: [], note: describeFailure(error, stdout, stderr, timeoutMs) });
        },
      );
    } catch (err) {
      // execFile throws synchronously for invalid arguments (e.g. an empty command).
      resolve({ gpus: [], note: `nvidia-smi could not be started: ${(err as Error).message}` });
    }
  });
}

function describeFailure(
  error: Error & { code?: string | number | null; killed?: boolean; signal?: NodeJS.Signals | null },
  stdout: string,
  stderr: string,
  timeoutMs: number,
): string {
  if (error.code === 'ENOENT') {
    return 'nvidia-smi not found';
  }
  if (error.killed || error.signal === 'SIGKILL') {
    return `nvidia-smi timed out after ${timeoutMs} ms`;
  }
  if (typeof error.code === 'number') {
    // nvidia-smi prints driver failures ("couldn't communicate with the NVIDIA driver") on stdout.
    const detail = firstLine(stderr) ?? firstLine(stdout) ?? 'no output';
    return `nvidia-smi exited with code ${error.code}: ${detail}`;
  }
  return `nvidia-smi failed: ${error.message}`;
}

/** What the GPU census (GPU_APPS_FN) says of one compute process. */
export interface GpuApp {
  uuid: string;
  pid: number;
  /** run: a running job of this host; ended: a leftover of an ended job; other: another TrainQ's job; none: no marker. */
  state: 'run' | 'ended' | 'other' | 'none';
  jobId?: string;
}

const APP_LINE = /^(\S+) (\d+) (run|ended|other|none) (\S+)$/;

/** Parses the census lines `UUID PID STATE JOB`; anything else (a login shell's noise) is skipped. */
export function parseGpuApps(lines: readonly string[]): GpuApp[] {
  const apps: GpuApp[] = [];
  for (const line of lines) {
    const m = APP_LINE.exec(line.trim());
    if (m) {
      const state = m[3] as GpuApp['state'];
      apps.push(m[4] === '-' ? { uuid: m[1], pid: Number(m[2]), state } : { uuid: m[1], pid: Number(m[2]), state, jobId: m[4] });
    }
  }
  return apps;
}

/**
 * The GPUs with what runs on them: processes of running jobs are the jobs' own; a leftover of an ended
 * job is listed by the job's id; everything else is foreign. Either of the last two keeps the GPU from
 * being offered (hostRoster.ts).
 */
export function withGpuApps(gpus: readonly GpuInfo[], apps: readonly GpuApp[]): GpuInfo[] {
  return gpus.map((gpu) => {
    const here = apps.filter((a) => a.uuid === gpu.uuid);
    const leftovers = [...new Set(here.filter((a) => a.state === 'ended' && a.jobId !== undefined).map((a) => a.jobId!))].sort();
    const foreign = here.filter((a) => a.state === 'none' || a.state === 'other').length;
    return leftovers.length > 0 ? { ...gpu, foreignProcesses: foreign, leftoverJobs: leftovers } : { ...gpu, foreignProcesses: foreign };
  });
}

/**
 * Runs the census on this machine (the same shell code remote probes run): which job, if any, each GPU
 * process belongs to, judged against the job folders under jobsDir. Undefined when it cannot tell.
 */
export function queryGpuApps(opts: { command: string; jobsDir: string; timeoutMs?: number }): Promise<GpuApp[] | undefined> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  return new Promise((resolve) => {
    execFile(
      '/bin/sh',
      ['-c', GPU_APPS_SCRIPT, 'trainq-gpu-apps', opts.jobsDir, opts.command],
      { timeout: timeoutMs, killSignal: 'SIGKILL', windowsHide: true, maxBuffer: 1024 * 1024 },
      (error, stdout) => resolve(error ? undefined : parseGpuApps(String(stdout).split('\n'))),
    );
  });
}

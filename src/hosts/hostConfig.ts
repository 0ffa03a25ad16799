/**
 * Remote host entries of the `trainq.hosts` setting (SSH hosts and Slurm clusters), validated from
 * untyped JSON. Everything here ends up in ssh's or sbatch's argument list or in remote shell
 * scripts, so the checks are strict: a target can never be read as an ssh option, names are safe in
 * file names, env keys are identifiers, Slurm values cannot be read as other options, extra sbatch
 * options are parsed as sbatch parses them, an interpreter is never a shell word, and a workdir is
 * never the root folder.
 */
import { interpreterProblem } from './interpreterName';
import { envEntryProblem } from './jobEnv';
import { checkExtraSbatchArgs, SbatchArgsError } from './slurm/sbatchOptions';
import { checkedLabels } from '../core/hostConstraints';

export type SyncMode = 'rsync' | 'tar' | 'none';
export const SYNC_MODES: readonly SyncMode[] = ['rsync', 'tar', 'none'];

/** Where ssh connects: a `Host` alias of ~/.ssh/config or a host name, with optional user and port. */
export interface SshDestination {
  host: string;
  user?: string;
  port?: number;
}

export interface SshHostConfig {
  name: string;
  type: 'ssh';
  /** As the user wrote it, for display. */
  target: string;
  destination: SshDestination;
  /** Remote folder for synced projects and job files; absolute or starting with `~/`. */
  workdir: string;
  /** Remote interpreter for `.py` jobs: a program on the remote PATH (never a shell builtin) or an absolute or `~/` path. */
  python: string;
  sync: SyncMode;
  maxJobs: number;
  speed: number;
  /** Extra environment of every job on this host, passed literally (no `$VAR` expansion). */
  env: Record<string, string>;
  labels: string[];
}

/** A Slurm cluster: submitted to with sbatch on this machine (target "local") or on a login node over ssh. */
export interface SlurmHostConfig {
  name: string;
  type: 'slurm';
  /** "local", or an ssh target as the user wrote it. */
  target: string;
  /** Where ssh connects; undefined for target "local". */
  destination?: SshDestination;
  partition?: string;
  account?: string;
  qos?: string;
  /** sbatch --time for every job; undefined: each job's runtime estimate with a margin. */
  timeLimit?: string;
  /**
   * Folder on the cluster for synced projects and job files (default ~/trainq over ssh). For target
   * "local" the project runs in place and undefined keeps job files in the extension's job folder.
   */
  workdir?: string;
  python: string;
  /** Always "none" for target "local". */
  sync: SyncMode;
  /** More sbatch options, allowed by sbatchOptions.ts and rewritten as `--full-name[=value]` ("--mem=32G"). */
  extraSbatchArgs: string[];
  maxJobs: number;
  speed: number;
  env: Record<string, string>;
  labels: string[];
}

export type HostConfig = SshHostConfig | SlurmHostConfig;

export class HostConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HostConfigError';
  }
}

export const DEFAULT_WORKDIR = '~/trainq';
export const DEFAULT_MAX_JOBS = 4;
const MAX_MAX_JOBS = 256;
/** `local` names the machine VS Code runs on. */
const RESERVED_NAMES = new Set(['local']);
const KNOWN_KEYS = new Set(['name', 'type', 'target', 'workdir', 'python', 'sync', 'maxJobs', 'speed', 'env', 'labels']);
const SLURM_KEYS = new Set([...KNOWN_KEYS, 'partition', 'account', 'qos', 'timeLimit', 'extraSbatchArgs']);
export const DEFAULT_SLURM_MAX_JOBS = 16;

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
// No leading '-': ssh would read the target as an option.
const USER = /^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,63}$/;
const HOST = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,252}$/;
const IPV6 = /^[0-9A-Fa-f:.]+(%[A-Za-z0-9_.-]+)?$/;
const CONTROL = /[\u0000-\u001f\u007f]/;
/** Partition, account and QOS names (partition may be a comma list); never starting with '-'. */
const SLURM_WORD = /^[A-Za-z0-9_][A-Za-z0-9_.+,-]{0,127}$/;
/** Slurm's time formats: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S, or UNLIMITED. */
const TIME_LIMIT = /^(\d+|\d+:\d+|\d+:\d+:\d+|\d+-\d+(:\d+){0,2}|UNLIMITED|INFINITE)$/i;

/** Parses `alias`, `host`, `user@host`, `host:port`, `user@host:port`, `[v6]:port`. */
export function parseTarget(target: string): SshDestination {
  const fail = (why: string): never => {
    throw new HostConfigError(`target '${target}' ${why}; expected an ssh config alias or [user@]host[:port].`);
  };
  if (target.trim() !== target || target === '') {
    fail('is empty or has surrounding spaces');
  }
  let rest = target;
  let user: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    user = rest.slice(0, at);
    rest = rest.slice(at + 1);
    if (!USER.test(user)) {
      fail(`has an invalid user name '${user}'`);
    }
  }
  let host = rest;
  let portText: string | undefined;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) {
      fail('has an unclosed [');
    }
    host = rest.slice(1, close);
    const after = rest.slice(close + 1);
    if (after !== '') {
      if (!after.startsWith(':')) {
        fail(`has unexpected text '${after}' after ]`);
      }
      portText = after.slice(1);
    }
    if (!IPV6.test(host) || !host.includes(':')) {
      fail(`has an invalid IPv6 address '${host}'`);
    }
  } else {
    const colons = rest.split(':').length - 1;
    if (colons > 1) {
      fail('looks like a bare IPv6 address: write it in brackets, e.g. [::1]:22');
    }
    if (colons === 1) {
      [host, portText] = rest.split(':');
    }
    if (!HOST.test(host)) {
      fail(`has an invalid host name '${host}'`);
    }
  }
  let port: number | undefined;
  if (portText !== undefined) {
    port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
    if (!(port >= 1 && port <= 65535)) {
      fail(`has an invalid port '${portText}' (1–65535)`);
    }
  }
  return { host, user, port };
}

function optionalString(entry: Record<string, unknown>, key: string, where: string, fallback: string): string {
  const value = entry[key];
  if (value === undefined) {
    return fallback;
  }
  if (typeof value !== 'string' || value.trim() === '') {
    throw new HostConfigError(`${where}: '${key}' must be a non-empty string.`);
  }
  if (CONTROL.test(value)) {
    throw new HostConfigError(`${where}: '${key}' must not contain control characters or line breaks.`);
  }
  return value;
}

function parseWorkdir(entry: Record<string, unknown>, where: string): string {
  const workdir = optionalString(entry, 'workdir', where, DEFAULT_WORKDIR);
  if (!(workdir.startsWith('/') || workdir === '~' || workdir.startsWith('~/'))) {
    // Relative paths would depend on the remote login folder; ~user/ would need a passwd lookup.
    throw new HostConfigError(`${where}: 'workdir' must be absolute or start with ~/ (got '${workdir}').`);
  }
  // '..' is refused rather than resolved: the shell's `cd` resolves it by name, `mkdir -p` through
  // symlinks, so one spelling could name two folders.
  if (workdir.split('/').includes('..')) {
    throw new HostConfigError(`${where}: 'workdir' must not contain '..'.`);
  }
  // Repeated slashes, '.' parts and a trailing slash go: "//" would otherwise become "" and every
  // job folder /.trainq/jobs.
  const [head, ...parts] = workdir.split('/');
  const normal = [head, ...parts.filter((p) => p !== '' && p !== '.')].join('/');
  if (normal === '') {
    const why = 'TrainQ keeps projects and job folders under it';
    throw new HostConfigError(`${where}: 'workdir' must not be the root folder '/' (got '${workdir}'): ${why}.`);
  }
  // The home folder itself is fine: jobs go to ~/.trainq/jobs and projects to ~/<folder>.
  return normal;
}

function parseNumber(entry: Record<string, unknown>, key: string, where: string, fallback: number, integer: boolean, max: number): number {
  const value = entry[key];
  if (value === undefined) {
    return fallback;
  }
  const ok = typeof value === 'number' && Number.isFinite(value) && value > 0 && value <= max && (!integer || Number.isInteger(value));
  if (!ok) {
    const kind = integer ? `a whole number from 1 to ${max}` : `a positive number up to ${max}`;
    throw new HostConfigError(`${where}: '${key}' must be ${kind} (got ${JSON.stringify(value)}).`);
  }
  return value as number;
}

function parseEnv(entry: Record<string, unknown>, where: string): Record<string, string> {
  const value = entry.env;
  if (value === undefined) {
    return {};
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HostConfigError(`${where}: 'env' must be an object of NAME: "value" pairs.`);
  }
  const env: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) {
    const problem = envEntryProblem(key, v);
    if (problem) {
      throw new HostConfigError(`${where}: ${problem}`);
    }
    env[key] = v as string;
  }
  return env;
}

/** The object and its name; `where` becomes `host '<name>'` for the remaining messages. */
function entryOf(value: unknown, where: string, example: string, known: Set<string>): { entry: Record<string, unknown>; name: string; where: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HostConfigError(`${where}: expected an object like ${example}.`);
  }
  const entry = value as Record<string, unknown>;
  const name = entry.name;
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new HostConfigError(`${where}: 'name' must be 1–63 letters, digits, '.', '_' or '-', starting with a letter or digit (got ${JSON.stringify(name)}).`);
  }
  where = `host '${name}'`;
  if (RESERVED_NAMES.has(name.toLowerCase())) {
    throw new HostConfigError(`${where}: the name '${name}' is reserved for this machine.`);
  }
  const unknown = Object.keys(entry).filter((k) => !known.has(k));
  if (unknown.length > 0) {
    throw new HostConfigError(`${where}: unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')} (known: ${[...known].join(', ')}).`);
  }
  return { entry, name, where };
}

function parseDestination(entry: Record<string, unknown>, where: string): SshDestination {
  if (typeof entry.target !== 'string') {
    throw new HostConfigError(`${where}: 'target' must be a string such as "gpu-box-1" or "me@10.0.0.5:2222".`);
  }
  try {
    return parseTarget(entry.target);
  } catch (e) {
    throw new HostConfigError(`${where}: ${(e as Error).message}`);
  }
}

function parseSync(entry: Record<string, unknown>, where: string, fallback: SyncMode): SyncMode {
  const sync = entry.sync ?? fallback;
  if (typeof sync !== 'string' || !SYNC_MODES.includes(sync as SyncMode)) {
    throw new HostConfigError(`${where}: 'sync' must be one of ${SYNC_MODES.map((m) => `"${m}"`).join(', ')} (got ${JSON.stringify(sync)}).`);
  }
  return sync as SyncMode;
}

/** One entry of the hosts setting; throws HostConfigError naming the entry and the field. */
export function parseSshHostConfig(value: unknown, where = 'host'): SshHostConfig {
  const example = '{"name": "gpu-box-1", "type": "ssh", "target": "user@host"}';
  const { entry, name, where: at } = entryOf(value, where, example, KNOWN_KEYS);
  where = at;
  if (entry.type !== 'ssh') {
    throw new HostConfigError(`${where}: 'type' must be "ssh" or "slurm" (got ${JSON.stringify(entry.type)}).`);
  }
  const destination = parseDestination(entry, where);
  const sync = parseSync(entry, where, 'rsync');
  return {
    name,
    type: 'ssh',
    target: entry.target as string,
    destination,
    workdir: parseWorkdir(entry, where),
    python: parsePython(entry, where),
    sync,
    maxJobs: parseNumber(entry, 'maxJobs', where, DEFAULT_MAX_JOBS, true, MAX_MAX_JOBS),
    speed: parseNumber(entry, 'speed', where, 1, false, 1000),
    env: parseEnv(entry, where),
    labels: checkedLabels(entry.labels, `${where}: 'labels'`, (message) => new HostConfigError(message)),
  };
}

function slurmWord(entry: Record<string, unknown>, key: string, where: string, pattern: RegExp, what: string): string | undefined {
  const value = entry[key];
  if (value === undefined) {
    return undefined;
  }
  if (typeof value !== 'string' || !pattern.test(value)) {
    throw new HostConfigError(`${where}: '${key}' must be ${what} (got ${JSON.stringify(value)}).`);
  }
  return value;
}

function parseExtraSbatchArgs(entry: Record<string, unknown>, where: string): string[] {
  const value = entry.extraSbatchArgs ?? [];
  if (!Array.isArray(value)) {
    throw new HostConfigError(`${where}: 'extraSbatchArgs' must be a list of sbatch options such as ["--mem=32G", "--constraint=a100"].`);
  }
  // Read as sbatch reads them (abbreviations, bundles, values in the next word) and kept in the
  // canonical --name=value form, so what is checked here is exactly what sbatch gets.
  try {
    return checkExtraSbatchArgs(value);
  } catch (e) {
    if (e instanceof SbatchArgsError) {
      throw new HostConfigError(`${where}: extraSbatchArgs[${e.index}]: ${e.message}.`);
    }
    throw e;
  }
}

/** The remote interpreter; see interpreterName.ts for why shell builtins and odd paths are refused. */
function parsePython(entry: Record<string, unknown>, where: string): string {
  const python = optionalString(entry, 'python', where, 'python3');
  const problem = interpreterProblem(python);
  if (problem) {
    throw new HostConfigError(`${where}: 'python' ${problem} (got ${JSON.stringify(python)}).`);
  }
  return python;
}

/** A `"type": "slurm"` entry; throws HostConfigError naming the entry and the field. */
export function parseSlurmHostConfig(value: unknown, where = 'host'): SlurmHostConfig {
  const example = '{"name": "cluster-a", "type": "slurm", "target": "login-node", "partition": "gpu"}';
  const { entry, name, where: at } = entryOf(value, where, example, SLURM_KEYS);
  where = at;
  if (entry.type !== 'slurm') {
    throw new HostConfigError(`${where}: 'type' must be "slurm" (got ${JSON.stringify(entry.type)}).`);
  }
  const local = entry.target === 'local';
  if (local && entry.sync !== undefined && entry.sync !== 'none') {
    throw new HostConfigError(`${where}: with target "local" the project runs in place; leave 'sync' out or set it to "none".`);
  }
  return {
    name,
    type: 'slurm',
    target: entry.target as string,
    destination: local ? undefined : parseDestination(entry, where),
    partition: slurmWord(entry, 'partition', where, SLURM_WORD, 'a Slurm partition name (letters, digits, _ . + , -)'),
    account: slurmWord(entry, 'account', where, SLURM_WORD, 'a Slurm account name'),
    qos: slurmWord(entry, 'qos', where, SLURM_WORD, 'a Slurm QOS name'),
    timeLimit: slurmWord(entry, 'timeLimit', where, TIME_LIMIT, 'a Slurm time such as "90", "4:00:00" or "2-00:00:00"'),
    workdir: local && entry.workdir === undefined ? undefined : parseWorkdir(entry, where),
    python: parsePython(entry, where),
    sync: local ? 'none' : parseSync(entry, where, 'rsync'),
    extraSbatchArgs: parseExtraSbatchArgs(entry, where),
    maxJobs: parseNumber(entry, 'maxJobs', where, DEFAULT_SLURM_MAX_JOBS, true, MAX_MAX_JOBS),
    speed: parseNumber(entry, 'speed', where, 1, false, 1000),
    env: parseEnv(entry, where),
    labels: checkedLabels(entry.labels, `${where}: 'labels'`, (message) => new HostConfigError(message)),
  };
}

/** One entry of either kind, by its `type`. */
export function parseHostConfig(value: unknown, where = 'host'): HostConfig {
  const type = (value as { type?: unknown } | null)?.type;
  return type === 'slurm' ? parseSlurmHostConfig(value, where) : parseSshHostConfig(value, where);
}

/**
 * The whole setting: valid entries are kept and each invalid one yields a message, so one typo does
 * not take every remote host away. Names must be unique case-insensitively (they name views and files).
 */
export function parseHostConfigs(value: unknown): { hosts: HostConfig[]; errors: string[] } {
  if (value === undefined || value === null) {
    return { hosts: [], errors: [] };
  }
  if (!Array.isArray(value)) {
    return { hosts: [], errors: ['The hosts setting must be a list of host objects.'] };
  }
  const hosts: HostConfig[] = [];
  const errors: string[] = [];
  const seen = new Map<string, string>();
  value.forEach((item, i) => {
    try {
      const host = parseHostConfig(item, `host #${i + 1}`);
      const first = seen.get(host.name.toLowerCase());
      if (first !== undefined) {
        throw new HostConfigError(`host #${i + 1}: the name '${host.name}' is already used by '${first}'; host names must be unique.`);
      }
      seen.set(host.name.toLowerCase(), host.name);
      hosts.push(host);
    } catch (e) {
      errors.push((e as Error).message);
    }
  });
  return { hosts, errors };
}

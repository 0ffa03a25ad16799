/**
 * Remote host entries of the `trainq.hosts` setting, validated from untyped JSON. Everything here
 * ends up in ssh's argument list or in remote shell scripts, so the checks are strict: a target
 * can never be read as an ssh option, names are safe in file names, env keys are identifiers.
 */

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
  /** Remote interpreter for `.py` jobs: a name on the remote PATH or a path (`~/` allowed). */
  python: string;
  sync: SyncMode;
  maxJobs: number;
  speed: number;
  /** Extra environment of every job on this host, passed literally (no `$VAR` expansion). */
  env: Record<string, string>;
}

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
/** Set by TrainQ for each job; a host-wide value would hand every job the same GPUs. */
const RESERVED_ENV = new Set(['CUDA_VISIBLE_DEVICES', 'TRAINQ_JOB_ID']);
const KNOWN_KEYS = new Set(['name', 'type', 'target', 'workdir', 'python', 'sync', 'maxJobs', 'speed', 'env']);

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
// No leading '-': ssh would read the target as an option.
const USER = /^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,63}$/;
const HOST = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,252}$/;
const IPV6 = /^[0-9A-Fa-f:.]+(%[A-Za-z0-9_.-]+)?$/;
const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const CONTROL = /[\u0000-\u001f\u007f]/;

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
  if (workdir.split('/').includes('..')) {
    throw new HostConfigError(`${where}: 'workdir' must not contain '..'.`);
  }
  return workdir.length > 1 ? workdir.replace(/\/+$/, '') : workdir;
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
    if (!ENV_KEY.test(key)) {
      throw new HostConfigError(`${where}: env name '${key}' is not a valid variable name (letters, digits, _; not starting with a digit).`);
    }
    if (RESERVED_ENV.has(key)) {
      throw new HostConfigError(`${where}: env '${key}' is set by TrainQ for each job and cannot be configured.`);
    }
    if (typeof v !== 'string' || v.includes('\0')) {
      throw new HostConfigError(`${where}: env '${key}' must be a string without NUL characters.`);
    }
    env[key] = v;
  }
  return env;
}

/** One entry of the hosts setting; throws HostConfigError naming the entry and the field. */
export function parseSshHostConfig(value: unknown, where = 'host'): SshHostConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HostConfigError(`${where}: expected an object like {"name": "gpu-box-1", "type": "ssh", "target": "user@host"}.`);
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
  const unknown = Object.keys(entry).filter((k) => !KNOWN_KEYS.has(k));
  if (unknown.length > 0) {
    throw new HostConfigError(`${where}: unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')} (known: ${[...KNOWN_KEYS].join(', ')}).`);
  }
  if (entry.type !== 'ssh') {
    throw new HostConfigError(`${where}: 'type' must be "ssh" (got ${JSON.stringify(entry.type)}).`);
  }
  if (typeof entry.target !== 'string') {
    throw new HostConfigError(`${where}: 'target' must be a string such as "gpu-box-1" or "me@10.0.0.5:2222".`);
  }
  let destination: SshDestination;
  try {
    destination = parseTarget(entry.target);
  } catch (e) {
    throw new HostConfigError(`${where}: ${(e as Error).message}`);
  }
  const sync = entry.sync ?? 'rsync';
  if (typeof sync !== 'string' || !SYNC_MODES.includes(sync as SyncMode)) {
    throw new HostConfigError(`${where}: 'sync' must be one of ${SYNC_MODES.map((m) => `"${m}"`).join(', ')} (got ${JSON.stringify(sync)}).`);
  }
  return {
    name,
    type: 'ssh',
    target: entry.target,
    destination,
    workdir: parseWorkdir(entry, where),
    python: optionalString(entry, 'python', where, 'python3'),
    sync: sync as SyncMode,
    maxJobs: parseNumber(entry, 'maxJobs', where, DEFAULT_MAX_JOBS, true, MAX_MAX_JOBS),
    speed: parseNumber(entry, 'speed', where, 1, false, 1000),
    env: parseEnv(entry, where),
  };
}

/**
 * The whole setting: valid entries are kept and each invalid one yields a message, so one typo does
 * not take every remote host away. Names must be unique case-insensitively (they name views and files).
 */
export function parseHostConfigs(value: unknown): { hosts: SshHostConfig[]; errors: string[] } {
  if (value === undefined || value === null) {
    return { hosts: [], errors: [] };
  }
  if (!Array.isArray(value)) {
    return { hosts: [], errors: ['The hosts setting must be a list of host objects.'] };
  }
  const hosts: SshHostConfig[] = [];
  const errors: string[] = [];
  const seen = new Map<string, string>();
  value.forEach((item, i) => {
    try {
      const host = parseSshHostConfig(item, `host #${i + 1}`);
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

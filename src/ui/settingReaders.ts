/**
 * One typed reader per TrainQ setting. What a setting's default and bounds are is written once, in
 * package.json's `contributes.configuration`, which the Settings editor shows; this table says only
 * what kind of value each key holds, and takes the rest from the manifest, bundled in at build time
 * (esbuild's JSON loader), so the packaged extension carries the very table it was built from.
 * No vscode here: test/unit/settingReaders.test.ts checks the table against the manifest in plain Node.
 */
import { contributes } from '../../package.json';
import { isBackendPreference, type BackendPreference } from '../agent/backendPreference';
import { LABEL } from '../core/hostConstraints';
import { JOB_END_SETTINGS, type JobEndSetting } from '../core/jobEndNotices';

export const SECTION = 'trainq';

/** The parts of a setting's manifest entry that readers use. */
export interface SettingSchema {
  type?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  enum?: readonly unknown[];
}

/** Turns what the user wrote into a usable value, or undefined so that the manifest default applies. */
type Reader<T> = (value: unknown, schema: SettingSchema) => T | undefined;

/** Blank entries would match nothing or everything; they are dropped, not fatal. */
const stringList: Reader<string[]> = (v) => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string' && s.trim() !== '') : undefined);
const text: Reader<string> = (v) => (typeof v === 'string' ? v.trim() : undefined);
/** A command to run: blank means "the default command", never "run nothing". */
const command: Reader<string> = (v) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);
/** Settings edited by hand can hold anything; out-of-range numbers are clamped to the manifest's bounds rather than break scheduling. */
const number: Reader<number> = (v, s) =>
  typeof v === 'number' && Number.isFinite(v) ? Math.min(s.maximum ?? Infinity, Math.max(s.minimum ?? -Infinity, v)) : undefined;
const count: Reader<number> = (v, s) => {
  const n = number(v, s);
  return n === undefined ? undefined : Math.round(n);
};
const flag: Reader<boolean> = (v) => (typeof v === 'boolean' ? v : undefined);
const backend: Reader<BackendPreference> = (v) => (isBackendPreference(v) ? v : undefined);
const jobEnd: Reader<JobEndSetting> = (v) => JOB_END_SETTINGS.find((e) => e === v);
/** Host labels: an entry that is not a label is dropped (the Settings editor marks it with the pattern's message). */
const labels: Reader<string[]> = (v) => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string' && LABEL.test(s)) : undefined);
/** hosts/hostConfig.ts validates each entry and names the bad ones; a blanket fallback here would hide them. */
const passThrough: Reader<unknown> = (v) => v;

/** Every key the manifest contributes, without the `trainq.` prefix. */
const READERS = {
  scriptGlobs: stringList,
  scriptExcludes: stringList,
  python: text,
  nvidiaSmiPath: command,
  agingMinutes: count,
  cancelGraceSeconds: count,
  'confirm.cancel': flag,
  'confirm.clearFinished': flag,
  finishedHistory: count,
  'statusBar.pollSeconds': count,
  'local.maxJobs': count,
  'local.labels': labels,
  retries: count,
  hosts: passThrough,
  'ssh.syncExcludes': stringList,
  'ssh.maxLogMiB': count,
  'ssh.lostAfterMinutes': count,
  'outputs.globs': stringList,
  'outputs.folder': text,
  'outputs.maxMiB': count,
  'agent.backend': backend,
  'agent.learning': flag,
  'agent.statsHistory': count,
  'notifications.jobEnd': jobEnd,
  'notifications.onlyWhenUnfocused': flag,
  'gpuIdle.warnMinutes': count,
} satisfies Record<string, Reader<unknown>>;

export type SettingKey = keyof typeof READERS;
export type Settings = { [K in SettingKey]: Exclude<ReturnType<(typeof READERS)[K]>, undefined> };

export const SETTING_KEYS = Object.keys(READERS) as SettingKey[];

const MANIFEST: Readonly<Record<string, SettingSchema>> = contributes.configuration.properties;

/** The manifest's entry for a key (without the prefix); a key the manifest lacks is a bug, said loudly. */
export function settingSchema(key: string): SettingSchema {
  const schema = MANIFEST[`${SECTION}.${key}`];
  if (schema === undefined) {
    throw new Error(`TrainQ reads the setting ${SECTION}.${key}, which package.json does not contribute.`);
  }
  return schema;
}

/** One setting: what `get` returns for it if usable, else the manifest's default. */
export function readSetting<K extends SettingKey>(key: K, get: (key: string) => unknown): Settings[K] {
  const schema = settingSchema(key);
  const reader = READERS[key] as Reader<Settings[K]>;
  return (reader(get(key), schema) ?? reader(schema.default, schema)) as Settings[K];
}

/** Every setting, read through `get` (a key without the prefix → the raw configured value). */
export function readSettings(get: (key: string) => unknown): Settings {
  return Object.fromEntries(SETTING_KEYS.map((key) => [key, readSetting(key, get)])) as Settings;
}

/**
 * Which TensorFlow.js backend the agent runs on (setting `trainq.agent.backend`).
 *
 * The native packages (@tensorflow/tfjs-node-gpu, @tensorflow/tfjs-node) download libtensorflow when
 * they are installed, which fails offline and on many machines, so they are never dependencies: they
 * are required at run time, through a require the bundler cannot see, and used when present. Otherwise
 * the bundled @tensorflow/tfjs runs on its WASM backend (the .wasm files ship next to the bundle), and
 * when even that cannot start, on plain JavaScript ("cpu"). Weights are stored as plain float arrays
 * (qNetwork.ts), so a set saved on one backend loads on any other.
 */
import { createRequire } from 'node:module';
import * as path from 'node:path';
import * as tfjs from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { silentLogger, type Logger } from '../core/logger';
import type { BackendName, BackendPreference } from './backendPreference';


/** The TensorFlow.js API the agent computes with: the bundled one, or a native package's own copy. */
export type Tf = typeof tfjs;

export interface ResolvedBackend {
  tf: Tf;
  name: BackendName;
  /** Where it came from, for the log and the dashboard: a package name, or the .wasm folder. */
  detail: string;
}

export interface BackendOptions {
  logger?: Logger;
  /** Folder holding tfjs-backend-wasm's .wasm files. Default: the installed package's dist/ (sim, tests). */
  wasmDir?: string;
  /** Loads a package by name, throwing when it is absent. Tests inject one; the default is Node's require. */
  loadModule?: (name: string) => unknown;
  /** Further folders to resolve native packages from (the extension adds its own folder). */
  searchPaths?: readonly string[];
}

/** GPU build first: when both are installed, the user installed the GPU one on purpose. */
export const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

/**
 * Starts the preferred backend, falling back along native → wasm → cpu, and logs the outcome. An
 * explicit preference that cannot start is a warning, never an error: the agent must still decide.
 */
export async function resolveBackend(preference: BackendPreference, options: BackendOptions = {}): Promise<ResolvedBackend> {
  const logger = options.logger ?? silentLogger;
  // tfjs prints advice to install tfjs-node on the console; the agent logs its own line instead.
  tfjs.env().set('PROD', true);
  let resolved: ResolvedBackend | undefined;
  if (preference === 'auto' || preference === 'tensorflow') {
    resolved = await tryNative(options, logger);
    if (!resolved && preference === 'tensorflow') {
      logger.warn(`Agent backend 'tensorflow' requested, but neither ${NATIVE_PACKAGES.join(' nor ')} could be loaded; falling back.`);
    }
  }
  if (!resolved && preference !== 'cpu') {
    resolved = await tryWasm(options, logger);
  }
  if (!resolved) {
    await tfjs.setBackend('cpu');
    resolved = { tf: tfjs, name: 'cpu', detail: 'plain JavaScript' };
  }
  logger.info(`Agent backend: ${resolved.name} (${resolved.detail}); setting was '${preference}'.`);
  return resolved;
}

/** A require that bundlers leave alone: the package name is only known at run time. */
function defaultLoader(searchPaths: readonly string[]): (name: string) => unknown {
  const requirers = [createRequire(__filename), ...searchPaths.map((dir) => createRequire(path.join(dir, 'noop.js')))];
  return (name) => {
    let lastError: unknown;
    for (const req of requirers) {
      try {
        return req(name);
      } catch (err) {
        lastError = err;
      }
    }
    throw lastError;
  };
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND';
}

async function tryNative(options: BackendOptions, logger: Logger): Promise<ResolvedBackend | undefined> {
  const load = options.loadModule ?? defaultLoader(options.searchPaths ?? []);
  for (const pkg of NATIVE_PACKAGES) {
    let mod: unknown;
    try {
      mod = load(pkg);
    } catch (err) {
      if (!isMissing(err)) {
        // Installed but broken (a libtensorflow that did not download, an ABI mismatch): say so once.
        logger.warn(`${pkg} is installed but failed to load: ${(err as Error).message}`);
      }
      continue;
    }
    // A native package registers 'tensorflow' with its own copy of tfjs, so that copy is the API to use.
    const tf = mod as Partial<Tf>;
    if (typeof tf.setBackend !== 'function' || typeof tf.tensor2d !== 'function') {
      logger.warn(`${pkg} loaded but does not export the TensorFlow.js API; ignoring it.`);
      continue;
    }
    try {
      if (await tf.setBackend('tensorflow')) {
        return { tf: tf as Tf, name: 'tensorflow', detail: pkg };
      }
    } catch (err) {
      logger.warn(`${pkg} loaded but its backend did not start: ${(err as Error).message}`);
    }
  }
  return undefined;
}

/** The installed package's files: right for the simulator and tests; a bundle passes its own folder. */
export function defaultWasmDir(): string {
  return path.join(path.dirname(createRequire(__filename).resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
}

async function tryWasm(options: BackendOptions, logger: Logger): Promise<ResolvedBackend | undefined> {
  try {
    const dir = options.wasmDir ?? defaultWasmDir();
    // One thread: decisions are tiny, worker threads would cost more than they save and make runs
    // depend on scheduling; it also keeps the agent to the one core it is budgeted.
    tfjs.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    setWasmPaths(dir.endsWith(path.sep) || dir.endsWith('/') ? dir : `${dir}/`);
    if (await tfjs.setBackend('wasm')) {
      await tfjs.ready();
      return { tf: tfjs, name: 'wasm', detail: dir };
    }
    logger.warn(`The WASM backend did not start (files looked for in ${dir}); using plain JavaScript.`);
  } catch (err) {
    logger.warn(`The WASM backend did not start: ${(err as Error).message}; using plain JavaScript.`);
  }
  return undefined;
}

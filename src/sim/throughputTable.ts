/**
 * Measured training throughputs (Gavel's table, bench/throughputs/gavel-throughputs.csv): iterations
 * per second of each model on 1, 2, 4 or 8 GPUs of each type. A typed host (clusterLoader's `gpuType`)
 * runs a job at the speed this table gives for the job's model, not at the speed its user declared:
 * that gap is the hidden truth the typed benchmark measures a scheduler against.
 *
 * Only `one-host` rows are read: a simulated job holds its GPUs on one host. Speedups are relative to
 * the p100, the table's middle type, so a trace duration is read as the job's run time on p100s.
 * The table is read lazily, on the first typed host, so untyped benchmarks never need the file.
 */
import * as path from 'node:path';
import { parseDecimal, readBoundedText } from './inputLimits';

export const SHIPPED_THROUGHPUTS = path.join(__dirname, '..', '..', 'bench', 'throughputs', 'gavel-throughputs.csv');

/** The GPU types of the table; the loader insists that the file has exactly these. */
export const GPU_TYPES = ['k80', 'p100', 'v100'] as const;
export type GpuType = (typeof GPU_TYPES)[number];
/** A trace duration is taken as the run time on this type. */
export const REFERENCE_TYPE: GpuType = 'p100';
/** The widest measured job; a wider one is read as an 8-GPU one (its per-type ratio is what matters). */
const MAX_TABLE_GPUS = 8;
/** The shipped file is 15 KiB; a bound like the other loaders', so a wrong path cannot exhaust memory. */
const MAX_TABLE_BYTES = 4 * 1024 * 1024;

export class ThroughputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ThroughputError';
  }
}

export const isGpuType = (value: unknown): value is GpuType => GPU_TYPES.includes(value as GpuType);

export interface ThroughputTable {
  /** Model keys ("ResNet-50/128", "A3C"), sorted. */
  models: readonly string[];
  /** Iterations per second, or undefined when the table has no such row. */
  throughput(model: string, gpus: number, type: GpuType): number | undefined;
  /** Run-time factor of `type` against the p100 for a job of `gpus` GPUs: > 1 means faster. */
  speedup(model: string, gpus: number, type: GpuType): number;
  /** Models with a positive throughput on every type at this width: the ones a job of `gpus` GPUs may be. */
  modelsUsableFor(gpus: number): string[];
}

const COLUMNS = ['model', 'batch_size', 'num_gpus', 'gpu_type', 'placement', 'iterations_per_sec'] as const;

export function parseThroughputs(text: string, source: string): ThroughputTable {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = (lines[0] ?? '').split(',').map((h) => h.trim());
  const col = Object.fromEntries(COLUMNS.map((c) => [c, header.indexOf(c)])) as Record<(typeof COLUMNS)[number], number>;
  const missing = COLUMNS.filter((c) => col[c] < 0);
  if (missing.length > 0) {
    throw new ThroughputError(`${source}: line 1: the header must name ${COLUMNS.join(', ')}; ${missing.join(', ')} missing.`);
  }
  /** model → GPU count → type → iterations/s */
  const rows = new Map<string, Map<number, Map<GpuType, number>>>();
  lines.slice(1).forEach((line, i) => {
    const cells = line.split(',').map((c) => c.trim());
    const where = `${source}: line ${i + 2}`;
    if (cells[col.placement] !== 'one-host') {
      return;
    }
    const type = cells[col.gpu_type];
    const gpus = parseDecimal(cells[col.num_gpus] ?? '');
    const rate = parseDecimal(cells[col.iterations_per_sec] ?? '');
    if (!isGpuType(type)) {
      throw new ThroughputError(`${where}: gpu_type must be one of ${GPU_TYPES.join(', ')} (got "${type}").`);
    }
    if (!Number.isInteger(gpus) || gpus < 1 || gpus > MAX_TABLE_GPUS || !Number.isFinite(rate)) {
      throw new ThroughputError(`${where}: num_gpus must be 1–${MAX_TABLE_GPUS} and iterations_per_sec a number ≥ 0 (got "${line.trim()}").`);
    }
    const model = cells[col.batch_size] ? `${cells[col.model]}/${cells[col.batch_size]}` : cells[col.model];
    const byGpus = rows.get(model) ?? rows.set(model, new Map()).get(model)!;
    (byGpus.get(gpus) ?? byGpus.set(gpus, new Map()).get(gpus)!).set(type, rate);
  });
  const seenTypes = new Set([...rows.values()].flatMap((g) => [...g.values()].flatMap((t) => [...t.keys()])));
  if (GPU_TYPES.some((t) => !seenTypes.has(t))) {
    throw new ThroughputError(`${source}: the one-host rows must cover every type of ${GPU_TYPES.join(', ')} (got ${[...seenTypes].join(', ') || 'none'}).`);
  }

  /** The largest measured GPU count ≤ min(gpus, 8) of the model: its per-type ratios stand for the job's. */
  const tableGpus = (model: string, gpus: number): number | undefined => {
    const counts = [...(rows.get(model)?.keys() ?? [])].filter((g) => g <= Math.min(gpus, MAX_TABLE_GPUS));
    return counts.length > 0 ? Math.max(...counts) : undefined;
  };
  const throughput = (model: string, gpus: number, type: GpuType): number | undefined => {
    const g = tableGpus(model, gpus);
    return g === undefined ? undefined : rows.get(model)?.get(g)?.get(type);
  };
  const models = [...rows.keys()].sort();
  return {
    models,
    throughput,
    speedup(model, gpus, type) {
      const on = throughput(model, gpus, type);
      const reference = throughput(model, gpus, REFERENCE_TYPE);
      if (!(on !== undefined && on > 0 && reference !== undefined && reference > 0)) {
        // A model drawn through modelsUsableFor never gets here; a caller that picks its own must hear why.
        throw new ThroughputError(`${source}: no positive throughput of ${model} on ${gpus} GPU(s) of ${type} and of ${REFERENCE_TYPE} (got ${on} and ${reference}).`);
      }
      return on / reference;
    },
    modelsUsableFor: (gpus) => models.filter((m) => GPU_TYPES.every((t) => (throughput(m, gpus, t) ?? 0) > 0)),
  };
}

export function loadThroughputs(file = SHIPPED_THROUGHPUTS): ThroughputTable {
  return parseThroughputs(readBoundedText(file, 'throughput table', { maxBytes: MAX_TABLE_BYTES }, ThroughputError), file);
}

let shipped: ThroughputTable | undefined;

/** The shipped table, read once per process. */
export function shippedThroughputs(): ThroughputTable {
  return (shipped ??= loadThroughputs());
}

/** The shipped table's speedup (see ThroughputTable.speedup). */
export const speedup = (model: string, gpus: number, type: GpuType): number => shippedThroughputs().speedup(model, gpus, type);

/** The shipped table's models usable at this width (see ThroughputTable.modelsUsableFor). */
export const modelsUsableFor = (gpus: number): string[] => shippedThroughputs().modelsUsableFor(gpus);

/**
 * `npm run bench -- --trace <csv> --cluster <json> [--policies p1,p2,...] [--seed N] [--max-jobs N]
 *                   [--aging-minutes M] --out <file.json>`
 * Other tools call this, so its failures are one line on stderr and a non-zero exit (2: bad
 * arguments, 1: bad input files or a failed run, 70: a bug in the simulator, with where it was
 * thrown), never a stack trace.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { BenchError, describeCluster, describeWorkload, formatTable, heuristicThroughput, repeatedRunRates, runBench } from '../sim/bench';
import { ClusterError, largestHostGpus, loadCluster } from '../sim/clusterLoader';
import { PolicyError, defaultPolicyNames, resolvePolicies } from '../sim/policies';
import { SimulationError } from '../sim/simulator';
import { ThroughputError } from '../sim/throughputTable';
import { TraceError, describeSkipped, loadTrace } from '../sim/traceLoader';

const USAGE =
  'usage: npm run bench -- --trace <csv> --cluster <json> [--policies p1,p2,...] [--seed N] [--max-jobs N] [--aging-minutes M] --out <file.json>';
/** Default aging period: an hour of simulated time, the extension's own default (trainq.agingMinutes). */
const DEFAULT_AGING_MINUTES = 60;
const DEFAULT_SEED = 1;
/** Ten years: beyond it aging never moves a job, and minutes × 60,000 stays a plain number of ms. */
const MAX_AGING_MINUTES = 10 * 365.25 * 24 * 60;
/** sysexits' EX_SOFTWARE: the run failed for a reason that is the simulator's, not the input's. */
const EXIT_INTERNAL = 70;

class UsageError extends Error {}

/** Errors that describe bad input rather than a bug: one line, no stack. */
const INPUT_ERRORS = [TraceError, ClusterError, BenchError, SimulationError, ThroughputError];

interface CliOptions {
  trace: string;
  cluster: string;
  out: string;
  policies: string[];
  seed: number;
  maxJobs?: number;
  agingMinutes: number;
}

function wholeNumber(flag: string, text: string, min: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`--${flag} must be a whole number ≥ ${min} (got "${text}")`);
  }
  return n;
}

export function parseCli(argv: readonly string[]): CliOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        trace: { type: 'string' },
        cluster: { type: 'string' },
        out: { type: 'string' },
        policies: { type: 'string' },
        seed: { type: 'string' },
        'max-jobs': { type: 'string' },
        'aging-minutes': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    // Node's messages go on with advice about positionals; the first sentence is the useful part.
    throw new UsageError((err as Error).message.split(/\.(\s|$)/)[0]);
  }
  if (values.help) {
    return 'help';
  }
  for (const flag of ['trace', 'cluster', 'out'] as const) {
    if (!values[flag]) {
      throw new UsageError(`--${flag} is required`);
    }
  }
  const policies = values.policies === undefined ? defaultPolicyNames() : values.policies.split(',').map((p) => p.trim()).filter((p) => p !== '');
  if (policies.length === 0) {
    throw new UsageError('--policies names no policy');
  }
  let agingMinutes = DEFAULT_AGING_MINUTES;
  if (values['aging-minutes'] !== undefined) {
    agingMinutes = Number(values['aging-minutes']);
    if (values['aging-minutes'].trim() === '' || !(agingMinutes >= 0 && agingMinutes <= MAX_AGING_MINUTES)) {
      throw new UsageError(`--aging-minutes must be a number from 0 to ${MAX_AGING_MINUTES} (10 years), 0 turning aging off (got "${values['aging-minutes']}")`);
    }
  }
  return {
    trace: values.trace as string,
    cluster: values.cluster as string,
    out: values.out as string,
    policies,
    seed: values.seed === undefined ? DEFAULT_SEED : wholeNumber('seed', values.seed, 0),
    maxJobs: values['max-jobs'] === undefined ? undefined : wholeNumber('max-jobs', values['max-jobs'], 1),
    agingMinutes,
  };
}

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseCli(argv);
  if (parsed === 'help') {
    console.log(USAGE);
    console.log(`policies: ${defaultPolicyNames().join(', ')} (default: all)`);
    console.log(`defaults: --seed ${DEFAULT_SEED}, --aging-minutes ${DEFAULT_AGING_MINUTES}, every job of the trace`);
    return 0;
  }
  const policies = resolvePolicies(parsed.policies);
  const trace = loadTrace(parsed.trace);
  const cluster = loadCluster(parsed.cluster);
  // Checked before simulating, so a typo in --out costs nothing. Not created: the caller owns its folders.
  const outDir = path.dirname(path.resolve(parsed.out));
  if (!fs.statSync(outDir, { throwIfNoEntry: false })?.isDirectory()) {
    throw new UsageError(`--out ${parsed.out}: the folder ${outDir} does not exist`);
  }
  if (trace.skipped.length > 0) {
    console.error(`warning: ${parsed.trace}: ${describeSkipped(trace.skipped)}`);
  }
  const { seed, maxJobs, agingMinutes } = parsed;
  const { report, timings, workload } = await runBench({ trace, traceLabel: parsed.trace, cluster, policies, seed, maxJobs, agingMinutes });

  const unplaceable = `${report.unplaceable} unplaceable (need more than ${largestHostGpus(cluster)} GPUs on one host)`;
  console.log(`trace    ${parsed.trace}: ${report.jobs} jobs simulated, ${unplaceable}`);
  console.log(`cluster  ${describeCluster(cluster)}`);
  console.log(`workload ${describeWorkload(report.workload)}`);
  console.log(`seed ${parsed.seed}, aging ${parsed.agingMinutes} min\n`);
  console.log(formatTable(report, timings));
  const t = heuristicThroughput(timings);
  if (t.events > 0) {
    const rate = (n: number) => Math.round(n).toLocaleString('en-US');
    // Other work on the machine slows wall time, not CPU time; the load average says how much there was.
    const load = `load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} CPUs`;
    console.log(`\nsimulator: ${rate(t.perSec)} job events/s over the heuristic policies (${t.events} events in ${t.seconds.toFixed(2)} s)`);
    console.log(`           ${rate(t.perCpuSec)} job events per CPU-second (${load})`);
  }
  // Each run above is its policy's first, mostly compile time on a short trace: the repeats show the steady rate.
  const repeats = repeatedRunRates(workload, cluster, agingMinutes, 4).slice(1).sort((a, b) => a - b);
  console.log(`           ${Math.round(repeats[1]).toLocaleString('en-US')} job events/s once warm (priority-firstfit run 3 more times, median)`);

  fs.writeFileSync(parsed.out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`wrote ${parsed.out}; wall time ${process.uptime().toFixed(2)} s`);
  return 0;
}

async function run(): Promise<void> {
  try {
    process.exitCode = await main(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`bench: ${err.message}. ${USAGE}`);
      process.exitCode = 2;
    } else if (err instanceof PolicyError) {
      // Also a bad argument, but its message already lists what --policies accepts.
      console.error(`bench: ${err.message}`);
      process.exitCode = 2;
    } else if (err instanceof Error && (INPUT_ERRORS.some((kind) => err instanceof kind) || 'code' in err)) {
      // Bad input, or a file-system failure such as an unwritable --out: the user's to fix, not a bug.
      console.error(`bench: ${err.message}`);
      process.exitCode = 1;
    } else {
      // A bug, not bad input: still one line, with the frame that threw so that it can be found.
      const where = err instanceof Error ? err.stack?.split('\n').find((l) => l.trim().startsWith('at '))?.trim() : undefined;
      console.error(`bench: internal error: ${String(err).replace(/\s+/g, ' ')}${where ? ` (${where})` : ''}`);
      process.exitCode = EXIT_INTERNAL;
    }
  }
}

if (require.main === module) {
  void run();
}

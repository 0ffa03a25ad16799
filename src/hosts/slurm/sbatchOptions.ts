/**
 * sbatch's command-line options, and `extraSbatchArgs` read the way sbatch reads them.
 *
 * sbatch parses its options with glibc's getopt_long, so a long option may be abbreviated to any
 * unambiguous prefix (`--job-nam=x` is --job-name), short options bundle (`-vJevil` is -v -J evil),
 * a value may be attached or be the next word, and the first word that is no option is the script.
 * Filtering option names by text cannot follow that; this module parses the words as getopt_long
 * does, against sbatch's full table (ambiguity can only be judged against all options), and lets
 * through only options TrainQ does not set and that cannot break how it finds, logs and follows jobs.
 * What passes is rewritten as `--full-name[=value]`: a full name is an exact match in any sbatch that
 * has the option (also where a newer option or a site's SPANK plugin makes an abbreviation ambiguous), and no
 * value is left to be taken from the word after it (TrainQ's batch script comes last).
 */

export type ArgKind = 'none' | 'required' | 'optional';

export interface SbatchOption {
  /** The long name, without `--`. */
  name: string;
  short?: string;
  arg: ArgKind;
  /** Why TrainQ refuses it, to follow "which …"; undefined: allowed in extraSbatchArgs. */
  refused?: string;
  /** The option whose getopt value this one shares (an alias): getopt_long never calls the two ambiguous. */
  aliasOf?: string;
}

const N: ArgKind = 'none';
const R: ArgKind = 'required';
const O: ArgKind = 'optional';

const own = (why: string) => `TrainQ sets itself (${why})`;
const GPUS = "would change the GPUs a job gets, which TrainQ requests itself (--gres=gpu:N from the job's GPU count)";
const ENV = "would change the environment the job's script gets (set variables with the host's 'env')";
const CLUSTER = 'would send the job to another cluster, where TrainQ\'s squeue, sacct and scancel do not look';
const USER = "would run the job as another user, who could not write TrainQ's job files";
const PRINTS = 'makes sbatch print text and exit without submitting the job';

/**
 * sbatch 22.05's getopt_long table, in its order (the order decides which match getopt_long reports
 * first). Taken from the real sbatch (slurm-wlm 22.05.8, Debian 12) by wrapping getopt_long with an
 * LD_PRELOAD shim that prints the `struct option` array and the short-option string
 * `+A:a:b:D:M:C:S:c:d:m:e:x:B:G:hHi:J:L:k::F:w:N:n:o:Osp:q:Qt:vVW` ('+': stop at the first
 * non-option); test/integration/slurmHost.test.ts repeats that against the installed sbatch.
 * `sbatch --help` lists only part of it (no --test-only, --open-mode, --cluster, --prefer…).
 */
export const SBATCH_OPTIONS: readonly SbatchOption[] = (
  [
    ['account', 'A', R, own("use the host's 'account'")],
    ['acctg-freq', '', R],
    ['array', 'a', R, 'would run the batch script as many jobs under one name, all writing the same job files'],
    ['batch', '', R],
    ['begin', 'b', R],
    ['bb', '', R],
    ['bbf', '', R],
    ['cluster-constraint', '', R, CLUSTER],
    ['chdir', 'D', R, 'would start the batch script in another folder than the one TrainQ prepared'],
    ['cluster', '', R, CLUSTER],
    ['clusters', 'M', R, CLUSTER],
    ['comment', '', R],
    ['container', '', R, "would run the batch script in an OCI container, where TrainQ's job folder and exit-code wrapper may not exist"],
    ['context', '', R],
    ['contiguous', '', N],
    ['constraint', 'C', R],
    ['core-spec', 'S', R],
    ['cores-per-socket', '', R],
    ['cpu-freq', '', R],
    ['cpus-per-gpu', '', R],
    ['cpus-per-task', 'c', R],
    ['deadline', '', R],
    ['delay-boot', '', R],
    ['dependency', 'd', R, "would hold every job of this host behind other Slurm jobs; TrainQ's own queue decides the order"],
    ['distribution', 'm', R],
    ['error', 'e', R, own('the job log TrainQ follows')],
    ['exclude', 'x', R],
    ['exclusive', '', O],
    ['export', '', R, ENV],
    ['export-file', '', R, ENV],
    ['extra-node-info', 'B', R],
    ['get-user-env', '', O, ENV],
    ['gid', '', R, USER],
    ['gpu-bind', '', R],
    ['gpu-freq', '', R],
    ['gpus', 'G', R, GPUS],
    ['gpus-per-node', '', R, GPUS],
    ['gpus-per-socket', '', R, GPUS],
    ['gpus-per-task', '', R, GPUS],
    ['gres', '', R, GPUS],
    ['gres-flags', '', R],
    ['help', 'h', N, PRINTS],
    ['hint', '', R],
    ['hold', 'H', N, 'would keep every job held until someone releases it by hand'],
    ['ignore-pbs', '', N],
    ['input', 'i', R],
    ['job-name', 'J', R, own('a submission is found again by this name, so that no job is submitted twice')],
    ['kill-on-invalid-dep', '', R],
    ['licenses', 'L', R],
    ['mail-type', '', R],
    ['mail-user', '', R],
    ['mcs-label', '', R],
    ['mem', '', R],
    ['mem-bind', '', R],
    ['mem-per-cpu', '', R],
    ['mem-per-gpu', '', R],
    ['mincpus', '', R],
    ['network', '', R],
    ['nice', '', O],
    ['no-kill', 'k', O],
    ['no-requeue', '', N],
    ['nodefile', 'F', R],
    ['nodelist', 'w', R],
    ['nodes', 'N', R, own("--nodes=1: a job's GPUs are on one host")],
    ['ntasks', 'n', R],
    ['ntasks-per-core', '', R],
    ['ntasks-per-gpu', '', R, GPUS],
    ['ntasks-per-node', '', R],
    ['ntasks-per-socket', '', R],
    ['ntasks-per-tres', '', R, GPUS],
    ['open-mode', '', R, 'would change how the job log TrainQ follows is written (truncate shrinks it under the reader)'],
    ['output', 'o', R, own('the job log TrainQ follows')],
    ['overcommit', 'O', N],
    ['oversubscribe', 's', N],
    ['parsable', '', N, own("TrainQ reads the job id from sbatch's answer")],
    ['partition', 'p', R, own("use the host's 'partition'")],
    ['power', '', R],
    ['prefer', '', R],
    ['priority', '', R],
    ['profile', '', R],
    ['propagate', '', O],
    ['qos', 'q', R, own("use the host's 'qos'")],
    ['quiet', 'Q', N, "would hide the job id TrainQ reads from sbatch's answer"],
    ['reboot', '', N],
    ['requeue', '', N],
    ['reservation', '', R],
    ['signal', '', R],
    ['sockets-per-node', '', R],
    ['spread-job', '', N],
    ['switches', '', R],
    ['tasks-per-node', '', R, undefined, 'ntasks-per-node'],
    ['test-only', '', N, 'makes sbatch only check the request and submit nothing'],
    ['thread-spec', '', R],
    ['threads-per-core', '', R],
    ['time', 't', R, own("use the host's 'timeLimit'")],
    ['time-min', '', R],
    ['tmp', '', R],
    ['uid', '', R, USER],
    ['use-min-nodes', '', N],
    ['verbose', 'v', N],
    ['version', 'V', N, PRINTS],
    ['usage', '', N, PRINTS],
    ['wait', 'W', N, 'makes sbatch wait until the job ends, so the submission would not return'],
    ['wait-all-nodes', '', R],
    ['wckey', '', R],
    ['wrap', '', R, "would replace TrainQ's batch script with a command line"],
  ] as Array<[string, string, ArgKind, string?, string?]>
).map(([name, short, arg, refused, aliasOf]) => ({
  name,
  arg,
  ...(short ? { short } : {}),
  ...(refused ? { refused } : {}),
  ...(aliasOf ? { aliasOf } : {}),
}));

const BY_SHORT = new Map(SBATCH_OPTIONS.filter((o) => o.short).map((o) => [o.short!, o]));
const CONTROL = /[\u0000-\u001f\u007f]/;

export type LongMatch = { kind: 'option'; option: SbatchOption } | { kind: 'ambiguous'; candidates: SbatchOption[] } | { kind: 'unknown' };

/**
 * What getopt_long makes of `--<text>` (text without any `=value`): an exact name wins; otherwise
 * the prefix matches, where a match that differs from the first one in argument kind or getopt
 * value (not an alias of it) makes the prefix ambiguous. Candidates are listed as glibc lists them.
 */
export function resolveLongOption(text: string): LongMatch {
  const exact = SBATCH_OPTIONS.find((o) => o.name === text);
  if (exact) {
    return { kind: 'option', option: exact };
  }
  const matches = SBATCH_OPTIONS.filter((o) => o.name.startsWith(text));
  if (matches.length === 0) {
    return { kind: 'unknown' };
  }
  const first = matches[0];
  const key = (o: SbatchOption) => `${o.arg}:${o.aliasOf ?? o.name}`;
  const differing = matches.filter((o) => key(o) !== key(first));
  return differing.length === 0 ? { kind: 'option', option: first } : { kind: 'ambiguous', candidates: [first, ...differing] };
}

/** One option as sbatch would see it: from which word (index into the list), and its value if any. */
export interface ParsedSbatchOption {
  option: SbatchOption;
  value?: string;
  index: number;
  /** Where in its word the option letter stands (short options), for messages; 0 for long options. */
  offset: number;
}

/** What is wrong with a word; the parse kinds match what sbatch itself reports (see the integration test). */
export type SbatchArgsProblem =
  | 'unknown'
  | 'ambiguous'
  | 'no-value'
  | 'needs-value'
  | 'not-an-option'
  | 'ends-options'
  | 'control'
  | 'empty-value'
  | 'refused';

/** A word of extraSbatchArgs sbatch would read differently from what the setting may do. */
export class SbatchArgsError extends Error {
  constructor(
    readonly index: number,
    readonly kind: SbatchArgsProblem,
    message: string,
  ) {
    super(message);
    this.name = 'SbatchArgsError';
  }
}

/**
 * Splits words into options exactly as sbatch's getopt_long would, without judging which options are
 * allowed. Throws SbatchArgsError for what sbatch would refuse or take as something other than an
 * option: unknown or ambiguous options, a value where none is allowed, a missing value, `--`, and any
 * word that is no option (sbatch would take it, and everything after it, as the script).
 */
export function parseSbatchWords(words: readonly string[]): ParsedSbatchOption[] {
  const parsed: ParsedSbatchOption[] = [];
  const fail = (i: number, kind: SbatchArgsProblem, why: string): never => {
    throw new SbatchArgsError(i, kind, `'${words[i]}' ${why}`);
  };
  for (let i = 0; i < words.length; i++) {
    const word = words[i];
    if (typeof word !== 'string') {
      throw new SbatchArgsError(i, 'not-an-option', `${JSON.stringify(word)} is not a string`);
    }
    if (CONTROL.test(word)) {
      fail(i, 'control', 'contains control characters or line breaks');
    }
    if (word === '--') {
      const why = "ends sbatch's options: the words after it, TrainQ's batch script among them, would be read as the script to run";
      fail(i, 'ends-options', why);
    }
    if (!word.startsWith('-') || word === '-') {
      fail(i, 'not-an-option', "is not an option: sbatch would take it as the script to run, and TrainQ's batch script as its argument");
    }
    // A required value missing from the word is the next word, whatever it looks like (as getopt does).
    const nextValue = (shown: string): string => {
      if (i + 1 >= words.length) {
        fail(i, 'needs-value', `leaves ${shown} without a value and no word follows: sbatch would take TrainQ's batch script as the value`);
      }
      return words[++i];
    };
    if (word.startsWith('--')) {
      const eq = word.indexOf('=');
      const text = word.slice(2, eq < 0 ? undefined : eq);
      const match = resolveLongOption(text);
      if (match.kind === 'unknown') {
        fail(i, 'unknown', 'is not an sbatch option');
      }
      if (match.kind === 'ambiguous') {
        const candidates = match.candidates.map((o) => `--${o.name}`).join(', ');
        fail(i, 'ambiguous', `is ambiguous for sbatch: it could be ${candidates}; write the option's full name`);
      }
      const { option } = match as { option: SbatchOption };
      const at = i;
      let value = eq < 0 ? undefined : word.slice(eq + 1);
      if (option.arg === 'none' && value !== undefined) {
        fail(i, 'no-value', `is sbatch's --${option.name}, which takes no value`);
      }
      if (option.arg === 'required' && value === undefined) {
        value = nextValue(`--${option.name}`);
      }
      parsed.push({ option, value, index: at, offset: 0 });
      continue;
    }
    // A bundle of short options; the first one taking a value takes the rest of the word.
    for (let j = 1; j < word.length; j++) {
      const option = BY_SHORT.get(word[j]);
      if (!option) {
        fail(i, 'unknown', word.length > 2 ? `contains -${word[j]}, which is not an sbatch option` : 'is not an sbatch option');
      }
      const at = i;
      const rest = word.slice(j + 1);
      if (option!.arg === 'none') {
        parsed.push({ option: option!, index: at, offset: j });
        continue;
      }
      // An optional value is only ever attached (-kfoo); a required one may be the next word (-J x).
      const value = rest !== '' ? rest : option!.arg === 'required' ? nextValue(`-${word[j]}`) : undefined;
      parsed.push({ option: option!, value, index: at, offset: j });
      break;
    }
  }
  return parsed;
}

/** How a word names an option: "'--job-nam=x' is sbatch's --job-name", "'-vJx' contains -J, sbatch's --job-name". */
function describe(word: string, { option, offset }: ParsedSbatchOption): string {
  if (offset === 0) {
    return `'${word}' is sbatch's --${option.name}`;
  }
  // -J, -Jname: the option alone, or with its value; anything else is a bundle of several options.
  const alone = offset === 1 && (word.length === 2 || option.arg !== 'none');
  return `'${word}' ${alone ? 'is' : 'contains'} -${option.short}, sbatch's --${option.name}`;
}

/**
 * extraSbatchArgs made safe to append to TrainQ's own options: every word parsed as sbatch would,
 * every option on the allow-list, each rewritten as `--full-name[=value]`. Throws SbatchArgsError
 * naming the word and the option it means. Idempotent, so it can run again where the command is built.
 */
export function checkExtraSbatchArgs(words: readonly string[]): string[] {
  return parseSbatchWords(words).map((parsed) => {
    const { option, value, index } = parsed;
    if (option.refused) {
      throw new SbatchArgsError(index, 'refused', `${describe(words[index], parsed)}, which ${option.refused}`);
    }
    if (value === '') {
      throw new SbatchArgsError(index, 'empty-value', `'${words[index]}' gives --${option.name} an empty value`);
    }
    return value === undefined ? `--${option.name}` : `--${option.name}=${value}`;
  });
}

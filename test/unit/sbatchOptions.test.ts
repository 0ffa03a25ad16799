import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  checkExtraSbatchArgs,
  parseSbatchWords,
  resolveLongOption,
  SBATCH_OPTIONS,
  SbatchArgsError,
  type SbatchOption,
} from '../../src/hosts/slurm/sbatchOptions';
import { sbatchOptions } from '../../src/hosts/slurm/slurmCommands';
import { ourOutcome, SBATCH_CORPUS } from '../fixtures/sbatchCorpus';

const sorted = (o: ReturnType<typeof ourOutcome>) => ('options' in o ? { options: [...o.options].sort() } : o);

function refusal(words: string[]): SbatchArgsError {
  try {
    checkExtraSbatchArgs(words);
  } catch (e) {
    if (e instanceof SbatchArgsError) return e;
    throw e;
  }
  assert.fail(`${JSON.stringify(words)} was let through`);
}

/** Every spelling getopt_long accepts for a long option: the full name and each prefix that resolves to it. */
function longSpellings(option: SbatchOption): string[] {
  const spellings: string[] = [];
  for (let n = 1; n <= option.name.length; n++) {
    const text = option.name.slice(0, n);
    const match = resolveLongOption(text);
    if (match.kind === 'option' && match.option === option) spellings.push(text);
  }
  return spellings;
}

test('the corpus: TrainQ reads each word list the way sbatch 22.05 does', () => {
  for (const { words, expect } of SBATCH_CORPUS) {
    assert.deepEqual(sorted(ourOutcome(words)), sorted(expect), JSON.stringify(words));
  }
});

test("the issue's examples are refused, naming the word and the option sbatch reads in it", () => {
  const cases: Array<[string, RegExp]> = [
    ['--job-nam=x', /^'--job-nam=x' is sbatch's --job-name, which TrainQ sets itself \(a submission is found again by this name/],
    ['--outp=/tmp/o', /^'--outp=\/tmp\/o' is sbatch's --output, which TrainQ sets itself/],
    ['--arr=0-9', /^'--arr=0-9' is sbatch's --array, which would run the batch script as many jobs/],
    ['--chdi=/tmp', /^'--chdi=\/tmp' is sbatch's --chdir, which would start the batch script in another folder/],
    ['--hol', /^'--hol' is sbatch's --hold, which would keep every job held/],
    ['--test-onl', /^'--test-onl' is sbatch's --test-only, which makes sbatch only check the request and submit nothing/],
    ['-vJevil', /^'-vJevil' contains -J, sbatch's --job-name, which TrainQ sets itself/],
    ['-Jevil', /^'-Jevil' is -J, sbatch's --job-name/],
    ['-Hv', /^'-Hv' contains -H, sbatch's --hold/],
  ];
  for (const [word, why] of cases) {
    const e = refusal([word]);
    assert.equal(e.kind, 'refused', word);
    assert.match(e.message, why);
  }
});

test('every refused option is refused in every spelling sbatch accepts: prefixes, short, attached, bundled, next-word values', () => {
  let spellings = 0;
  const refused = SBATCH_OPTIONS.filter((o) => o.refused);
  for (const option of refused) {
    // A required value may come as the next word; an optional one never does.
    const next = option.arg === 'required' ? ['v'] : [];
    const words: string[][] = [];
    for (const text of longSpellings(option)) {
      words.push([`--${text}`, ...next]);
      if (option.arg !== 'none') words.push([`--${text}=v`]);
    }
    if (option.short) {
      const s = option.short;
      words.push([`-${s}`, ...next], [`-v${s}`, ...next], [`--mem=1G`, `-v${s}`, ...next]);
      if (option.arg !== 'none') words.push([`-${s}v`], [`-v${s}v`]);
      else words.push([`-${s}v`]);
    }
    for (const list of words) {
      const e = refusal(list);
      assert.equal(e.kind, 'refused', `${JSON.stringify(list)}: ${e.message}`);
      assert.ok(e.message.includes(`sbatch's --${option.name}, which ${option.refused}`), `${JSON.stringify(list)}: ${e.message}`);
      spellings++;
    }
  }
  assert.ok(refused.length >= 30, `${refused.length} refused options`);
  assert.ok(spellings > 300, `${spellings} spellings checked`);
});

test('allowed options pass in every spelling and come out as --full-name[=value]; the result reads the same again', () => {
  let spellings = 0;
  for (const option of SBATCH_OPTIONS.filter((o) => !o.refused)) {
    const canonical = option.arg === 'none' ? `--${option.name}` : `--${option.name}=v`;
    const lists: string[][] = longSpellings(option).map((text) => (option.arg === 'none' ? [`--${text}`] : [`--${text}=v`]));
    if (option.arg === 'required') lists.push(...longSpellings(option).map((text) => [`--${text}`, 'v']));
    if (option.short) lists.push(option.arg === 'none' ? [`-${option.short}`] : [`-${option.short}v`]);
    if (option.short && option.arg === 'required') lists.push([`-${option.short}`, 'v']);
    for (const list of lists) {
      const out = checkExtraSbatchArgs(list);
      assert.deepEqual(out, [canonical], JSON.stringify(list));
      assert.deepEqual(checkExtraSbatchArgs(out), out, 'idempotent');
      spellings++;
    }
  }
  assert.deepEqual(checkExtraSbatchArgs(['-vk', '-koff', '--nice', '--exclusive=user']), [
    '--verbose',
    '--no-kill',
    '--no-kill=off',
    '--nice',
    '--exclusive=user',
  ]);
  assert.deepEqual(checkExtraSbatchArgs(['--mem', '32G', '-Ca100', '-c', '8']), ['--mem=32G', '--constraint=a100', '--cpus-per-task=8']);
  assert.ok(spellings > 500, `${spellings} spellings checked`);
});

test("a value-taking option at the end would take TrainQ's batch script as its value: refused", () => {
  for (const list of [['--mem'], ['-C'], ['-vC'], ['--mem=1G', '--constr'], ['-c']]) {
    assert.equal(refusal(list).kind, 'needs-value', JSON.stringify(list));
  }
  assert.match(refusal(['--constr']).message, /leaves --constraint without a value and no word follows: sbatch would take TrainQ's batch/);
});

test('words sbatch would not read as options, or whose values are empty or hold line breaks, are refused', () => {
  const cases: Array<[string[], string, RegExp]> = [
    [['evil'], 'not-an-option', /'evil' is not an option: sbatch would take it as the script/],
    [['-'], 'not-an-option', /not an option/],
    [[''], 'not-an-option', /not an option/],
    [['--mem=1G', 'x'], 'not-an-option', /'x'/],
    [['--'], 'ends-options', /'--' ends sbatch's options/],
    [['--', '--mem=1G'], 'ends-options', /ends sbatch's options/],
    [['--xyz=1'], 'unknown', /'--xyz=1' is not an sbatch option/],
    [['-vz'], 'unknown', /'-vz' contains -z, which is not an sbatch option/],
    [['--co=1'], 'ambiguous', /'--co=1' is ambiguous for sbatch: it could be --comment, --container, .*; write the option's full name/],
    [['--contiguous=yes'], 'no-value', /'--contiguous=yes' is sbatch's --contiguous, which takes no value/],
    [['--mem='], 'empty-value', /'--mem=' gives --mem an empty value/],
    [['-C', ''], 'empty-value', /empty value/],
    [['--nice='], 'empty-value', /empty value/],
    [['--comment=a\nb'], 'control', /control characters/],
    [['--mem=1G\n--wrap=x'], 'control', /control characters/],
  ];
  for (const [words, kind, why] of cases) {
    const e = refusal(words);
    assert.equal(e.kind, kind, JSON.stringify(words));
    assert.match(e.message, why, JSON.stringify(words));
  }
  assert.equal(refusal(['--mem=1G', '--comment=x', 'evil']).index, 2, 'the index names the word');
  assert.equal(refusal(['-C', 'a', '--hold']).index, 2, 'a value in the next word counts as its own word');
});

test("every option TrainQ passes to sbatch itself is one the setting cannot pass", () => {
  const all = { jobId: 'a', logFile: '/j/a/output.log', gpus: 2, timeLimit: '5', partition: 'p', account: 'x', qos: 'q', extra: [] };
  const own = sbatchOptions(all);
  const parsed = parseSbatchWords(own);
  assert.equal(parsed.length, own.length);
  for (const { option } of parsed) {
    assert.ok(option.refused, `--${option.name} is set by TrainQ but allowed in extraSbatchArgs`);
  }
});

test('the table: unique names and letters, aliases that exist, and random words never smuggle a refused option', () => {
  const names = SBATCH_OPTIONS.map((o) => o.name);
  assert.equal(new Set(names).size, names.length);
  const shorts = SBATCH_OPTIONS.flatMap((o) => (o.short ? [o.short] : []));
  assert.equal(new Set(shorts).size, shorts.length);
  for (const o of SBATCH_OPTIONS) if (o.aliasOf) assert.ok(names.includes(o.aliasOf), o.name);

  // Random word lists built from the table (prefixes, bundles of letters, loose words): whatever
  // passes must re-read as the same allowed options under their full names.
  let seed = 7;
  // mulberry32: an LCG's low bits repeat too soon for `% n`.
  const rand = (n: number) => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) % n;
  };
  const letters = `${shorts.join('')}z`;
  const anyOption = () => SBATCH_OPTIONS[rand(SBATCH_OPTIONS.length)];
  const word = (): string => {
    const o = anyOption();
    switch (rand(4)) {
      case 0:
        return `--${o.name.slice(0, 1 + rand(o.name.length))}${rand(2) ? `=${'x'.repeat(rand(3))}` : ''}`;
      case 1:
        return `-${Array.from({ length: 1 + rand(3) }, () => letters[rand(letters.length)]).join('')}`;
      case 2:
        return ['v', '1G', '--', '-', 'evil', '--hold', '', '--nope', '-z'][rand(9)];
      default:
        return `--${o.name}=v`;
    }
  };
  const outcomes = new Map<string, number>();
  let passed = 0;
  for (let round = 0; round < 20000; round++) {
    const words = Array.from({ length: 1 + rand(3) }, word);
    let out: string[];
    try {
      out = checkExtraSbatchArgs(words);
    } catch (e) {
      if (!(e instanceof SbatchArgsError)) throw e;
      outcomes.set(e.kind, (outcomes.get(e.kind) ?? 0) + 1);
      continue;
    }
    passed++;
    const reread = parseSbatchWords(out);
    assert.deepEqual(checkExtraSbatchArgs(out), out, JSON.stringify(words));
    for (const { option } of reread) assert.ok(!option.refused, `${JSON.stringify(words)} smuggled --${option.name}`);
    for (const w of out) assert.ok(names.includes(w.slice(2).split('=')[0]), `${w} is not a full name`);
  }
  for (const kind of ['refused', 'ambiguous', 'unknown', 'needs-value', 'not-an-option']) {
    assert.ok((outcomes.get(kind) ?? 0) > 50, `${kind}: ${outcomes.get(kind)}`);
  }
  assert.ok(passed > 1000, `${passed} random lists passed`);
});

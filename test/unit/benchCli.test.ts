import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { parseCli } from '../../src/cli/benchCli';
import { formatTable, runBench } from '../../src/sim/bench';
import { loadCluster } from '../../src/sim/clusterLoader';
import { resolvePolicies, type PolicyEntry } from '../../src/sim/policies';
import { loadTrace } from '../../src/sim/traceLoader';

const ROOT = path.join(__dirname, '..', '..');
const TRACE = 'bench/traces/philly-ed69ec.csv';
const CLUSTER = 'bench/clusters/homo-8.json';

/** The CLI as other tools run it, with a deadline: an input that never ends must fail the test, not hang CI (status null). */
function bench(...args: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/benchCli.ts', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('arguments: defaults, lists and numbers', () => {
  assert.deepEqual(parseCli(['--trace', 't.csv', '--cluster', 'c.json', '--out', 'o.json', '--policies', 'sjf-firstfit, priority-random', '--max-jobs', '50']), {
    trace: 't.csv',
    cluster: 'c.json',
    out: 'o.json',
    policies: ['sjf-firstfit', 'priority-random'],
    seed: 1,
    maxJobs: 50,
    agingMinutes: 60,
  });
  assert.equal(parseCli(['--help']), 'help');
});

test('bad arguments are named', () => {
  const base = ['--trace', 't.csv', '--cluster', 'c.json', '--out', 'o.json'];
  assert.throws(() => parseCli(['--trace', 't.csv', '--out', 'o.json']), /^Error: --cluster is required$/);
  assert.throws(() => parseCli([...base, '--seed=-3']), /--seed must be a whole number ≥ 0 \(got "-3"\)/);
  assert.throws(() => parseCli([...base, '--seed', '-3']), /^Error: Option '--seed' argument is ambiguous$/);
  assert.throws(() => parseCli([...base, '--max-jobs', '0']), /--max-jobs must be a whole number ≥ 1/);
  assert.throws(() => parseCli([...base, '--aging-minutes', 'soon']), /--aging-minutes must be a number from 0 to 5259600 \(10 years\)/);
  assert.throws(() => parseCli([...base, '--aging-minutes', '1e308']), /--aging-minutes must be a number from 0 to 5259600/);
  assert.throws(() => parseCli([...base, '--speed', '2']), /^Error: Unknown option '--speed'$/);
  assert.throws(() => parseCli([...base, 'extra']), /^Error: Unexpected argument 'extra'$/);
});

test('a run prints one row per policy and writes the contract JSON', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trainq-bench-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const out = path.join(dir, 'result.json');
  const { code, stdout, stderr } = bench('--trace', TRACE, '--cluster', CLUSTER, '--policies', 'fcfs-firstfit,priority-bestfit', '--max-jobs', '200', '--seed', '4', '--out', out);
  assert.equal(code, 0, stderr);
  assert.match(stdout, /^fcfs-firstfit +\d/m);
  assert.match(stdout, /^priority-bestfit +\d/m);
  assert.match(stdout, /simulator: [\d,]+ job events\/s/);
  assert.match(stdout, /wall time \d+\.\d+ s/);
  const report = JSON.parse(fs.readFileSync(out, 'utf8'));
  assert.equal(report.trace, TRACE);
  assert.equal(report.cluster, 'homo-8');
  assert.equal(report.jobs, 200);
  assert.equal(report.unplaceable, 0);
  assert.ok(report.lowerBound.avgJct > 0);
  assert.deepEqual(Object.keys(report.workload), ['identities', 'repeatShare', 'withinSpread', 'withinIdentitySpread']);
  assert.ok(report.workload.identities > 0 && report.workload.repeatShare > 0.5);
  assert.match(stdout, /^workload \d+ identities, \d+\.\d % of jobs ran before; median \|log\(duration ÷ identity median\)\| \d\.\d{3}, by script\+args \d\.\d{3}$/m);
  assert.deepEqual(Object.keys(report.policies), ['fcfs-firstfit', 'priority-bestfit']);
  for (const m of Object.values<Record<string, number>>(report.policies)) {
    assert.deepEqual(Object.keys(m), ['avgJct', 'p95Jct', 'avgSlowdown', 'makespan', 'gpuUtil', 'decisionP50Us', 'trainStepsPerSec']);
    assert.ok(m.avgJct >= report.lowerBound.avgJct && m.avgSlowdown >= 1 && m.gpuUtil > 0 && m.gpuUtil <= 1);
    assert.equal(m.trainStepsPerSec, 0);
  }
});

test('failures are one line on stderr and a non-zero exit', () => {
  const cases: ReadonlyArray<[string[], number, RegExp]> = [
    [['--trace', TRACE, '--out', 'x.json'], 2, /^bench: --cluster is required\. usage: npm run bench/],
    [['--trace', 'nope.csv', '--cluster', CLUSTER, '--out', 'x.json'], 1, /^bench: Cannot read the trace nope\.csv: no such file\.$/],
    [['--trace', TRACE, '--cluster', 'test/fixtures/sim/duplicate-hosts.json', '--out', 'x.json'], 1, /^bench: .*host names must be unique\.$/],
    [['--trace', TRACE, '--cluster', CLUSTER, '--policies', 'fifo', '--out', 'x.json'], 2, /^bench: Unknown policy 'fifo'; known policies: /],
    [['--trace', TRACE, '--cluster', CLUSTER, '--out', 'no-such-dir/x.json'], 2, /^bench: --out no-such-dir\/x\.json: the folder .*no-such-dir does not exist\. usage: /],
  ];
  for (const [args, expected, message] of cases) {
    const { code, stdout, stderr } = bench(...args);
    assert.equal(code, expected, stderr);
    assert.equal(stdout, '');
    assert.equal(stderr.trim().split('\n').length, 1, stderr);
    assert.match(stderr.trim(), message);
  }
});

test('inputs at the numeric limits end in one line and exit 1, never a stack trace or a null', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trainq-limits-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  let files = 0;
  const file = (ext: string, text: string) => {
    const name = path.join(dir, `f${++files}.${ext}`);
    fs.writeFileSync(name, text);
    return name;
  };
  const trace = (...rows: string[]) => file('csv', ['timestamp,duration,num_gpus', ...rows].join('\n'));
  const cluster = (hosts: string) => file('json', `{"name": "c", "hosts": [${hosts}]}`);
  const half = cluster('{"name": "slow", "gpus": 4, "speed": 0.5}');
  const good = ['2017-10-01 00:00:00,600,1', '2017-10-01 00:00:05,60,2'];
  const out = path.join(dir, 'o.json');
  const cases: ReadonlyArray<[string, string, string, RegExp]> = [
    // Each of these crashed in the simulator or wrote "avgJct": null with exit 0.
    ['1e308 on speed 0.5', trace('2017-10-01 00:00:00,1e308,1'), half, /^bench: .*f\d+\.csv: no usable job row \(all 1 rows are malformed; first, line 2: duration must be a positive number of seconds, from 0\.001 to 315576000 \(10 years\) \(got "1e308"\)\)\.$/],
    ['sums past MAX_VALUE', trace('2017-10-01 00:00:00,1e308,1', '2017-10-01 00:00:01,1.7976931348623157e+308,1'), cluster('{"name": "h", "gpus": 4, "speed": 1}'), /^bench: .*no usable job row \(all 2 rows are malformed; first, line 2: duration/],
    ['sigma 800', trace(...good), cluster('{"name": "s", "gpus": 4, "speed": 1, "kind": "slurm", "queueDelay": {"medianSec": 60, "sigma": 800}}'), /^bench: .*f\d+\.json: hosts\[0\] \("s"\): queueDelay\.sigma must be a number from 0 to 5 \(got 800\)\.$/],
    ['years 0001 and 0099', trace('0001-01-01 00:00:00,600,1', '0099-12-31 23:59:59,60,1'), half, /^bench: .*first, line 2: timestamp must be from 1970-01-01 00:00:00 to 2099-12-31 23:59:59 \(got "0001-01-01 00:00:00"\)\)\.$/],
    ['speed 1e400', trace(...good), cluster('{"name": "h", "gpus": 4, "speed": 1e400}'), /^bench: .*speed must be a positive number from 0\.001 to 1000 \(got Infinity\)\.$/],
    ['a huge GPU count', trace(...good), cluster('{"name": "h", "gpus": 1e15, "speed": 1}'), /^bench: .*gpus must be a positive integer, at most 65536 \(got 1000000000000000\)\.$/],
    ['/dev/zero as the trace', '/dev/zero', half, /^bench: \/dev\/zero: line 1 is longer than 64 KiB, the most a trace line may be \(is it a trace file\?\)\.$/],
    ['/dev/zero as the cluster', trace(...good), '/dev/zero', /^bench: \/dev\/zero: the cluster is larger than 1 MiB, the most the simulator reads \(is it a cluster file\?\)\.$/],
  ];
  for (const [what, tracePath, clusterPath, message] of cases) {
    const { code, stdout, stderr } = bench('--trace', tracePath, '--cluster', clusterPath, '--policies', 'fcfs-firstfit', '--out', out);
    assert.equal(code, 1, `${what}: ${stderr}`);
    assert.equal(stdout, '', what);
    assert.equal(stderr.trim().split('\n').length, 1, `${what}: ${stderr}`);
    assert.match(stderr.trim(), message, what);
    assert.ok(!fs.existsSync(out), `${what}: no report written`);
  }
});

test('rows beyond the bounds are skipped with one warning line naming them, and the rest runs to finite numbers', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trainq-limits-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const rows = ['2017-10-01 00:00:00,1e308,1', '2017-10-01 00:00:01,600,1', '2017-10-01 00:00:02,NaN,1', '2017-10-01 00:00:03,Infinity,1', '2017-10-01 00:00:04,-0,1', '2017-10-01 00:00:05,1e-324,1', '0099-12-31 23:59:59,60,1', '2017-10-01 00:00:06,60,9007199254740993', '2017-10-01 00:00:07,315576000,2'];
  fs.writeFileSync(path.join(dir, 't.csv'), ['timestamp,duration,num_gpus', ...rows].join('\n'));
  fs.writeFileSync(path.join(dir, 'c.json'), '{"name": "c", "hosts": [{"name": "slow", "gpus": 4, "speed": 0.001}, {"name": "q", "gpus": 2, "speed": 1000, "kind": "slurm", "queueDelay": {"medianSec": 2592000, "sigma": 5}}]}');
  const out = path.join(dir, 'o.json');
  const { code, stdout, stderr } = bench('--trace', path.join(dir, 't.csv'), '--cluster', path.join(dir, 'c.json'), '--policies', 'fcfs-firstfit,priority-fastest', '--out', out);
  assert.equal(code, 0, stderr);
  assert.equal(stderr.trim().split('\n').length, 1, stderr);
  assert.match(stderr.trim(), /^warning: .*t\.csv: 7 malformed rows skipped \(line 2: duration must be .*\(got "1e308"\); line 4: .*"NaN"\); line 5: .*"Infinity"\); line 6: .*"-0"\); line 7: .*"1e-324"\); and 2 more\)$/);
  assert.match(stdout, /2 jobs simulated/);
  const text = fs.readFileSync(out, 'utf8');
  assert.ok(!text.includes('null'), text);
  const report = JSON.parse(text);
  for (const m of Object.values<Record<string, number>>(report.policies)) {
    assert.ok(Object.values(m).every(Number.isFinite), JSON.stringify(m));
  }
});

test('a policy that reports its run-time predictions gets them in its JSON entry and a console table; others do not', async () => {
  const [fcfs] = resolvePolicies(['fcfs-firstfit']);
  const prediction = { medianAbsLogError: 0.42, p90AbsLogError: 1.5, coldStartShare: 0.031, predictions: 200 };
  const predicting: PolicyEntry = { name: 'predicting', summary: 'test', create: async (ctx) => ({ ...(await fcfs.create(ctx)), predictionReport: () => prediction }) };
  const silent: PolicyEntry = { name: 'silent', summary: 'test', create: async (ctx) => ({ ...(await fcfs.create(ctx)), predictionReport: () => undefined }) };
  const trace = loadTrace(path.join(ROOT, TRACE));
  const cluster = loadCluster(path.join(ROOT, CLUSTER));
  const { report, timings } = await runBench({ trace, traceLabel: TRACE, cluster, policies: [fcfs, predicting, silent], seed: 1, maxJobs: 100, agingMinutes: 60 });
  assert.deepEqual(report.policies.predicting.prediction, prediction);
  assert.equal('prediction' in report.policies['fcfs-firstfit'], false);
  assert.equal('prediction' in report.policies.silent, false);
  const table = formatTable(report, timings);
  assert.match(table, /^prediction +median \|log err\| +p90 \|log err\| +after 5 runs +cold start +predictions$/m);
  assert.match(table, /^predicting +0\.420 +1\.500 +- +3\.1% +200$/m);
  assert.doesNotMatch(table, /^(silent|fcfs-firstfit) +0\.\d{3} /m);
  // A prediction figure that JSON would write as null is refused like any metric.
  const broken: PolicyEntry = { name: 'broken', summary: 'test', create: async (ctx) => ({ ...(await fcfs.create(ctx)), predictionReport: () => ({ ...prediction, p90AbsLogError: NaN }) }) };
  await assert.rejects(runBench({ trace, traceLabel: TRACE, cluster, policies: [broken], seed: 1, maxJobs: 100, agingMinutes: 60 }), /policy broken's prediction: p90AbsLogError came out as NaN/);
});

test('a bad gpuType stops the run with one line; bad identity rows are one warning line and the rest runs', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trainq-bench-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const badCluster = path.join(dir, 'bad.json');
  fs.writeFileSync(badCluster, JSON.stringify({ name: 'bad', hosts: [{ name: 'gpu-0', gpus: 4, speed: 1, gpuType: 'h100' }] }));
  const failed = bench('--trace', TRACE, '--cluster', badCluster, '--out', path.join(dir, 'x.json'));
  assert.equal(failed.code, 1);
  assert.equal(failed.stderr, `bench: ${badCluster}: hosts[0] ("gpu-0"): gpuType must be one of k80, p100, v100 or absent (got "h100").\n`);
  const traceFile = path.join(dir, 't.csv');
  const rows = ['a:1,a,completed', ',a,completed', 'b:1,b,running', 'a:1,a,failed'].map((tail, i) => `2020-09-01 00:00:0${i},600,1,${tail}`);
  fs.writeFileSync(traceFile, ['timestamp,duration,num_gpus,identity,user,status', ...rows].join('\n'));
  const typed = 'bench/clusters/typed-small-12.json';
  const ran = bench('--trace', traceFile, '--cluster', typed, '--policies', 'oracle', '--out', path.join(dir, 'y.json'));
  assert.equal(ran.code, 0, ran.stderr);
  assert.equal(
    ran.stderr,
    `warning: ${traceFile}: 2 malformed rows skipped (line 3: identity must not be empty; line 4: status must be one of completed, canceled, failed, node_fail (got "running"))\n`,
  );
  assert.match(ran.stdout, /^workload 1 identities, 50\.0 % of jobs ran before;/m);
});

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { parseCli } from '../../src/sim/benchCli';

const ROOT = path.join(__dirname, '..', '..');
const TRACE = 'bench/traces/philly-ed69ec.csv';
const CLUSTER = 'bench/clusters/homo-8.json';

function bench(...args: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/sim/benchCli.ts', ...args], { cwd: ROOT, encoding: 'utf8' });
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
  assert.throws(() => parseCli([...base, '--aging-minutes', 'soon']), /--aging-minutes must be a number ≥ 0/);
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

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { MAX_TRACE_BYTES } from '../../src/sim/inputLimits';
import { MAX_NAME_CHARS, TRACE_STATUSES, TraceError, describeSkipped, loadTrace, parseTimestamp, parseTrace } from '../../src/sim/traceLoader';

const ROOT = path.join(__dirname, '..', '..');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'sim');

test('reads a real Philly slice completely, in submission order', () => {
  const trace = loadTrace(path.join(ROOT, 'bench', 'traces', 'philly-103959.csv'));
  assert.equal(trace.jobs.length, 1934);
  assert.deepEqual(trace.skipped, []);
  assert.deepEqual([...new Set(trace.jobs.map((j) => j.gpus))].sort(), [1, 2, 4]);
  // The file itself is not sorted (line 52 is earlier than line 51), the loaded trace is.
  assert.ok(trace.jobs.every((j, i) => i === 0 || trace.jobs[i - 1].submitSec <= j.submitSec));
  assert.deepEqual(trace.jobs[0], { line: 2, submitSec: Date.UTC(2017, 8, 21, 17, 0, 12) / 1000, durationSec: 976570, gpus: 1 });
});

test('skips malformed rows with their line numbers and keeps the rest', () => {
  const trace = loadTrace(path.join(FIXTURES, 'malformed-rows.csv'));
  assert.deepEqual(
    trace.skipped.map((s) => s.line),
    [4, 5, 6, 7, 8, 9, 10],
  );
  const messages = trace.skipped.map((s) => s.message);
  assert.match(messages[0], /timestamp must be YYYY-MM-DD HH:MM:SS \(got "2017\/10\/01 13:00:00"\)/);
  assert.match(messages[1], /duration must be a positive number of seconds, from 0\.001 to 315576000 \(10 years\) \(got ""\)/);
  assert.match(messages[2], /duration .*\(got "-5"\)/);
  assert.match(messages[3], /num_gpus must be a positive integer, at most 1048576 \(got "0"\)/);
  assert.match(messages[4], /num_gpus .*\(got "1.5"\)/);
  assert.match(messages[5], /expected 5 fields like the header, got 3/);
  assert.match(messages[6], /timestamp .*2017-02-30/);
  // Lines 3 and 12 share a timestamp: file order breaks the tie.
  assert.deepEqual(
    trace.jobs.map((j) => [j.line, j.durationSec, j.gpus]),
    [
      [3, 600, 1],
      [12, 900, 4],
      [2, 3600, 2],
    ],
  );
  assert.equal(describeSkipped(trace.skipped, 2), '7 malformed rows skipped (line 4: ' + messages[0] + '; line 5: ' + messages[1] + '; and 5 more)');
});

test('a file with no usable row is an error that says why', () => {
  assert.throws(() => loadTrace(path.join(FIXTURES, 'no-usable-rows.csv')), (err: Error) => {
    assert.ok(err instanceof TraceError);
    assert.match(err.message, /no-usable-rows\.csv: no usable job row \(all 2 rows are malformed; first, line 2: timestamp must be/);
    return true;
  });
  assert.throws(() => loadTrace(path.join(FIXTURES, 'header-only.csv')), /header-only\.csv: no usable job row \(it has a header but no rows\)/);
  assert.throws(() => loadTrace(path.join(FIXTURES, 'empty.csv')), /empty\.csv: the trace is empty/);
});

test('a header without the required columns is an error naming them', () => {
  assert.throws(() => parseTrace('time,duration,gpus\n2017-10-01 12:00:00,60,1\n', 'x.csv'), /x\.csv: line 1: .*timestamp, num_gpus missing/);
});

test('a missing file is one clear error', () => {
  assert.throws(() => loadTrace('/nonexistent/trace.csv'), (err: Error) => err instanceof TraceError && /Cannot read the trace \/nonexistent\/trace\.csv: no such file/.test(err.message));
});

test('columns are found by name, with CRLF line ends and a byte-order mark', () => {
  const trace = parseTrace('\uFEFFnum_gpus,note,timestamp,duration\r\n8,a,2017-10-01 00:00:10,30\r\n2,b,2017-10-01 00:00:00,45.5\r\n', 'r.csv');
  assert.deepEqual(
    trace.jobs.map((j) => [j.line, j.gpus, j.durationSec]),
    [
      [3, 2, 45.5],
      [2, 8, 30],
    ],
  );
  assert.equal(trace.jobs[1].submitSec - trace.jobs[0].submitSec, 10);
});

test('timestamps must be real calendar times', () => {
  assert.equal(parseTimestamp('2016-02-29 23:59:59'), Date.UTC(2016, 1, 29, 23, 59, 59) / 1000);
  assert.equal(parseTimestamp('2017-02-29 00:00:00'), undefined);
  assert.equal(parseTimestamp('2017-10-01 24:00:00'), undefined);
  assert.equal(parseTimestamp('2017-10-01T00:00:00'), undefined);
});

/** One row per field value, after a good first row: what was kept and why each other line was skipped. */
function rowsWith(field: 'timestamp' | 'duration' | 'num_gpus', values: readonly string[]) {
  const row = (v: string) => ({ timestamp: '2017-10-01 00:00:00', duration: '60', num_gpus: '1', [field]: v });
  const text = ['timestamp,duration,num_gpus', ...['2017-10-01 00:00:00,60,1', ...values.map((v) => Object.values(row(v)).join(','))]].join('\n');
  const trace = parseTrace(text, 'edge.csv');
  const skipped = new Map(trace.skipped.map((s) => [values[s.line - 3], s.message]));
  return { kept: trace.jobs.filter((j) => j.line > 2).map((j) => values[j.line - 3]), skipped };
}

test('durations at the edge of a double are skipped with the bound, never let through to overflow a sum', () => {
  const bad = ['1e308', '1.7976931348623157e+308', '1e-324', '5e-324', '-0', '0', '0.0009', '315576000.5', 'NaN', 'Infinity', '-Infinity', '0x10', '-5', '1e400'];
  const { kept, skipped } = rowsWith('duration', [...bad, '0.001', '315576000', '1e3', '976570.0']);
  assert.deepEqual(kept, ['0.001', '315576000', '1e3', '976570.0']);
  for (const v of bad) {
    assert.equal(skipped.get(v), `duration must be a positive number of seconds, from 0.001 to 315576000 (10 years) (got "${v}")`);
  }
});

test('GPU counts are whole numbers up to 1048576', () => {
  const bad = ['0', '-0', '1.5', '1048577', '9007199254740993', '1e400', 'Infinity', 'NaN', '0x2', '2 4'];
  const { kept, skipped } = rowsWith('num_gpus', [...bad, '1048576', '1e3', '8.0']);
  assert.deepEqual(kept, ['1048576', '1e3', '8.0']);
  for (const v of bad) {
    assert.equal(skipped.get(v), `num_gpus must be a positive integer, at most 1048576 (got "${v}")`);
  }
});

test('years 0000-0099 are read as written, not as 1900-1999, then held to 1970-2099', () => {
  assert.equal(parseTimestamp('0001-01-01 00:00:00'), -62_135_596_800);
  assert.equal((parseTimestamp('0100-01-01 00:00:00') as number) - (parseTimestamp('0099-12-31 23:59:59') as number), 1);
  // Year 0 (1 BC) is a leap year of 366 days before year 1; its 29 February is 59.5 days in.
  assert.equal(parseTimestamp('0000-02-29 12:00:00'), -62_135_596_800 - 366 * 86_400 + 59.5 * 86_400);
  assert.equal(parseTimestamp('0100-02-29 00:00:00'), undefined, '100 is not');
  assert.equal(parseTimestamp('1970-01-01 00:00:00'), 0);
  assert.equal(parseTimestamp('9999-12-31 23:59:59'), 253_402_300_799);
  const bad = ['0001-01-01 00:00:00', '0099-12-31 23:59:59', '0017-10-01 00:00:00', '1969-12-31 23:59:59', '2100-01-01 00:00:00', '9999-12-31 23:59:59'];
  const { kept, skipped } = rowsWith('timestamp', [...bad, '1970-01-01 00:00:00', '2099-12-31 23:59:59']);
  assert.deepEqual(kept, ['1970-01-01 00:00:00', '2099-12-31 23:59:59']);
  for (const v of bad) {
    assert.equal(skipped.get(v), `timestamp must be from 1970-01-01 00:00:00 to 2099-12-31 23:59:59 (got "${v}")`);
  }
});

/** loadTrace in a child process with a deadline: a reader that never ends must fail the test, not hang CI. */
function loadInChild(file: string): { status: number | null; out: string; ms: number } {
  const script = `try { require('./src/sim/traceLoader').loadTrace(${JSON.stringify(file)}); console.log('loaded'); } catch (e) { console.log(e.name + ': ' + e.message); }`;
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, out: (r.stdout + r.stderr).trim(), ms: Date.now() - t0 };
}

test('an endless trace (/dev/zero) ends at once with the line limit', { skip: process.platform === 'win32' }, () => {
  const { status, out, ms } = loadInChild('/dev/zero');
  assert.equal(status, 0, `killed after ${ms} ms: ${out}`);
  assert.equal(out, 'TraceError: /dev/zero: line 1 is longer than 64 KiB, the most a trace line may be (is it a trace file?).');
});

test('a trace larger than the byte limit is refused, by its size or, for a fifo (size 0), as it is read', { skip: process.platform === 'win32' }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trainq-trace-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const sparse = path.join(dir, 'big.csv');
  fs.writeFileSync(sparse, 'timestamp,duration,num_gpus\n');
  fs.truncateSync(sparse, MAX_TRACE_BYTES + 1);
  assert.throws(() => loadTrace(sparse), /big\.csv: the trace is larger than 256 MiB, the most the simulator reads/);
  // Valid rows without end through a fifo: only the byte count can stop it.
  const fifo = path.join(dir, 'endless.csv');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  const writer = spawn('sh', ['-c', `{ echo timestamp,duration,num_gpus; yes 2017-10-01 00:00:00,60,1; } > '${fifo}'`], { stdio: 'ignore' });
  t.after(() => writer.kill());
  const { status, out, ms } = loadInChild(fifo);
  assert.equal(status, 0, `killed after ${ms} ms: ${out}`);
  assert.match(out, /^TraceError: .*endless\.csv: the trace is larger than 256 MiB, the most the simulator reads \(is it a trace file\?\)\.$/);
});

test('the Helios excerpt loads with its identity, user and status columns', () => {
  const trace = loadTrace(path.join(ROOT, 'bench', 'traces', 'helios-venus-2vc.csv'));
  assert.equal(trace.jobs.length, 1867);
  assert.deepEqual(trace.skipped, []);
  const count = (status: string) => trace.jobs.filter((j) => j.status === status).length;
  assert.deepEqual(TRACE_STATUSES.map(count), [786, 589, 491, 1]);
  assert.equal(new Set(trace.jobs.map((j) => j.identity)).size, 52);
  assert.ok(trace.jobs.every((j) => j.identity === `${j.user}:${j.gpus}`));
  assert.deepEqual(trace.jobs[0], { line: 2, submitSec: Date.UTC(2020, 8, 1, 1, 37, 15) / 1000, durationSec: 24, gpus: 128, identity: 'uH3om:128', user: 'uH3om', status: 'canceled' });
});

test('rows with an unusable identity, user or status are skipped, each with a message naming the field, in one warning line', () => {
  const long = 'x'.repeat(MAX_NAME_CHARS + 1);
  const rows = [
    '2020-09-01 00:00:00,60,1,a:1,a,completed',
    '2020-09-01 00:00:01,60,1,,a,completed',
    '2020-09-01 00:00:02,60,1,a\u0007b:1,a,completed',
    `2020-09-01 00:00:03,60,1,${long},a,completed`,
    '2020-09-01 00:00:04,60,1,a:1,a,running',
    '2020-09-01 00:00:05,60,1,a:1,,failed',
    `2020-09-01 00:00:06,60,1,${'y'.repeat(MAX_NAME_CHARS)},a,node_fail`,
  ];
  const trace = parseTrace(['timestamp,duration,num_gpus,identity,user,status', ...rows].join('\n'), 'h.csv');
  assert.deepEqual(trace.jobs.map((j) => [j.line, j.status]), [[2, 'completed'], [8, 'node_fail']]);
  assert.deepEqual(trace.skipped, [
    { line: 3, message: 'identity must not be empty' },
    { line: 4, message: 'identity must not contain control characters (got "a\\u0007b:1")' },
    { line: 5, message: `identity must be at most ${MAX_NAME_CHARS} characters (got ${MAX_NAME_CHARS + 1})` },
    { line: 6, message: 'status must be one of completed, canceled, failed, node_fail (got "running")' },
    { line: 7, message: 'user must not be empty' },
  ]);
  assert.doesNotMatch(describeSkipped(trace.skipped), /\n/);
  // Without the optional columns, rows carry no such keys (the Philly slices read exactly as before).
  assert.deepEqual(Object.keys(parseTrace('timestamp,duration,num_gpus\n2020-09-01 00:00:00,60,1', 'p.csv').jobs[0]), ['line', 'submitSec', 'durationSec', 'gpus']);
});

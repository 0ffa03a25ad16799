import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { TraceError, describeSkipped, loadTrace, parseTimestamp, parseTrace } from '../../src/sim/traceLoader';

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
  assert.match(messages[1], /duration must be a positive number of seconds \(got ""\)/);
  assert.match(messages[2], /duration .*\(got "-5"\)/);
  assert.match(messages[3], /num_gpus must be a positive integer \(got "0"\)/);
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

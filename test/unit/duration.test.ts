import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DurationError, formatDuration, parseDuration } from '../../src/core/duration';

test('parses each unit, combinations, decimals and long unit names', () => {
  const cases: Array<[string, number]> = [
    ['45s', 45],
    ['90m', 5_400],
    ['3h', 10_800],
    ['1h30m', 5_400],
    ['1h 30m', 5_400],
    ['1.5h', 5_400],
    ['2d', 172_800],
    ['1d 4h', 100_800],
    ['1d4h30m15s', 102_615],
    ['2 hours', 7_200],
    ['10 min', 600],
    ['1 day 2 hrs', 93_600],
    ['  3H ', 10_800],
    ['.5h', 1_800],
  ];
  for (const [text, seconds] of cases) {
    assert.equal(parseDuration(text), seconds, text);
  }
});

test('a bare number means minutes', () => {
  assert.equal(parseDuration('90'), 5_400);
  assert.equal(parseDuration('2.5'), 150);
});

test('rounds to whole seconds', () => {
  assert.equal(parseDuration('1.0001m'), 60);
  assert.equal(parseDuration('0.5s'), 1);
});

test('rejects empty, negative, zero and unreadable input with an example of what works', () => {
  for (const text of ['', '   ', '-5m', '-1', '0', '0h', 'abc', '5x', '1h30', 'h', '1,5h', '1e3s', '3h 2h', '1h-30m', '0.2s', '5constructor', '1toString']) {
    assert.throws(
      () => parseDuration(text),
      (e: unknown) => e instanceof DurationError && /e\.g\. 45s, 90m, 1h30m/.test(e.message),
      JSON.stringify(text),
    );
  }
  assert.throws(() => parseDuration('-5m'), /can't be negative/);
  assert.throws(() => parseDuration('3h 2h'), /"h" twice/);
  assert.throws(() => parseDuration('5x'), /Can't read "5x"/);
});

test('formats compactly with at most two units', () => {
  const cases: Array<[number, string]> = [
    [0, '0s'],
    [45, '45s'],
    [60, '1m'],
    [90, '1m 30s'],
    [720, '12m'],
    [3_600, '1h'],
    [5_400, '1h 30m'],
    [7_229, '2h'],
    [187_200, '2d 4h'],
    [2_592_000, '30d'],
  ];
  for (const [seconds, text] of cases) {
    assert.equal(formatDuration(seconds), text, String(seconds));
  }
});

test('rounds to the smaller unit shown, carrying into the larger one', () => {
  assert.equal(formatDuration(5_399), '1h 30m');
  assert.equal(formatDuration(3_599), '59m 59s');
  assert.equal(formatDuration(3_599.6), '1h');
  assert.equal(formatDuration(86_399), '1d');
  assert.equal(formatDuration(-90), '-1m 30s');
});

test('what formatDuration writes, parseDuration reads back', () => {
  for (const seconds of [1, 45, 60, 90, 720, 3_600, 5_400, 36_000, 86_400, 187_200, 2_592_000]) {
    assert.equal(parseDuration(formatDuration(seconds)), seconds, String(seconds));
  }
});

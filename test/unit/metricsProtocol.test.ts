import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAX_METRIC_LINE_CHARS,
  emptyJobMetrics,
  formatMetricValue,
  latestText,
  metricsTooltip,
  parseMetricJsonLine,
  parseMetricLine,
  recordMetrics,
  validateJobMetrics,
  MAX_METRIC_NAMES,
  MAX_SERIES_POINTS,
  type MetricReport,
} from '../../src/core/metricsProtocol';

/** A report as plain objects, so deepEqual can compare it (the parser's values have no prototype). */
function plain(report: MetricReport | undefined): { step?: number; values: Record<string, number> } | undefined {
  return report && { ...report, values: { ...report.values } };
}

test('a stdout line gives every pair and its step', () => {
  assert.deepEqual(plain(parseMetricLine('trainq:metric val_acc=0.981 loss=0.05 step=7')), { step: 7, values: { val_acc: 0.981, loss: 0.05 } });
  assert.deepEqual(plain(parseMetricLine('  \ttrainq:metric lr=3e-4 train/loss=-1.5E+2 top-1.acc=.5')), { values: { lr: 3e-4, 'train/loss': -150, 'top-1.acc': 0.5 } });
  assert.deepEqual(plain(parseMetricLine('trainq:metric a=1\r')), { values: { a: 1 } });
});

test('only whitespace may precede the marker, and it must be a word of its own', () => {
  for (const line of ['[rank0] trainq:metric a=1', 'echo "trainq:metric a=1"', '\x1b[32mtrainq:metric a=1', 'trainq:metrics a=1', 'trainq:metrica=1', 'TRAINQ:METRIC a=1', 'a=1']) {
    assert.equal(parseMetricLine(line), undefined, line);
  }
});

test('bad values are dropped and the good pairs of the line kept', () => {
  const bad = ['NaN', 'nan', 'Infinity', '-Infinity', 'inf', '1e999', '-1e999', '0x10', '0b1', '1_000', '', '1,5', '1.2.3', '--1', 'e5', '+', '.', '12abc', '1e'];
  for (const value of bad) {
    assert.deepEqual(plain(parseMetricLine(`trainq:metric bad=${value} good=2 step=3`)), { step: 3, values: { good: 2 } }, value);
  }
  assert.equal(parseMetricLine('trainq:metric a=NaN b=Infinity'), undefined, 'nothing usable: no report');
  assert.equal(parseMetricLine('trainq:metric step=4'), undefined, 'a step alone reports nothing');
  assert.equal(parseMetricLine('trainq:metric'), undefined);
  assert.deepEqual(plain(parseMetricLine('trainq:metric big=1.7e308 tiny=5e-324 a=b=1 lone = x=1')), { values: { big: 1.7e308, tiny: 5e-324, x: 1 } });
});

test('hostile names are refused and can never reach a prototype', () => {
  const names = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '<script>alert(1)</script>', 'a<b', '\x1b[31mred', '1abc', '-a', '.a', '/a', 'a'.repeat(65), 'ä', 'a\u200bb', 'a;rm', '$x', 'step'];
  for (const name of names) {
    const report = parseMetricLine(`trainq:metric ${name}=1 ok=2`);
    assert.deepEqual(Object.keys(report!.values), ['ok'], name);
    assert.equal(Object.getPrototypeOf(report!.values), null);
  }
  assert.deepEqual(Object.keys(parseMetricLine(`trainq:metric _a=1 ${'b'.repeat(64)}=2 A.b-c/d_9=3`)!.values), ['_a', 'b'.repeat(64), 'A.b-c/d_9']);
  const json = parseMetricJsonLine('{"__proto__": {"polluted": 1}, "constructor": 2, "ok": 3}');
  assert.deepEqual(Object.keys(json!.values), ['ok']);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('steps must be non-negative safe integers; a bad one is ignored like any bad pair', () => {
  for (const step of ['-1', '1.5', '1e3', '9007199254740993', '99999999999999999', 'x', '']) {
    assert.deepEqual(plain(parseMetricLine(`trainq:metric a=1 step=${step}`)), { values: { a: 1 } }, step);
  }
  assert.equal(parseMetricLine('trainq:metric a=1 step=0')!.step, 0);
  assert.equal(parseMetricLine('trainq:metric a=1 step=9007199254740991')!.step, Number.MAX_SAFE_INTEGER);
  assert.equal(parseMetricLine('trainq:metric step=2 a=1 step=5')!.step, 5, 'the last step given counts');
});

test('lines over the cap are ignored whole, and at most 32 values a line are kept', () => {
  const padded = `trainq:metric a=1 ${' '.repeat(MAX_METRIC_LINE_CHARS)}`;
  assert.equal(parseMetricLine(padded), undefined);
  assert.equal(parseMetricJsonLine(`{"a": 1, "pad": "${'x'.repeat(MAX_METRIC_LINE_CHARS)}"}`), undefined);
  const many = Array.from({ length: 50 }, (_, i) => `m${i}=${i}`).join(' ');
  const report = parseMetricLine(`trainq:metric ${many}`)!;
  assert.equal(Object.keys(report.values).length, 32);
  assert.equal(report.values.m31, 31);
  assert.equal(report.values.m32, undefined);
  assert.equal(parseMetricLine('trainq:metric a=1 a=2')!.values.a, 2, 'a repeated name takes its last value');
});

test('JSON lines: top-level finite numbers only, anything else ignored', () => {
  const line = '{"val_acc": 0.981, "loss": 0.05, "step": 7, "nested": {"x": 1}, "list": [1, 2], "s": "0.5", "b": true, "n": null, "huge": 1e999}';
  assert.deepEqual(plain(parseMetricJsonLine(line)), { step: 7, values: { val_acc: 0.981, loss: 0.05 } });
  assert.deepEqual(plain(parseMetricJsonLine('  {"a": -0.5, "step": -1}\r')), { values: { a: -0.5 } });
  for (const bad of ['[1, 2]', '"a"', '3', 'null', '{"a": 1', '{"a": "1"}', '{}', '', 'trainq:metric a=1', '{"a": NaN}', '{"a": Infinity}']) {
    assert.equal(parseMetricJsonLine(bad), undefined, bad);
  }
  assert.equal(parseMetricJsonLine(`${'['.repeat(2000)}${']'.repeat(2000)}`), undefined, 'deep nesting is no object');
});

test('recordMetrics: steps default to the series\u2019 last + 1, going back replaces, repeats change nothing', () => {
  const m = emptyJobMetrics();
  assert.equal(recordMetrics(m, { values: { loss: 0.9 } }, 10), true);
  recordMetrics(m, { values: { loss: 0.8 } }, 20);
  recordMetrics(m, { step: 10, values: { loss: 0.7, acc: 0.5 } }, 30);
  recordMetrics(m, { values: { loss: 0.6, acc: 0.6 } }, 40);
  assert.deepEqual(m.series.loss, [{ step: 1, value: 0.9 }, { step: 2, value: 0.8 }, { step: 10, value: 0.7 }, { step: 11, value: 0.6 }]);
  assert.deepEqual(m.series.acc, [{ step: 10, value: 0.5 }, { step: 11, value: 0.6 }]);
  // Resumed from the step-2 checkpoint: what came after is replaced.
  assert.equal(recordMetrics(m, { step: 2, values: { loss: 0.75 } }, 50), true);
  assert.deepEqual(m.series.loss, [{ step: 1, value: 0.9 }, { step: 2, value: 0.75 }]);
  assert.equal(m.latest.loss, 0.75);
  assert.equal(recordMetrics(m, { step: 2, values: { loss: 0.75 } }, 60), false);
  assert.equal(m.updatedMs, 50);
});

test('recordMetrics: at most 32 names, and hostile reports from elsewhere are filtered too', () => {
  const m = emptyJobMetrics();
  for (let i = 0; i < 40; i++) {
    recordMetrics(m, { values: { [`m${i}`]: i } }, i);
  }
  assert.equal(Object.keys(m.series).length, MAX_METRIC_NAMES);
  assert.equal(recordMetrics(m, { values: { m39: 1 } }, 99), false);
  assert.equal(recordMetrics(m, { values: { m0: 5 } }, 99), true);
  const hostile = JSON.parse('{"__proto__": 1, "x": 2}') as Record<string, number>;
  const n = emptyJobMetrics();
  assert.equal(recordMetrics(n, { values: { a: Number.NaN, b: Infinity } }, 1), false);
  assert.deepEqual(Object.keys(n.series), []);
  assert.equal(recordMetrics(n, { values: hostile }, 1), true);
  assert.deepEqual(Object.keys(n.series), ['x']);
  assert.equal(Object.getPrototypeOf(n.series), null);
});

test('thinning keeps the curve\u2019s shape: first, last and evenly spread points', () => {
  const m = emptyJobMetrics();
  for (let step = 0; step < 2000; step++) {
    recordMetrics(m, { step, values: { loss: Math.exp(-step / 500) } }, step);
  }
  const points = m.series.loss;
  assert.ok(points.length <= MAX_SERIES_POINTS && points.length >= MAX_SERIES_POINTS / 4, `${points.length} points`);
  assert.equal(points[0].step, 0);
  assert.equal(points.at(-1)!.step, 1999);
  const gaps = points.slice(1).map((p, i) => p.step - points[i].step);
  // A thinning spaces points at least span / 250 apart, so no gap reaches twice 2000 / 250.
  assert.ok(Math.max(...gaps) <= 16, `largest gap ${Math.max(...gaps)}`);
  const inQuarter = (q: number) => points.filter((p) => p.step >= q * 500 && p.step < (q + 1) * 500).length;
  assert.ok(inQuarter(0) >= inQuarter(2) / 2, `the start (${inQuarter(0)} points) is not much coarser than later (${inQuarter(2)})`);
  assert.ok(points.every((p) => Math.abs(p.value - Math.exp(-p.step / 500)) < 1e-12));
});

test('latestText and the tooltip: preferred metric first, 3–4 significant digits, the step', () => {
  const m = emptyJobMetrics();
  assert.equal(latestText(m), '');
  assert.equal(metricsTooltip(m), '');
  recordMetrics(m, { step: 7, values: { loss: 0.05, val_acc: 0.98123, lr: 0.0003, grad_norm: 12345.6 } }, 1);
  assert.equal(latestText(m, 'val_acc'), 'val_acc 0.9812 · loss 0.05 · lr 3e-4 (step 7)');
  assert.equal(latestText(m), 'loss 0.05 · val_acc 0.9812 · lr 3e-4 (step 7)');
  assert.equal(latestText(m, 'absent'), latestText(m));
  assert.match(metricsTooltip(m), /- `grad_norm` 1\.23e\+4 at step 7 \(1 point kept\)/);
  assert.deepEqual(
    [0, 1, -2.5, 123.456, 0.001, 0.000999, 9999.4, 1e300].map(formatMetricValue),
    ['0', '1', '-2.5', '123.5', '0.001', '9.99e-4', '9999', '1e+300'],
  );
});

test('validateJobMetrics round-trips saved data and drops damaged data without throwing', () => {
  const m = emptyJobMetrics();
  recordMetrics(m, { step: 3, values: { loss: 0.5, acc: 0.7 } }, 1234);
  const back = validateJobMetrics(JSON.parse(JSON.stringify(m)));
  assert.deepEqual(JSON.parse(JSON.stringify(back)), JSON.parse(JSON.stringify(m)));
  assert.equal(Object.getPrototypeOf(back!.series), null);
  const good = () => JSON.parse(JSON.stringify(m)) as { series: Record<string, unknown>; latest: Record<string, unknown>; updatedMs?: unknown };
  const damaged: unknown[] = [
    undefined, null, 3, 'x', [], {}, { series: {} }, { series: [], latest: {} },
    JSON.parse('{"series": {"__proto__": [{"step": 1, "value": 1}]}, "latest": {"__proto__": 1}}'),
  ];
  const edits: Array<(d: ReturnType<typeof good>) => void> = [
    (d) => (d.series.loss = []),
    (d) => (d.series.loss = [{ step: 2, value: 1 }, { step: 2, value: 1 }]),
    (d) => (d.series.loss = [{ step: -1, value: 1 }]),
    (d) => (d.series.loss = [{ step: 1, value: '1' }]),
    (d) => (d.series.loss = [{ step: 1.5, value: 1 }]),
    (d) => (d.series.loss = Array.from({ length: MAX_SERIES_POINTS + 1 }, (_, i) => ({ step: i, value: 1 }))),
    (d) => (d.latest.loss = null),
    (d) => delete d.latest.acc,
    (d) => (d.latest.extra = 1),
    (d) => (d.updatedMs = 'yesterday'),
    (d) => (d.series['bad name'] = [{ step: 1, value: 1 }]),
  ];
  for (const edit of edits) {
    const d = good();
    edit(d);
    damaged.push(d);
  }
  for (const raw of damaged) {
    assert.equal(validateJobMetrics(raw), undefined, JSON.stringify(raw)?.slice(0, 80));
  }
});

import assert from 'node:assert/strict';
import type * as os from 'node:os';
import { test } from 'node:test';
import { silentLogger } from '../../src/core/logger';
import { CpuLoadMeter, probeResources } from '../../src/hosts/local/resourceProbe';

const cpu = (busy: number, idle: number): os.CpuInfo => ({
  model: 'x',
  speed: 1,
  times: { user: busy, nice: 0, sys: 0, idle, irq: 0 },
});

test('CPU load is the busy share of the time between two readings, over all CPUs', async () => {
  const readings = [
    [cpu(100, 900), cpu(100, 900)],
    [cpu(150, 950), cpu(200, 900)], // +50/+50 and +100/+0 → 150 busy of 200
    [cpu(150, 1050), cpu(200, 1000)], // idle only
  ];
  let i = 0;
  const meter = new CpuLoadMeter(() => readings[i++], 0);
  assert.equal(await meter.loadPct(), 75);
  assert.equal(await meter.loadPct(), 0);
});

test('a real probe of this machine gives plausible figures', async () => {
  const snapshot = await probeResources(silentLogger, new CpuLoadMeter());
  assert.ok(snapshot.cpuCount! >= 1);
  assert.ok(snapshot.cpuLoadPct! >= 0 && snapshot.cpuLoadPct! <= 100);
  assert.ok(snapshot.memTotalBytes! > 0 && snapshot.memUsedBytes! > 0 && snapshot.memUsedBytes! <= snapshot.memTotalBytes!);
});

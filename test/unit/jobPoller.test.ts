import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../src/core/logger';
import type { ExitReport } from '../../src/core/host';
import { JobPoller, type JobPollerOptions, type PolledJob } from '../../src/hosts/remote/jobPoller';
import { waitFor } from '../support/waiting';

class Down extends Error {}

function poller(over: Partial<JobPollerOptions<PolledJob, string[]>> = {}) {
  const reports: ExitReport[] = [];
  const outages: string[] = [];
  const warned: string[] = [];
  const polled: string[][] = [];
  const p = new JobPoller<PolledJob, string[]>({
    hostName: 'h',
    logger: { ...silentLogger, warn: (m: string) => void warned.push(m) },
    pollMs: 3_600_000,
    lostAfterMs: 60_000,
    what: 'job poll',
    poll: async (jobs) => (polled.push(jobs.map((j) => j.jobId)), jobs.map((j) => j.jobId)),
    apply: async () => undefined,
    isConnectionError: (e) => e instanceof Down,
    lostReason: (s, why) => `away ${s} s (${why})`,
    onOutage: (j, why) => void outages.push(`${j.jobId}: ${why}`),
    report: (r) => void reports.push(r),
    ...over,
  });
  return { p, reports, outages, warned, polled };
}

const job = (jobId: string, unreachableSince?: number): PolledJob => ({ jobId, unreachableSince, finishing: false });

test('one poll covers every followed job except those being finished; concurrent pollNow calls share it', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const { p, polled } = poller({ poll: async (jobs) => (await gate, polled.push(jobs.map((j) => j.jobId)), []) });
  p.add(job('a'));
  p.add(job('b'));
  p.add({ ...job('c'), finishing: true });
  const first = p.pollNow();
  const second = p.pollNow();
  release();
  await Promise.all([first, second]);
  assert.deepEqual(polled, [['a', 'b']]);
  p.dispose();
});

test('an unreachable host: jobs are lost only after lostAfterMs, each reported once with the reason', async () => {
  const { p, reports, outages } = poller({
    poll: async () => {
      throw new Down('Connection refused');
    },
  });
  p.add(job('fresh'));
  p.add(job('old', Date.now() - 120_000));
  await p.pollNow();
  assert.deepEqual(reports, [{ jobId: 'old', exitCode: undefined, reason: 'away 120 s (Connection refused)' }]);
  assert.deepEqual(outages, ['fresh: Connection refused', 'old: Connection refused']);
  assert.equal(p.has('old'), false);
  assert.ok(p.get('fresh')!.unreachableSince! > 0, 'the outage clock runs for the fresh job');
  await p.pollNow();
  assert.equal(reports.length, 1, 'the fresh job is not lost yet, the old one not reported twice');
  p.dispose();
});

test('end() reports once; after dispose nothing is reported', () => {
  const { p, reports } = poller();
  p.add(job('a'));
  p.add(job('b'));
  assert.equal(p.end({ jobId: 'a', exitCode: 0 }), true);
  assert.equal(p.end({ jobId: 'a', exitCode: 0 }), false);
  p.dispose();
  assert.equal(p.end({ jobId: 'b', exitCode: 1 }), false);
  assert.deepEqual(reports, [{ jobId: 'a', exitCode: 0 }]);
});

test('a bug in a poll or in applying its answer is logged, never an outage', async () => {
  const { p, outages, warned } = poller({
    apply: async () => {
      throw new Error('bad answer');
    },
  });
  p.add(job('a'));
  await p.pollNow();
  assert.deepEqual(outages, []);
  assert.deepEqual(warned, ['h: job poll failed: bad answer']);
  p.dispose();
});

test('polls run by themselves every pollMs, sooner after pollSoon, and stop with the last job', async () => {
  const { p, polled } = poller({ pollMs: 30 });
  p.add(job('a'));
  await waitFor('two timed polls', () => polled.length >= 2, 2000);
  p.end({ jobId: 'a', exitCode: 0 });
  const count = polled.length;
  await new Promise((r) => setTimeout(r, 120));
  assert.ok(polled.length <= count + 1, 'no polls without jobs');
  p.dispose();

  const slow = poller({ pollMs: 3_600_000 });
  slow.p.add(job('b'));
  slow.p.pollSoon();
  await waitFor('the poll asked for soon', () => slow.polled.length === 1, 1000);
  slow.p.dispose();
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../src/core/logger';
import type { ExitReport, JobNote } from '../../src/core/host';
import type { SlurmJobRow } from '../../src/hosts/slurm/slurmCommands';
import type { SlurmPoll } from '../../src/hosts/slurm/slurmScripts';
import { SlurmTracker } from '../../src/hosts/slurm/slurmTracker';

/** A tracker over scripted poll answers: each pollNow takes the next one. */
function trackerWith(answers: SlurmPoll[], lostAfterMs = 60_000) {
  const reports: ExitReport[] = [];
  const notes: JobNote[] = [];
  const logged: string[] = [];
  const logger = { ...silentLogger, info: (m: string) => void logged.push(m), warn: (m: string) => void logged.push(m) };
  const tracker = new SlurmTracker({
    hostName: 'cluster',
    logger,
    pollMs: 3_600_000, // never by timer: the test polls
    lostAfterMs,
    poll: async () => {
      const next = answers.shift();
      assert.ok(next, 'the test ran out of poll answers');
      return next;
    },
    remoteLog: (id) => `cluster:/jobs/${id}/output.log`,
    isConnectionError: () => false,
    report: (r) => reports.push(r),
    note: (n) => notes.push(n),
  });
  return { tracker, reports, notes, logged };
}

const noFiles = { jobId: 'j1', missing: false, alive: false, size: 0, data: Buffer.alloc(0), metricsSize: 0, metrics: Buffer.alloc(0) };
const completed: SlurmJobRow = { slurmId: '41', name: 'trainq-j1', state: 'COMPLETED', exitCode: 0 };

test('a job gone from squeue is not ended while sacct fails: it waits for an answer, then takes it', async () => {
  const dbDown: SlurmPoll = { rows: [], accountingDisabled: false, accountingError: 'slurmdbd: Connection refused', files: [noFiles] };
  const { tracker, reports, notes } = trackerWith([dbDown, { rows: [], accounting: [completed], accountingDisabled: false, files: [noFiles] }]);
  await tracker.track('j1', '41', [0]);
  await tracker.pollNow();
  assert.deepEqual(reports, [], 'no end concluded from an outage');
  assert.ok(tracker.isTracked('j1'));
  assert.match(notes.at(-1)?.note ?? '', /cannot be asked.*sacct: slurmdbd: Connection refused/);
  await tracker.pollNow();
  assert.deepEqual(reports, [{ jobId: 'j1', exitCode: 0, reason: undefined }]);
  tracker.dispose();
});

test('an exit file still decides while sacct fails, and a lasting sacct outage ends as Lost', async () => {
  const dbDown = (exitCode?: number): SlurmPoll => ({
    rows: [],
    accountingDisabled: false,
    accountingError: 'slurmdbd: Connection refused',
    files: [{ ...noFiles, exitCode }],
  });
  const withFile = trackerWith([dbDown(3)]);
  await withFile.tracker.track('j1', '41', [0]);
  await withFile.tracker.pollNow();
  assert.deepEqual(withFile.reports, [{ jobId: 'j1', exitCode: 3, reason: undefined }]);

  const lasting = trackerWith([dbDown()], 0);
  await lasting.tracker.track('j1', '41', [0]);
  await lasting.tracker.pollNow();
  assert.equal(lasting.reports.length, 1);
  assert.equal(lasting.reports[0].exitCode, undefined);
  assert.match(lasting.reports[0].reason ?? '', /could not be asked .*sacct: slurmdbd/);
});

test('reattach after a restart keeps following a job whose end sacct cannot tell yet', async () => {
  const { tracker, reports } = trackerWith([{ rows: [], accountingDisabled: false, accountingError: 'timeout', files: [noFiles] }]);
  assert.deepEqual(await tracker.reattach('j1', '41', [0]), { kind: 'running' });
  assert.ok(tracker.isTracked('j1'));
  assert.deepEqual(reports, []);
  tracker.dispose();
});

test('with accounting disabled, a job Slurm forgot ends on its exit file alone (Lost without one)', async () => {
  const { tracker, reports, logged } = trackerWith([{ rows: [], accountingDisabled: true, files: [noFiles] }]);
  await tracker.track('j1', '41', [0]);
  await tracker.pollNow();
  assert.equal(reports.length, 1);
  assert.match(reports[0].reason ?? '', /no longer lists job 41/);
  assert.ok(logged.some((m) => /accounting is disabled/.test(m)));
});

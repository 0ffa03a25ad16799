import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { forgetMarkedJobIds, markedJobIds } from '../../src/hosts/local/markedProcesses';

test('the census finds the job ids that live processes carry, and only as a variable of their own', async (t) => {
  const marked = spawn('sleep', ['30'], { env: { PATH: process.env.PATH, TRAINQ_JOB_ID: 'census-job-1' }, stdio: 'ignore' });
  // The marker text inside another variable's value is not a marker.
  const decoy = spawn('sleep', ['30'], { env: { PATH: process.env.PATH, NOTE: 'TRAINQ_JOB_ID=census-decoy' }, stdio: 'ignore' });
  t.after(() => {
    marked.kill('SIGKILL');
    decoy.kill('SIGKILL');
  });
  await new Promise((resolve) => setTimeout(resolve, 100));
  forgetMarkedJobIds();
  const ids = await markedJobIds();
  assert.equal(ids.has('census-job-1'), true);
  assert.equal(ids.has('census-decoy'), false);

  marked.kill('SIGKILL');
  await new Promise((resolve) => marked.once('exit', resolve));
  assert.equal((await markedJobIds()).has('census-job-1'), true, 'reused within a reconcile');
  forgetMarkedJobIds();
  assert.equal((await markedJobIds()).has('census-job-1'), false, 'a fresh census after forgetting');
});

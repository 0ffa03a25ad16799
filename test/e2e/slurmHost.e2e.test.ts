// End-to-end: a real VS Code (code-server) with TrainQ whose `trainq.hosts` names a real one-node Slurm
// cluster on loopback (test/support/slurm.ts), reached through the local Slurm client. The local machine
// has no GPU, so a 1-GPU job can only go to Slurm: the Hosts view must show the cluster with its
// partition, and a job queued from the command palette must run there to `succeeded`.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureSlurm, SlurmCluster } from '../support/slurm';
import { outputDir } from './codeServer';
import { useWorkbenchSession } from './session';
import {
  answerInput,
  chooseQuickPick,
  openViewContainer,
  runCommand,
  queueScript,
  resizeSideBar,
  screenshot,
  stateOf,
  trainqLog,
  treeRows,
  waitForTreeRow,
  withScreenshotOnFailure,
} from './workbench';

const CLUSTER = 'cluster-a';
fs.mkdirSync(outputDir, { recursive: true });

describe('TrainQ with a Slurm cluster', { timeout: 600_000 }, () => {
  let cluster: SlurmCluster | undefined;
  // Filled in once the cluster runs: the session's hook, registered after this one, reads it then.
  const env: Record<string, string> = { TRAINQ_FAKE_GPUS: '0' };
  before(async () => {
    // An e2e run without Slurm fails with the reason; it never passes by skipping.
    const missing = ensureSlurm();
    if (missing) throw new Error(missing);
    cluster = await SlurmCluster.start({ gpus: 4 });
    env.SLURM_CONF = cluster.conf;
  });
  const session = useWorkbenchSession({
    server: {
      // SLURM_CONF points the extension's sbatch/squeue/sinfo at the test cluster; no local GPU.
      env,
    },
    prepare: (workspace) => {
      fs.mkdirSync(path.join(workspace, '.vscode'), { recursive: true });
      const hosts = [{ name: CLUSTER, type: 'slurm', target: 'local', partition: 'gpu' }];
      fs.writeFileSync(path.join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'trainq.hosts': hosts }, null, 2));
    },
  });
  after(async () => {
    await cluster?.stop();
  });
  const page = () => session().page;

  it('shows the Slurm cluster in the Hosts view with its partition and idle GPUs', async () => {
    await withScreenshotOnFailure(page(), 'slurm-hosts', async () => {
      await openViewContainer(page(), 'TrainQ', 'Job Queue');
      await resizeSideBar(page(), 640);
      await waitForTreeRow(
        page(),
        'Hosts',
        (r) => r.level === 1 && r.label === CLUSTER && r.description.startsWith('online · partition gpu · 1 node · 4 GPUs, 4 idle'),
        `${CLUSTER} online with partition gpu`,
        120_000,
      );
      await screenshot(page(), 'slurm-hosts');
    });
  });

  it('runs a queued 1-GPU job on the cluster to succeeded, with its log', async () => {
    await withScreenshotOnFailure(page(), 'slurm-job', async () => {
      await queueScript(page(), 'train_mnist.py');
      const row = await waitForTreeRow(
        page(),
        'Job Queue',
        (r) => r.label === 'train_mnist.py' && stateOf(r.description) === 'succeeded',
        'train_mnist.py succeeded',
        180_000,
      );
      assert.match(row.description, new RegExp(`succeeded · ${CLUSTER} · GPU`), row.description);
      const log = trainqLog(session().server.userDataDir);
      assert.match(log, new RegExp(`${CLUSTER}: submitted job [\\w-]+ as Slurm job \\d+`));
      const rows = await treeRows(page(), 'Hosts');
      assert.ok(rows.some((r) => r.label === CLUSTER), 'the cluster is still listed');
      await screenshot(page(), 'slurm-job-succeeded');
    });
  });

  it('adds a second cluster with Add Slurm Cluster…, which asks sinfo before saving', async () => {
    await withScreenshotOnFailure(page(), 'slurm-add', async () => {
      await runCommand(page(), 'TrainQ: Add Slurm Cluster…');
      await chooseQuickPick(page(), 'This machine');
      await answerInput(page(), 'cluster-b');
      await answerInput(page(), 'cpu');
      await waitForTreeRow(
        page(),
        'Hosts',
        (r) => r.level === 1 && r.label === 'cluster-b' && r.description.startsWith('online · partition cpu · 1 node'),
        'cluster-b online with partition cpu',
        120_000,
      );
      // The workspace defines trainq.hosts, so the new entry went there (a user setting would be shadowed).
      const saved = JSON.parse(fs.readFileSync(path.join(session().workspace, '.vscode', 'settings.json'), 'utf8'));
      assert.deepEqual(saved['trainq.hosts'].map((h: { name: string }) => h.name), [CLUSTER, 'cluster-b']);
      await screenshot(page(), 'slurm-added');
    });
  });
});

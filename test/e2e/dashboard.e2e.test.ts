// End-to-end: the Agent Dashboard in a real VS Code (code-server) webview. Jobs are queued so that the
// agent decides; the dashboard must list those decisions with a Q-value per candidate host, draw the
// reward and ε charts, run the simulator check, survive being hidden and shown, and render in the dark
// and light themes. It also times the page with 10,000 points per chart and prints the figures.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import type { Frame, Page } from 'playwright-core';
import { outputDir } from './codeServer';
import { useWorkbenchSession } from './session';
import {
  answerInput,
  chooseQuickPick,
  queueScript,
  runCommand,
  screenshot,
  stateOf,
  trainqLog,
  waitForTreeRow,
  withScreenshotOnFailure,
} from './workbench';

const SCRIPTS = ['train_mnist.py', 'scripts/train_tiny.sh', 'train_mnist.py'];

fs.mkdirSync(outputDir, { recursive: true });

/** The webview's inner frame: the one whose document holds the dashboard. */
async function dashboardFrame(page: Page, timeoutMs = 30_000): Promise<Frame> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const frame of page.frames()) {
      if (await frame.locator('[data-testid="decisions"]').count().catch(() => 0)) return frame;
    }
    await page.waitForTimeout(250);
  }
  throw new Error('the Agent Dashboard webview did not appear');
}

async function pollFrame<T>(frame: Frame, what: string, read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await read();
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last saw ${JSON.stringify(last)}`);
    await frame.page().waitForTimeout(250);
    last = await read();
  }
  return last;
}

/** A synthetic snapshot as the extension would send it: `n` points per chart, 50 decisions, 4 hosts. */
function bigSnapshot(n: number) {
  const series = (f: (i: number) => number) => ({
    t: Array.from({ length: n }, (_, i) => 1_700_000_000_000 + i * 1000),
    step: Array.from({ length: n }, (_, i) => i),
    v: Array.from({ length: n }, (_, i) => f(i)),
  });
  const hosts = ['local', 'gpu-a', 'gpu-b', 'gpu-c'];
  return {
    header: { placement: 'dqn', backend: 'wasm', learning: true, trainSteps: n, epsilon: 0.02, replaySize: 5000, decisions: n },
    charts: {
      loss: series((i) => 1 / (1 + i / 500) + 0.05 * Math.sin(i)),
      reward: series((i) => -Math.abs(Math.sin(i / 37))),
      rewardAvg: series((i) => -0.6 + 0.1 * Math.sin(i / 400)),
      epsilon: series((i) => Math.max(0.02, 1 - i / n)),
    },
    decisions: Array.from({ length: 50 }, (_, k) => ({
      seq: n - k,
      atMs: 1_700_000_000_000 + k,
      jobId: `synthetic-${k}`,
      jobName: `synthetic_${k}.py`,
      priority: 'medium',
      priorityPath: 'gpus ≤ 2 → Medium',
      candidates: hosts.slice(0, 3).map((host, i) => ({ host, q: -i / 3 })),
      infeasible: [{ host: 'gpu-c', reason: '0 of 8 GPUs free, the job needs 2' }],
      chosen: 'local',
      explored: k % 10 === 0,
    })),
    hosts: hosts.map((name, i) => ({ name, kind: i ? 'ssh' : 'local', state: 'online', gpusUsed: i, gpusTotal: 8, jobsRunning: i, speed: 1 + i / 2, observedJobs: 0 })),
    evaluation: { state: 'idle', rows: [] },
    historyLength: n,
  };
}

describe('Agent Dashboard in code-server', { timeout: 600_000 }, () => {
  const session = useWorkbenchSession({ openJobQueue: true });
  const page = () => session().page;
  let frame: Frame;

  it('queues jobs so that the agent places them', async () => {
    await withScreenshotOnFailure(page(), 'dashboard-queue', async () => {
      for (const script of SCRIPTS) await queueScript(page(), script);
      for (const label of ['train_mnist.py', 'train_tiny.sh']) {
        await waitForTreeRow(page(), 'Job Queue', (r) => r.label === label && stateOf(r.description) === 'succeeded', `${label} succeeded`, 120_000);
      }
      assert.match(trainqLog(session().server.userDataDir), /Placement agent ready/);
    });
  });

  it('lists the decisions with a Q-value per candidate host and draws the reward and ε charts', async () => {
    await withScreenshotOnFailure(page(), 'dashboard-open', async () => {
      await runCommand(page(), 'Preferences: Color Theme');
      await chooseQuickPick(page(), 'Dark Modern');
      await runCommand(page(), 'TrainQ: Show Agent Dashboard');
      frame = await dashboardFrame(page());
      const decisions = frame.locator('[data-testid="decision"]');
      await pollFrame(frame, 'three decisions', () => decisions.count(), (n) => n >= SCRIPTS.length);
      const names = await decisions.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-job-name')));
      assert.deepEqual([...names].sort(), ['train_mnist.py', 'train_mnist.py', 'train_tiny.sh']);
      for (const row of await decisions.all()) {
        const candidates = row.locator('[data-testid="candidate"]:not([data-wait])');
        const hosts = await candidates.evaluateAll((els) => els.map((e) => e.getAttribute('data-host')));
        assert.deepEqual(hosts, ['local'], 'one candidate row per host that could take the job');
        const q = Number(await candidates.first().getAttribute('data-q'));
        assert.ok(Number.isFinite(q), `a numeric Q-value, got ${q}`);
        assert.equal(await row.getAttribute('data-chosen'), 'local');
      }
      assert.equal(await frame.locator('[data-testid="header-placement"]').getAttribute('data-value'), 'dqn');
      assert.equal(await frame.locator('[data-testid="header-backend"]').getAttribute('data-value'), 'wasm');
      // A decision's reward is known when the next one is made: three decisions, two rewards (and ε values).
      for (const chart of ['chart-reward', 'chart-epsilon']) {
        const points = await pollFrame(frame, `${chart} points`, async () => Number(await frame.locator(`[data-testid="${chart}"]`).getAttribute('data-points')), (n) => n >= 2);
        assert.ok(points >= 2, `${chart} has ${points} points`);
      }
      // Outcomes arrive as the jobs end.
      await pollFrame(frame, 'an outcome', () => frame.locator('[data-testid="decision"]', { hasText: 'succeeded' }).count(), (n) => n >= 1);
      assert.ok(await frame.evaluate("document.body.classList.contains('vscode-dark')"), 'the page follows the dark theme');
      await screenshot(page(), 'dashboard-dark');
    });
  });

  it("exports the decision log and curves from the dashboard's button", async () => {
    await withScreenshotOnFailure(page(), 'dashboard-export', async () => {
      await frame.locator('[data-testid="export"]').click();
      // code-server's save dialog is a quick input prefilled with the default path (the workspace's
      // trainq-agent-stats.json): accept it.
      await answerInput(page());
      const base = path.join(session().workspace, 'trainq-agent-stats');
      const deadline = Date.now() + 30_000;
      while (!fs.existsSync(`${base}-training.csv`) && Date.now() < deadline) await page().waitForTimeout(250);
      const doc = JSON.parse(fs.readFileSync(`${base}.json`, 'utf8'));
      assert.equal(doc.decisions.length, SCRIPTS.length);
      assert.ok(doc.decisions.every((d: { candidates: unknown[] }) => d.candidates.length >= 1));
      const csv = fs.readFileSync(`${base}-decisions.csv`, 'utf8').trim().split('\r\n');
      assert.equal(csv.length, 1 + SCRIPTS.length, 'a header and one row per decision');
      assert.match(csv[0], /^seq,time,job_id,job_name/);
      assert.match(fs.readFileSync(`${base}-training.csv`, 'utf8'), /^series,time,train_step,value\r\n(reward|rewardAvg|epsilon),/m);
    });
  });

  it('cancels a running simulator check', async () => {
    await withScreenshotOnFailure(page(), 'dashboard-cancel', async () => {
      await frame.locator('[data-testid="evaluate"]').click();
      await frame.locator('[data-testid="cancel-evaluation"]').click();
      await pollFrame(frame, 'the cancelled state', () => frame.locator('[data-testid="evaluation-status"]').innerText(), (t) => /cancelled/i.test(t));
      assert.equal(await frame.locator('[data-testid="evaluation-table"] tr[data-policy]').count(), 0, 'no partial table');
    });
  });

  it('runs the simulator check and shows every policy beside the agent', async () => {
    await withScreenshotOnFailure(page(), 'dashboard-evaluate', async () => {
      await frame.locator('[data-testid="evaluate"]').click();
      const rows = frame.locator('[data-testid="evaluation-table"] tr[data-policy]');
      await pollFrame(frame, 'the evaluation table', () => rows.count(), (n) => n >= 8, 240_000);
      const policies = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-policy')));
      for (const p of ['fcfs-firstfit', 'sjf-firstfit', 'priority-firstfit', 'priority-bestfit', 'priority-least-loaded', 'priority-fastest', 'priority-random', 'dqn']) {
        assert.ok(policies.includes(p), `${p} in ${policies.join(', ')}`);
      }
      assert.match(await frame.locator('[data-testid="evaluation-caption"]').innerText(), /500|philly/);
      assert.match(trainqLog(session().server.userDataDir), /Simulator check: 500 jobs on hetero-24/);
      await screenshot(page(), 'dashboard-evaluation');
    });
  });

  it('comes back with its data after being hidden and shown, and renders in the light theme', async () => {
    await withScreenshotOnFailure(page(), 'dashboard-light', async () => {
      await runCommand(page(), 'View: Show Explorer');
      await runCommand(page(), 'View: Focus Active Editor Group');
      await runCommand(page(), 'Preferences: Color Theme');
      await chooseQuickPick(page(), 'Light Modern');
      await runCommand(page(), 'TrainQ: Show Agent Dashboard');
      frame = await dashboardFrame(page());
      await pollFrame(frame, 'decisions after re-showing', () => frame.locator('[data-testid="decision"]').count(), (n) => n >= SCRIPTS.length);
      await pollFrame(frame, 'the evaluation after re-showing', () => frame.locator('[data-testid="evaluation-table"] tr[data-policy]').count(), (n) => n >= 8);
      assert.ok(await frame.evaluate("document.body.classList.contains('vscode-light')"), 'the page follows the light theme');
      await screenshot(page(), 'dashboard-light');
    });
  });

  it('times 10,000 points per chart and live updates in the webview (printed, not asserted)', async () => {
    // The page's own message handler, fed from inside its frame: the cost measured is the page's alone.
    const n = 10_000;
    // A string, not a function: tsx would wrap named helpers in __name(), which the page does not have.
    const script = `(async ({ snapshot, updates }) => {
      const before = window.__trainqTimings.length;
      const send = (data) => window.dispatchEvent(new MessageEvent('message', { data }));
      const waitFor = async (count) => {
        while (window.__trainqTimings.length < before + count) await new Promise((r) => setTimeout(r, 20));
      };
      send({ type: 'snapshot', snapshot });
      await waitFor(1);
      for (let i = 0; i < updates; i++) {
        const p = (v) => ({ t: [1700000000000 + (10000 + i) * 1000], step: [10000 + i], v: [v] });
        send({ type: 'update', header: snapshot.header, append: { loss: p(0.1), reward: p(-0.5), rewardAvg: p(-0.5), epsilon: p(0.02) }, decisions: snapshot.decisions, hosts: snapshot.hosts });
        await waitFor(2 + i);
        await new Promise((r) => setTimeout(r, 250));
      }
      return window.__trainqTimings.slice(before);
    })(${JSON.stringify({ snapshot: bigSnapshot(n), updates: 20 })})`;
    const timings = (await frame.evaluate(script)) as Array<{ what: string; ms: number; points: number }>;
    const snapshot = timings.find((t) => t.what === 'snapshot');
    const updates = timings.filter((t) => t.what === 'update').map((t) => t.ms).sort((a, b) => a - b);
    assert.ok(snapshot && snapshot.points >= 4 * n, `the snapshot drew ${snapshot?.points} points`);
    assert.equal(updates.length, 20);
    assert.equal(Number(await frame.locator('[data-testid="chart-loss"]').getAttribute('data-points')), n, 'the chart keeps historyLength points');
    const median = updates[Math.floor(updates.length / 2)];
    const table = [
      '| dashboard, in the code-server webview | ms |',
      '|---|---|',
      `| open with ${n.toLocaleString('en-US')} points per chart (${snapshot.points.toLocaleString('en-US')} in all), until painted | ${snapshot.ms.toFixed(1)} |`,
      `| live update, median of ${updates.length} | ${median.toFixed(1)} |`,
      `| live update, slowest | ${updates.at(-1)!.toFixed(1)} |`,
    ].join('\n');
    console.log(`\n${table}\n`);
    fs.writeFileSync(`${outputDir}/dashboard-timings.md`, `${table}\n`);
    await screenshot(page(), 'dashboard-10k-points');
  });
});

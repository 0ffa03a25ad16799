import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { AgentService, type AgentServiceOptions } from '../../src/agent/agentService';
import { loadAgentState } from '../../src/agent/agentStore';
import { MostFreeGpusPlacement, type HostCandidate } from '../../src/core/placement';
import { SHIPPED_WEIGHTS } from '../../src/sim/dqnPolicy';
import { makeJob } from '../support/builders';
import { waitFor } from '../support/waiting';

const WORKER = path.join(__dirname, '..', 'support', 'trainingWorker.cjs');
const dirs: string[] = [];

function recordingLogger() {
  const lines: string[] = [];
  const push = (level: string) => (m: unknown) => void lines.push(`${level} ${String(m)}`);
  return { lines, logger: { trace: push('trace'), debug: push('debug'), info: push('info'), warn: push('warn'), error: push('error') } };
}

const started: AgentService[] = [];
// A failed assertion must not leave a worker thread keeping the test process alive.
after(async () => {
  await Promise.all(started.map((a) => a.dispose()));
  await Promise.all(dirs.map((d) => fs.rm(d, { recursive: true, force: true })));
});

async function service(over: Partial<AgentServiceOptions> = {}, learning = true) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'trainq-agent-'));
  dirs.push(dir);
  const { lines, logger } = recordingLogger();
  const agent = new AgentService({
    savedWeights: path.join(dir, 'agent', 'dqn-weights.json'),
    shippedWeights: SHIPPED_WEIGHTS,
    workerScript: WORKER,
    logger,
    settings: () => ({ backend: 'wasm', learning }),
    fallback: new MostFreeGpusPlacement(),
    cpuShare: 1,
    ...over,
  });
  started.push(agent);
  return { agent, lines, dir };
}

const host = (name: string, free: number, speed: number, running = 0): HostCandidate => ({
  host: name,
  totalGpus: 4,
  freeGpus: Array.from({ length: free }, (_, i) => i),
  speed,
  runningJobs: running,
  maxJobs: 8,
});

/**
 * Drives the agent as the dispatcher does: a round per job, each placed job finishing later. Enough
 * decisions (past the fine-tuning's 300-transition minimum) for the worker to train.
 */
function drive(agent: AgentService, decisions: number): void {
  let now = 1_000_000;
  const hosts = [host('fast', 4, 2), host('slow', 4, 1, 1)];
  for (let i = 0; i < decisions; i++) {
    const job = makeJob({ runtimeSec: 600 + (i % 7) * 300, createdAt: now });
    agent.noteSubmitted(job);
    agent.observe(now, 1);
    agent.beginRound({ nowMs: now, queued: [job], running: [] });
    const decision = agent.choose(job, hosts, hosts);
    assert.ok(decision.kind === 'wait' || hosts.some((h) => h.host === decision.host), 'chooses a feasible host or waits');
    now += 60_000;
    agent.observe(now, 0);
    agent.noteFinished(job, job.runtimeSec);
  }
}

test('the agent starts from the shipped weights, trains in the worker, and saves what it learned', async () => {
  const { agent, lines, dir } = await service();
  assert.equal(agent.name, 'most-free-gpus', 'the heuristic decides until the agent is ready');
  await agent.start();
  assert.equal(agent.name, 'dqn');
  assert.equal(agent.stats.figures.backend, 'wasm');
  assert.ok(lines.some((l) => l.startsWith('info Agent backend: wasm')), lines.join('\n'));
  const shipped = (await loadAgentState(SHIPPED_WEIGHTS))!.counters.trainSteps;
  assert.equal(agent.stats.figures.trainSteps, shipped);

  drive(agent, 420);
  await waitFor('training steps from the worker', () => agent.stats.figures.trainSteps > shipped);
  assert.ok(agent.stats.trainSteps.size > 0, 'losses reach the stats');
  assert.ok(agent.stats.trainSteps.toArray().every((r) => Number.isFinite(r.loss) && r.step > shipped));
  assert.equal(agent.stats.decisions.size, 420);

  await agent.save();
  const saved = await loadAgentState(path.join(dir, 'agent', 'dqn-weights.json'));
  assert.ok(saved, 'the learning copy is written');
  assert.ok(saved.counters.trainSteps > shipped, `saved ${saved.counters.trainSteps} steps`);
  assert.ok(saved.counters.decisions >= 420);
  assert.ok(agent.stats.figures.savedAtMs !== undefined);
  await agent.dispose();
  // Disposing saves again: steps trained since the save above are kept too.
  const final = (await loadAgentState(path.join(dir, 'agent', 'dqn-weights.json')))!;
  assert.ok(final.counters.trainSteps >= saved.counters.trainSteps);

  // A new session starts from the learning copy, not the shipped set.
  const again = await service({ savedWeights: path.join(dir, 'agent', 'dqn-weights.json') });
  await again.agent.start();
  assert.equal(again.agent.stats.figures.trainSteps, final.counters.trainSteps);
  assert.ok(again.lines.some((l) => l.includes('learned weights from global storage')));

  // Reset: the learning copy is deleted and the shipped weights are back.
  await again.agent.reset();
  assert.equal(again.agent.stats.figures.trainSteps, shipped);
  await assert.rejects(fs.stat(path.join(dir, 'agent', 'dqn-weights.json')), { code: 'ENOENT' });
  assert.equal(again.agent.stats.decisions.size, 0);
  await again.agent.dispose();
});

test('with learning off the agent decides greedily and trains nothing', async () => {
  const { agent } = await service({}, false);
  await agent.start();
  const before = agent.stats.figures.trainSteps;
  drive(agent, 420);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(agent.stats.figures.trainSteps, before);
  assert.equal(agent.stats.trainSteps.size, 0);
  assert.ok(agent.stats.decisions.toArray().every((d) => !d.explored));
  assert.equal(agent.stats.figures.learning, false);
  await agent.save();
  await agent.dispose();
});

test('unloadable weights fall back to the heuristic with a warning; the queue still gets decisions', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'trainq-agent-'));
  dirs.push(dir);
  const broken = path.join(dir, 'broken.json');
  await fs.writeFile(broken, '{"format": "trainq-dqn", "version": 1, "featureVersion": 99}');
  const { agent, lines } = await service({ shippedWeights: broken });
  await agent.start();
  assert.equal(agent.name, 'most-free-gpus');
  assert.ok(lines.some((l) => l.startsWith('warn') && l.includes('heuristic')), lines.join('\n'));
  const decision = agent.choose(makeJob({ gpus: 2 }), [host('a', 2, 1), host('b', 4, 1)], [host('a', 2, 1), host('b', 4, 1)]);
  assert.deepEqual(decision, { kind: 'place', host: 'b' });
  await agent.dispose();
});

test('a worker that cannot start leaves an agent that decides without learning', async () => {
  const { agent, lines } = await service({ workerScript: path.join(os.tmpdir(), 'no-such-worker.js') });
  await agent.start();
  assert.equal(agent.name, 'dqn');
  assert.equal(agent.stats.figures.learning, false);
  assert.ok(lines.some((l) => l.startsWith('warn') && l.includes('does not learn')), lines.join('\n'));
  drive(agent, 5);
  assert.equal(agent.stats.decisions.size, 5);
  await agent.dispose();
});

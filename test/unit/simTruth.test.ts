import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { loadCluster, type Cluster } from '../../src/sim/clusterLoader';
import { assignIdentities, identityStats, runKey, sanitiseName } from '../../src/sim/identities';
import { policyMetrics } from '../../src/sim/metrics';
import { createOraclePolicy } from '../../src/sim/oraclePolicy';
import { resolvePolicies } from '../../src/sim/policies';
import { buildWorkload, newJob } from '../../src/sim/simJobs';
import { simulate } from '../../src/sim/simulator';
import { GPU_TYPES, ThroughputError, loadThroughputs, modelsUsableFor, speedup } from '../../src/sim/throughputTable';
import { loadTrace, type TraceJob } from '../../src/sim/traceLoader';

const ROOT = path.join(__dirname, '..', '..');
const trace = (name: string) => loadTrace(path.join(ROOT, 'bench', 'traces', `${name}.csv`)).jobs;
const cluster = (name: string) => loadCluster(path.join(ROOT, 'bench', 'clusters', `${name}.json`));

test('the throughput table: keys, speedups against the p100, and the widths a model is measured at', () => {
  const table = loadThroughputs();
  assert.deepEqual([...GPU_TYPES], ['k80', 'p100', 'v100']);
  assert.equal(table.models.length, 26);
  assert.ok(table.models.includes('ResNet-50/128') && table.models.includes('A3C'));
  assert.equal(table.throughput('A3C', 1, 'v100'), 7.1758);
  assert.equal(speedup('A3C', 1, 'p100'), 1);
  assert.equal(speedup('A3C', 1, 'v100'), 7.1758 / 5.6813);
  // A3C is measured on one GPU only: a 4-GPU A3C job is read at 1; an LM job of 3 GPUs at 2, of 16 at 8.
  assert.equal(speedup('A3C', 4, 'k80'), 3.4388 / 5.6813);
  assert.equal(speedup('LM/5', 3, 'k80'), 32.3855 / 76.9219);
  assert.equal(speedup('LM/5', 16, 'v100'), table.speedup('LM/5', 8, 'v100'));
  // ResNet-50/128 does not run on 2+ K80s (throughput 0): never a model for a job that wide.
  assert.ok(modelsUsableFor(1).includes('ResNet-50/128'));
  assert.ok(!modelsUsableFor(2).includes('ResNet-50/128') && !modelsUsableFor(8).includes('ResNet-50/128'));
  assert.ok(modelsUsableFor(2).includes('A3C'));
  assert.throws(() => speedup('ResNet-50/128', 2, 'k80'), /ResNet-50\/128 on 2 GPU\(s\) of k80 and of p100 \(got 0 and/);
  assert.throws(() => speedup('GPT-9', 1, 'v100'), ThroughputError);
});

test('a bad throughput file is one clear error naming it', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trainq-tput-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 't.csv');
  const header = 'model,batch_size,num_gpus,gpu_type,placement,iterations_per_sec';
  fs.writeFileSync(file, `${header}\nA3C,,1,a100,one-host,3\n`);
  assert.throws(() => loadThroughputs(file), (err: Error) => err instanceof ThroughputError && err.message === `${file}: line 2: gpu_type must be one of k80, p100, v100 (got "a100").`);
  fs.writeFileSync(file, 'model,num_gpus\n');
  assert.throws(() => loadThroughputs(file), /line 1: the header must name .*; batch_size, gpu_type, placement, iterations_per_sec missing\.$/);
  assert.throws(() => loadThroughputs(path.join(dir, 'none.csv')), /^ThroughputError: Cannot read the throughput table .*none\.csv: no such file\.$/);
});

test('derived identities: deterministic, a prefix property, and recurring like Helios', () => {
  const rows = trace('philly-103959');
  const ids = assignIdentities(rows, 1);
  assert.deepEqual(assignIdentities(rows, 1), ids);
  assert.deepEqual(assignIdentities(rows.slice(0, 300), 1), ids.slice(0, 300));
  assert.notDeepEqual(assignIdentities(rows, 2), ids);
  ids.forEach((id, i) => {
    assert.match(id.identity, new RegExp(`^proj-\\d+:${rows[i].gpus}$`));
    assert.equal(id.script, `${id.identity.split(':')[0]}/train.py`);
    assert.match(id.args.join(' '), /^--epochs \d+ --seed \d+$/);
    assert.match(id.user, /^user-\d+$/);
  });
  const stats = identityStats(rows.map((r, i) => ({ ...r, ...ids[i] })));
  assert.ok(stats.repeatShare > 0.94 && stats.repeatShare < 0.99, `repeat share ${stats.repeatShare}`);
  assert.ok(stats.withinSpread > 0.15 && stats.withinSpread < 0.8, `spread ${stats.withinSpread}`);
  // Same script and epochs: within about a ladder step, far tighter than the family.
  assert.ok(stats.withinIdentitySpread < 0.6 * stats.withinSpread, `run-level spread ${stats.withinIdentitySpread}`);
  // The seed is noise: dropping it is what makes runs of one (script, epochs, gpus) one group.
  assert.equal(runKey({ script: 'p/train.py', args: ['--epochs', '8', '--seed', '1'], gpus: 2 }), runKey({ script: 'p/train.py', args: ['--epochs', '8', '--seed', '77'], gpus: 2 }));
  assert.notEqual(runKey({ script: 'p/train.py', args: ['--epochs', '8'], gpus: 2 }), runKey({ script: 'p/train.py', args: ['--epochs', '16'], gpus: 2 }));
});

test('trace identities: kept as given, with a safe script path; the Helios figures the derived ones aim at', () => {
  const rows = trace('helios-venus-2vc');
  const ids = assignIdentities(rows, 1);
  assert.deepEqual(ids[0], { identity: 'uH3om:128', script: 'uH3om_3a128/train.py', args: [], user: 'uH3om', model: undefined });
  const stats = identityStats(rows.map((r, i) => ({ ...r, ...ids[i] })));
  assert.equal(stats.identities, 52);
  assert.equal(stats.repeatShare.toFixed(3), '0.972');
  // Over completed runs only: a canceled run's duration is a lower bound, not a run time.
  assert.equal(stats.withinSpread.toFixed(3), '0.359');
  assert.equal(stats.withinIdentitySpread, stats.withinSpread);
  assert.equal(sanitiseName('../a b:c_d'), '_2e_2e_2fa_20b_3ac_5fd');
  assert.notEqual(sanitiseName('a:b'), sanitiseName('a-b'));
});

test('typed hosts: each identity has one usable model, and a job runs duration ÷ that model’s speedup there', () => {
  const typed = cluster('typed-lab-48');
  const { jobs, identities } = buildWorkload(trace('philly-103959'), typed, 1);
  const modelOf = new Map<string, string>();
  for (const j of jobs) {
    assert.ok(j.model && modelsUsableFor(j.gpus).includes(j.model), `job ${j.index}: ${j.model}`);
    assert.equal(modelOf.get(j.identity) ?? j.model, j.model, `one model per identity (${j.identity})`);
    modelOf.set(j.identity, j.model);
    typed.hosts.forEach((h, i) => assert.equal(j.hostSec[i], j.durationSec / speedup(j.model as string, j.gpus, h.gpuType!)));
    assert.equal(j.fastestSec, Math.min(...j.hostSec));
  }
  assert.ok(new Set(modelOf.values()).size > 5, 'models vary across identities');
  // The untyped build of the same trace keeps the synthetic features and identities; only the truth differs.
  const plain = buildWorkload(trace('philly-103959'), cluster('hetero-24'), 1);
  assert.deepEqual(plain.identities, identities);
  assert.deepEqual(
    plain.jobs.map((j) => [j.importance, j.expectedGain, j.estimateSec, j.identity, j.args.join(' ')]),
    jobs.map((j) => [j.importance, j.expectedGain, j.estimateSec, j.identity, j.args.join(' ')]),
  );
  assert.ok(plain.jobs.every((j) => j.model === undefined));
});

test('oracle: shortest true run time first, and the host of soonest true finish', () => {
  const c: Cluster = { name: 'two', hosts: [{ name: 'k80', gpus: 1, speed: 5, gpuType: 'k80' }, { name: 'v100', gpus: 1, speed: 0.1, gpuType: 'v100' }] };
  const rows: TraceJob[] = [0, 1, 2].map((i) => ({ line: i + 2, submitSec: 1_000, durationSec: [900, 300, 600][i], gpus: 1 }));
  const { jobs } = buildWorkload(rows, c, 1);
  const oracle = createOraclePolicy({ seed: 1, agingMs: 0, cluster: c });
  const queued = jobs.map((spec) => ({ spec, job: newJob(spec) }));
  queued.forEach((q) => oracle.discipline.admit(q));
  const byTruth = [...jobs].sort((a, b) => a.fastestSec - b.fastestSec).map((j) => `job-${String(j.index).padStart(7, '0')}`);
  assert.deepEqual(oracle.discipline.order(0).map((e) => e.job.id), byTruth);
  const candidate = (host: string, expectedWaitSec?: number) => ({ host, totalGpus: 1, freeGpus: [0], speed: 1, runningJobs: 0, maxJobs: 1, expectedWaitSec });
  const q = queued[0];
  const [k80, v100] = [q.spec.hostSec[0], q.spec.hostSec[1]];
  // Declared speeds say k80 is 50× faster; the truth decides.
  const truthBest = k80 < v100 ? 'k80' : 'v100';
  assert.deepEqual(oracle.placement.choose(q.job, [candidate('k80'), candidate('v100')], []), { kind: 'place', host: truthBest });
  // A queue wait on the better host that outweighs its advantage sends the job to the other.
  const other = truthBest === 'k80' ? 'v100' : 'k80';
  const waits = { [truthBest]: Math.abs(k80 - v100) + 1, [other]: undefined };
  assert.deepEqual(oracle.placement.choose(q.job, [candidate('k80', waits.k80), candidate('v100', waits.v100)], []), { kind: 'place', host: other });
});

test('on a typed pair the oracle does at least as well as trusting declared speeds, and never beats the lower bound', async () => {
  const typed = cluster('typed-big-64');
  const { jobs } = buildWorkload(trace('philly-7f04ca'), typed, 1, 300);
  const jct = async (name: string) => {
    const [entry] = resolvePolicies([name]);
    return policyMetrics(jobs, typed, simulate(jobs, typed, await entry.create({ seed: 1, agingMs: 3_600_000, cluster: typed }))).avgJct;
  };
  const lowerBound = jobs.reduce((s, j) => s + j.fastestSec, 0) / jobs.length;
  const oracle = await jct('oracle');
  assert.ok(oracle >= lowerBound);
  assert.ok(oracle <= (await jct('fcfs-firstfit')), 'oracle beats FCFS');
});

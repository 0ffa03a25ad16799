import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Job } from '../../src/core/job';
import {
  cleanLogText,
  codeSpan,
  escapeMarkdown,
  formatElapsed,
  formatGiB,
  formatTimestamp,
  groupCount,
  jobDescription,
  jobTooltipMarkdown,
  shortWaitingReason,
} from '../../src/ui/jobFormat';
import {
  gpuDescription,
  gpuLabel,
  hostDescription,
  hostLabelsText,
  hostTooltipMarkdown,
  noGpuLabel,
  statusBarAccessibilityLabel,
  statusBarText,
  statusBarTooltipMarkdown,
} from '../../src/ui/hostFormat';
import type { HostStatus } from '../../src/core/host';

const T0 = 1_700_000_000_000;
const GiB = 1024 ** 3;

function makeJob(overrides: Partial<Job> = {}): Job {
  return {
    id: '3f2a1c9e-0000-4000-8000-000000000001',
    name: 'train_mnist.py',
    script: '/work/project/train_mnist.py',
    args: ['--lr', '0.01'],
    cwd: '/work/project',
    gpus: 2,
    importance: 'normal',
    runtimeSec: 5400,
    priority: 'medium',
    priorityReason: 'gpus ≤ 2 → importance = normal → Medium',
    priorityOverridden: false,
    state: 'queued',
    createdAt: T0,
    ...overrides,
  };
}

function host(overrides: Partial<HostStatus> = {}): HostStatus {
  return {
    name: 'local',
    kind: 'local',
    state: 'online',
    gpus: [
      { index: 0, uuid: 'GPU-a', name: 'NVIDIA A100', utilizationPct: 40, memoryUsedMiB: 10444.8, memoryTotalMiB: 40960 },
      { index: 1, uuid: 'GPU-b', name: 'NVIDIA A100', utilizationPct: 42, memoryUsedMiB: 0, memoryTotalMiB: 40960 },
    ],
    cpuCount: 16,
    cpuLoadPct: 23.4,
    memUsedBytes: 12.1 * GiB,
    memTotalBytes: 31.2 * GiB,
    probedAt: T0,
    ...overrides,
  };
}

test('formatElapsed uses m:ss under an hour and h:mm:ss from an hour on', () => {
  assert.equal(formatElapsed(0), '0:00');
  assert.equal(formatElapsed(83_400), '1:23');
  assert.equal(formatElapsed(59 * 60_000 + 59_999), '59:59');
  assert.equal(formatElapsed(3_600_000), '1:00:00');
  assert.equal(formatElapsed(26 * 3_600_000 + 5 * 60_000 + 7_000), '26:05:07');
  assert.equal(formatElapsed(-5_000), '0:00', 'clock skew never shows a negative time');
});

test('formatTimestamp is local YYYY-MM-DD HH:MM:SS', () => {
  assert.match(formatTimestamp(T0), /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
  const d = new Date(T0);
  assert.ok(formatTimestamp(T0).endsWith(`${String(d.getSeconds()).padStart(2, '0')}`));
});

test('a queued job shows its state, shortened waiting reason, aging and estimate', () => {
  const job = makeJob();
  assert.equal(jobDescription(job, { now: T0 }), 'queued · est. 1h 30m');
  assert.equal(
    jobDescription(job, { now: T0, waitingReason: 'Waiting for 2 free GPUs on one host.', promotedLevels: 1 }),
    'queued · waiting for 2 free GPUs · ↑ aged · est. 1h 30m',
  );
  assert.equal(jobDescription(job, { now: T0, waitingReason: 'Dispatching is paused.' }), 'queued · paused · est. 1h 30m');
});

test('running and finished jobs show host, GPUs and elapsed or total time', () => {
  const running = makeJob({ state: 'running', host: 'local', gpuIndices: [0, 1], startedAt: T0 });
  assert.equal(jobDescription(running, { now: T0 + 83_000 }), 'running · local · GPU 0,1 · 1:23');
  const cpu = makeJob({ state: 'running', gpus: 0, host: 'local', gpuIndices: [], startedAt: T0 });
  assert.equal(jobDescription(cpu, { now: T0 + 5_000 }), 'running · local · CPU · 0:05');

  const done = { host: 'local', gpuIndices: [0], startedAt: T0, endedAt: T0 + 3_723_000 };
  assert.equal(jobDescription(makeJob({ ...done, state: 'succeeded', exitCode: 0 }), { now: T0 + 1e9 }), 'succeeded · local · GPU 0 · 1:02:03');
  assert.equal(jobDescription(makeJob({ ...done, state: 'failed', exitCode: 1 }), { now: T0 }), 'failed · local · GPU 0 · 1:02:03');
  assert.equal(jobDescription(makeJob({ ...done, state: 'lost' }), { now: T0 }), 'lost · local · GPU 0 · 1:02:03');
  assert.equal(jobDescription(makeJob({ state: 'cancelled', endedAt: T0 }), { now: T0 }), 'cancelled', 'cancelled before it started');
});

test('waiting reasons are shortened to a few words', () => {
  assert.equal(shortWaitingReason('Waiting for 1 free GPU on one host.'), 'waiting for 1 free GPU');
  assert.equal(shortWaitingReason('Waiting for a free job slot (every host is at its job limit).'), 'waiting for a job slot');
  assert.equal(shortWaitingReason('Needs 8 GPUs on one host; the largest host has 4.'), 'needs 8 GPUs (largest host: 4)');
  assert.equal(shortWaitingReason('No host is online.'), 'no host online');
  assert.equal(shortWaitingReason('Another VS Code window on this workspace dispatches jobs.'), 'another window dispatches');
  assert.equal(shortWaitingReason('This workspace is not trusted, so TrainQ runs none of its scripts.'), 'workspace not trusted');
  assert.equal(shortWaitingReason('Holding for a faster host (local is busy).'), 'holding for a faster host');
  const long = shortWaitingReason('A placement that explains itself at considerable and unnecessary length');
  assert.ok(long.length <= 40 && long.endsWith('…'), long);
});

test('escapeMarkdown neutralises formatting, links, HTML and theme icons', () => {
  assert.equal(escapeMarkdown('train_*v2*.py'), 'train\\_\\*v2\\*\\.py');
  assert.equal(escapeMarkdown('[click](http://x)'), '\\[click\\](http\\://x)', 'no link, no bare-URL autolink');
  assert.equal(escapeMarkdown('<img src=x>'), '\\<img src=x\\>');
  assert.equal(escapeMarkdown('a`b'), 'a\\`b');
  assert.equal(escapeMarkdown('$(zap) run'), '\\$(zap) run');
  assert.equal(escapeMarkdown('line1\nline2'), 'line1 line2');
  assert.equal(escapeMarkdown('# heading'), '\\# heading');
  assert.equal(escapeMarkdown('back\\slash'), 'back\\\\slash');
});

test('codeSpan fences around backticks and keeps icons from rendering', () => {
  assert.equal(codeSpan('--lr'), '` --lr `');
  assert.equal(codeSpan('a`b'), '`` a`b ``');
  assert.equal(codeSpan('``x``'), '``` ``x`` ```');
  assert.equal(codeSpan(''), '_(empty)_');
  assert.equal(codeSpan('$(zap)'), '` $\u200b(zap) `');
});

test('the tooltip lists every field and escapes hostile names and arguments', () => {
  const job = makeJob({
    name: 'evil_[x](y)*.py',
    args: ['--name', '`rm -rf`', '**bold**'],
    state: 'failed',
    host: 'local',
    gpuIndices: [0, 1],
    startedAt: T0 + 1000,
    endedAt: T0 + 61_000,
    exitCode: 2,
    reason: 'Could not start: <oops>',
    expectedGain: 5,
  });
  const md = jobTooltipMarkdown(job, { now: T0 }, { scriptDisplay: 'scripts/evil.py' });
  assert.match(md, /^\*\*evil\\_\\\[x\\\]\(y\)\\\*\\\.py\*\* — failed/);
  assert.ok(md.includes('**Script:** ` scripts/evil.py `'));
  assert.ok(md.includes('**Arguments:** ` --name ` `` `rm -rf` `` ` **bold** `'));
  assert.ok(md.includes('**GPUs:** 2 requested · assigned 0, 1'));
  assert.ok(md.includes('**Importance:** normal'));
  assert.ok(md.includes('**Expected gain:** 5%'));
  assert.ok(md.includes('**Runtime estimate:** 1h 30m'));
  assert.ok(md.includes('**Priority:** Medium'));
  assert.ok(md.includes('**Why:** gpus ≤ 2 → importance = normal → Medium'));
  assert.ok(md.includes('**Exit code:** 2'));
  assert.ok(md.includes(`**Started:** ${formatTimestamp(T0 + 1000)}`));
  assert.ok(md.includes('**Ran for:** 1:00'));
  assert.ok(md.includes('**Reason:** Could not start\\: \\<oops\\>'));
  assert.ok(md.includes('**Job id:** ` 3f2a1c9e-0000-4000-8000-000000000001 `'));
  // Lines end in hard breaks, so fields never run together into one paragraph.
  assert.ok(md.split('\n').slice(0, -1).every((line) => line.endsWith('  ')));
});

test('the tooltip explains priority: set by you, or raised by aging', () => {
  const overridden = makeJob({ priority: 'low', priorityOverridden: true, priorityReason: 'Set by you.' });
  const md = jobTooltipMarkdown(overridden, { now: T0, effective: 'medium', promotedLevels: 1, waitingReason: 'No host is online.' });
  assert.ok(md.includes('**Priority:** Medium (raised by aging from Low, 1 level)'), md);
  assert.ok(md.includes('**Why:** Set by you.'));
  assert.ok(md.includes('**Waiting:** No host is online\\.'));
  const noGain = jobTooltipMarkdown(makeJob({ gpus: 0, args: [] }), { now: T0 });
  assert.ok(noGain.includes('**Expected gain:** not given'));
  assert.ok(noGain.includes('**GPUs:** none (CPU job)'));
  assert.ok(noGain.includes('**Arguments:** _none_'));
});

test("the tooltip shows the job's output files, each a code span, and nothing when it has none", () => {
  const md = jobTooltipMarkdown(makeJob({ outputs: ['outputs/**', '*.{pt,ckpt}', 'run `x`/', '$(zap)'] }), { now: T0 });
  assert.ok(md.includes('**Output files:** ` outputs/** ` ` *.{pt,ckpt} ` `` run `x`/ `` ` $\u200b(zap) ` (copied back from a remote host)'), md);
  assert.ok(!jobTooltipMarkdown(makeJob(), { now: T0 }).includes('Output files'));
  assert.ok(!jobTooltipMarkdown(makeJob({ outputs: [] }), { now: T0 }).includes('Output files'));
});

test('group counts show "shown of total" only when capped', () => {
  assert.equal(groupCount(2), '2');
  assert.equal(groupCount(0), '0');
  assert.equal(groupCount(50, 120), '50 of 120');
  assert.equal(groupCount(30, 30), '30');
});

test('host and GPU descriptions', () => {
  assert.equal(hostDescription(host()), 'online · 2 GPUs · CPU 23% · mem 12.1/31.2 GiB');
  assert.equal(hostDescription(host({ gpus: [], gpuNote: 'nvidia-smi not found' })), 'online · no GPU · CPU 23% · mem 12.1/31.2 GiB');
  assert.equal(hostDescription(host({ state: 'offline', error: 'probe timed out\nstack…' })), 'offline: probe timed out');
  assert.equal(formatGiB(40 * GiB), '40');
  const gpu = host().gpus[0];
  assert.equal(gpuLabel(gpu), 'GPU 0 · NVIDIA A100');
  assert.equal(gpuDescription(gpu), '40% · 10.2/40 GiB');
  assert.equal(gpuDescription(gpu, ['train_mnist.py']), '40% · 10.2/40 GiB · held by train_mnist.py');
  assert.equal(gpuDescription({ index: 3, uuid: 'u', name: 'T4' }), 'n/a');
  assert.equal(noGpuLabel(host({ gpus: [], gpuNote: 'nvidia-smi not found' })), 'no GPU (nvidia-smi not found)');
  assert.equal(noGpuLabel(host({ gpus: [] })), 'no GPU');
});

test('status-bar text with GPUs, without GPUs and before the first probe', () => {
  const counts = { running: 2, queued: 3 };
  assert.equal(statusBarText(counts, [host()]), '$(pulse) 2 running · 3 queued · GPU 41% · CPU 23%');
  assert.equal(statusBarText(counts, [host({ gpus: [] })]), '$(pulse) 2 running · 3 queued · no GPU · CPU 23%');
  assert.equal(statusBarText({ running: 0, queued: 0 }, []), '$(pulse) 0 running · 0 queued');
  assert.equal(statusBarText(counts, [host({ state: 'offline', gpus: [], cpuLoadPct: undefined })]), '$(pulse) 2 running · 3 queued · no GPU');
  assert.equal(statusBarAccessibilityLabel(counts, [host()]), 'TrainQ: 2 running, 3 queued, GPU 41%, CPU 23%');
});

test('status-bar tooltip lists each host and GPU, escaped', () => {
  const md = statusBarTooltipMarkdown({ running: 1, queued: 0 }, [host({ name: 'box_*1*' })]);
  assert.ok(md.includes('**TrainQ** — 1 job running, 0 queued'));
  assert.ok(md.includes('**box\\_\\*1\\*** (local)'));
  assert.ok(md.includes('- GPU 0 · NVIDIA A100: 40% · 10.2/40 GiB'));
  assert.ok(md.includes('- 16 CPUs'));
  assert.ok(statusBarTooltipMarkdown({ running: 0, queued: 0 }, []).includes('_Hosts not probed yet._'));
});

test("a host's tooltip and row show its labels (escaped), online or not; none without labels", () => {
  const md = hostTooltipMarkdown(host({ name: 'gpu-a', kind: 'ssh' }), ['a100', 'lab_*1*']);
  assert.ok(md.includes('- Labels: a100, lab\\_\\*1\\*'), md);
  assert.ok(hostTooltipMarkdown(host({ state: 'offline', gpus: [] }), ['a100']).includes('- Labels: a100'));
  assert.ok(!hostTooltipMarkdown(host(), []).includes('Labels'));
  assert.ok(!hostTooltipMarkdown(host()).includes('Labels'));
  assert.equal(hostLabelsText(['a100', 'lab']), 'labels a100, lab');
  assert.equal(hostLabelsText([]), undefined);
  assert.equal(hostLabelsText(undefined), undefined);
});

test('cleanLogText strips colours and keeps the last state of \\r-rewritten lines', () => {
  assert.equal(cleanLogText('\x1b[32mok\x1b[0m\n'), 'ok\n');
  assert.equal(cleanLogText(' 10%|#\r 50%|#####\r100%|##########|\nnext\n'), '100%|##########|\nnext\n');
  assert.equal(cleanLogText('windows line\r\nend'), 'windows line\nend');
  assert.equal(cleanLogText('partial 30%\r'), 'partial 30%');
});

test('offline hosts say what is wrong and when TrainQ retries; GPUs busy outside TrainQ say so', () => {
  const base = { name: 'gpu-1', kind: 'ssh' as const, state: 'offline' as const, gpus: [], probedAt: 0 };
  assert.equal(hostDescription({ ...base, problem: 'hostKeyChanged', error: 'WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!' }, 0), 'offline: host key changed');
  assert.equal(hostDescription({ ...base, error: 'ssh: connect to host x port 22: Connection refused', retryAt: 40_000 }, 0), 'offline: ssh: connect to host x port 22: Connection refused · retry in 0:40');
  assert.equal(gpuDescription({ index: 0, uuid: 'u', name: 'A100', utilizationPct: 90, foreignProcesses: 1 }), '90% · busy outside TrainQ');
  const down = new Date(2026, 10, 23, 14, 5).getTime();
  assert.equal(hostDescription({ ...base, problem: 'auth', offlineSince: down }, down + 60_000), 'offline since 14:05: authentication failed');
  assert.equal(
    hostDescription({ ...base, problem: 'auth', offlineSince: down }, down + 86_400_000),
    'offline since 2026-11-23 14:05: authentication failed',
  );
});

test('a Slurm host shows its partition, capacity and learned queue wait; its jobs show what Slurm says', () => {
  const status = {
    name: 'cluster-a',
    kind: 'slurm' as const,
    state: 'online' as const,
    gpus: [],
    probedAt: T0,
    slurm: { partition: 'gpu', nodes: 2, gpusTotal: 16, gpusAllocated: 13, gpusIdle: 3, expectedWaitSec: 750 },
  };
  assert.equal(hostDescription(status, T0), 'online · partition gpu · 2 nodes · 16 GPUs, 3 idle · queue wait ~12:30');
  const { expectedWaitSec: _, ...unknownWait } = status.slurm;
  assert.equal(hostDescription({ ...status, slurm: unknownWait }, T0), 'online · partition gpu · 2 nodes · 16 GPUs, 3 idle');
  const pending = makeJob({ state: 'running', host: 'cluster-a', gpuIndices: [0], startedAt: T0, reason: 'Pending in Slurm (job 12): Resources' });
  assert.equal(jobDescription(pending, { now: T0 + 5_000 }), 'running · cluster-a · GPU 0 · 0:05 · Pending in Slurm (job 12): Resources');
});

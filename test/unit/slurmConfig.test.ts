import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseHostConfigs, parseSlurmHostConfig } from '../../src/hosts/hostConfig';
import { HostRegistry } from '../../src/hosts/hostRegistry';
import { FakeHost } from '../support/builders';

test('a minimal local Slurm entry: no sync, no workdir, defaults', () => {
  assert.deepEqual(parseSlurmHostConfig({ name: 'cluster-a', type: 'slurm', target: 'local' }), {
    name: 'cluster-a',
    type: 'slurm',
    target: 'local',
    destination: undefined,
    partition: undefined,
    account: undefined,
    qos: undefined,
    timeLimit: undefined,
    workdir: undefined,
    python: 'python3',
    sync: 'none',
    extraSbatchArgs: [],
    maxJobs: 16,
    speed: 1,
    env: {},
    labels: [],
  });
});

test('a full entry through a login node', () => {
  const config = parseSlurmHostConfig({
    name: 'cluster-b',
    type: 'slurm',
    target: 'me@login.example.org:2222',
    partition: 'gpu,gpu-long',
    account: 'lab-1',
    qos: 'normal',
    timeLimit: '2-00:00:00',
    workdir: '~/scratch/',
    extraSbatchArgs: ['--mem=32G', '-Ca100'],
    env: { WANDB_MODE: 'offline' },
  });
  assert.deepEqual(config.destination, { host: 'login.example.org', user: 'me', port: 2222 });
  assert.equal(config.workdir, '~/scratch');
  assert.equal(config.sync, 'rsync');
  assert.deepEqual(config.extraSbatchArgs, ['--mem=32G', '--constraint=a100'], 'kept under their full names, as sbatch reads them');
});

test("extraSbatchArgs are read as sbatch reads them: the issue's abbreviations and bundles are refused by name", () => {
  const base = { name: 'c', type: 'slurm', target: 'login' };
  const cases: Array<[string[], RegExp]> = [
    [['--job-nam=evil'], /extraSbatchArgs\[0\]: '--job-nam=evil' is sbatch's --job-name, which TrainQ sets itself/],
    [['--outp=/tmp/x'], /'--outp=\/tmp\/x' is sbatch's --output, which TrainQ sets itself/],
    [['--arr=0-9'], /'--arr=0-9' is sbatch's --array/],
    [['--chdi=/tmp'], /'--chdi=\/tmp' is sbatch's --chdir/],
    [['--hol'], /'--hol' is sbatch's --hold/],
    [['--test-onl'], /'--test-onl' is sbatch's --test-only/],
    [['--mem=1G', '-vJevil'], /extraSbatchArgs\[1\]: '-vJevil' contains -J, sbatch's --job-name/],
    [['--parti=gpu'], /--partition, which TrainQ sets itself \(use the host's 'partition'\)/],
    [['-Q'], /--quiet, which would hide the job id/],
    [['--co=x'], /'--co=x' is ambiguous for sbatch: it could be --comment, --container/],
  ];
  for (const [extraSbatchArgs, why] of cases) {
    assert.throws(() => parseSlurmHostConfig({ ...base, extraSbatchArgs }, 'host #1'), why, JSON.stringify(extraSbatchArgs));
  }
  const { hosts, errors } = parseHostConfigs([{ ...base, extraSbatchArgs: ['--job-nam=evil'] }]);
  assert.deepEqual(hosts, [], 'a host with a refused option is not used');
  assert.match(errors[0], /^host 'c': extraSbatchArgs\[0\]: '--job-nam=evil' is sbatch's --job-name/);
  const ok = parseSlurmHostConfig({ ...base, extraSbatchArgs: ['--mem', '4G', '-vk', '--exclus', '--comm=a b'] }).extraSbatchArgs;
  assert.deepEqual(ok, ['--mem=4G', '--verbose', '--no-kill', '--exclusive', '--comment=a b']);
});

test('invalid Slurm entries say which field is wrong', () => {
  const base = { name: 'c', type: 'slurm', target: 'login' };
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ ...base, partition: '--all' }, /'partition' must be a Slurm partition name/],
    [{ ...base, account: 'a b' }, /'account' must be a Slurm account name/],
    [{ ...base, qos: 5 }, /'qos'/],
    [{ ...base, timeLimit: '1 hour' }, /'timeLimit' must be a Slurm time/],
    [{ ...base, extraSbatchArgs: '--mem=1G' }, /'extraSbatchArgs' must be a list/],
    [{ ...base, extraSbatchArgs: ['--mem=32G', '--mem'] }, /extraSbatchArgs\[1\]: '--mem' leaves --mem without a value/],
    [{ ...base, extraSbatchArgs: ['32G'] }, /extraSbatchArgs\[0\]: '32G' is not an option/],
    [{ ...base, extraSbatchArgs: [5] }, /extraSbatchArgs\[0\]: 5 is not a string/],
    [{ ...base, extraSbatchArgs: ['--job-name=x'] }, /'--job-name=x' is sbatch's --job-name, which TrainQ sets itself/],
    [{ ...base, extraSbatchArgs: ['-o/tmp/x'] }, /'-o\/tmp\/x' is -o, sbatch's --output, which TrainQ sets itself/],
    [{ ...base, python: 'eval' }, /'python' is a shell builtin or keyword/],
    [{ ...base, workdir: '//' }, /'workdir' must not be the root folder/],
    [{ ...base, extraSbatchArgs: ['--mem=1G\n--wrap=x'] }, /extraSbatchArgs\[0\]/],
    [{ ...base, target: '-oProxyCommand=x' }, /invalid host name/],
    [{ ...base, target: 'local', sync: 'rsync' }, /runs in place/],
    [{ ...base, workdir: 'relative' }, /'workdir' must be absolute/],
    [{ ...base, nodes: 2 }, /unknown field 'nodes'/],
    [{ ...base, env: { CUDA_VISIBLE_DEVICES: '0' } }, /set by TrainQ/],
  ];
  for (const [entry, why] of cases) {
    assert.throws(() => parseSlurmHostConfig(entry, 'host #1'), why, JSON.stringify(entry));
  }
});

test('the hosts setting mixes SSH hosts and Slurm clusters; names stay unique across both', () => {
  const { hosts, errors } = parseHostConfigs([
    { name: 'box', type: 'ssh', target: 'box' },
    { name: 'cluster', type: 'slurm', target: 'local', partition: 'gpu' },
    { name: 'BOX', type: 'slurm', target: 'local' },
    { name: 'odd', type: 'kubernetes', target: 'x' },
  ]);
  assert.deepEqual(
    hosts.map((h) => `${h.name}:${h.type}`),
    ['box:ssh', 'cluster:slurm'],
  );
  assert.equal(errors.length, 2);
  assert.match(errors[0], /already used by 'box'/);
  assert.match(errors[1], /'type' must be "ssh" or "slurm"/);
});

test('the registry builds Slurm hosts with their own factory, and leaves them out without one', () => {
  const configs = parseHostConfigs([
    { name: 'box', type: 'ssh', target: 'box' },
    { name: 'cluster', type: 'slurm', target: 'local' },
  ]).hosts;
  const made: string[] = [];
  const registry = new HostRegistry(
    new FakeHost('local', 0),
    (c) => (made.push(`ssh:${c.name}`), new FakeHost(c.name, 1)),
    (c) => (made.push(`slurm:${c.name}`), new FakeHost(c.name, 4)),
  );
  assert.deepEqual(
    registry.hostsFor(configs, []).map((h) => h.name),
    ['local', 'box', 'cluster'],
  );
  assert.deepEqual(made, ['ssh:box', 'slurm:cluster']);
  const sshOnly = new HostRegistry(new FakeHost('local', 0), (c) => new FakeHost(c.name, 1));
  assert.deepEqual(
    sshOnly.hostsFor(configs, []).map((h) => h.name),
    ['local', 'box'],
  );
});

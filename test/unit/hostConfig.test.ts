import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseHostConfigs, parseSshHostConfig, parseTarget } from '../../src/hosts/hostConfig';
import { SHELL_WORDS } from '../../src/hosts/interpreterName';
import { listSshConfigHosts, splitConfigLine } from '../../src/hosts/ssh/sshConfigFile';

test('targets: aliases, user@host, ports and bracketed IPv6', () => {
  assert.deepEqual(parseTarget('gpu-box-1'), { host: 'gpu-box-1', user: undefined, port: undefined });
  assert.deepEqual(parseTarget('me@10.0.0.5'), { host: '10.0.0.5', user: 'me', port: undefined });
  assert.deepEqual(parseTarget('me@gpu.example.org:2222'), { host: 'gpu.example.org', user: 'me', port: 2222 });
  assert.deepEqual(parseTarget('box:22'), { host: 'box', user: undefined, port: 22 });
  assert.deepEqual(parseTarget('[::1]:2200'), { host: '::1', user: undefined, port: 2200 });
  assert.deepEqual(parseTarget('ops@[fe80::1%eth0]'), { host: 'fe80::1%eth0', user: 'ops', port: undefined });
});

test('targets that ssh could read as options or that are malformed are refused with the reason', () => {
  const cases: Array<[string, RegExp]> = [
    ['-oProxyCommand=touch /tmp/x', /invalid host name/],
    ['-lroot@box', /invalid user name/],
    ['box:0', /invalid port '0'/],
    ['box:65536', /invalid port/],
    ['box:22x', /invalid port/],
    ['::1', /write it in brackets/],
    ['[::1', /unclosed \[/],
    ['[nothex]:22', /invalid IPv6/],
    ['', /empty/],
    [' box', /surrounding spaces/],
    ['box name', /invalid host name/],
    ['me@', /invalid host name ''/],
    ['bo;x', /invalid host name/],
  ];
  for (const [target, why] of cases) {
    assert.throws(() => parseTarget(target), why, target);
  }
});

test('a full entry is parsed with defaults filled in', () => {
  assert.deepEqual(parseSshHostConfig({ name: 'gpu-box-1', type: 'ssh', target: 'alias' }), {
    name: 'gpu-box-1',
    type: 'ssh',
    target: 'alias',
    destination: { host: 'alias', user: undefined, port: undefined },
    workdir: '~/trainq',
    python: 'python3',
    sync: 'rsync',
    maxJobs: 4,
    speed: 1,
    env: {},
    labels: [],
  });
  const full = parseSshHostConfig({
    name: 'b.2',
    type: 'ssh',
    target: 'u@h:2',
    workdir: '/scratch/me/',
    python: '~/venv/bin/python',
    sync: 'none',
    maxJobs: 8,
    speed: 2.5,
    env: { HF_HOME: '/data/hf', _X1: 'a b $c' },
  });
  assert.equal(full.workdir, '/scratch/me');
  assert.equal(full.sync, 'none');
  assert.equal(full.speed, 2.5);
  assert.deepEqual(full.env, { HF_HOME: '/data/hf', _X1: 'a b $c' });
});

test('each invalid field gets a message naming the host and the field', () => {
  const base = { name: 'box', type: 'ssh', target: 'box' };
  const cases: Array<[unknown, RegExp]> = [
    [null, /expected an object/],
    [{ ...base, name: '../evil' }, /'name' must be/],
    [{ ...base, name: 'Local' }, /reserved/],
    [{ ...base, type: 'slurm' }, /host 'box': 'type' must be "ssh"/],
    [{ ...base, target: 42 }, /'target' must be a string/],
    [{ ...base, target: '-oX' }, /host 'box': target '-oX' has an invalid host name/],
    [{ ...base, sync: 'scp' }, /'sync' must be one of "rsync", "tar", "none"/],
    [{ ...base, maxJobs: 0 }, /'maxJobs' must be a whole number from 1 to 256/],
    [{ ...base, maxJobs: 1.5 }, /'maxJobs'/],
    [{ ...base, maxJobs: '4' }, /'maxJobs'/],
    [{ ...base, speed: -1 }, /'speed' must be a positive number/],
    [{ ...base, workdir: 'relative/dir' }, /'workdir' must be absolute or start with ~\//],
    [{ ...base, workdir: '~other/dir' }, /'workdir' must be absolute/],
    [{ ...base, workdir: '/a/../b' }, /must not contain '\.\.'/],
    [{ ...base, workdir: '/a\nb' }, /control characters/],
    [{ ...base, python: '' }, /'python' must be a non-empty string/],
    [{ ...base, env: ['A=1'] }, /'env' must be an object/],
    [{ ...base, env: { '1BAD': 'x' } }, /env name '1BAD' is not a valid variable name/],
    [{ ...base, env: { 'A-B': 'x' } }, /not a valid variable name/],
    [{ ...base, env: { CUDA_VISIBLE_DEVICES: '0' } }, /set by TrainQ for each job/],
    [{ ...base, env: { A: 1 } }, /env 'A' must be a string/],
    [{ ...base, maxjobs: 4 }, /unknown field 'maxjobs'/],
  ];
  for (const [entry, why] of cases) {
    assert.throws(() => parseSshHostConfig(entry, 'host #1'), why, JSON.stringify(entry));
  }
});

test("workdir: slashes and '.' parts collapse, the root is refused in every spelling, home itself is fine", () => {
  const base = { name: 'box', type: 'ssh', target: 'box' };
  const normal: Array<[string, string]> = [
    ['//scratch//me/./', '/scratch/me'],
    ['/scratch/me///', '/scratch/me'],
    ['/./scratch', '/scratch'],
    ['~', '~'],
    ['~/', '~'],
    ['~//', '~'],
    ['~/./a//b/', '~/a/b'],
  ];
  for (const [workdir, expected] of normal) {
    assert.equal(parseSshHostConfig({ ...base, workdir }).workdir, expected, workdir);
  }
  for (const workdir of ['/', '//', '///', '/./', '/.//./', '/.']) {
    assert.throws(() => parseSshHostConfig({ ...base, workdir }), /'workdir' must not be the root folder '\/'/, workdir);
  }
  for (const workdir of ['/..', '/../', '/a/..', '~/..']) {
    assert.throws(() => parseSshHostConfig({ ...base, workdir }), /must not contain '\.\.'/, workdir);
  }
});

test('python: a program name or an absolute or ~/ path; shell builtins, keywords and shell syntax are refused', () => {
  const base = { name: 'box', type: 'ssh', target: 'box' };
  const fine = ['python3', 'python3.11', 'pypy3', 'my_py-2+', '/usr/bin/python3', '~/venv/bin/python', '/opt/conda/envs/a-b.c/bin/python'];
  for (const python of fine) {
    assert.equal(parseSshHostConfig({ ...base, python }).python, python);
  }
  const builtins = ['eval', 'exec', 'source', '.', 'command', 'builtin', 'trap', 'set', 'export', 'alias', 'if', 'then', 'for', 'while'];
  builtins.push('function', 'time', '!', 'typeset', 'local', 'readonly');
  for (const python of builtins) {
    assert.throws(() => parseSshHostConfig({ ...base, python }), /'python' (is a shell builtin or keyword|must be a program name)/, python);
  }
  assert.throws(
    () => parseSshHostConfig({ ...base, python: 'eval' }, 'host #1'),
    /host 'box': 'python' is a shell builtin or keyword, not a program: the shell would run the job's arguments itself \(got "eval"\)/,
  );
  const syntax = ['python3 -u', 'venv/bin/python', './python', '$(touch x)', 'py;rm', '-c', '~user/bin/python', '/usr/../bin/python'];
  syntax.push('/usr//bin/python', '/', '~', '`x`', 'py|x', "py'", 'py\tx');
  for (const python of syntax) {
    assert.throws(() => parseSshHostConfig({ ...base, python }), /'python' must (be|not contain control)/, python);
  }
  const { hosts, errors } = parseHostConfigs([{ ...base, python: 'eval' }, { ...base, name: 'ok' }]);
  assert.deepEqual(hosts.map((h) => h.name), ['ok'], 'the host with a shell word is not used');
  assert.match(errors[0], /host 'box': 'python' is a shell builtin/);
});

test("every builtin and keyword the real shells know is refused as an interpreter (bash's compgen, dash's command -v)", (t) => {
  const bash = spawnSync('bash', ['-c', 'compgen -b; compgen -k'], { encoding: 'utf8' });
  if (bash.status !== 0) return t.skip('bash is not installed');
  const bashWords = bash.stdout.split('\n').filter(Boolean);
  assert.ok(bashWords.length > 60, `bash listed ${bashWords.length}`);
  assert.deepEqual(bashWords.filter((w) => !SHELL_WORDS.has(w)), [], 'bash words missing from SHELL_WORDS');
  // dash has no compgen: ask it about every candidate; a builtin is reported by name, a program by path.
  const candidates = [...new Set([...bashWords, ...SHELL_WORDS, 'chdir', 'local', 'printf', 'echo', 'python3', 'env', 'sh'])];
  const ask = 'for w in "$@"; do command -v -- "$w" >/dev/null 2>&1 && printf "%s=%s\\n" "$w" "$(command -v -- "$w")"; done';
  const dash = spawnSync('dash', ['-c', ask, 'dash', ...candidates], { encoding: 'utf8' });
  if (dash.error) return t.skip('dash is not installed');
  const dashBuiltins = dash.stdout.split('\n').filter((l) => l && !l.includes('=/')).map((l) => l.split('=')[0]);
  assert.ok(dashBuiltins.length > 30, `dash reported ${dashBuiltins.length}`);
  assert.deepEqual(dashBuiltins.filter((w) => !SHELL_WORDS.has(w)), [], 'dash words missing from SHELL_WORDS');
});

test('the setting keeps valid entries, reports the invalid ones and duplicate names', () => {
  const { hosts, errors } = parseHostConfigs([
    { name: 'a', type: 'ssh', target: 'a' },
    { name: 'b', type: 'ssh', target: '-x' },
    { name: 'A', type: 'ssh', target: 'other' },
    { name: 'c', type: 'ssh', target: 'c' },
  ]);
  assert.deepEqual(hosts.map((h) => h.name), ['a', 'c']);
  assert.equal(errors.length, 2);
  assert.match(errors[0], /host 'b': target '-x'/);
  assert.match(errors[1], /host #3: the name 'A' is already used by 'a'/);
  assert.deepEqual(parseHostConfigs(undefined), { hosts: [], errors: [] });
  assert.deepEqual(parseHostConfigs({}).errors, ['The hosts setting must be a list of host objects.']);
});

let home: string;

before(async () => {
  home = await fs.mkdtemp(path.join(os.tmpdir(), 'trainq-sshconfig-'));
  await fs.mkdir(path.join(home, '.ssh', 'config.d'), { recursive: true });
  await fs.writeFile(
    path.join(home, '.ssh', 'config'),
    [
      '# personal hosts',
      'Host gpu-box-1 gpu-box-2',
      '    HostName 10.0.0.5',
      '    User me',
      '    Port 2222',
      '',
      'Host *.internal !bastion web?',
      '    User nobody',
      'Host=bastion',
      '  HostName = jump.example.org',
      'Match host foo',
      '  User matched',
      'Host "quoted alias"',
      'Include config.d/*.conf ~/.ssh/missing',
      'Host gpu-box-1',
      '  HostName second-definition',
      'Host *',
      '  ServerAliveInterval 30',
      '',
    ].join('\n'),
  );
  await fs.writeFile(path.join(home, '.ssh', 'config.d', '10-lab.conf'), 'Host lab-a\n  HostName lab-a.example.org\nInclude ~/.ssh/config.d/nested\n');
  await fs.writeFile(path.join(home, '.ssh', 'config.d', '20-cloud.conf'), 'Host cloud-1\n  User ubuntu\n');
  await fs.writeFile(path.join(home, '.ssh', 'config.d', 'nested'), 'Host nested-x\n  Port 22\n');
  await fs.writeFile(path.join(home, '.ssh', 'config.d', 'ignored.txt'), 'Host not-included\n');
});

after(async () => {
  await fs.rm(home, { recursive: true, force: true });
});

test('ssh config lines split like ssh reads them', () => {
  assert.deepEqual(splitConfigLine('  Host a b  # comment'), ['Host', 'a', 'b']);
  assert.deepEqual(splitConfigLine('HostName=x.org'), ['HostName', 'x.org']);
  assert.deepEqual(splitConfigLine('HostName = x.org'), ['HostName', 'x.org']);
  assert.deepEqual(splitConfigLine('IdentityFile "~/my keys/id"'), ['IdentityFile', '~/my keys/id']);
  assert.deepEqual(splitConfigLine('# only a comment'), []);
});

test('the ssh config lister follows Include, skips patterns and Match, and keeps first values', async () => {
  const hosts = await listSshConfigHosts({ home });
  const config = path.join(home, '.ssh', 'config');
  assert.deepEqual(
    hosts.map((h) => [h.alias, h.hostName, h.user, h.port]),
    [
      ['gpu-box-1', '10.0.0.5', 'me', 2222],
      ['gpu-box-2', '10.0.0.5', 'me', 2222],
      ['bastion', 'jump.example.org', undefined, undefined],
      ['quoted alias', undefined, undefined, undefined],
      ['lab-a', 'lab-a.example.org', undefined, undefined],
      ['nested-x', undefined, undefined, 22],
      ['cloud-1', undefined, 'ubuntu', undefined],
    ],
  );
  assert.deepEqual([hosts[0].file, hosts[0].line], [config, 2]);
  assert.equal(hosts[4].file, path.join(home, '.ssh', 'config.d', '10-lab.conf'));
});

test('a missing ssh config lists nothing, and include cycles stop', async () => {
  assert.deepEqual(await listSshConfigHosts({ home, file: path.join(home, 'nope') }), []);
  const loop = path.join(home, 'loop.conf');
  await fs.writeFile(loop, `Host looped\nInclude ${loop}\n`);
  assert.deepEqual((await listSshConfigHosts({ home, file: loop })).map((h) => h.alias), ['looped']);
});

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { classifySshFailure, controlPathFor, MAX_CONTROL_PATH, shQuote, SshError, SshTransport } from '../../src/hosts/remote/sshTransport';

const NASTY = [
  '',
  ' ',
  "it's",
  "'; touch /tmp/pwned; '",
  '"; touch /tmp/pwned; "',
  '$(id)',
  '`id`',
  '$HOME ${HOME}',
  'a;b|c&d>e<f',
  'line one\nline two\n',
  '\\n \\ \\\\',
  '*',
  '~',
  '-c',
  '--',
  'ünïcødé ✓',
  "''''",
];

let dir: string;
let fakeSsh: string;

before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'trainq-sshtransport-'));
  // Stands in for ssh: runs its last argument (the remote command) with the local sh, stdin passed through.
  // FAKE_SSH_STDERR / FAKE_SSH_EXIT make it fail like ssh; FAKE_SSH_SLEEP makes it hang.
  fakeSsh = path.join(dir, 'fake-ssh');
  await fs.writeFile(
    fakeSsh,
    '#!/bin/sh\nprintf "%s\\n" "$@" > "$FAKE_SSH_ARGS"\n'
      + 'if [ -n "$FAKE_SSH_SLEEP" ]; then exec sleep "$FAKE_SSH_SLEEP"; fi\n'
      + 'if [ -n "$FAKE_SSH_EXIT" ]; then printf "%s\\n" "$FAKE_SSH_STDERR" >&2; exit "$FAKE_SSH_EXIT"; fi\n'
      + 'for last; do :; done\nexec sh -c "$last"\n',
    { mode: 0o755 },
  );
  process.env.FAKE_SSH_ARGS = path.join(dir, 'args');
});

after(async () => {
  for (const key of ['FAKE_SSH_ARGS', 'FAKE_SSH_EXIT', 'FAKE_SSH_STDERR', 'FAKE_SSH_SLEEP']) delete process.env[key];
  await fs.rm(dir, { recursive: true, force: true });
});

function transport(extra: Partial<ConstructorParameters<typeof SshTransport>[0]> = {}): SshTransport {
  return new SshTransport({ destination: { host: 'box', user: 'me', port: 2222 }, sshCommand: fakeSsh, ...extra });
}

for (const shell of ['/bin/sh', 'bash', 'dash']) {
  test(`shQuote hands every value through ${shell} unchanged`, { skip: !existsSync(shell) && !hasCommand(shell) }, () => {
    const script = `printf '%s\\0' ${NASTY.map(shQuote).join(' ')}`;
    const out = execFileSync(shell, ['-c', script], { encoding: 'utf8' });
    assert.deepEqual(out.split('\0').slice(0, -1), NASTY);
  });
}

function hasCommand(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

test('shQuote refuses NUL, which no argv can carry', () => {
  assert.throws(() => shQuote('a\0b'), /NUL/);
});

test('runScript sends a fixed script on stdin to sh -s and the values as quoted words', async () => {
  const pwned = path.join(dir, 'pwned');
  const args = [...NASTY, `'; touch ${pwned}; '`];
  const result = await transport().runScript('for a in "$@"; do printf "%s\\0" "$a"; done\nexit 3\n', args);
  assert.equal(result.code, 3, 'the remote exit code comes back as a result, not an error');
  assert.deepEqual(result.stdout.toString('utf8').split('\0').slice(0, -1), args);
  assert.equal(existsSync(pwned), false);
  const sshArgs = (await fs.readFile(process.env.FAKE_SSH_ARGS!, 'utf8')).split('\n');
  assert.ok(sshArgs.includes('BatchMode=yes'));
  assert.deepEqual(sshArgs.slice(sshArgs.indexOf('-p'), sshArgs.indexOf('-p') + 4), ['-p', '2222', '--', 'me@box']);
  assert.ok(sshArgs[sshArgs.indexOf('me@box') + 1].startsWith("sh -s -- '"));
});

test('runScriptWithInput streams data to the script and passes its arguments', async () => {
  const input = Readable.from([Buffer.from('hello '), Buffer.from('world')]);
  const result = await transport().runScriptWithInput('cat > "$1/got" && printf ok', [dir], input);
  assert.equal(result.stdout.toString(), 'ok');
  assert.equal(await fs.readFile(path.join(dir, 'got'), 'utf8'), 'hello world');
});

test('ssh options never weaken host-key checking and share one connection per destination', async () => {
  const t = transport({ controlDir: path.join(dir, 'ctl dir'), configFile: '/etc/test_ssh_config' });
  const args = await t.optionArgs();
  const joined = args.join(' ');
  assert.doesNotMatch(joined, /StrictHostKeyChecking|UserKnownHostsFile|GlobalKnownHostsFile/);
  for (const option of ['BatchMode=yes', 'ConnectTimeout=10', 'ServerAliveInterval=15', 'ControlMaster=auto', 'ControlPersist=300']) {
    assert.ok(args.includes(option), option);
  }
  assert.deepEqual(args.slice(0, 2), ['-F', '/etc/test_ssh_config']);
  const controlPath = args.find((a) => a.startsWith('ControlPath='))!.slice('ControlPath='.length);
  assert.ok(controlPath.length <= MAX_CONTROL_PATH);
  assert.equal((await fs.stat(path.dirname(controlPath))).mode & 0o777, 0o700, 'the socket folder is private');
  // rsync's -e gets the same options, quoted for rsync's own splitter.
  assert.match(await t.rsyncShell(), new RegExp(`'ControlPath=${controlPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}'`));
  assert.equal(t.rsyncTarget('/w/p/'), 'me@box:/w/p/');
  assert.equal(new SshTransport({ destination: { host: '::1' } }).rsyncTarget('/x'), '[::1]:/x');
});

test('control paths are short hashes; a folder too deep falls back to a private temp folder', async () => {
  const a = controlPathFor('/s', 'key-a');
  assert.match(a!, /^\/s\/[0-9a-f]{16}$/);
  assert.equal(controlPathFor('/s', 'key-a'), a);
  assert.notEqual(controlPathFor('/s', 'key-b'), a);
  assert.equal(controlPathFor(`/${'x'.repeat(80)}`, 'k'), undefined);
  const deep = transport({ controlDir: path.join(dir, 'd'.repeat(90)) });
  const fallback = await deep.resolveControlPath();
  assert.ok(fallback?.startsWith(path.join(os.tmpdir(), 'trainq-ssh-')), fallback);
  // Left in place when a real connection uses it; removed when this test made it empty.
  await fs.rmdir(path.dirname(fallback!)).catch(() => undefined);
});

test('exit 255 is an SshError classified from stderr; other codes are results', async () => {
  process.env.FAKE_SSH_EXIT = '255';
  process.env.FAKE_SSH_STDERR = 'ssh: connect to host box port 2222: Connection refused';
  try {
    const err = await transport().runScript('true', []).catch((e: unknown) => e);
    assert.ok(err instanceof SshError);
    assert.equal(err.kind, 'unreachable');
    assert.equal(err.mayHaveRun, false);
    assert.match(err.message, /Connection refused/);
    process.env.FAKE_SSH_EXIT = '4';
    assert.equal((await transport().runScript('true', [])).code, 4);
  } finally {
    delete process.env.FAKE_SSH_EXIT;
    delete process.env.FAKE_SSH_STDERR;
  }
});

test('every call has a timeout, reported as a timeout that may have run', async () => {
  process.env.FAKE_SSH_SLEEP = '30';
  try {
    const err = await transport().runScript('true', [], { timeoutMs: 300 }).catch((e: unknown) => e);
    assert.ok(err instanceof SshError);
    assert.equal(err.kind, 'timeout');
    assert.equal(err.mayHaveRun, true);
  } finally {
    delete process.env.FAKE_SSH_SLEEP;
  }
});

test('a missing ssh client is a clear error', async () => {
  const err = await transport({ sshCommand: path.join(dir, 'no-ssh') }).runScript('true', []).catch((e: unknown) => e);
  assert.ok(err instanceof SshError);
  assert.match(err.message, /ssh client was not found/);
});

const CHANGED = `@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @
@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!
Someone could be eavesdropping on you right now (man-in-the-middle attack)!
It is also possible that a host key has just been changed.
The fingerprint for the ED25519 key sent by the remote host is
SHA256:NHF1XC8scaFgCukLgrhWY5qQGpTN5BF1S2UQ36cmPrM.
Please contact your system administrator.
Add correct host key in /home/me/.ssh/known_hosts to get rid of this message.
Offending ED25519 key in /home/me/.ssh/known_hosts:7
  remove with:
  ssh-keygen -f "/home/me/.ssh/known_hosts" -R "[gpu]:22"
Host key for [gpu]:22 has changed and you have requested strict checking.
Host key verification failed.
`;

test('ssh failures are classified into host problems with the useful part of the message', () => {
  const changed = classifySshFailure(CHANGED);
  assert.equal(changed.kind, 'hostKeyChanged');
  assert.equal(changed.mayHaveRun, false);
  assert.match(changed.message, /^host key changed: The fingerprint for the ED25519 key .* SHA256:NHF1.* Offending ED25519 key in \/home\/me\/.ssh\/known_hosts:7 ssh-keygen -f/);
  assert.doesNotMatch(changed.message, /@@@|NASTY/);
  const cases: Array<[string, string, boolean]> = [
    ['No ED25519 host key is known for [gpu]:22 and you have requested strict checking.\nHost key verification failed.', 'hostKeyUnknown', false],
    ['me@gpu: Permission denied (publickey).', 'auth', false],
    ['Received disconnect from 10.0.0.5 port 22:2: Too many authentication failures', 'auth', false],
    ['ssh: connect to host gpu port 22: Connection refused', 'unreachable', false],
    ['ssh: Could not resolve hostname gpu: Name or service not known', 'unreachable', false],
    ['ssh: connect to host 10.0.0.5 port 22: No route to host', 'unreachable', false],
    ['kex_exchange_identification: read: Connection reset by peer', 'unreachable', false],
    ['Connection closed by 10.0.0.5 port 22', 'unreachable', false],
    ['ssh: connect to host 10.255.255.1 port 22: Connection timed out', 'timeout', false],
    ['Connection timed out during banner exchange', 'timeout', false],
    ['Connection to 10.255.255.1 port 22 timed out', 'timeout', false],
    ['Connection to gpu closed by remote host.', 'unreachable', true],
    ['client_loop: send disconnect: Broken pipe', 'unreachable', true],
    ['Timeout, server gpu not responding.', 'unreachable', true],
    ['something new and strange', 'other', true],
    ['', 'other', true],
  ];
  for (const [stderr, kind, mayHaveRun] of cases) {
    const c = classifySshFailure(stderr);
    assert.deepEqual([c.kind, c.mayHaveRun], [kind, mayHaveRun], stderr);
  }
  assert.match(classifySshFailure('me@gpu: Permission denied (publickey).').message, /^authentication failed: me@gpu: Permission denied/);
});

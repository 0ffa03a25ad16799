import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSshHostConfig } from '../../src/hosts/hostConfig';
import { HostRegistry } from '../../src/hosts/hostRegistry';
import { FakeHost } from '../support/builders';

const ssh = (name: string, target = 'gpu-box') => parseSshHostConfig({ name, type: 'ssh', target });

test('keeps unchanged hosts, recreates edited ones, disposes removed ones', () => {
  const created: string[] = [];
  const disposed: string[] = [];
  const registry = new HostRegistry(new FakeHost('local', 0), (config) => {
    created.push(`${config.name}@${config.target}`);
    const host = new FakeHost(config.name, 2);
    host.dispose = () => disposed.push(config.name);
    return host;
  });
  let hosts = registry.hostsFor([ssh('a'), ssh('b')], []);
  assert.deepEqual(hosts.map((h) => h.name), ['local', 'a', 'b']);
  const firstA = hosts.find((h) => h.name === 'a');
  hosts = registry.hostsFor([ssh('a'), ssh('b', 'other-box')], hosts);
  assert.equal(hosts.find((h) => h.name === 'a'), firstA, 'unchanged host kept');
  assert.deepEqual(created, ['a@gpu-box', 'b@gpu-box', 'b@other-box']);
  assert.deepEqual(disposed, ['b']);
  hosts = registry.hostsFor([], hosts);
  assert.deepEqual(hosts.map((h) => h.name), ['local']);
  assert.deepEqual(disposed.sort(), ['a', 'b', 'b']);
});

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';
import type { Logger } from '../../src/core/logger';
import { NATIVE_PACKAGES, resolveBackend } from '../../src/agent/backend';

const ROOT = path.join(__dirname, '..', '..');

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const push = (level: string) => (message: string | Error) => lines.push(`${level} ${String(message)}`);
  return { lines, trace: push('trace'), debug: push('debug'), info: push('info'), warn: push('warn'), error: push('error') };
}

test('the native packages are absent here (the premise of the fallback tests)', () => {
  for (const pkg of NATIVE_PACKAGES) {
    assert.throws(() => require.resolve(pkg), /Cannot find module/);
  }
});

test('auto falls back to WASM when no native package is installed, and logs the backend in use', async () => {
  const logger = recordingLogger();
  const resolved = await resolveBackend('auto', { logger });
  assert.equal(resolved.name, 'wasm');
  assert.equal(resolved.tf.getBackend(), 'wasm');
  assert.deepEqual(logger.lines.filter((l) => l.startsWith('warn')), [], 'a missing optional package is not worth a warning');
  assert.match(logger.lines.join('\n'), /^info Agent backend: wasm .*setting was 'auto'/m);
  // The backend computes: a 2×2 product.
  const product = resolved.tf.tidy(() => resolved.tf.matMul(resolved.tf.tensor2d([1, 2, 3, 4], [2, 2]), resolved.tf.eye(2)).dataSync());
  assert.deepEqual([...product], [1, 2, 3, 4]);
});

test('asking for tensorflow without the native packages warns and still gives a working backend', async () => {
  const logger = recordingLogger();
  const resolved = await resolveBackend('tensorflow', { logger });
  assert.equal(resolved.name, 'wasm');
  assert.match(logger.lines.join('\n'), /warn Agent backend 'tensorflow' requested, but neither @tensorflow\/tfjs-node-gpu nor @tensorflow\/tfjs-node could be loaded/);
});

test('a native package that is present is preferred, GPU build first, and its own tfjs copy is used', async () => {
  const asked: string[] = [];
  const fakeNative = { setBackend: async (name: string) => name === 'tensorflow', tensor2d: () => undefined, marker: 'native' };
  const resolved = await resolveBackend('auto', {
    loadModule: (name) => {
      asked.push(name);
      if (name === '@tensorflow/tfjs-node') {
        return fakeNative;
      }
      throw Object.assign(new Error(`Cannot find module '${name}'`), { code: 'MODULE_NOT_FOUND' });
    },
  });
  assert.equal(resolved.name, 'tensorflow');
  assert.equal(resolved.detail, '@tensorflow/tfjs-node');
  assert.equal((resolved.tf as unknown as { marker: string }).marker, 'native');
  assert.deepEqual(asked, ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']);
});

test('a native package that is installed but broken is reported, and the agent falls back', async () => {
  const logger = recordingLogger();
  const resolved = await resolveBackend('auto', {
    logger,
    loadModule: (name) => {
      if (name === '@tensorflow/tfjs-node-gpu') {
        throw new Error('libtensorflow.so.2: cannot open shared object file');
      }
      throw Object.assign(new Error('missing'), { code: 'MODULE_NOT_FOUND' });
    },
  });
  assert.equal(resolved.name, 'wasm');
  assert.match(logger.lines.join('\n'), /warn @tensorflow\/tfjs-node-gpu is installed but failed to load: libtensorflow/);
});

test('cpu is used when asked for', async () => {
  const resolved = await resolveBackend('cpu');
  assert.equal(resolved.name, 'cpu');
  assert.equal(resolved.tf.getBackend(), 'cpu');
});

test('when the .wasm files cannot be found the agent runs on plain JavaScript', () => {
  // tfjs keeps a started backend for the life of the process, so this runs in a fresh one.
  const script = `
    const { resolveBackend } = require('./src/agent/backend.ts');
    const lines = [];
    const log = (m) => lines.push(String(m));
    resolveBackend('wasm', { wasmDir: '/nonexistent/wasm', logger: { trace: log, debug: log, info: log, warn: log, error: log } })
      .then((r) => console.log(JSON.stringify({ name: r.name, lines })));`;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(child.status, 0, child.stderr);
  const out = JSON.parse(child.stdout.trim().split('\n').pop() as string) as { name: string; lines: string[] };
  assert.equal(out.name, 'cpu');
  assert.ok(out.lines.some((l) => /WASM backend did not start/.test(l)), out.lines.join('\n'));
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jobEnvironment } from '../../src/hosts/local/localHost';

test("jobs do not inherit the extension host's Electron and IPC variables", () => {
  const env = jobEnvironment({
    PATH: '/usr/bin',
    HOME: '/home/me',
    ELECTRON_RUN_AS_NODE: '1',
    VSCODE_IPC_HOOK_CLI: '/tmp/vscode-ipc.sock',
    VSCODE_PID: '42',
    CONDA_PREFIX: '/opt/conda',
  });
  assert.deepEqual(env, { PATH: '/usr/bin', HOME: '/home/me', CONDA_PREFIX: '/opt/conda' });
});

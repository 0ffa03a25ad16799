// Runs the smoke suite in a desktop VS Code that @vscode/test-electron downloads (into .vscode-test/), for
// contributors whose machines can download it; CI runs the code-server tier (test/e2e) instead.
//   npm run test:electron          (builds the extension first)
//   TRAINQ_VSCODE_VERSION=1.95.0 npm run test:electron
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';
import { runTests } from '@vscode/test-electron';

const repoRoot = path.resolve(__dirname, '..', '..');

async function main(): Promise<void> {
  // The extension host loads the suite with require(): bundle it to CommonJS, with `vscode` left to the host.
  const suiteFile = path.join(repoRoot, 'out', 'test', 'electron', 'suite.js');
  await build({
    entryPoints: [path.join(__dirname, 'suite', 'index.ts')],
    outfile: suiteFile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode'],
    sourcemap: 'inline',
    logLevel: 'warning',
  });

  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'trainq-electron-'));
  fs.cpSync(path.join(repoRoot, 'test', 'fixtures', 'workspace'), workspace, { recursive: true });
  try {
    await runTests({
      version: process.env.TRAINQ_VSCODE_VERSION,
      extensionDevelopmentPath: repoRoot,
      extensionTestsPath: suiteFile,
      launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes'],
      // Four fake GPUs, as in the e2e tier.
      extensionTestsEnv: {
        PATH: [path.join(repoRoot, 'test', 'fixtures', 'bin'), process.env.PATH ?? ''].join(path.delimiter),
      },
    });
  } finally {
    fs.rmSync(workspace, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});

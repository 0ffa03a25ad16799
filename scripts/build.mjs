// Bundles the extension host code and the agent's training worker (Node, CommonJS, `vscode`
// external) with esbuild, and copies the TensorFlow.js WASM kernels next to them.
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import * as esbuild from 'esbuild';

const watch = process.argv.includes('--watch');
const production = !watch && process.env.NODE_ENV !== 'development';

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: true,
  minify: production,
  logLevel: 'info',
};

const extension = {
  ...common,
  entryPoints: ['src/extension.ts'],
  outfile: 'dist/extension.js',
  // systeminformation probes macOS-only optional modules with a guarded require.
  external: ['vscode', 'osx-temperature-sensor'],
};

// TensorFlow.js lives only here, so the extension host never loads it. The native packages are
// resolved at run time through createRequire (backend.ts), which esbuild leaves alone.
const worker = {
  ...common,
  entryPoints: ['src/agent/trainingWorker.ts'],
  outfile: 'dist/trainingWorker.js',
};

// The dashboard's simulator check: the benchmark (with TensorFlow.js for the dqn policy) in a worker.
const evaluation = {
  ...common,
  entryPoints: ['src/sim/evaluationWorker.ts'],
  outfile: 'dist/evaluationWorker.js',
};

// The agent dashboard's page script (a browser bundle) and its stylesheet, served from media/dashboard.
const webview = {
  ...common,
  platform: 'browser',
  format: 'iife',
  target: 'es2022',
  entryPoints: ['src/webview/main.ts'],
  outfile: 'media/dashboard/dashboard.js',
};

// The sweep view's page script and stylesheet (src/webview/sweepMain.ts), served from media/sweep.
const sweepView = {
  ...webview,
  entryPoints: ['src/webview/sweepMain.ts'],
  outfile: 'media/sweep/sweep.js',
};

// The single-threaded kernels only: the agent runs WASM with one thread (backend.ts).
const require = createRequire(import.meta.url);
const wasmDist = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
mkdirSync('dist', { recursive: true });
for (const file of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm']) {
  copyFileSync(path.join(wasmDist, file), path.join('dist', file));
}

if (watch) {
  await Promise.all([extension, worker, evaluation, webview, sweepView].map(async (options) => (await esbuild.context(options)).watch()));
} else {
  await Promise.all([extension, worker, evaluation, webview, sweepView].map((options) => esbuild.build(options)));
}

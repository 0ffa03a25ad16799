// Bundles the extension (Node, CommonJS, `vscode` external) with esbuild.
import * as esbuild from 'esbuild';

const watch = process.argv.includes('--watch');
const production = !watch && process.env.NODE_ENV !== 'development';

const extension = {
  entryPoints: ['src/extension.ts'],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  outfile: 'dist/extension.js',
  // systeminformation probes macOS-only optional modules with a guarded require.
  external: ['vscode', 'osx-temperature-sensor'],
  sourcemap: true,
  minify: production,
  logLevel: 'info',
};

if (watch) {
  const ctx = await esbuild.context(extension);
  await ctx.watch();
} else {
  await esbuild.build(extension);
}

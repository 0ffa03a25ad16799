// Runs the training worker's TypeScript source in a worker thread for tests: Node 20 workers do not
// take `--import tsx` from execArgv, so the tsx CommonJS hook is registered here first.
require('tsx/cjs/api').register();
require('../../src/agent/trainingWorker.ts');

// Entry point that @vscode/test-electron loads in the extension host: runs the smoke tests in order with
// plain node:assert (no test framework in the editor) and rejects when any fails, which fails the run.
import { smokeTests } from './smoke';

export async function run(): Promise<void> {
  const failures: string[] = [];
  for (const [name, test] of smokeTests) {
    try {
      await test();
      console.log(`ok - ${name}`);
    } catch (error) {
      failures.push(name);
      console.error(`not ok - ${name}\n${error instanceof Error ? error.stack : String(error)}`);
    }
  }
  console.log(`${smokeTests.length - failures.length} passed, ${failures.length} failed`);
  if (failures.length > 0) {
    throw new Error(`smoke tests failed: ${failures.join(', ')}`);
  }
}

/**
 * The crash tests' victim: a writer fixture (test/fixtures/storeWriter.ts, durableWriter.ts) that
 * prints `ack <n>` once write n is on disk and keeps writing until it is SIGKILLed, at a moment the
 * test picks after its first acknowledgement, so some kills land in the middle of a write.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';

/** Runs `script` (with tsx) until `killAfterMs` past its first ack, then SIGKILLs it; each ack reaches `onAck`. */
export async function runWriterUntilKilled(script: string, args: string[], killAfterMs: number, onAck: (n: number) => void): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let pending = '';
  const firstAck = new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`writer exited early with ${code}`)));
    child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        onAck(Number(/^ack (\d+)$/.exec(line)?.[1] ?? assert.fail(`unexpected output: ${line}`)));
      }
      if (lines.length > 0) {
        resolve();
      }
    });
  });
  await firstAck;
  await new Promise((resolve) => setTimeout(resolve, killAfterMs));
  child.kill('SIGKILL');
  await exited;
}

/**
 * Where a Slurm host's scripts run: this machine (target "local", sbatch on the PATH) or a login
 * node through SshTransport. Both run `sh -s -- args…` with the script on stdin and the values as
 * separate words, so the Slurm code above does not care which one it talks to.
 */
import { spawn } from 'node:child_process';
import type { ScriptRunner } from '../remote/session';
import type { RunOptions, RunResult } from '../remote/sshTransport';

/** Thrown when the local shell could not run or overran its time: the Slurm client is unusable now. */
export class LocalRunError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LocalRunError';
  }
}

export class LocalScriptRunner implements ScriptRunner {
  constructor(
    private readonly env: NodeJS.ProcessEnv = process.env,
    private readonly defaultTimeoutMs = 30_000,
  ) {}

  runScript(script: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    const timeoutMs = opts.timeoutMs ?? this.defaultTimeoutMs;
    const maxOutput = opts.maxOutputBytes ?? 32 * 1024 * 1024;
    return new Promise((resolve, reject) => {
      // An argv array: the values are sh's positional parameters, never parsed as shell code.
      const child = spawn('sh', ['-s', '--', ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: this.env, windowsHide: true });
      const out: Buffer[] = [];
      let size = 0;
      let stderr = '';
      let failure: Error | undefined;
      const timer = setTimeout(() => {
        failure = new LocalRunError(`the Slurm command gave no answer within ${Math.round(timeoutMs / 1000)} s`);
        child.kill('SIGKILL');
      }, timeoutMs);
      child.stdout.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxOutput && !failure) {
          failure = new Error(`the Slurm command printed more than ${maxOutput} bytes`);
          child.kill('SIGKILL');
        }
        out.push(chunk);
      });
      child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-16_384)));
      child.stdin.on('error', () => undefined);
      child.once('error', (err) => (failure ??= new LocalRunError(`sh could not start: ${err.message}`)));
      child.once('close', (code) => {
        clearTimeout(timer);
        if (failure) reject(failure);
        else resolve({ code: code ?? -1, stdout: Buffer.concat(out), stderr });
      });
      child.stdin.end(script);
    });
  }
}

/**
 * Results-back benchmark against loopback sshd servers (test/support/sshd.ts): the time to bring a job's
 * outputs back with rsync and with the tar fallback (a host without rsync), for one large checkpoint and
 * for many small files, from the host listing to the files in place. Loopback, so no network latency:
 * the figures show TrainQ's own overhead and the tools' throughput on this machine. Prints a markdown table.
 * Run: node --import tsx scripts/benchOutputs.ts
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { OutputReport } from '../src/core/host';
import { silentLogger } from '../src/core/logger';
import { SshHost } from '../src/hosts/ssh/sshHost';
import { makeJob } from '../test/support/builders';
import { ensureOpenSsh, SshdFixture } from '../test/support/sshd';

const RUNS = 5;
const MiB = 1024 * 1024;

interface Case {
  name: string;
  write(dir: string): Promise<number>;
}

const CASES: Case[] = [
  {
    name: '1 file of 256 MiB',
    write: async (dir) => {
      // Random bytes: a checkpoint does not compress, and rsync/ssh must not get an easy ride.
      const chunk = Buffer.alloc(MiB);
      const handle = await fs.open(path.join(dir, 'model.ckpt'), 'w');
      for (let i = 0; i < 256; i++) {
        for (let j = 0; j < MiB; j += 4) chunk.writeUInt32LE((Math.random() * 2 ** 32) >>> 0, j);
        await handle.write(chunk);
      }
      await handle.close();
      return 256 * MiB;
    },
  },
  {
    name: '2,000 files of 16 KiB in 20 folders',
    write: async (dir) => {
      for (let f = 0; f < 20; f++) {
        await fs.mkdir(path.join(dir, `epoch-${f}`), { recursive: true });
        for (let i = 0; i < 100; i++) await fs.writeFile(path.join(dir, `epoch-${f}`, `sample-${i}.json`), Buffer.alloc(16 * 1024, i));
      }
      return 2000 * 16 * 1024;
    },
  },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
  const why = ensureOpenSsh();
  if (why) throw new Error(why);
  const fx = await SshdFixture.start([{ name: 'bench-rsync', gpus: 0 }, { name: 'bench-tar', gpus: 0, withoutRsync: true }]);
  const project = path.join(fx.root, 'local', 'proj');
  await fs.mkdir(project, { recursive: true });
  await fs.writeFile(path.join(project, 'train.py'), '');
  const rows: string[] = [];
  try {
    for (const name of ['bench-rsync', 'bench-tar']) {
      const host = new SshHost({ config: fx.hostConfig(name), jobsRoot: path.join(fx.root, 'jobs'), controlDir: path.join(fx.root, 'ctl'), logger: silentLogger, sshConfigFile: fx.sshConfig });
      const { remoteDir } = await host.sync(project);
      const job = makeJob({ id: `bench-${name}`, script: path.join(project, 'train.py'), cwd: project, state: 'succeeded' });
      for (const c of CASES) {
        const out = path.join(remoteDir, 'outputs');
        await fs.rm(out, { recursive: true, force: true });
        await fs.mkdir(out, { recursive: true });
        const bytes = await c.write(out);
        const times: number[] = [];
        let method = '';
        for (let run = 0; run < RUNS; run++) {
          const dest = await fs.mkdtemp(path.join(fx.root, 'dest-'));
          const start = process.hrtime.bigint();
          const report = (await host.fetchOutputs({ job, globs: ['outputs/**'], destDir: dest, maxBytes: 1024 * MiB, maxSetting: 'bench', resolveConflicts: async () => 'skip' })) as Extract<OutputReport, { kind: 'copied' }>;
          times.push(Number(process.hrtime.bigint() - start) / 1e6);
          method = report.method;
          if (report.bytes !== bytes) throw new Error(`${name}: ${report.bytes} bytes copied, ${bytes} expected`);
          await fs.rm(dest, { recursive: true, force: true });
        }
        const ms = median(times);
        rows.push(`| ${c.name} | ${method} | ${RUNS} | ${Math.round(ms)} | ${Math.round(Math.max(...times))} | ${Math.round(bytes / MiB / (ms / 1000))} |`);
      }
      host.dispose();
      await host.closeConnection();
    }
  } finally {
    await fx.stop();
  }
  console.log('| outputs | method | runs | median ms | max ms | MiB/s (median) |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});

/**
 * Network helpers shared by the test servers (sshd, Slurm, code-server): one copy, so a fix to how a
 * port is picked reaches every tier at once.
 */
import * as net from 'node:net';

/**
 * A loopback TCP port that was free a moment ago. The kernel picks it (port 0) and the probe closes
 * again, so another process can take it before the caller binds it: callers start their server soon after.
 */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

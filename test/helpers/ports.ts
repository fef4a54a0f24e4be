import { readFileSync } from 'node:fs';
import net from 'node:net';

/** Binds `port` on 127.0.0.1 and reports the port actually bound (0 = let the kernel pick). */
function bindAndRelease(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address !== null ? address.port : 0;
      server.close((err) => (err ? reject(err) : resolve(bound)));
    });
  });
}

/**
 * A TCP port on 127.0.0.1 that was free a moment ago: binds port 0, reads the port the kernel
 * chose, closes. Another process could take it before the caller binds it, so use it promptly.
 */
export async function freePort(): Promise<number> {
  const port = await bindAndRelease(0);
  if (!port) throw new Error('freePort: the kernel did not report a bound port');
  return port;
}

function ephemeralRangeStart(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    const n = Number(low);
    if (Number.isInteger(n) && n > 1024) return n;
  } catch {
    // not Linux, or /proc unavailable
  }
  return 32768;
}

/**
 * A free port on 127.0.0.1 *below* the kernel's ephemeral range (so outgoing connections never
 * get it as their local port). Use for a server that stops and restarts on the same port
 * (e.g. Dovecot pause()/resume()): while it is down, an ephemeral port could be taken by any
 * client connection on the machine; a port outside that range can only be taken by a bind().
 */
export async function freeStablePort(): Promise<number> {
  const high = ephemeralRangeStart() - 1;
  const low = Math.min(20000, high - 1000);
  for (let attempt = 0; attempt < 50; attempt++) {
    const candidate = low + Math.floor(Math.random() * (high - low + 1));
    try {
      return await bindAndRelease(candidate);
    } catch {
      // in use - try another
    }
  }
  return freePort();
}

/**
 * A TCP proxy for fault tests, put between a client (Mailgrant) and a server (Dovecot) on
 * 127.0.0.1:<kernel-chosen port>. It forwards bytes unchanged until a test tells it to break
 * the link the ways networks break:
 *
 * - `drop()`: closes every current connection gracefully (FIN to both sides), as a server
 *   restart or an idle-timeout middlebox does;
 * - `reset()`: aborts every current connection with an RST, as a crashed peer or a firewall does;
 * - `blackhole()`: keeps every socket open but moves no byte in either direction, and accepts
 *   new connections without forwarding them either, as a dead route or a silently dropping
 *   firewall does. Nothing is lost: the sockets are paused, so after `heal()` the bytes flow
 *   again (like TCP retransmission after a route comes back) unless a side gave up meanwhile;
 * - `refuse()`: rejects every new connection attempt with an RST right after accepting it (the
 *   listener stays open so that attempts can be counted; to the client this is a connect that
 *   fails at once, like a closed port); current connections are left alone;
 * - `heal()`: back to forwarding, for current (blackholed) and new connections.
 */
import { EventEmitter, once } from 'node:events';
import net, { type AddressInfo } from 'node:net';

export type ProxyMode = 'pass' | 'blackhole' | 'refuse';

export interface TcpProxy {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly targetPort: number;
  readonly mode: ProxyMode;
  /** Connections accepted since start, refused ones included. */
  readonly accepted: number;
  /** Connections refused (accepted and reset at once) since start. */
  readonly refused: number;
  /** Connections currently open through the proxy (both sides up, forwarding or blackholed). */
  readonly open: number;
  /** Date.now() of every accepted connection, in order (refused ones included). */
  readonly acceptedAt: readonly number[];
  drop(): void;
  reset(): void;
  blackhole(): void;
  refuse(): void;
  heal(): void;
  /** Resolves once `accepted` reaches `count` (at once when it already has). */
  waitForAccepted(count: number, timeoutMs?: number): Promise<void>;
  /** Resolves once `open` drops to `count` or below, e.g. 0 after the client gave up a blackholed link. */
  waitForOpenAtMost(count: number, timeoutMs?: number): Promise<void>;
  /** Closes the listener and destroys every connection. Idempotent. */
  close(): Promise<void>;
}

export interface StartTcpProxyOptions {
  targetPort: number;
  targetHost?: string;
}

interface Pair {
  client: net.Socket;
  upstream: net.Socket;
  /** No byte moves while true. */
  held: boolean;
  closed: boolean;
}

export async function startTcpProxy(o: StartTcpProxyOptions): Promise<TcpProxy> {
  const targetHost = o.targetHost ?? '127.0.0.1';
  const events = new EventEmitter();
  const pairs = new Set<Pair>();
  const acceptedAt: number[] = [];
  let mode: ProxyMode = 'pass';
  let refused = 0;

  const finish = (p: Pair): void => {
    if (p.closed) return;
    p.closed = true;
    pairs.delete(p);
    events.emit('change');
  };

  /** Forwards src → dst with backpressure, and never while the pair is held. */
  const forward = (p: Pair, src: net.Socket, dst: net.Socket): void => {
    src.on('data', (chunk: Buffer) => {
      if (p.closed) return;
      if (!dst.write(chunk)) {
        src.pause();
        dst.once('drain', () => {
          if (!p.held && !p.closed) src.resume();
        });
      }
    });
    // A half-close is passed on, so a graceful close on one side reaches the other.
    src.on('end', () => {
      if (!p.closed) dst.end();
    });
    src.on('close', () => {
      if (!dst.destroyed) dst.destroy();
      finish(p);
    });
    // Errors (ECONNRESET from a peer) end the pair through 'close'; without a listener they would crash the test.
    src.on('error', () => {});
  };

  const hold = (p: Pair): void => {
    p.held = true;
    p.client.pause();
    p.upstream.pause();
  };
  const release = (p: Pair): void => {
    p.held = false;
    p.client.resume();
    p.upstream.resume();
  };

  const server = net.createServer({ pauseOnConnect: true }, (client) => {
    acceptedAt.push(Date.now());
    client.on('error', () => {});
    if (mode === 'refuse') {
      refused += 1;
      client.resetAndDestroy();
      events.emit('change');
      return;
    }
    const upstream = net.connect({ host: targetHost, port: o.targetPort });
    upstream.pause();
    const p: Pair = { client, upstream, held: false, closed: false };
    pairs.add(p);
    forward(p, client, upstream);
    forward(p, upstream, client);
    if (mode === 'blackhole') hold(p);
    else {
      client.resume();
      upstream.once('connect', () => {
        if (!p.held && !p.closed) upstream.resume();
      });
    }
    events.emit('change');
  });
  server.on('error', () => {});
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;

  const waitFor = (what: string, ok: () => boolean, timeoutMs: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (!ok()) return;
        clearTimeout(timer);
        events.off('change', check);
        resolve();
      };
      const timer = setTimeout(() => {
        events.off('change', check);
        reject(new Error(`TCP proxy :${port} → :${o.targetPort}: waited ${timeoutMs} ms for ${what} (accepted ${acceptedAt.length}, refused ${refused}, open ${pairs.size}, mode ${mode})`));
      }, timeoutMs);
      events.on('change', check);
      check();
    });

  let closing: Promise<void> | undefined;
  return {
    host: '127.0.0.1',
    port,
    targetPort: o.targetPort,
    get mode() {
      return mode;
    },
    get accepted() {
      return acceptedAt.length;
    },
    get refused() {
      return refused;
    },
    get open() {
      return pairs.size;
    },
    acceptedAt,
    drop() {
      for (const p of [...pairs]) {
        // Stop forwarding first: nothing may cross after the "network" closed.
        p.closed = true;
        pairs.delete(p);
        for (const s of [p.client, p.upstream]) {
          s.end();
          // A side that never answers the FIN must not keep the socket forever.
          setTimeout(() => s.destroy(), 1_000).unref();
        }
      }
      events.emit('change');
    },
    reset() {
      for (const p of [...pairs]) {
        p.closed = true;
        pairs.delete(p);
        p.client.resetAndDestroy();
        // An upstream still connecting cannot be reset; destroy it instead.
        if (p.upstream.connecting) p.upstream.destroy();
        else p.upstream.resetAndDestroy();
      }
      events.emit('change');
    },
    blackhole() {
      mode = 'blackhole';
      for (const p of pairs) hold(p);
    },
    refuse() {
      mode = 'refuse';
    },
    heal() {
      mode = 'pass';
      for (const p of pairs) if (p.held) release(p);
    },
    waitForAccepted(count, timeoutMs = 30_000) {
      return waitFor(`${count} accepted connection(s)`, () => acceptedAt.length >= count, timeoutMs);
    },
    waitForOpenAtMost(count, timeoutMs = 30_000) {
      return waitFor(`at most ${count} open connection(s)`, () => pairs.size <= count, timeoutMs);
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const p of [...pairs]) {
          p.closed = true;
          p.client.destroy();
          p.upstream.destroy();
        }
        pairs.clear();
        server.close(() => resolve());
      });
      return closing;
    },
  };
}

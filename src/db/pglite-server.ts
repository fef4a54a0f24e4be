import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import type { PGlite } from '@electric-sql/pglite';
import type { Logger } from 'pino';

/**
 * Serves the daemon's embedded database to CLI processes over the PostgreSQL wire protocol, so
 * that `mailgrant decide` works while `mailgrant start` runs (PGlite is one process's database).
 *
 * Why not PGLiteSocketServer from @electric-sql/pglite-socket as is: PGlite is a single backend
 * session shared by everyone, and that server's queue only keeps *socket* clients apart. It runs
 * each wire message under PGlite's query mutex, while the daemon's own queries and transactions
 * take the transaction mutex first — so a CLI message could run in the middle of a daemon
 * transaction (its COMMIT would commit the daemon's half-done work), and a daemon query could run
 * inside a CLI transaction. It also lets two clients' extended-protocol messages interleave
 * between Parse and Sync (the unnamed statement of one replaced by the other's).
 *
 * Here a client owns the whole session from its first message until it is idle again (after a
 * Sync or simple Query that leaves no transaction open), and owning it means holding PGlite's
 * transaction mutex: the same mutex the daemon's `query()` and `transaction()` take. So the
 * daemon and every CLI connection take turns by whole transactions, never by statements.
 */
export type ServerAddress = { readonly path: string } | { readonly host: string; readonly port: number };

export interface PgliteServer {
  /** Where clients connect (the actual port when 0 was asked for). */
  address(): ServerAddress;
  start(): Promise<void>;
  /** Closes every connection (rolling back what they left open) and the listener. Safe to call twice. */
  stop(): Promise<void>;
  /** Open client connections. */
  connections(): number;
}

export interface PgliteServerOptions {
  pglite: PGlite;
  listen: ServerAddress;
  logger: Logger;
  /**
   * A client that holds the session (inside a transaction) without sending anything for this
   * long is disconnected and rolled back, so a stuck CLI cannot stall the daemon for good.
   */
  idleInTransactionMs?: number;
}

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const SYNC = 0x53; // 'S'
const QUERY = 0x51; // 'Q'
const TERMINATE = 0x58; // 'X'
const STARTUP = 0x00; // a startup packet starts with its length, whose first byte is 0

/** A simple-protocol Query message. */
function queryMessage(sql: string): Uint8Array {
  const body = Buffer.from(`${sql}\0`, 'utf8');
  const out = Buffer.alloc(5 + body.length);
  out[0] = QUERY;
  out.writeInt32BE(4 + body.length, 1);
  body.copy(out, 5);
  return out;
}

export function createPgliteServer(o: PgliteServerOptions): PgliteServer {
  const pg = o.pglite;
  const log = o.logger.child({ component: 'db-socket' });
  const idleMs = o.idleInTransactionMs ?? 30_000;
  const sessions = new Set<Session>();
  let server: net.Server | null = null;
  let bound: ServerAddress = o.listen;
  let stopping: Promise<void> | null = null;

  class Session {
    private buffer: Buffer = Buffer.alloc(0);
    private started = false;
    private readonly queue: Uint8Array[] = [];
    private pumping = false;
    /** Set while this client owns the database session: calling it hands the session back. */
    private release: (() => void) | null = null;
    private idleTimer: NodeJS.Timeout | null = null;
    private closed = false;
    readonly done: Promise<void>;
    private finish!: () => void;

    constructor(private readonly socket: net.Socket) {
      this.done = new Promise((r) => (this.finish = r));
      socket.setNoDelay(true);
      socket.on('data', (chunk: Buffer) => this.onData(chunk));
      socket.on('error', (err) => log.debug({ err: err.message }, 'client connection error'));
      socket.on('close', () => void this.close());
    }

    private onData(chunk: Buffer): void {
      if (this.closed) return;
      this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
      for (;;) {
        if (!this.started) {
          if (this.buffer.length < 8) break;
          const len = this.buffer.readInt32BE(0);
          const code = this.buffer.readInt32BE(4);
          if (len === 8 && (code === SSL_REQUEST || code === GSSENC_REQUEST)) {
            // No TLS on a local socket: "N" tells the client to go on in clear.
            this.socket.write('N');
            this.buffer = this.buffer.subarray(8);
            continue;
          }
          if (len === 16 && code === CANCEL_REQUEST) {
            // PGlite has no backend process to signal; the protocol expects no answer.
            this.socket.destroy();
            return;
          }
          if (this.buffer.length < len) break;
          this.queue.push(new Uint8Array(this.buffer.subarray(0, len)));
          this.buffer = this.buffer.subarray(len);
          this.started = true;
          continue;
        }
        if (this.buffer.length < 5) break;
        const len = 1 + this.buffer.readInt32BE(1);
        if (this.buffer.length < len) break;
        this.queue.push(new Uint8Array(this.buffer.subarray(0, len)));
        this.buffer = this.buffer.subarray(len);
      }
      void this.pump();
    }

    /** Waits for the session; resolves once this client holds PGlite's transaction mutex. */
    private acquire(): Promise<void> {
      return new Promise<void>((granted) => {
        void pg._runExclusiveTransaction(
          () =>
            new Promise<void>((handBack) => {
              this.release = handBack;
              granted();
            }),
        );
      });
    }

    private handBack(): void {
      const r = this.release;
      this.release = null;
      r?.();
    }

    private async pump(): Promise<void> {
      if (this.pumping) return;
      this.pumping = true;
      try {
        while (this.queue.length > 0 && !this.closed) {
          if (this.idleTimer) clearTimeout(this.idleTimer);
          this.idleTimer = null;
          if (!this.release) await this.acquire();
          if (this.closed) break;
          const message = this.queue.shift()!;
          const type = message[0];
          if (type === TERMINATE) {
            this.socket.end();
            break;
          }
          await pg.runExclusive(() =>
            pg.execProtocolRawStream(message, {
              onRawData: (data) => {
                if (!this.socket.destroyed) this.socket.write(Buffer.from(data));
              },
            }),
          );
          // Idle again: the end of a query cycle with no transaction block left open.
          if ((type === SYNC || type === QUERY || type === STARTUP) && !pg.isInTransaction()) this.handBack();
        }
        if (this.release && !this.closed && this.queue.length === 0) {
          this.idleTimer = setTimeout(() => {
            log.warn({ idleMs }, 'a client kept the database in a transaction without sending anything; disconnecting it');
            this.socket.destroy();
          }, idleMs);
          this.idleTimer.unref();
        }
      } catch (err) {
        log.error({ err }, 'serving a client failed; disconnecting it');
        this.socket.destroy();
      } finally {
        this.pumping = false;
      }
      // A message may have arrived while the loop was finishing.
      if (this.queue.length > 0 && !this.closed) void this.pump();
    }

    async close(): Promise<void> {
      if (this.closed) return this.done;
      this.closed = true;
      this.queue.length = 0;
      if (this.idleTimer) clearTimeout(this.idleTimer);
      try {
        // Wait for a message in flight, then undo what the client left open: an explicit
        // transaction, or an implicit one from a Parse/Bind/Execute without its Sync. A ROLLBACK
        // outside any transaction only warns.
        while (this.pumping) await new Promise((r) => setImmediate(r));
        if (this.release) {
          await pg.runExclusive(() => pg.execProtocolRawStream(queryMessage('ROLLBACK'), { onRawData: () => {} }));
        }
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'could not roll back after a client disconnected');
      } finally {
        this.handBack();
        sessions.delete(this);
        this.socket.destroy();
        this.finish();
      }
      return this.done;
    }
  }

  return {
    address: () => bound,
    connections: () => sessions.size,
    async start() {
      if (server) return;
      await pg.waitReady;
      const s = net.createServer((socket) => {
        if (stopping) {
          socket.destroy();
          return;
        }
        sessions.add(new Session(socket));
      });
      server = s;
      if ('path' in o.listen) {
        // Whoever starts the server holds the data folder's lock, so a socket file left here is
        // from a process that died.
        if (existsSync(o.listen.path)) unlinkSync(o.listen.path);
      }
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        if ('path' in o.listen) s.listen(o.listen.path, () => resolve());
        else s.listen(o.listen.port, o.listen.host, () => resolve());
      });
      s.on('error', (err) => log.error({ err: err.message }, 'database socket error'));
      if ('path' in o.listen) {
        // PGlite has no authentication: only our user may connect.
        chmodSync(o.listen.path, 0o600);
        bound = o.listen;
      } else {
        const a = s.address() as net.AddressInfo;
        bound = { host: o.listen.host, port: a.port };
      }
      log.info({ address: 'path' in bound ? bound.path : `${bound.host}:${bound.port}` }, 'serving the embedded database to the CLI');
    },
    stop() {
      stopping ??= (async () => {
        const s = server;
        server = null;
        const closed = s ? new Promise<void>((r) => s.close(() => r())) : Promise.resolve();
        await Promise.all([...sessions].map((x) => x.close()));
        await closed;
        if ('path' in o.listen && existsSync(o.listen.path)) {
          try {
            unlinkSync(o.listen.path);
          } catch {
            // already gone
          }
        }
      })();
      return stopping;
    },
  };
}

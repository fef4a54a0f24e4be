import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { MailgrantError } from '../shared/errors.js';
import { acquireDataDirLock, type DataDirLock } from './data-dir-lock.js';
import type { ServerAddress } from './pglite-server.js';
import * as schema from './schema/index.js';

export type Schema = typeof schema;
/** One database type for both drivers: the code above this file never knows which one runs. */
export type Database = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = Parameters<Parameters<Database['transaction']>[0]>[0];
/** Anything queries can run on: the database or a transaction. */
export type Queryable = Database | Tx;

export interface DbHandle {
  readonly db: Database;
  readonly driver: 'postgres' | 'pglite';
  /** The PGlite instance when embedded (to serve it to the CLI over a socket). */
  readonly pglite: PGlite | null;
  migrate(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../drizzle', import.meta.url));

/** Arbitrary constant for the advisory lock that serialises migrations across instances. */
const MIGRATION_LOCK = 727_001;

export interface OpenOptions {
  databaseUrl: string | null;
  dataDir: string;
  /** postgres.js pool size. */
  maxConnections?: number;
  /** For tests: an in-memory PGlite instead of a folder. */
  inMemory?: boolean;
  /** The running daemon's embedded database, served on this socket (see pglite-server.ts). */
  daemonSocket?: ServerAddress;
  /** Written into the data folder's lock file, so that a refused second process can say who holds it. */
  purpose?: string;
  /** For tests: start the in-memory PGlite from this dump (dumpDataDir) instead of running initdb. */
  pgliteTemplate?: Blob;
}

export async function openDatabase(opts: OpenOptions): Promise<DbHandle> {
  if (opts.databaseUrl) return openPostgres(opts.databaseUrl, opts.maxConnections ?? 10);
  if (opts.daemonSocket) return openDaemonSocket(opts.daemonSocket);
  if (opts.inMemory) return openPglite(null, null, opts.pgliteTemplate);
  // Never two processes on one PGlite folder: the lock is taken before PGlite touches it.
  const lock = acquireDataDirLock(opts.dataDir, opts.purpose ?? `mailgrant ${process.argv[2] ?? ''}`.trim());
  try {
    return await openPglite(join(opts.dataDir, 'db'), lock);
  } catch (err) {
    lock.release();
    throw err;
  }
}

/**
 * A CLI process talking to the daemon's PGlite through the daemon (postgres.js over its socket).
 * One connection, unnamed statements: the daemon serialises clients by whole transactions, and
 * named statements would collide in PGlite's single shared session.
 */
async function openDaemonSocket(address: ServerAddress): Promise<DbHandle> {
  const where = 'path' in address ? address.path : `${address.host}:${address.port}`;
  const client = postgres({
    ...('path' in address ? { path: address.path } : { host: address.host, port: address.port }),
    user: 'postgres',
    database: 'postgres',
    ssl: false,
    max: 1,
    prepare: false,
    connect_timeout: 10,
    onnotice: () => {},
  });
  // The daemon migrated before it started serving.
  return connectedHandle(client, async () => {}, `Cannot reach the running Mailgrant daemon's database at ${where}`);
}

async function openPostgres(url: string, max: number): Promise<DbHandle> {
  const client = postgres(url, {
    max,
    onnotice: () => {},
    // Fail fast when the server is unreachable instead of hanging the start.
    connect_timeout: 10,
  });
  const migrate = async () => {
    // Several instances may start at once: one migrates, the others wait for it. The lock
    // lives on its own single connection so that it is held by the session that migrates.
    const lockClient = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
    try {
      await lockClient`select pg_advisory_lock(${MIGRATION_LOCK})`;
      await migratePostgres(drizzlePostgres(lockClient, { schema }), { migrationsFolder: MIGRATIONS_DIR });
    } finally {
      await lockClient.end({ timeout: 5 });
    }
  };
  return connectedHandle(client, migrate, `Cannot connect to the database at ${redactUrl(url)}`);
}

/**
 * drizzle asks postgres.js for an unnamed statement unless a query is `.prepare()`d by name, and
 * postgres.js describes every unnamed statement that has parameters before running it: two round
 * trips per query (Parse/Describe, then Bind/Execute), every time. As named statements each
 * distinct SQL text is parsed and described once per connection and then only bound and run: one
 * round trip. The benchmark's backlog measured ~20 statements per reply, so this halves the round
 * trips of a reply. A client made with `prepare: false` (the CLI through the daemon's socket, or a
 * DATABASE_URL with `?prepare=false` for a pooler that cannot keep named statements) keeps
 * unnamed ones: postgres.js only prepares when both the client and the query allow it.
 */
export function namedStatements(client: postgres.Sql): postgres.Sql {
  // A transaction's or savepoint's callback gets its own client: that one is wrapped too.
  const scoped = (open: (...args: unknown[]) => unknown) => (...args: unknown[]) => {
    const fn = args.pop() as (inner: postgres.Sql) => unknown;
    return open(...args, (inner: postgres.Sql) => fn(namedStatements(inner)));
  };
  return new Proxy(client, {
    get(target, key) {
      const value = Reflect.get(target, key, target) as unknown;
      if (key === 'unsafe') {
        return (query: string, params?: unknown[], options?: Record<string, unknown>) =>
          target.unsafe(query, params as postgres.ParameterOrJSON<never>[], { ...options, prepare: true });
      }
      if ((key === 'begin' || key === 'savepoint') && typeof value === 'function') return scoped(value.bind(target) as (...args: unknown[]) => unknown);
      return value;
    },
  });
}

/** A postgres.js client as a DbHandle, checked with one query so a wrong address fails at once. */
async function connectedHandle(client: postgres.Sql, migrate: () => Promise<void>, failure: string): Promise<DbHandle> {
  const db = drizzlePostgres(namedStatements(client), { schema }) as unknown as Database;
  const handle: DbHandle = {
    db,
    driver: 'postgres',
    pglite: null,
    migrate,
    async ping() {
      await db.execute(sql`select 1`);
    },
    async close() {
      await client.end({ timeout: 5 });
    },
  };
  try {
    await handle.ping();
  } catch (err) {
    await client.end({ timeout: 1 }).catch(() => {});
    throw new MailgrantError('db_unavailable', `${failure}: ${(err as Error).message}`, { cause: err });
  }
  return handle;
}

async function openPglite(dir: string | null, lock: DataDirLock | null, template?: Blob): Promise<DbHandle> {
  // Loaded only for the embedded database: a daemon on PostgreSQL never needs PGlite in memory.
  const [{ PGlite }, { drizzle: drizzlePglite }, { migrate: migratePglite }] = await Promise.all([
    import('@electric-sql/pglite'), import('drizzle-orm/pglite'), import('drizzle-orm/pglite/migrator'),
  ]);
  if (dir) mkdirSync(dir, { recursive: true });
  let pg: PGlite;
  try {
    pg = dir ? await PGlite.create(dir) : await PGlite.create(template ? { loadDataDir: template } : undefined);
  } catch (err) {
    throw new MailgrantError(
      'db_unavailable',
      `Cannot open the embedded database in ${dir}: ${(err as Error).message}. Is another Mailgrant process using it?`,
      { cause: err },
    );
  }
  const db = drizzlePglite(pg, { schema }) as unknown as Database;
  return {
    db,
    driver: 'pglite',
    pglite: pg,
    async migrate() {
      // PGlite serves one process, so there is nobody to race with.
      await migratePglite(drizzlePglite(pg, { schema }), { migrationsFolder: MIGRATIONS_DIR });
    },
    async ping() {
      await pg.query('select 1');
    },
    async close() {
      try {
        await pg.close();
      } finally {
        lock?.release();
      }
    },
  };
}

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

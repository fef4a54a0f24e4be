/**
 * A throwaway PostgreSQL server for tests: initdb into a temp dir, `postgres` as a child process
 * on 127.0.0.1:<free port>, trust auth, durability off for speed.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import postgres from 'postgres';
import {
  chownTree,
  createServerTempDir,
  ensureDebianPackage,
  isRoot,
  lookupOsUser,
  runToCompletion,
  spawnServer,
  type OsUser,
  type ServerProcess,
} from './install.js';
import { freePort } from './ports.js';

export interface PgServer {
  /** postgres://mailgrant@127.0.0.1:PORT/postgres - the superuser on the maintenance database. */
  url: string;
  port: number;
  /** Creates a fresh, empty database with a unique name and returns its URL. */
  createDatabase(): Promise<string>;
  /** Fast shutdown (SIGINT), waits for exit, removes the data directory. Idempotent. */
  stop(): Promise<void>;
}

/** Superuser created by initdb; trust auth, so no password. */
export const PG_TEST_USER = 'mailgrant';
const READY = /database system is ready to accept connections/;
const START_TIMEOUT_MS = 60_000;

let dbCounter = 0;

/** `settings`: extra `-c name=value` server settings (the benchmark's statement statistics). */
export async function startPostgres(o: { settings?: string[] } = {}): Promise<PgServer> {
  const postgresBin = await ensureDebianPackage('/usr/lib/postgresql/*/bin/postgres', 'postgresql');
  const binDir = path.dirname(postgresBin);
  const initdbBin = path.join(binDir, 'initdb');
  if (!existsSync(initdbBin)) throw new Error(`Found ${postgresBin} but not ${initdbBin}; reinstall the Debian package "postgresql"`);

  // PostgreSQL refuses to run as root.
  let runAs: OsUser | undefined;
  if (isRoot()) {
    runAs = lookupOsUser('postgres');
    if (!runAs) throw new Error('Running as root but the OS user "postgres" does not exist; install the Debian package "postgresql"');
  }

  const dir = createServerTempDir('mailgrant-pg-', ['data/postmaster.pid']);
  const dataDir = path.join(dir, 'data');
  const env = { ...process.env, LC_ALL: 'C', LANG: 'C', TZ: 'UTC', PGTZ: 'UTC' };
  let server: ServerProcess | undefined;
  try {
    if (runAs) chownTree(dir, runAs);
    await runToCompletion(
      initdbBin,
      ['-D', dataDir, '-U', PG_TEST_USER, '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync', '--no-instructions'],
      { cwd: dir, env, ...(runAs ? { user: runAs } : {}) },
    ).catch((err: Error) => {
      throw new Error(`initdb failed: ${err.message}`);
    });

    // A free port can be taken between freePort() and bind(); retry on "could not bind".
    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      server = spawnServer({
        name: 'postgres',
        command: postgresBin,
        args: [
          '-D', dataDir,
          '-p', String(port),
          '-c', 'listen_addresses=127.0.0.1',
          '-c', `unix_socket_directories=${dir}`,
          '-c', 'fsync=off',
          '-c', 'synchronous_commit=off',
          '-c', 'full_page_writes=off',
          '-c', 'max_connections=200',
          '-c', 'max_parallel_workers_per_gather=0',
          '-c', 'jit=off',
          '-c', 'logging_collector=off',
          '-c', 'timezone=UTC',
          ...(o.settings ?? []).flatMap((kv) => ['-c', kv]),
        ],
        cwd: dir,
        env,
        stopSignal: 'SIGINT',
        ...(runAs ? { user: runAs } : {}),
      });
      try {
        await server.waitForOutput(READY, START_TIMEOUT_MS);
        break;
      } catch (err) {
        const output = server.output();
        await server.stop();
        if (attempt < 3 && /could not bind|Address already in use/i.test(output)) continue;
        throw new Error(`PostgreSQL did not start on 127.0.0.1:${port} (data dir ${dataDir}): ${(err as Error).message}`);
      }
    }

    const url = `postgres://${PG_TEST_USER}@127.0.0.1:${port}/postgres`;
    const running = server;
    let admin: postgres.Sql | undefined;
    let stopped: Promise<void> | undefined;

    return {
      url,
      port,
      async createDatabase(): Promise<string> {
        if (stopped) throw new Error('createDatabase() after stop()');
        admin ??= postgres(url, { max: 1, onnotice: () => {}, idle_timeout: 0 });
        const name = `t_${process.pid}_${++dbCounter}_${randomBytes(3).toString('hex')}`;
        await admin`create database ${admin(name)}`;
        return `postgres://${PG_TEST_USER}@127.0.0.1:${port}/${name}`;
      },
      stop(): Promise<void> {
        stopped ??= (async () => {
          await admin?.end({ timeout: 1 }).catch(() => {});
          await running.stop();
          rmSync(dir, { recursive: true, force: true });
        })();
        return stopped;
      },
    };
  } catch (err) {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Env } from '../config/env.js';
import { loadRules, type Rules } from '../config/rules.js';
import { openDatabase, type DbHandle } from '../db/client.js';
import { DatabaseInUseError, isProcessAlive, readLockHolder, readSocketInfo, type SocketInfo } from '../db/data-dir-lock.js';
import { createStore, type Store } from '../db/store.js';
import type { DomainDeps } from '../requests/deps.js';
import type { Logger } from '../shared/logger.js';

/**
 * How a CLI command reaches the database, chosen once:
 * - DATABASE_URL set: the PostgreSQL server, like the daemon;
 * - otherwise, a daemon serving the embedded database ($DATA_DIR/db.socket-info, live pid):
 *   through its socket, because PGlite is one process's database;
 * - otherwise, the PGlite folder itself, under the data folder's lock.
 */
export type Via = 'postgres' | 'daemon' | 'pglite';

export interface CliContext {
  readonly via: Via;
  readonly db: DbHandle;
  readonly store: Store;
  readonly rules: Rules;
  /**
   * Mail composition and the clock, for commands that write mail. Loaded and compiled on first
   * use only: MJML and the templates take a while, and the read-only commands never need them.
   */
  domain(): Promise<DomainDeps>;
  /**
   * After a commit that queued mail: a running daemon is woken to send it; without one (or on
   * PostgreSQL, where dispatchers share the outbox safely) the command sends it before exiting.
   */
  sendQueuedMail(): Promise<void>;
  close(): Promise<void>;
}

/** How long to wait for a daemon that holds the lock but does not serve the CLI yet (it is starting). */
const DAEMON_START_WAIT_MS = 15_000;

export async function openCli(env: Env, logger: Logger): Promise<CliContext> {
  const loaded = loadRules(env.rulesFile);
  if (loaded.usedExample) logger.warn(`no rules file at ${env.rulesFile}: using the bundled example organisation (Contoso)`);
  const rules = loaded.rules;
  const { db, via, daemon } = await connect(env);
  const store = createStore(db.db);
  let domain: DomainDeps | null = null;
  const getDomain = async (): Promise<DomainDeps> => {
    if (!domain) {
      const [{ BUNDLED_TEMPLATES_DIR, createRenderer }, { createMailComposer }] = await Promise.all([
        import('../mail/outbound/render.js'),
        import('../mail/outbound/compose.js'),
      ]);
      const renderer = createRenderer({ templatesDir: BUNDLED_TEMPLATES_DIR, overridesDir: env.templatesDir });
      domain = { rules: () => rules, composer: createMailComposer({ renderer, rules: () => rules }), clock: () => new Date() };
    }
    return domain;
  };
  return {
    via, db, store, rules,
    domain: getDomain,
    async sendQueuedMail() {
      if (via === 'daemon' && daemon) {
        try {
          // The daemon's dispatcher polls every few seconds anyway; this only saves the wait.
          process.kill(daemon.pid, 'SIGUSR2');
        } catch {
          // gone: its next start sends what is queued
        }
        return;
      }
      const [{ createDispatcher }, { createFileTransport, createSmtpTransport }] = await Promise.all([
        import('../mail/outbound/dispatcher.js'),
        import('../mail/outbound/transport.js'),
      ]);
      const transport = env.smtp ? createSmtpTransport(env.smtp) : createFileTransport(join(env.dataDir, 'outbox'));
      try {
        await createDispatcher({ store, transport, logger: logger.child({ component: 'dispatcher' }), concurrency: env.smtp?.maxConnections ?? 5 }).drain();
      } finally {
        transport.close();
      }
    },
    close: () => db.close(),
  };
}

async function connect(env: Env): Promise<{ db: DbHandle; via: Via; daemon: SocketInfo | null }> {
  if (env.databaseUrl) {
    const db = await openDatabase({ databaseUrl: env.databaseUrl, dataDir: env.dataDir, maxConnections: 2 });
    await migrateOrClose(db);
    return { db, via: 'postgres', daemon: null };
  }
  const deadline = Date.now() + DAEMON_START_WAIT_MS;
  for (;;) {
    const info = readSocketInfo(env.dataDir);
    if (info && isProcessAlive(info.pid)) {
      const address = info.path ? { path: info.path } : { host: info.host ?? '127.0.0.1', port: info.port! };
      try {
        return { db: await openDatabase({ databaseUrl: null, dataDir: env.dataDir, daemonSocket: address }), via: 'daemon', daemon: info };
      } catch (err) {
        // A daemon that died without cleaning up, its pid since reused: nobody holds the folder.
        const holder = readLockHolder(env.dataDir);
        if (holder && isProcessAlive(holder.pid)) throw err;
      }
    }
    try {
      const db = await openDatabase({ databaseUrl: null, dataDir: env.dataDir });
      await migrateOrClose(db);
      return { db, via: 'pglite', daemon: null };
    } catch (err) {
      // Held by a live process that does not serve the CLI: a daemon still migrating is waited
      // for a little; another CLI command holding it is reported at once.
      if (!(err instanceof DatabaseInUseError) || err.holder.purpose !== 'mailgrant start' || Date.now() > deadline) throw err;
      await delay(200);
    }
  }
}

async function migrateOrClose(db: DbHandle): Promise<void> {
  try {
    await db.migrate();
  } catch (err) {
    await db.close().catch(() => {});
    throw err;
  }
}

/** Opens the database for one command and closes it whatever happens. */
export async function withCli<T>(env: Env, logger: Logger, fn: (cli: CliContext) => Promise<T>): Promise<T> {
  const cli = await openCli(env, logger);
  try {
    return await fn(cli);
  } finally {
    await cli.close();
  }
}

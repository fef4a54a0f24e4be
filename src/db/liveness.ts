import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import type { Logger } from 'pino';

/**
 * Which instances are alive, and exclusive roles among them (reading the mailbox), built on
 * PostgreSQL session advisory locks: a lock is released by the server the moment its session
 * ends, so a crashed instance gives up its locks within seconds without anyone cleaning up.
 * On embedded PGlite only one process can open the database, so every other instance is dead
 * and every role is ours.
 */
export interface Liveness {
  readonly instanceId: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Whether the instance that wrote `id` still runs. */
  isAlive(id: string): Promise<boolean>;
  /** Takes an exclusive role without waiting; true when this instance now holds it. */
  tryAcquire(role: string): Promise<boolean>;
  release(role: string): Promise<void>;
  /** Whether the locks are still held: false after the session was lost (the roles went with it). */
  healthy(): Promise<boolean>;
}

/** Two 32-bit keys from a name, for pg_advisory_lock(int, int). */
const NAMESPACE = 0x6d67; // "mg"

export function createPgLiveness(url: string, logger: Logger): Liveness {
  const instanceId = randomUUID();
  // One connection for the whole life of the instance: session locks live as long as it does.
  // postgres.js would otherwise recycle connections (max_lifetime) and silently drop the locks.
  const sql = postgres(url, { max: 1, idle_timeout: 0, max_lifetime: null, onnotice: () => {}, connect_timeout: 10 });
  const held = new Set<string>();
  const key = (name: string) => sql`hashtext(${name})`;
  return {
    instanceId,
    async start() {
      await sql`select pg_advisory_lock(${NAMESPACE}, ${key(`instance:${instanceId}`)})`;
    },
    async stop() {
      held.clear();
      await sql.end({ timeout: 5 }).catch(() => {});
    },
    async isAlive(id) {
      if (id === instanceId) return true;
      const [row] = await sql<{ got: boolean }[]>`select pg_try_advisory_lock(${NAMESPACE}, ${key(`instance:${id}`)}) as got`;
      if (!row?.got) return true;
      await sql`select pg_advisory_unlock(${NAMESPACE}, ${key(`instance:${id}`)})`;
      return false;
    },
    async tryAcquire(role) {
      if (held.has(role)) return true;
      const [row] = await sql<{ got: boolean }[]>`select pg_try_advisory_lock(${NAMESPACE}, ${key(`role:${role}`)}) as got`;
      if (row?.got) held.add(role);
      return Boolean(row?.got);
    },
    async release(role) {
      if (!held.delete(role)) return;
      await sql`select pg_advisory_unlock(${NAMESPACE}, ${key(`role:${role}`)})`.catch(() => {});
    },
    async healthy() {
      try {
        // Counting our own advisory locks tells whether this is still the session that took them:
        // after a reconnect postgres.js runs on a new session and the locks are gone.
        const [row] = await sql<{ n: number }[]>`select count(*)::int as n from pg_locks where pid = pg_backend_pid() and locktype = 'advisory' and granted`;
        if ((row?.n ?? 0) >= 1 + held.size) return true;
        logger.error({ roles: [...held] }, "the database session holding this instance's locks was lost; taking them again");
        held.clear();
        await sql`select pg_advisory_lock(${NAMESPACE}, ${key(`instance:${instanceId}`)})`;
      } catch (err) {
        logger.error({ err: (err as Error).message }, 'cannot check this instance\'s database locks');
        held.clear();
      }
      // Callers drop their roles and take them again.
      return false;
    },
  };
}

export function createLocalLiveness(): Liveness {
  const instanceId = randomUUID();
  return {
    instanceId,
    async start() {},
    async stop() {},
    async isAlive(id) {
      return id === instanceId;
    },
    async tryAcquire() {
      return true;
    },
    async release() {},
    async healthy() {
      return true;
    },
  };
}

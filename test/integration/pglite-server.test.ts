import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type DbHandle } from '../../src/db/client.js';
import { createPgliteServer, type PgliteServer } from '../../src/db/pglite-server.js';
import * as schema from '../../src/db/schema/index.js';
import { createStore } from '../../src/db/store.js';
import { assignLicenses } from '../../src/licenses/ledger.js';
import { adminRules, resetDatabase } from '../helpers/admin.js';
import { memoryLogger, startTestApp } from '../helpers/app.js';

/**
 * The daemon serving its PGlite to CLI processes: its own queries and transactions and those of
 * socket clients take turns by whole transactions. (@electric-sql/pglite-socket's own server
 * interleaves them: a client's statement can run inside a daemon transaction and two clients'
 * Parse/Bind can mix; see the comment in src/db/pglite-server.ts.)
 */
describe('the daemon\'s PGlite served over a socket', () => {
  let app: Awaited<ReturnType<typeof startTestApp>>;
  let server: PgliteServer;
  let dir: string;
  const clients: DbHandle[] = [];

  beforeAll(async () => {
    app = await startTestApp({ databaseUrl: null, rules: adminRules() });
    dir = mkdtempSync(join(tmpdir(), 'mg-sock-'));
    server = createPgliteServer({ pglite: app.db.pglite!, listen: { path: join(dir, 'db.sock') }, logger: memoryLogger().logger, idleInTransactionMs: 1_000 });
    await server.start();
    for (let i = 0; i < 2; i++) clients.push(await openDatabase({ databaseUrl: null, dataDir: dir, daemonSocket: server.address() }));
  });
  afterAll(async () => {
    for (const c of clients) await c.close();
    await server?.stop();
    await app?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('assignments from the daemon and two CLI connections at once never exceed the seats', async () => {
    await resetDatabase(app);
    const who = ['alice', 'bob', 'carol', 'erin', 'frank', 'remi', 'gary', 'ursula', 'dana'];
    const stores = [app.store, ...clients.map((c) => createStore(c.db))];
    const results = await Promise.all(
      who.map((u, i) => assignLicenses(stores[i % 3]!, app.domain, { productId: 'acme-diagrams', users: [u], actor: 'dana@contoso.example' })),
    );
    expect(results.flatMap((r) => r.results.map((x) => x.outcome)).filter((o) => o === 'assigned')).toHaveLength(2);
    expect(await app.db.db.select().from(schema.assignments)).toHaveLength(2);
  });

  it('no client statement runs inside a daemon transaction, nor the other way round', async () => {
    await app.db.db.execute(sql`create table if not exists sock_probe (who text)`);
    const errors: string[] = [];
    const daemon = (async () => {
      for (let i = 0; i < 15; i++) {
        await app.db.db.transaction(async (tx) => {
          const before = await tx.execute(sql`select count(*)::int as n from sock_probe`);
          await new Promise((r) => setTimeout(r, 2));
          const after = await tx.execute(sql`select count(*)::int as n from sock_probe`);
          const n = (x: unknown) => ((x as { rows: { n: number }[] }).rows ?? (x as { n: number }[]))[0]!.n;
          if (n(before) !== n(after)) errors.push(`daemon transaction saw ${n(before)} then ${n(after)}`);
        });
      }
    })();
    const client = (c: DbHandle, who: string) =>
      (async () => {
        for (let i = 0; i < 20; i++) {
          await c.db.execute(sql`insert into sock_probe (who) values (${who})`);
          await c.db.transaction(async (tx) => {
            await tx.execute(sql`insert into sock_probe (who) values (${who})`);
            const rows = await tx.execute(sql`select count(*)::int as n from sock_probe where who = ${who}`);
            if ((rows as unknown as { n: number }[])[0]!.n !== 2 * (i + 1)) errors.push(`${who} saw another session's rows mid-transaction`);
          });
        }
      })();
    await Promise.all([daemon, client(clients[0]!, 'a'), client(clients[1]!, 'b')]);
    expect(errors).toEqual([]);
  });

  it('also serves on a loopback TCP port (for data folders whose path is too long for a unix socket)', async () => {
    const tcp = createPgliteServer({ pglite: app.db.pglite!, listen: { host: '127.0.0.1', port: 0 }, logger: memoryLogger().logger });
    await tcp.start();
    const address = tcp.address();
    expect(address).toMatchObject({ host: '127.0.0.1', port: expect.any(Number) });
    expect((address as { port: number }).port).toBeGreaterThan(0);
    const c = await openDatabase({ databaseUrl: null, dataDir: dir, daemonSocket: address });
    expect(await c.db.execute(sql`select 41 + 1 as n`)).toEqual([{ n: 42 }]);
    await c.close();
    await tcp.stop();
    await tcp.stop();
  });

  it('a client that disconnects or stalls inside a transaction is rolled back and lets go of the database', async () => {
    await app.db.db.execute(sql`create table if not exists sock_dead (n int)`);
    const address = server.address() as { path: string };
    const raw = postgres({ path: address.path, user: 'postgres', database: 'postgres', max: 1, prepare: false, onnotice: () => {} });
    const reserved = await raw.reserve();
    await reserved`begin`;
    await reserved`insert into sock_dead values (1)`;
    // Stalled: the daemon waits for it at most idleInTransactionMs (1 s here), then rolls it back.
    const t0 = Date.now();
    await app.db.db.execute(sql`insert into sock_dead values (2)`);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    await raw.end({ timeout: 0 }).catch(() => {});
    const rows = await app.db.db.execute(sql`select n from sock_dead order by n`);
    expect((rows as unknown as { rows: { n: number }[] }).rows.map((r) => r.n)).toEqual([2]);
    expect(app.db.pglite!.isInTransaction()).toBe(false);
  });
});

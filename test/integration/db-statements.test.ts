import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type DbHandle } from '../../src/db/client.js';
import { startPostgres, type PgServer } from '../helpers/postgres.js';

/** Named statements this connection holds (the pool has one connection here). */
async function namedStatements(h: DbHandle): Promise<string[]> {
  const rows = (await h.db.execute(sql`select statement from pg_prepared_statements`)) as unknown as { statement: string }[];
  return rows.map((r) => r.statement);
}

describe('statements on PostgreSQL', () => {
  let pg: PgServer;
  beforeAll(async () => {
    pg = await startPostgres();
  });
  afterAll(async () => pg?.stop());

  it('are named and kept per connection, in transactions too, so a repeated query is parsed once', async () => {
    const h = await openDatabase({ databaseUrl: await pg.createDatabase(), dataDir: '/nonexistent', maxConnections: 1 });
    try {
      for (let i = 0; i < 3; i++) await h.db.transaction((tx) => tx.execute(sql`select ${i}::int as n`));
      const kept = (await namedStatements(h)).filter((s) => s.includes('::int as n'));
      expect(kept).toHaveLength(1);
    } finally {
      await h.close();
    }
  });

  it('stay unnamed with ?prepare=false in the URL (a pooler in transaction mode)', async () => {
    const h = await openDatabase({ databaseUrl: `${await pg.createDatabase()}?prepare=false`, dataDir: '/nonexistent', maxConnections: 1 });
    try {
      await h.db.transaction((tx) => tx.execute(sql`select ${1}::int as n`));
      expect(await h.db.execute(sql`select ${2}::int as n`)).toHaveLength(1);
      expect(await namedStatements(h)).toEqual([]);
    } finally {
      await h.close();
    }
  });
});

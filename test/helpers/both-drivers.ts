import { tmpdir } from 'node:os';
import { afterAll, beforeAll } from 'vitest';
import { openDatabase, type DbHandle } from '../../src/db/client.js';
import { startPostgres, type PgServer } from './postgres.js';

export interface Driver {
  name: 'PGlite' | 'PostgreSQL';
  /** A new, migrated database of this driver, closed after the file's tests. */
  fresh(): Promise<DbHandle>;
}

/**
 * For tests that hold the repositories to the same behaviour on the embedded PGlite and on a real
 * PostgreSQL server: call at the top of a test file, then `describe.each(drivers)`. Starts the
 * PostgreSQL server for the file and stops it after.
 */
export function bothDrivers(): { drivers: Driver[]; postgres: () => PgServer } {
  let pg: PgServer | undefined;
  const handles: DbHandle[] = [];
  beforeAll(async () => {
    pg = await startPostgres();
  });
  afterAll(async () => {
    for (const h of handles.splice(0)) await h.close();
    await pg?.stop();
  });
  const postgres = () => {
    if (!pg) throw new Error('the PostgreSQL server is not started yet (use it inside a test)');
    return pg;
  };
  const fresh = (open: () => Promise<DbHandle>) => async () => {
    const h = await open();
    handles.push(h);
    await h.migrate();
    return h;
  };
  return {
    postgres,
    drivers: [
      { name: 'PGlite', fresh: fresh(() => openDatabase({ databaseUrl: null, dataDir: tmpdir(), inMemory: true })) },
      { name: 'PostgreSQL', fresh: fresh(async () => openDatabase({ databaseUrl: await postgres().createDatabase(), dataDir: '/nonexistent', maxConnections: 4 })) },
    ],
  };
}

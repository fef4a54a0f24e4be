import { Param, sql, type DriverValueEncoder } from 'drizzle-orm';
import type { Queryable } from './client.js';

/** What a drizzle query builder gives: a prepared query that runs with values for its placeholders. */
interface Preparable<R> {
  prepare(name: string): { execute(values?: Record<string, unknown>): Promise<R> };
}

/**
 * A placeholder as the query builder sees it. drizzle accepts placeholders in every slot at run
 * time (update's `set` included), but its types allow them only in some; typed as `never` it fits
 * any column's slot. The value is drizzle's `sql.placeholder(name)`.
 */
type Slot = never;

/** The part of drizzle's driver sessions (postgres.js and PGlite alike) this file relies on. */
interface DriverSession {
  client: unknown;
  options: object;
}

/**
 * A query whose SQL text is built once instead of on every run.
 *
 * drizzle builds a query's SQL each time it runs: it walks the query's pieces and tells them apart
 * with prototype-chain checks. In the benchmark's backlog that cost ~3 ms of CPU per reply, about a
 * fifth of the daemon's time (`sqlToQuery` and `is` in the profile). Here `build` runs once per
 * database with placeholders for the values; later runs only fill them in.
 *
 * drizzle's own `.prepare()` binds the query to the connection it was built on, so a query
 * prepared on the database cannot run inside a transaction (drizzle-orm issues #613, #2826).
 * The prepared query keeps that connection in `client`, which its `execute` reads and which both
 * drivers' transaction sessions carry as `session.client`: each run gets a copy of the prepared
 * query bound to the connection of the database or transaction it is given.
 * `test/integration/compiled-queries.test.ts` checks, on both drivers, that such a query sees and
 * rolls back with its transaction.
 *
 * Every value that varies must be a placeholder: anything else would be frozen in the SQL built
 * first, and so would a column default computed in JS (`$defaultFn`; the schema has none). Insert
 * and update values given as placeholders are encoded by their column as usual (dates, JSON); a
 * placeholder in a condition is passed to the driver as it is unless given the column to encode it
 * as (`lte(t.at, p('now', t.at))`), which a date needs: drizzle hands dates to both drivers as text.
 */
export function compiled<V extends object, R>(
  build: (q: Queryable, p: (name: keyof V & string, encodeAs?: DriverValueEncoder<unknown, unknown>) => Slot) => Preparable<R>,
): (q: Queryable, values: V) => Promise<R> {
  // Per database (its session options object, shared with all its transactions): the prepared
  // query also holds the database's logger and cache, which a copy keeps.
  const templates = new WeakMap<object, object>();
  const placeholder = (name: string, encodeAs?: DriverValueEncoder<unknown, unknown>) =>
    (encodeAs ? new Param(sql.placeholder(name), encodeAs) : sql.placeholder(name)) as unknown as Slot;
  return (q, values) => {
    const session = q._.session as unknown as DriverSession;
    let template = templates.get(session.options);
    if (!template) {
      // A name makes drizzle ask postgres.js for a named statement (see namedStatements in
      // client.ts for why); postgres.js names it itself, so one name serves every query.
      template = build(q, placeholder).prepare('mailgrant');
      templates.set(session.options, template);
    }
    const bound = Object.create(template) as { client: unknown; execute(values: object): Promise<R> };
    bound.client = session.client;
    return bound.execute(values);
  };
}

/**
 * An insert of rows with these columns, built once per set of columns given. Columns left out
 * (undefined) get their defaults in the database, as with a plain drizzle insert.
 */
export function compiledInsert<Row extends object, R>(
  build: (q: Queryable, values: { [K in keyof Row]: Slot }) => Preparable<R>,
): (q: Queryable, row: Row) => Promise<R> {
  const byColumns = new Map<string, (q: Queryable, values: Row) => Promise<R>>();
  return (q, row) => {
    const columns = Object.keys(row).filter((k) => (row as Record<string, unknown>)[k] !== undefined);
    const key = columns.join(',');
    let run = byColumns.get(key);
    if (!run) {
      run = compiled<Row, R>((q2, p) => build(q2, Object.fromEntries(columns.map((c) => [c, p(c as keyof Row & string)])) as { [K in keyof Row]: Slot }));
      byColumns.set(key, run);
    }
    return run(q, row);
  };
}

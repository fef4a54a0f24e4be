/**
 * Outbox bodies are compressed with lz4 where the server has it (drizzle/0004_outbox_lz4.sql):
 * pglz, PostgreSQL's default, cost more than twice the server's CPU on every mail inserted. The
 * migration must also apply where lz4 is missing (PGlite), leaving pglz.
 */
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { bothDrivers } from '../helpers/both-drivers.js';

const { drivers } = bothDrivers();

describe.each(drivers)('outbox body compression on $name', (driver) => {
  it('stores a mail\'s HTML and text compressed, lz4 on PostgreSQL and pglz on PGlite, and reads them back whole', async () => {
    const h = await driver.fresh();
    const html = `<html><body>${Array.from({ length: 400 }, (_, i) => `<div style="font-family:Segoe UI,Arial;font-size:14px">Row ${i} — 許可證</div>`).join('\n')}</body></html>`;
    const text = Array.from({ length: 400 }, (_, i) => `Row ${i} — 許可證`).join('\n');
    await h.db.execute(sql`insert into outbox (dedupe_key, message_id, kind, to_address, from_address, subject, html, text)
      values ('k1', '<m1@example.org>', 'outcome-approved', 'zoe@example.org', 'licenses@example.org', 'Approved', ${html}, ${text})`);
    type Row = { html: string; text: string; html_c: string; text_c: string };
    const result = await h.db.execute(sql`select html, text, pg_column_compression(html) as html_c, pg_column_compression(text) as text_c from outbox where dedupe_key = 'k1'`);
    // postgres.js returns the rows, PGlite an object holding them.
    const rows = (result as unknown as { rows?: Row[] }).rows ?? (result as unknown as Row[]);
    const expected = driver.name === 'PostgreSQL' ? 'lz4' : 'pglz';
    expect(rows[0]).toEqual({ html, text, html_c: expected, text_c: expected });
  });
});

import { asc, eq, sql } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as schema from '../../src/db/schema/index.js';
import type { Store } from '../../src/db/store.js';
import { createInThreadReader, type MessageReader } from '../../src/mail/inbound/parse-pool.js';
import { createInboundPipeline, refusedData, sha256, type InboundPipeline } from '../../src/mail/inbound/pipeline.js';
import { exampleRules, startTestApp } from '../helpers/app.js';
import { buildMail, cutOff } from '../helpers/mail.js';
import { startPostgres, type PgServer } from '../helpers/postgres.js';

/**
 * A record the database refuses for its data must not hold a message, and its batch, up for
 * good. What a message's headers put in its record comes from whoever sent it; should a value
 * ever reach the database that it cannot store (here a NUL in the subject, which the reader
 * normally strips: this reader lets it through), handling fails, and so would recording the
 * failure, on every attempt: the message would be tried for ever and nobody told. Instead it is
 * recorded without those headers, with a reason that says why, and quarantined after the usual
 * attempts with the admins told.
 */
const HOSTS = [
  { name: 'PGlite', url: async () => null },
  { name: 'PostgreSQL', url: async (pg: PgServer) => pg.createDatabase() },
] as const;

describe.each(HOSTS)('a record refused for its data, on $name', (host) => {
  let pg: PgServer | undefined;
  let app: Awaited<ReturnType<typeof startTestApp>>;
  let pipeline: InboundPipeline;

  /** The reader as in the daemon, but a NUL survives in the subject. */
  const leaky: MessageReader = (() => {
    const inner = createInThreadReader();
    return {
      async read(raw) {
        const r = await inner.read(raw);
        return { ...r, msg: { ...r.msg, subject: `${r.msg.subject}\u0000` } };
      },
      close: () => inner.close(),
    };
  })();

  beforeAll(async () => {
    if (host.name === 'PostgreSQL') pg = await startPostgres();
    app = await startTestApp({ databaseUrl: await host.url(pg!) });
    pipeline = createInboundPipeline({ store: app.store, domain: app.domain, logger: pino({ level: 'silent' }), onOutbox: () => {}, reader: leaky, quarantineAfter: 3 });
  }, 120_000);
  afterAll(async () => {
    await app?.cleanup();
    await pg?.stop();
  });

  it('the failure is recorded without the headers, and after three attempts the message is quarantined and the admins told', async () => {
    const raw = await buildMail({ from: 'Alice Wong <alice@contoso.example>', to: 'licenses@contoso.example', subject: 'Visio please', text: 'Visio for me.' });
    const row = async () => (await app.db.db.select().from(schema.inboundMessages).where(eq(schema.inboundMessages.rawHash, sha256(raw))))[0];

    expect(await pipeline.handle(raw, { source: 'smtp' })).toMatchObject({ status: 'failed' });
    const first = await row();
    expect(first).toMatchObject({ status: 'failed', attempts: 1, fromAddress: null, subject: null, messageId: null });
    expect(first!.error).toMatch(/recorded without its sender, subject and Message-ID, which the database refused: 22\w{3}: /);
    // Nothing of the message was acted on: its transaction rolled back.
    expect(await app.db.db.select().from(schema.requests)).toHaveLength(0);

    expect(await pipeline.handle(raw, { source: 'smtp' })).toMatchObject({ status: 'failed' });
    const third = await pipeline.handle(raw, { source: 'smtp' });
    expect(third).toMatchObject({ status: 'quarantined' });
    expect(await row()).toMatchObject({ status: 'quarantined', attempts: 3 });
    const alerts = (await app.db.db.select().from(schema.outbox).orderBy(asc(schema.outbox.id))).filter((m) => m.kind === 'admin-alert');
    expect(alerts.map((a) => a.toAddress).sort()).toEqual(exampleRules().admins.map((a) => a.email).sort());
    expect(alerts[0]!.text).toContain('From: unknown');
    expect(alerts[0]!.text).toContain('Attempts: 3');
    expect(alerts[0]!.text).toMatch(/Last error: .*recorded without its sender, subject and Message-ID/);

    // Once quarantined, a copy is recognised as such, not handled again.
    expect(await pipeline.handle(raw, { source: 'smtp' })).toMatchObject({ status: 'quarantined' });
    expect(await row()).toMatchObject({ attempts: 3 });
  });

  it('an unreadable message whose sender the database refuses is quarantined without it, and the admins told', async () => {
    // The header block of an unreadable message is read apart from the reader; this store lets a
    // NUL through in the sender it records instead.
    const store: Store = {
      ...app.store,
      transaction: (fn) =>
        app.store.transaction((repos) =>
          fn({ ...repos, inbound: { ...repos.inbound, quarantine: (m, ...rest) => repos.inbound.quarantine({ ...m, fromAddress: m.fromAddress && `${m.fromAddress}\u0000` }, ...rest) } }),
        ),
    };
    const own = createInboundPipeline({ store, domain: app.domain, logger: pino({ level: 'silent' }), onOutbox: () => {} });
    const raw = cutOff(await buildMail({ from: 'Dana Lee <dana@contoso.example>', to: 'licenses@contoso.example', subject: 'Visio for me', text: 'Visio for me please.', html: '<p>Visio for me please.</p>' }));
    const before = (await app.db.db.select().from(schema.outbox)).length;
    expect(await own.handle(raw, { source: 'smtp' })).toMatchObject({ status: 'quarantined', classification: 'malformed' });
    const [row] = await app.db.db.select().from(schema.inboundMessages).where(eq(schema.inboundMessages.rawHash, sha256(raw)));
    expect(row).toMatchObject({ status: 'quarantined', fromAddress: null, subject: null });
    expect(row!.error).toMatch(/could not be parsed.*recorded without its sender, subject and Message-ID, which the database refused: 22\w{3}: /);
    const added = (await app.db.db.select().from(schema.outbox).orderBy(asc(schema.outbox.id))).slice(before);
    expect(added.map((m) => m.kind).every((k) => k === 'admin-alert')).toBe(true);
    expect(added).toHaveLength(exampleRules().admins.length);
    expect(added[0]!.text).toContain('From: unknown');
    expect(added[0]!.text).toContain('Its sender was not told: the database refused its headers.');
  });

  it('tells a data error from any other failure', async () => {
    const refused = await app.db.db.execute(sql`select 1 / 0`).then(() => null, (err: unknown) => refusedData(err));
    expect(refused).toMatch(/^22012: division by zero/);
    const other = await app.db.db.execute(sql`select * from no_such_table`).then(() => null, (err: unknown) => err);
    expect(other).toBeTruthy();
    expect(refusedData(other)).toBeNull();
    expect(refusedData(new Error('connection closed'))).toBeNull();
  });
});

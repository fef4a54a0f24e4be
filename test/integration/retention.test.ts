import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as schema from '../../src/db/schema/index.js';
import { exampleRules, startTestApp } from '../helpers/app.js';
import { buildMail } from '../helpers/mail.js';
import { startPostgres, type PgServer } from '../helpers/postgres.js';

/** Requests are kept for the rules' retention (12 months by default), then deleted with everything hanging off them. */
describe.each(['pglite', 'postgres'] as const)('retention on %s', (driver) => {
  let pg: PgServer | null = null;
  let app: Awaited<ReturnType<typeof startTestApp>>;
  let now = new Date('2025-01-10T09:00:00Z');
  beforeAll(async () => {
    if (driver === 'postgres') pg = await startPostgres();
  });
  afterAll(async () => pg?.stop());
  beforeEach(async () => {
    now = new Date('2025-01-10T09:00:00Z');
    app = await startTestApp({ databaseUrl: pg ? await pg.createDatabase() : null, clock: () => now, rules: exampleRules() });
  });
  afterEach(async () => app.cleanup());

  const request = async (from: string, product: string) =>
    app.pipeline.handle(await buildMail({ from, to: 'licenses@contoso.example', subject: product, text: '', date: now }), { source: 'smtp' });
  const count = async () => ({
    requests: (await app.db.db.select().from(schema.requests)).length,
    people: (await app.db.db.select().from(schema.requestPeople)).length,
    shares: (await app.db.db.select().from(schema.shares)).length,
    inbound: (await app.db.db.select().from(schema.inboundMessages)).length,
    outbox: (await app.db.db.select().from(schema.outbox)).length,
  });

  it('deletes what is older than 12 months, keeps the rest, and runs once per period', async () => {
    await request('alice@contoso.example', 'Visio');
    // The old request's mails were sent; mail still waiting is never deleted, whatever its age.
    await app.dispatcher.drain();
    now = new Date('2025-06-01T09:00:00Z');
    await request('bob@contoso.example', 'Acme Diagrams');
    expect(await count()).toEqual({ requests: 2, people: 2, shares: 2, inbound: 2, outbox: 4 });

    now = new Date('2026-02-01T03:17:00Z');
    expect(await app.scheduler.runOnce('retention', now)).toBe('ran');
    // A second instance firing for the same minute finds the run taken.
    expect(await app.scheduler.runOnce('retention', now)).toBe('taken');
    const left = await app.db.db.select().from(schema.requests);
    expect(left.map((r) => r.requesterEmail)).toEqual(['bob@contoso.example']);
    expect(await count()).toEqual({ requests: 1, people: 1, shares: 1, inbound: 1, outbox: 2 });
    const audit = (await app.db.db.select().from(schema.auditLog)).filter((a) => a.action === 'retention-purge');
    expect(audit).toHaveLength(1);
    expect(audit[0]!.details).toMatchObject({ requests: 1, retention: '12 months' });
  });

  it('follows a retention set in the rules', async () => {
    app.setRules(exampleRules((y) => y.replace('retention: 12 months', 'retention: 30 days')));
    await request('alice@contoso.example', 'Visio');
    await app.dispatcher.drain();
    now = new Date('2025-02-08T09:00:00Z');
    expect(await app.scheduler.runOnce('retention', now)).toBe('ran');
    expect((await count()).requests).toBe(1);
    now = new Date('2025-02-10T09:00:01Z');
    expect(await app.scheduler.runOnce('retention', now)).toBe('ran');
    expect(await count()).toEqual({ requests: 0, people: 0, shares: 0, inbound: 0, outbox: 0 });
  });
});

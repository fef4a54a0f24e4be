import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { createRepos } from '../../src/db/store.js';
import { bothDrivers } from '../helpers/both-drivers.js';

/*
 * The repositories' hot statements are built once (src/db/compiled.ts) and bound per run to the
 * connection of the database or transaction they are given. These tests hold that binding to
 * what a plain drizzle query does, on both drivers.
 */

const { drivers, postgres } = bothDrivers();

const request = (requesterEmail: string) => ({
  productId: 'visio', alternativeProductIds: [], requesterEmail, subject: 'Visio please', sourceMessageId: null, createdAt: new Date('2026-11-20T10:00:00Z'),
});

class Rollback extends Error {}

describe.each(drivers)('compiled queries on $name', ({ fresh }) => {
  it('run inside the transaction they are given: they see its rows and roll back with it', async () => {
    const { db } = await fresh();
    let idInTx = 0;
    await expect(
      db.transaction(async (tx) => {
        const repos = createRepos(tx);
        idInTx = (await repos.requests.insertPending(request('ann@example.com')))!;
        await repos.requests.addPeople(idInTx, [{ email: 'ann@example.com', name: 'Ann', isRequester: true }]);
        await repos.ledger.lockProduct('visio');
        const seen = await repos.requests.get(idInTx, { forUpdate: true });
        expect(seen?.people.map((p) => p.email)).toEqual(['ann@example.com']);
        await repos.audit.record({ actor: 'ann@example.com', channel: 'email', action: 'test', requestId: idInTx });
        throw new Rollback();
      }),
    ).rejects.toBeInstanceOf(Rollback);
    const repos = createRepos(db);
    expect(await repos.requests.get(idInTx)).toBeUndefined();
    expect(await repos.audit.list({})).toEqual([]);
  });

  it('keep two databases of the same driver apart', async () => {
    const a = createRepos((await fresh()).db);
    const b = createRepos((await fresh()).db);
    const id = (await a.requests.insertPending(request('bob@example.com')))!;
    expect((await a.requests.get(id))?.requesterEmail).toBe('bob@example.com');
    expect(await b.requests.get(id)).toBeUndefined();
    const idB = (await b.requests.insertPending(request('cy@example.com')))!;
    expect((await b.requests.get(idB))?.requesterEmail).toBe('cy@example.com');
    expect((await a.requests.get(id))?.requesterEmail).toBe('bob@example.com');
  });

  it('encode values by column, take defaults for columns left out, and take arrays for = any', async () => {
    const repos = createRepos((await fresh()).db);
    const at = new Date('2026-11-21T08:30:00.123Z');
    await repos.audit.record({ actor: 'dana@example.com', channel: 'cli', action: 'test', at, details: { nested: { n: 1 }, list: ['é', '中'] } });
    const [row] = await repos.audit.list({});
    expect(row).toMatchObject({ actor: 'dana@example.com', channel: 'cli', requestId: null, details: { nested: { n: 1 }, list: ['é', '中'] } });
    expect(row!.at.toISOString()).toBe(at.toISOString());

    // Two column sets: one with the optional columns, one leaving them to their defaults.
    expect(await repos.ledger.assign({ productId: 'visio', email: 'ann@example.com', requestId: null, assignedBy: 'dana@example.com', assignedAt: at, disabledPlans: ['plan-a'], viaGroup: 'g1' })).toBe(true);
    expect(await repos.ledger.assign({ productId: 'project', email: 'bob@example.com', assignedBy: 'dana@example.com' })).toBe(true);
    expect(await repos.ledger.assign({ productId: 'visio', email: 'ann@example.com', assignedBy: 'again' })).toBe(false);
    const held = await repos.ledger.holdersOf(['visio', 'project', 'none'], ['ann@example.com', 'bob@example.com']);
    expect(held.map((h) => [h.productId, h.email, h.disabledPlans, h.viaGroup])).toEqual([
      ['visio', 'ann@example.com', ['plan-a'], 'g1'],
      ['project', 'bob@example.com', [], null],
    ]);
    expect(await repos.ledger.holdersOf(['visio'], ['bob@example.com'])).toEqual([]);
    expect(await repos.ledger.countAssigned('visio')).toBe(1);

    const mail = (key: string) => ({
      dedupeKey: key, messageId: `<${key}@example.com>`, kind: 'receipt', toAddress: 'ann@example.com', fromAddress: 'licenses@example.com',
      subject: 'S', html: '<p>h</p>', text: 't', secrets: { token: 'x' },
    });
    await repos.outbox.enqueue(mail('one'));
    await repos.outbox.enqueue(mail('two'));
    // The same dedupe key again: nothing more is queued (the claim below finds two mails).
    await repos.outbox.enqueue({ ...mail('one'), messageId: '<one-again@example.com>' });
    const claimed = await repos.outbox.claimDue(10, 60_000, new Date(Date.now() + 1000), 'me');
    expect(claimed.map((m) => [m.dedupeKey, m.status, m.attempts, m.claimedBy, m.secrets])).toEqual([
      ['one', 'sending', 1, 'me', { token: 'x' }],
      ['two', 'sending', 1, 'me', { token: 'x' }],
    ]);
    await repos.outbox.markSent(claimed.map((m) => m.id), at);
    expect(await repos.outbox.depth()).toBe(0);
    expect(await repos.outbox.claimDue(10, 60_000, new Date(Date.now() + 120_000), 'me')).toEqual([]);
  });
});

describe('compiled queries on PostgreSQL, two transactions at once', () => {
  it('each run uses its own transaction connection', async () => {
    const h = await openDatabase({ databaseUrl: await postgres().createDatabase(), dataDir: '/nonexistent', maxConnections: 4 });
    try {
      await h.migrate();
      // Both transactions are open, with their rows written and not committed, while both read.
      const barrier = () => {
        let arrived = 0;
        let open!: () => void;
        const all = new Promise<void>((r) => (open = r));
        return () => (++arrived === 2 && open(), all);
      };
      const written = barrier();
      const read = barrier();
      const ids: number[] = [];
      const inTx = (email: string) =>
        h.db.transaction(async (tx) => {
          const repos = createRepos(tx);
          const id = (await repos.requests.insertPending(request(email)))!;
          ids.push(id);
          await written();
          const other = ids.find((i) => i !== id)!;
          // Each sees its own uncommitted row and not the other's.
          const seen = { own: (await repos.requests.get(id))?.requesterEmail, other: (await repos.requests.get(other))?.requesterEmail };
          await read();
          return seen;
        });
      const [x, y] = await Promise.all([inTx('ann@example.com'), inTx('bob@example.com')]);
      expect(x).toEqual({ own: 'ann@example.com', other: undefined });
      expect(y).toEqual({ own: 'bob@example.com', other: undefined });
    } finally {
      await h.close();
    }
  });
});

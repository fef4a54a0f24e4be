import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { createRepos, createStore } from '../../src/db/store.js';
import { bothDrivers } from '../helpers/both-drivers.js';

/*
 * In a transaction, writes whose result nobody reads are sent with the next statement instead of
 * being waited for one by one (src/db/write-behind.ts). These tests hold the transaction to what it
 * was with every write awaited: the writes commit and roll back with it, later reads see them, and
 * a failed one fails the transaction with its own error.
 */

const { drivers, postgres } = bothDrivers();

const request = (requesterEmail: string) => ({
  productId: 'visio', alternativeProductIds: [], requesterEmail, subject: 'Visio please', sourceMessageId: null, createdAt: new Date('2026-11-20T10:00:00Z'),
});
const audit = (action: string) => ({ actor: 'dana@example.com', channel: 'cli' as const, action });
// A row the database refuses (actor is NOT NULL): the kind of failure a write can meet.
const badAudit = { actor: null as unknown as string, channel: 'cli' as const, action: 'refused' };

describe.each(drivers)('writes sent behind, on $name', ({ fresh }) => {
  it('commit with the transaction, in order, and later reads in it see them', async () => {
    const { db } = await fresh();
    const store = createStore(db);
    const seen = await store.transaction(async (repos) => {
      for (let i = 0; i < 20; i++) await repos.audit.record(audit(`a${i}`));
      return (await repos.audit.list({})).map((r) => r.action);
    });
    const expected = Array.from({ length: 20 }, (_, i) => `a${i}`);
    expect(seen).toEqual(expected);
    expect((await store.repos.audit.list({})).map((r) => r.action)).toEqual(expected);
  });

  it('a failed write fails the transaction with its own error, even when later statements ran, and nothing commits', async () => {
    const { db } = await fresh();
    const store = createStore(db);
    let later: unknown = 'not run';
    const err = await store
      .transaction(async (repos) => {
        await repos.audit.record(audit('before'));
        await repos.audit.record(badAudit);
        // Runs after the refused write: the database refuses it too ("transaction is aborted").
        try {
          await repos.requests.insertPending(request('ann@example.com'));
          later = 'succeeded';
        } catch (e) {
          later = e;
          throw e;
        }
      })
      .then(() => null, (e: unknown) => e);
    expect(later).toBeInstanceOf(Error);
    expect(String((err as Error).cause ?? err)).toMatch(/null value in column "actor"/);
    expect(await store.repos.audit.list({})).toEqual([]);
    expect(await store.repos.requests.list({})).toEqual([]);
  });

  it('a failed write with nothing after it fails the transaction before its commit', async () => {
    const { db } = await fresh();
    const store = createStore(db);
    const err = await store
      .transaction(async (repos) => {
        await repos.requests.insertPending(request('bob@example.com'));
        await repos.audit.record(badAudit);
        return 'finished';
      })
      .then(() => null, (e: unknown) => e);
    expect(String((err as Error).cause ?? err)).toMatch(/null value in column "actor"/);
    expect(await store.repos.requests.list({})).toEqual([]);
  });

  it('outside a transaction a write is waited for, and its error thrown where it was made', async () => {
    const { db } = await fresh();
    const repos = createRepos(db);
    await expect(repos.audit.record(badAudit)).rejects.toThrow();
    await repos.audit.record(audit('alone'));
    expect((await repos.audit.list({})).map((r) => r.action)).toEqual(['alone']);
  });
});

describe('reads sent together on PostgreSQL', () => {
  it('a request read for update has its people read after the lock, not before', async () => {
    const h = await openDatabase({ databaseUrl: await postgres().createDatabase(), dataDir: '/nonexistent', maxConnections: 4 });
    try {
      await h.migrate();
      const store = createStore(h.db);
      const id = (await store.repos.requests.insertPending(request('cy@example.com')))!;
      await store.repos.requests.addPeople(id, [{ email: 'cy@example.com', name: 'Cy', isRequester: true }]);
      let locked!: () => void;
      const isLocked = new Promise<void>((r) => (locked = r));
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      // The first transaction locks the request and decides Cy, and commits only when told.
      const first = store.transaction(async (repos) => {
        await repos.requests.get(id, { forUpdate: true });
        await repos.requests.setVerdict({ requestId: id, email: 'cy@example.com', verdict: 'approve', decidedBy: 'dana@example.com', channel: 'cli', comment: null, at: new Date() });
        locked();
        await released;
      });
      await isLocked;
      // The second waits for the lock; the people it reads must include the first one's verdict.
      const second = store.transaction((repos) => repos.requests.get(id, { forUpdate: true }));
      await new Promise((r) => setTimeout(r, 200));
      release();
      await first;
      const seen = await second;
      expect(seen?.people.map((p) => [p.email, p.verdict])).toEqual([['cy@example.com', 'approve']]);
    } finally {
      await h.close();
    }
  });
});

import { asc } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRules } from '../../src/config/rules.js';
import * as schema from '../../src/db/schema/index.js';
import { assignLicenses } from '../../src/licenses/ledger.js';
import { decideAsAdmin } from '../../src/requests/admin-decide.js';
import { requestByMail } from '../helpers/admin.js';
import { startTestApp } from '../helpers/app.js';
import { startPostgres, type PgServer } from '../helpers/postgres.js';

const users = Array.from({ length: 24 }, (_, i) => `u${String(i + 1).padStart(2, '0')}@contoso.example`);
const rules = parseRules(
  `
organization: { name: Contoso, mailbox: licenses@contoso.example }
admins: [{ email: dana@contoso.example, role: license-admin }, { email: gary@contoso.example, role: global-admin }]
directory:
  users:
    - { email: dana@contoso.example, name: Dana Lee }
    - { email: gary@contoso.example, name: Gary Green }
${users.map((u, i) => `    - { email: ${u}, name: User ${i + 1} }`).join('\n')}
products:
  - { id: scarce, name: Scarce Tool, seats: 5, approvers: [dana@contoso.example], purchaseUrl: https://store.example/scarce }
  - { id: left-tool, name: Left Tool, seats: 50, approvers: [dana@contoso.example], conflictsWith: [right-tool] }
  - { id: right-tool, name: Right Tool, seats: 50, approvers: [dana@contoso.example] }
`,
  'concurrency rules',
);

/**
 * Seats under contention, on the PostgreSQL server: decisions and bulk assignments run at the
 * same time from separate app instances (separate connection pools, as separate processes
 * would), and the ledger must still never hand out more seats than exist.
 */
describe('licence ledger under concurrency (PostgreSQL)', () => {
  let pg: PgServer;
  let apps: Awaited<ReturnType<typeof startTestApp>>[] = [];

  beforeAll(async () => {
    pg = await startPostgres();
    const url = await pg.createDatabase();
    apps = [];
    for (let i = 0; i < 4; i++) apps.push(await startTestApp({ databaseUrl: url, rules }));
  });
  afterAll(async () => {
    for (const app of apps) await app.cleanup();
    await pg?.stop();
  });

  it('20 concurrent decide and licenses assign calls on a product with 5 seats assign exactly 5', async () => {
    const requests: number[] = [];
    for (const u of users.slice(0, 10)) requests.push(await requestByMail(apps[0]!, u, 'Scarce Tool please'));
    const started = Date.now();
    const calls = [
      ...requests.map((requestId, i) => () => decideAsAdmin(apps[i % 4]!.store, apps[i % 4]!.domain, { requestId, actor: i % 2 ? 'dana@contoso.example' : 'gary@contoso.example', approveAll: true })),
      ...users.slice(10, 20).map((u, i) => () => assignLicenses(apps[(i + 1) % 4]!.store, apps[(i + 1) % 4]!.domain, { productId: 'scarce', users: [u], actor: 'dana@contoso.example' })),
    ];
    // Interleave decisions and assignments, and start them all in the same tick.
    const order = calls.map((_, i) => (i % 2 === 0 ? i / 2 : 10 + (i - 1) / 2));
    const results = await Promise.all(order.map((i) => calls[i]!()));
    const elapsed = Date.now() - started;

    const seats = await apps[0]!.db.db.select().from(schema.assignments).orderBy(asc(schema.assignments.id));
    expect(seats.filter((s) => s.productId === 'scarce')).toHaveLength(5);
    expect(new Set(seats.map((s) => s.email)).size).toBe(5);
    let approved = 0;
    let waiting = 0;
    let assigned = 0;
    let noSeats = 0;
    for (const r of results) {
      if ('recorded' in r) {
        approved += r.recorded.length;
        waiting += r.waitingForSeats.length;
      } else {
        assigned += r.counts.assigned ?? 0;
        noSeats += r.counts['no-seats'] ?? 0;
      }
    }
    expect(approved + assigned).toBe(5);
    expect(waiting + noSeats).toBe(15);
    // Approved people who did not get a seat stay undecided: nobody is "approved" without a seat.
    const verdicts = await apps[0]!.db.db.select().from(schema.requestPeople);
    expect(verdicts.filter((p) => p.verdict === 'approve')).toHaveLength(approved);
    console.info(`[ledger-concurrency] 20 concurrent calls: ${approved} seats by decision, ${assigned} by assign, ${waiting + noSeats} refused for lack of seats, in ${elapsed} ms`);
  });

  it('the same person from two sides at once gets one seat, and two conflicting products never both', async () => {
    const u = users[20]!;
    const requestId = await requestByMail(apps[0]!, u, 'Left Tool please');
    const [decision, ...assigns] = await Promise.all([
      decideAsAdmin(apps[1]!.store, apps[1]!.domain, { requestId, actor: 'dana@contoso.example', approveAll: true }),
      ...apps.map((a) => assignLicenses(a.store, a.domain, { productId: 'left-tool', users: [u], actor: 'gary@contoso.example' })),
    ]);
    const mine = (await apps[0]!.db.db.select().from(schema.assignments)).filter((s) => s.email === u);
    expect(mine).toHaveLength(1);
    expect(decision.recorded).toEqual([{ email: u, verdict: 'approve' }]);
    expect(assigns.flatMap((a) => a.results.map((r) => r.outcome)).every((o) => o === 'assigned' || o === 'already-assigned')).toBe(true);

    const v = users[21]!;
    const racers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => assignLicenses(apps[i % 4]!.store, apps[i % 4]!.domain, { productId: i % 2 ? 'left-tool' : 'right-tool', users: [v], actor: 'dana@contoso.example' })),
    );
    const held = (await apps[0]!.db.db.select().from(schema.assignments)).filter((s) => s.email === v).map((s) => s.productId);
    expect(held).toHaveLength(1);
    const outcomes = racers.flatMap((r) => r.results.map((x) => x.outcome));
    expect(outcomes.filter((o) => o === 'assigned')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'conflicting-product')).toHaveLength(4);
    expect(outcomes.filter((o) => o === 'already-assigned')).toHaveLength(3);
  });
});

import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as schema from '../../src/db/schema/index.js';
import { assignLicenses, revokeLicenses } from '../../src/licenses/ledger.js';
import { licenseSummary, refuseSetSeats } from '../../src/licenses/seats.js';
import { decideAsAdmin, type AdminDecideInput } from '../../src/requests/admin-decide.js';
import { shareAsAdmin } from '../../src/requests/admin-share.js';
import { listRequests, requestDetail } from '../../src/requests/request-queries.js';
import { TOKEN_PLACEHOLDER } from '../../src/requests/tokens.js';
import { MailgrantError } from '../../src/shared/errors.js';
import { adminRules, replyByMail, requestByMail, resetDatabase } from '../helpers/admin.js';
import { startTestApp } from '../helpers/app.js';
import { startPostgres, type PgServer } from '../helpers/postgres.js';

/**
 * The admin console's services on both drivers: deciding, sharing and assigning from the command
 * line, with every refusal. One app per driver (a PGlite takes seconds to create); the tables are
 * emptied before each test. The CLI's parsing and printing are covered by test/e2e/cli-with-daemon.
 */
describe.each(['pglite', 'postgres'] as const)('admin console on %s', (driver) => {
  let pg: PgServer | null = null;
  let app: Awaited<ReturnType<typeof startTestApp>>;

  beforeAll(async () => {
    if (driver === 'postgres') pg = await startPostgres();
    app = await startTestApp({ databaseUrl: pg ? await pg.createDatabase() : null, rules: adminRules() });
  });
  afterAll(async () => {
    await app?.cleanup();
    await pg?.stop();
  });
  beforeEach(async () => {
    app.setRules(adminRules());
    await resetDatabase(app);
  });

  const deps = () => app.domain;
  const outbox = () => app.db.db.select().from(schema.outbox).orderBy(asc(schema.outbox.id));
  const people = (requestId: number) =>
    app.db.db.select().from(schema.requestPeople).where(eq(schema.requestPeople.requestId, requestId)).orderBy(asc(schema.requestPeople.email));
  const seats = () => app.db.db.select().from(schema.assignments).orderBy(asc(schema.assignments.productId), asc(schema.assignments.email));
  const audit = () => app.db.db.select().from(schema.auditLog).orderBy(asc(schema.auditLog.id));
  const decide = (input: Partial<AdminDecideInput> & { requestId: number }) => decideAsAdmin(app.store, deps(), { actor: 'dana@contoso.example', ...input });
  const assign = (productId: string, users: string[], extra: { actor?: string; disabledPlans?: string[] } = {}) =>
    assignLicenses(app.store, deps(), { productId, users, actor: extra.actor ?? 'dana@contoso.example', disabledPlans: extra.disabledPlans });

  /** Expects a refusal with this code whose message matches, and returns it. */
  async function refused(p: Promise<unknown>, code: string, message: RegExp): Promise<MailgrantError> {
    const err = await p.then(
      () => {
        throw new Error('expected a refusal');
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MailgrantError);
    expect((err as MailgrantError).code).toBe(code);
    expect((err as MailgrantError).message).toMatch(message);
    return err as MailgrantError;
  }

  describe('decide', () => {
    it('approves some and denies others as an admin: verdicts by CLI, seats with plans off and through the group, the message in the outcome mails', async () => {
      const id = await requestByMail(app, 'alice@contoso.example', 'Visio licence', 'Also for: bob, carol');
      const r = await decide({
        requestId: id, approve: ['alice', 'Bob Smith'], deny: ['carol@contoso.example'], disablePlans: ['visio-ai'], group: 'visio users', message: 'Approved for the floor plans project.',
      });
      expect(r.completed).toBe(true);
      expect(r.recorded.map((x) => [x.email, x.verdict])).toEqual([
        ['alice@contoso.example', 'approve'],
        ['bob@contoso.example', 'approve'],
        ['carol@contoso.example', 'deny'],
      ]);
      expect((await people(id)).map((p) => [p.email, p.verdict, p.decidedBy, p.channel, p.outcomeMessage])).toEqual([
        ['alice@contoso.example', 'approve', 'dana@contoso.example', 'cli', 'Approved for the floor plans project.'],
        ['bob@contoso.example', 'approve', 'dana@contoso.example', 'cli', 'Approved for the floor plans project.'],
        ['carol@contoso.example', 'deny', 'dana@contoso.example', 'cli', 'Approved for the floor plans project.'],
      ]);
      expect((await seats()).map((s) => [s.email, s.productId, s.disabledPlans, s.viaGroup, s.requestId])).toEqual([
        ['alice@contoso.example', 'visio-plan-2', ['visio-ai'], 'Visio Users', id],
        ['bob@contoso.example', 'visio-plan-2', ['visio-ai'], 'Visio Users', id],
      ]);
      const outcomes = (await outbox()).filter((m) => m.kind.startsWith('outcome-'));
      expect(outcomes.map((m) => [m.toAddress, m.kind])).toEqual([
        ['alice@contoso.example', 'outcome-approved'],
        ['bob@contoso.example', 'outcome-approved'],
        ['carol@contoso.example', 'outcome-denied'],
      ]);
      // The message replaces the default text ("Good news: …") of the outcome mails.
      for (const m of outcomes) {
        expect(m.text).toContain('Approved for the floor plans project.');
        expect(m.text).not.toMatch(/Good news|sorry/);
      }
      const entries = (await audit()).filter((a) => a.action === 'person-approved' || a.action === 'person-denied');
      expect(entries.map((a) => [a.actor, a.channel, a.action, a.requestId])).toEqual([
        ['dana@contoso.example', 'cli', 'person-approved', id],
        ['dana@contoso.example', 'cli', 'person-approved', id],
        ['dana@contoso.example', 'cli', 'person-denied', id],
      ]);
      expect(entries[0]!.details).toMatchObject({ person: 'alice@contoso.example', role: 'license-admin', disabledPlans: ['visio-ai'], viaGroup: 'Visio Users' });
    });

    it('every admin role may decide; --approve-all with --deny, then --deny-all of what is left', async () => {
      const a = await requestByMail(app, 'alice@contoso.example', 'Visio licence', 'Also for: bob, carol');
      const r1 = await decide({ requestId: a, actor: 'ursula@contoso.example', approveAll: true, deny: ['bob'] });
      expect(r1.recorded.map((x) => x.verdict)).toEqual(['approve', 'approve', 'deny']);
      const b = await requestByMail(app, 'erin@contoso.example', 'Acme Addon please', 'Also for: frank');
      const r2 = await decide({ requestId: b, actor: 'gary@contoso.example', approve: ['frank'] });
      expect(r2.recorded).toEqual([]);
      expect(r2.blocked).toEqual([{ email: 'frank@contoso.example', code: 'missing_required', reason: 'needs Acme Diagrams first' }]);
      const r3 = await decide({ requestId: b, actor: 'gary@contoso.example', denyAll: true });
      expect(r3.recorded.map((x) => [x.email, x.verdict])).toEqual([['erin@contoso.example', 'deny'], ['frank@contoso.example', 'deny']]);
      expect(r3.completed).toBe(true);
    });

    it('chooses one of the other products the request mail matched, before any approval', async () => {
      const id = await requestByMail(app, 'alice@contoso.example', 'Visio Plan 2 or Visio Plan 1', 'whichever is cheaper');
      expect((await requestDetail(app.store, app.rules(), id)).alternativeProducts).toEqual([{ id: 'visio-plan-1', name: 'Visio Plan 1' }]);
      await refused(decide({ requestId: id, approveAll: true, productId: 'acme-diagrams' }), 'invalid_input', /can only be assigned visio-plan-2 \(Visio Plan 2\), visio-plan-1 \(Visio Plan 1\)/);
      await refused(decide({ requestId: id, approveAll: true, productId: 'visio-plan-1', disablePlans: ['visio-ai'] }), 'invalid_input', /visio-ai is not a service plan of Visio Plan 1/);
      const r = await decide({ requestId: id, approveAll: true, productId: 'visio-plan-1' });
      expect(r).toMatchObject({ productId: 'visio-plan-1', productChanged: true, completed: true });
      expect((await seats()).map((s) => [s.email, s.productId])).toEqual([['alice@contoso.example', 'visio-plan-1']]);
      const detail = await requestDetail(app.store, app.rules(), id);
      expect(detail).toMatchObject({ productId: 'visio-plan-1', alternativeProducts: [{ id: 'visio-plan-2', name: 'Visio Plan 2' }] });
      expect((await audit()).find((a) => a.action === 'product-chosen')).toMatchObject({ actor: 'dana@contoso.example', channel: 'cli', details: { from: 'visio-plan-2', to: 'visio-plan-1' } });
    });

    it('people whose assignment would break conflictsWith stay undecided with the reason; the decider and admins are told', async () => {
      await assign('visio-plan-1', ['bob']);
      const id = await requestByMail(app, 'alice@contoso.example', 'Visio licence', 'Also for: bob');
      const r = await decide({ requestId: id, approveAll: true });
      expect(r.recorded.map((x) => x.email)).toEqual(['alice@contoso.example']);
      expect(r.blocked).toEqual([{ email: 'bob@contoso.example', code: 'conflicting_product', reason: 'has Visio Plan 1, which cannot be combined with Visio Plan 2' }]);
      expect((await people(id)).map((p) => p.verdict)).toEqual(['approve', null]);
      const alerts = (await outbox()).filter((m) => m.kind === 'admin-alert');
      expect(alerts.map((m) => m.toAddress).sort()).toEqual(['dana@contoso.example', 'gary@contoso.example', 'ursula@contoso.example']);
      expect(alerts[0]!.text).toContain('Visio Plan 1, which cannot be combined with Visio Plan 2');
    });

    it('approvals beyond the seats left wait, and the refusal mail shows where to buy more', async () => {
      app.setRules(adminRules((y) => y.replace('seats: 10', 'seats: 1')));
      const id = await requestByMail(app, 'alice@contoso.example', 'Visio licence', 'Also for: bob');
      const r = await decide({ requestId: id, approveAll: true });
      expect(r.recorded.map((x) => x.email)).toEqual(['alice@contoso.example']);
      expect(r.waitingForSeats).toEqual(['bob@contoso.example']);
      const missing = (await outbox()).filter((m) => m.kind === 'seats-missing');
      expect(missing.length).toBeGreaterThan(0);
      expect(missing[0]!.text).toContain('https://store.example/visio');
    });

    it('refuses, changing nothing: no role, unknown request, nothing to decide, unknown or doubly named people, wrong group, completed request', async () => {
      const id = await requestByMail(app, 'alice@contoso.example', 'Visio licence', 'Also for: bob');
      const before = (await outbox()).length;
      await refused(decide({ requestId: id, actor: 'bob@contoso.example', approveAll: true }), 'forbidden', /bob@contoso\.example may not decide requests: that needs one of the roles global-admin, license-admin, user-admin/);
      await refused(decide({ requestId: id, actor: undefined, approveAll: true }), 'forbidden', /--as/);
      await refused(decide({ requestId: 999, approveAll: true }), 'not_found', /Request 999 does not exist/);
      await refused(decide({ requestId: id }), 'invalid_input', /Say what to decide/);
      await refused(decide({ requestId: id, approve: ['zed'] }), 'invalid_input', /Nobody on request \d+ matches "zed"/);
      await refused(decide({ requestId: id, approve: ['bob'], deny: ['bob@contoso.example'] }), 'invalid_input', /cannot be both approved and denied/);
      await refused(decide({ requestId: id, approveAll: true, approve: ['bob'] }), 'invalid_input', /not both/);
      await refused(decide({ requestId: id, approveAll: true, group: 'Designers' }), 'invalid_input', /"Designers" does not carry a licence for Visio Plan 2: its licence is carried by the group "Visio Users"/);
      await refused(decide({ requestId: id, approveAll: true, group: 'Nobody' }), 'not_found', /No group named "Nobody"/);
      await refused(decide({ requestId: id, deny: ['bob'], disablePlans: ['visio-ai'] }), 'invalid_input', /apply to approved people/);
      await refused(decide({ requestId: id, approveAll: true, disablePlans: ['visio-web', 'visio-desktop', 'visio-ai'] }), 'invalid_input', /leaves nothing to assign/);
      expect((await people(id)).every((p) => p.verdict === null)).toBe(true);
      expect(await seats()).toEqual([]);
      expect((await outbox()).length).toBe(before);
      await decide({ requestId: id, denyAll: true });
      await refused(decide({ requestId: id, approveAll: true }), 'invalid_input', /already completed/);
      const acme = await requestByMail(app, 'carol@contoso.example', 'Acme Diagrams');
      await refused(decide({ requestId: acme, approveAll: true, group: 'Visio Users' }), 'invalid_input', /no group carries its licence/);
    });
  });

  describe('share', () => {
    it('shares one request with directory people, with a personal subject and message; each recipient decides that request only, by reply', async () => {
      const a = await requestByMail(app, 'alice@contoso.example', 'Visio licence', 'Also for: bob');
      const b = await requestByMail(app, 'carol@contoso.example', 'Acme Diagrams');
      const r = await shareAsAdmin(app.store, deps(), {
        requestId: a, to: ['remi@contoso.example', 'Erin Park'], actor: 'gary@contoso.example', subject: 'Can you decide this one?', message: 'Budget owner: you.',
      });
      expect(r.recipients).toEqual(['remi@contoso.example', 'erin@contoso.example']);
      const shares = await app.db.db.select().from(schema.shares).where(eq(schema.shares.requestId, a)).orderBy(asc(schema.shares.id));
      expect(shares.map((s) => [s.recipientEmail, s.sharedBy, s.subject, s.message])).toEqual([
        ['dana@contoso.example', null, null, null],
        ['remi@contoso.example', 'gary@contoso.example', 'Can you decide this one?', 'Budget owner: you.'],
        ['erin@contoso.example', 'gary@contoso.example', 'Can you decide this one?', 'Budget owner: you.'],
      ]);
      const mails = (await outbox()).filter((m) => m.kind === 'shared-request' && m.requestId === a);
      const remis = mails.find((m) => m.toAddress === 'remi@contoso.example')!;
      expect(remis.subject).toBe('Can you decide this one?');
      expect(remis.text).toContain('Budget owner: you.');
      expect((await audit()).filter((x) => x.action === 'request-shared' && x.channel === 'cli').map((x) => [x.actor, x.details.recipient])).toEqual([
        ['gary@contoso.example', 'remi@contoso.example'],
        ['gary@contoso.example', 'erin@contoso.example'],
      ]);

      // Rémi, who has no admin role, decides request a by replying with his own token...
      const remiToken = remis.secrets![TOKEN_PLACEHOLDER]!;
      expect(await replyByMail(app, 'remi@contoso.example', remiToken, 'approve alice, deny bob: one seat is enough')).toMatchObject({ action: 'decision-recorded', requestId: a });
      expect((await people(a)).map((p) => [p.email, p.verdict, p.decidedBy, p.channel])).toEqual([
        ['alice@contoso.example', 'approve', 'remi@contoso.example', 'email'],
        ['bob@contoso.example', 'deny', 'remi@contoso.example', 'email'],
      ]);
      // ...but a reply from him to request b's token (Dana's) records nothing there.
      const danaOnB = (await outbox()).find((m) => m.kind === 'shared-request' && m.requestId === b)!.secrets![TOKEN_PLACEHOLDER]!;
      expect(await replyByMail(app, 'remi@contoso.example', danaOnB, 'approve')).toMatchObject({ action: 'not-recipient', requestId: b });
      expect((await people(b)).every((p) => p.verdict === null)).toBe(true);
      // Nor can he decide b with his token for a: the token names request a.
      expect(await replyByMail(app, 'remi@contoso.example', remiToken, 'approve carol')).toMatchObject({ requestId: a });
      expect((await people(b)).every((p) => p.verdict === null)).toBe(true);
    });

    it('sends nothing when a recipient is not in the directory, and names it; refuses non-admins, unknown and completed requests', async () => {
      const a = await requestByMail(app, 'alice@contoso.example', 'Visio licence');
      const before = { mails: (await outbox()).length, shares: (await app.db.db.select().from(schema.shares)).length };
      await refused(
        shareAsAdmin(app.store, deps(), { requestId: a, to: ['remi@contoso.example', 'stranger@elsewhere.example', 'zed'], actor: 'dana@contoso.example' }),
        'invalid_input',
        /^Not in the directory: stranger@elsewhere\.example, zed\. Nothing was sent\.$/,
      );
      await refused(shareAsAdmin(app.store, deps(), { requestId: a, to: ['remi'], actor: 'alice@contoso.example' }), 'forbidden', /may not share requests/);
      await refused(shareAsAdmin(app.store, deps(), { requestId: 404, to: ['remi'], actor: 'dana@contoso.example' }), 'not_found', /Request 404 does not exist/);
      await refused(shareAsAdmin(app.store, deps(), { requestId: a, to: [], actor: 'dana@contoso.example' }), 'invalid_input', /--to/);
      await refused(shareAsAdmin(app.store, deps(), { requestId: a, to: ['remi'], actor: 'dana@contoso.example', subject: 'two\nlines' }), 'invalid_input', /one line/);
      expect((await outbox()).length).toBe(before.mails);
      expect((await app.db.db.select().from(schema.shares)).length).toBe(before.shares);
      await decide({ requestId: a, approveAll: true });
      await refused(shareAsAdmin(app.store, deps(), { requestId: a, to: ['remi'], actor: 'dana@contoso.example' }), 'invalid_input', /already completed/);
    });
  });

  describe('licences', () => {
    it('assigns in bulk with one result per person, never beyond the seats, and says where to buy more', async () => {
      await assign('visio-plan-1', ['erin']);
      const r = await assign('acme-diagrams', ['alice', 'bob', 'alice@contoso.example', 'zed', 'carol', 'nobody@elsewhere.example']);
      expect(r.results.map((x) => [x.item, x.outcome])).toEqual([
        ['alice', 'assigned'],
        ['bob', 'assigned'],
        ['zed', 'unknown-person'],
        ['carol', 'no-seats'],
        ['nobody@elsewhere.example', 'unknown-person'],
      ]);
      expect(r.ok).toBe(false);
      expect(r.summary).toBe('Acme Diagrams: 2 assigned, 0 already had it, 3 not assigned; No seats left for Acme Diagrams (2 of 2 assigned): buy more at https://acme.example/buy.');
      const again = await assign('acme-diagrams', ['bob']);
      expect(again.results.map((x) => x.outcome)).toEqual(['already-assigned']);
      expect(again.ok).toBe(true);

      const addon = await assign('acme-addon', ['alice', 'carol'], { disabledPlans: [] });
      expect(addon.results.map((x) => [x.email, x.outcome, x.reason])).toEqual([
        ['alice@contoso.example', 'assigned', ''],
        ['carol@contoso.example', 'missing-required-product', 'needs Acme Diagrams first'],
      ]);
      const visio = await assignLicenses(app.store, deps(), { productId: 'visio-plan-2', group: 'Designers', actor: 'ursula@contoso.example', disabledPlans: ['visio-ai'] });
      expect(visio.results.map((x) => [x.email, x.outcome])).toEqual([
        ['carol@contoso.example', 'assigned'],
        ['erin@contoso.example', 'conflicting-product'],
        ['frank@contoso.example', 'assigned'],
      ]);
      expect((await seats()).find((s) => s.email === 'carol@contoso.example' && s.productId === 'visio-plan-2')!.disabledPlans).toEqual(['visio-ai']);
      expect(await licenseSummary(app.store, app.rules())).toEqual([
        { productId: 'visio-plan-2', name: 'Visio Plan 2', seats: 10, assigned: 2, available: 8, vendor: null, purchaseUrl: 'https://store.example/visio' },
        { productId: 'visio-plan-1', name: 'Visio Plan 1', seats: 3, assigned: 1, available: 2, vendor: null, purchaseUrl: null },
        { productId: 'acme-diagrams', name: 'Acme Diagrams', seats: 2, assigned: 2, available: 0, vendor: 'Acme Corp', purchaseUrl: 'https://acme.example/buy' },
        { productId: 'acme-addon', name: 'Acme Addon', seats: 5, assigned: 1, available: 4, vendor: null, purchaseUrl: null },
      ]);
      const assigned = (await audit()).filter((a) => a.action === 'license-assigned');
      expect(assigned).toHaveLength(6);
      expect(assigned.every((a) => a.channel === 'cli')).toBe(true);
    });

    it('revokes in bulk (also by group), refusing while another product they hold requires it', async () => {
      await assign('acme-diagrams', ['alice', 'bob']);
      await assign('acme-addon', ['alice']);
      const r = await revokeLicenses(app.store, deps(), { productId: 'acme-diagrams', users: ['alice', 'bob', 'carol', 'zed'], actor: 'dana@contoso.example' });
      expect(r.results.map((x) => [x.item, x.outcome, x.reason])).toEqual([
        ['alice', 'still-required', 'still has Acme Addon, which requires Acme Diagrams'],
        ['bob', 'revoked', ''],
        ['carol', 'not-assigned', ''],
        ['zed', 'unknown-person', 'not in the directory'],
      ]);
      expect(r.seats).toEqual({ total: 2, assigned: 1, available: 1 });
      await assign('visio-plan-2', ['alice', 'bob']);
      const byGroup = await revokeLicenses(app.store, deps(), { productId: 'visio-plan-2', group: 'Visio Users', actor: 'gary@contoso.example' });
      expect(byGroup.results.map((x) => x.outcome)).toEqual(['revoked', 'revoked']);
      expect(byGroup.ok).toBe(true);
      expect((await audit()).filter((a) => a.action === 'license-revoked').map((a) => [a.actor, a.details.person])).toEqual([
        ['dana@contoso.example', 'bob@contoso.example'],
        ['gary@contoso.example', 'alice@contoso.example'],
        ['gary@contoso.example', 'bob@contoso.example'],
      ]);
    });

    it('refuses: no role, unknown product, group or plan, both --users and --group, and seat changes (vendor or rules file)', async () => {
      await refused(assign('acme-diagrams', ['alice'], { actor: 'bob@contoso.example' }), 'forbidden', /may not assign licences/);
      await refused(revokeLicenses(app.store, deps(), { productId: 'acme-diagrams', users: ['alice'], actor: 'erin@contoso.example' }), 'forbidden', /may not revoke licences/);
      await refused(assign('photoshop', ['alice']), 'not_found', /No product with id "photoshop"/);
      await refused(assign('visio-plan-2', ['alice'], { disabledPlans: ['visio-teams'] }), 'invalid_input', /visio-teams is not a service plan of Visio Plan 2: its plans are visio-web, visio-desktop, visio-ai/);
      await refused(assignLicenses(app.store, deps(), { productId: 'visio-plan-2', group: 'Admins', actor: 'dana@contoso.example' }), 'not_found', /No group named "Admins"/);
      await refused(assignLicenses(app.store, deps(), { productId: 'visio-plan-2', group: 'Designers', users: ['alice'], actor: 'dana@contoso.example' }), 'invalid_input', /either --users or --group/);
      await refused(assign('visio-plan-2', []), 'invalid_input', /Name the people/);
      expect(await seats()).toEqual([]);
      const rules = app.rules();
      expect(() => refuseSetSeats(rules, { productId: 'acme-diagrams', seats: '9', actor: 'dana@contoso.example' })).toThrow(/^seats of Acme Diagrams are managed by Acme Corp: contact the vendor$/);
      expect(() => refuseSetSeats(rules, { productId: 'visio-plan-2', seats: '20', actor: 'dana@contoso.example' })).toThrow(/edit seats of visio-plan-2 in admin test rules/);
      expect(() => refuseSetSeats(rules, { productId: 'visio-plan-2', seats: '20', actor: 'alice@contoso.example' })).toThrow(/may not change seat counts/);
      expect(() => refuseSetSeats(rules, { productId: 'visio-plan-2', seats: 'many', actor: 'dana@contoso.example' })).toThrow(/--seats expects a whole number/);
    });
  });

  describe('requests, request N and the audit log', () => {
    it('lists pending first, newest first, filters by status and product, and shows one request in full', async () => {
      const first = await requestByMail(app, 'alice@contoso.example', 'Visio licence', 'Also for: bob');
      const second = await requestByMail(app, 'carol@contoso.example', 'Acme Diagrams');
      const third = await requestByMail(app, 'erin@contoso.example', 'Visio please');
      await decide({ requestId: second, approveAll: true, message: 'ok' });
      const all = await listRequests(app.store, app.rules(), { status: 'all' });
      expect(all.map((r) => [r.number, r.status])).toEqual([[third, 'pending'], [first, 'pending'], [second, 'completed']]);
      expect(all[1]).toMatchObject({ productName: 'Visio Plan 2', requester: 'alice@contoso.example', requesterName: 'Alice Wong', people: 2, undecided: 2 });
      expect((await listRequests(app.store, app.rules(), { status: 'completed' })).map((r) => r.number)).toEqual([second]);
      expect((await listRequests(app.store, app.rules(), { status: 'all', productId: 'acme-diagrams' })).map((r) => r.number)).toEqual([second]);
      await refused(listRequests(app.store, app.rules(), { productId: 'nope' }), 'not_found', /No product with id "nope"/);
      await refused(requestDetail(app.store, app.rules(), 777), 'not_found', /Request 777 does not exist/);

      const d = await requestDetail(app.store, app.rules(), second);
      expect(d.people).toEqual([
        expect.objectContaining({ email: 'carol@contoso.example', verdict: 'approve', decidedBy: 'dana@contoso.example', channel: 'cli', comment: null, message: 'ok', assignment: { productId: 'acme-diagrams', disabledPlans: [], viaGroup: null } }),
      ]);
      expect(d.shares).toEqual([expect.objectContaining({ recipient: 'dana@contoso.example', sharedBy: null })]);
      expect(d.mails.map((m) => [m.kind, m.to, m.status])).toEqual([
        ['acknowledgement', 'carol@contoso.example', 'pending'],
        ['shared-request', 'dana@contoso.example', 'pending'],
        ['outcome-approved', 'carol@contoso.example', 'pending'],
      ]);
    });

    it('the audit log has every decision, share and assignment with actor, channel, time and evidence', async () => {
      const id = await requestByMail(app, 'alice@contoso.example', 'Visio licence', 'Also for: bob');
      const token = (await outbox()).find((m) => m.kind === 'shared-request')!.secrets![TOKEN_PLACEHOLDER]!;
      await replyByMail(app, 'dana@contoso.example', token, 'approve alice');
      await decide({ requestId: id, deny: ['bob'] });
      const rows = await app.store.repos.audit.list({ requestId: id });
      expect(rows.map((r) => [r.action, r.actor, r.channel])).toEqual([
        ['request-created', 'alice@contoso.example', 'email'],
        ['request-shared', 'mailgrant', 'system'],
        ['person-approved', 'dana@contoso.example', 'email'],
        ['person-denied', 'dana@contoso.example', 'cli'],
        ['request-completed', 'mailgrant', 'system'],
      ]);
      expect(rows[2]!.details).toMatchObject({ messageId: expect.stringMatching(/^<.+>$/), authentication: expect.any(String) });
      expect(rows[3]!.details).toMatchObject({ role: 'license-admin', command: 'mailgrant decide' });
      expect(rows.every((r) => r.at instanceof Date)).toBe(true);
      expect(await app.store.repos.audit.list({ since: new Date(Date.now() + 60_000) })).toEqual([]);
    });
  });
});

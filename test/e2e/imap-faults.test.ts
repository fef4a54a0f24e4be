import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { and, eq } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { parseEnv } from '../../src/config/env.js';
import type { Rules } from '../../src/config/rules.js';
import { openDatabase } from '../../src/db/client.js';
import * as schema from '../../src/db/schema/index.js';
import { createImapIntake, reconnectDelayMs, type ImapIntake } from '../../src/mail/inbound/imap-intake.js';
import type { FaultHook } from '../../src/shared/faults.js';
import { bundledRenderer, exampleRules, memoryLogger } from '../helpers/app.js';
import { startDovecot, type DovecotServer } from '../helpers/dovecot.js';
import { buildMail, quoteBelow } from '../helpers/mail.js';
import { startPostgres, type PgServer } from '../helpers/postgres.js';
import { startSmtpSink, type ReceivedMail, type SmtpSink } from '../helpers/smtp-sink.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { waitUntil } from '../helpers/wait.js';

/**
 * IMAP faults (issue 5, item 4), over real Dovecot, PostgreSQL and an SMTP sink, with a TCP
 * proxy of ours between Mailgrant and Dovecot that drops, resets and blackholes connections.
 * What a user sees is asserted: every request mail gets its acknowledgement exactly once, the
 * mailbox is emptied into Processed (or Quarantine), and the daemon never hammers the server.
 */

const PASSWORD = 'pw-imap-faults';
/** One Dovecot user per test, so mailboxes (Processed, Quarantine…) never mix between tests. */
const USERS = ['lic-a', 'lic-b', 'lic-c', 'lic-d', 'lic-e'];
/** 30 extra directory users, so that 30 request mails are 30 distinct requests with 30 acknowledgements. */
const people = Array.from({ length: 30 }, (_, i) => `user${String(i + 1).padStart(2, '0')}@contoso.example`);

const rules: Rules = exampleRules((yaml) =>
  yaml
    .replace('admins:\n', 'admins:\n  - { email: erin@contoso.example, role: global-admin }\n')
    .replace(/( {4}- \{ email: mei@contoso\.example.*\n)/, (line) => `${line}${people.map((p, i) => `    - { email: ${p}, name: User ${i + 1} }\n`).join('')}`),
);

type TestApp = App & { logLines: string[]; databaseUrl: string; cleanup(): Promise<void> };

describe('IMAP faults through a TCP proxy', () => {
  let pg: PgServer;
  let dovecot: DovecotServer;
  let sink: SmtpSink;
  const cleanups: (() => Promise<unknown>)[] = [];
  /** The daemon log of the running test, printed when it fails. */
  let currentLog: string[] | null = null;

  beforeAll(async () => {
    [pg, dovecot, sink] = await Promise.all([
      startPostgres(),
      startDovecot({ users: USERS.map((user) => ({ user, password: PASSWORD })) }),
      startSmtpSink(),
    ]);
  });
  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail' && currentLog) {
      console.log(`--- last daemon log lines of "${ctx.task.name}" ---\n${currentLog.slice(-150).join('\n')}`);
    }
    // Last registered first: the app before the proxy it talks through.
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
    currentLog = null;
    sink.clear();
  });
  afterAll(async () => {
    await Promise.all([sink?.stop(), dovecot?.stop(), pg?.stop()]);
  });

  /** The IMAP URL of `user`'s `mailbox`, through `proxy`. */
  const viaProxy = (proxy: TcpProxy, user: string, mailbox = 'INBOX') => dovecot.imapUrl(user, mailbox).replace(`:${dovecot.port}/`, `:${proxy.port}/`);

  async function proxyToDovecot(): Promise<TcpProxy> {
    const proxy = await startTcpProxy({ targetPort: dovecot.port });
    cleanups.push(() => proxy.close());
    return proxy;
  }

  /** The app as main wires it (like startTestApp), on a fresh PostgreSQL database, with a fault hook. */
  async function startApp(o: { env: Record<string, string>; faults?: FaultHook; beforeStart?: (databaseUrl: string) => Promise<void> }): Promise<TestApp> {
    const dataDir = mkdtempSync(join(tmpdir(), 'mg-imap-faults-'));
    const databaseUrl = await pg.createDatabase();
    const env = parseEnv({ DATA_DIR: dataDir, SMTP_INTAKE: 'off', HTTP_PORT: 'off', DATABASE_URL: databaseUrl, SMTP_URL: sink.url, ...o.env });
    const { logger, lines } = memoryLogger();
    const db = await openDatabase({ databaseUrl, dataDir });
    await db.migrate();
    await o.beforeStart?.(databaseUrl);
    const app = await createApp({ env, logger, rules, db, renderer: bundledRenderer(), faults: o.faults });
    const t: TestApp = Object.assign(app, {
      logLines: lines,
      databaseUrl,
      async cleanup() {
        await app.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    });
    cleanups.push(() => t.cleanup());
    currentLog = lines;
    await app.start();
    return t;
  }

  const requestMail = (from: string, product = 'Visio licence') =>
    buildMail({ from, to: 'licenses@contoso.example', subject: product, text: `Hello,\nplease get me ${product.replace(/ licence$/, '')}.\n` });
  const ackTo = (who: string) => (m: ReceivedMail) => m.headers['x-mailgrant-kind'] === 'acknowledgement' && m.to.includes(who);
  const kindTo = (kind: string, who: string) => (m: ReceivedMail) => m.headers['x-mailgrant-kind'] === kind && m.to.includes(who);
  const countAt = (pred: (m: ReceivedMail) => boolean) => sink.messages.filter(pred).length;

  async function messagesIn(user: string, mailbox: string): Promise<number> {
    const c = await dovecot.client(user);
    try {
      const status = await c.status(mailbox, { messages: true });
      return status ? (status.messages ?? 0) : 0;
    } catch {
      return 0; // not created yet
    } finally {
      await c.logout().catch(() => c.close());
    }
  }
  const waitForEmpty = (user: string, mailbox: string, timeoutMs = 30_000) =>
    waitUntil(async () => (await messagesIn(user, mailbox)) === 0, { timeoutMs, intervalMs: 250, description: `${user}/${mailbox} to be empty` });

  /** Waits until every queued mail was sent (the sink records a mail a moment before Mailgrant marks it sent). */
  const allSent = (app: TestApp) =>
    waitUntil(async () => (await app.db.db.select().from(schema.outbox)).every((r) => r.status === 'sent'), {
      timeoutMs: 30_000,
      intervalMs: 100,
      description: 'every outbox row sent',
    });

  /** Every request mail was acted on exactly once: one inbound row, one request, one acknowledgement each. */
  async function expectEachHandledOnce(app: TestApp, senders: string[]): Promise<void> {
    await allSent(app);
    for (const who of senders) expect(countAt(ackTo(who)), `acknowledgements to ${who}`).toBe(1);
    const reqs = await app.db.db.select().from(schema.requests);
    expect(reqs.map((r) => r.requesterEmail).sort()).toEqual([...senders].sort());
    const inbound = await app.db.db.select().from(schema.inboundMessages);
    expect(inbound.filter((i) => i.status === 'done').map((i) => i.fromAddress).sort()).toEqual([...senders].sort());
    expect(inbound.every((i) => i.attempts === 1), 'no message needed a second attempt').toBe(true);
  }

  it('drop and reset, while idle and in the middle of a scan: reconnects, and mail appended meanwhile is handled exactly once', async () => {
    const user = 'lic-a';
    const proxy = await proxyToDovecot();
    let onCommit: (() => void) | null = null;
    let commits = 0;
    const app = await startApp({
      env: { IMAP_URL: viaProxy(proxy, user), IMAP_POLL_SECONDS: '30' },
      faults: (point) => {
        if (point !== 'after-commit') return;
        commits += 1;
        onCommit?.();
      },
    });
    const handled: string[] = [];
    const append = async (who: string) => {
      await dovecot.append(user, 'INBOX', await requestMail(who));
      handled.push(who);
    };

    await append(people[0]!);
    await sink.waitFor(ackTo(people[0]!), { timeoutMs: 30_000 });
    await waitUntil(() => app.imap!.connected, { timeoutMs: 10_000, description: 'IMAP connected' });

    // While idle: the connection goes away (FIN, then RST); mail arrives while it is down.
    for (const [i, fault] of (['drop', 'reset'] as const).entries()) {
      const before = proxy.accepted;
      proxy[fault]();
      const who = people[1 + i]!;
      await append(who);
      await sink.waitFor(ackTo(who), { timeoutMs: 30_000 });
      expect(proxy.accepted, `a new connection after ${fault}`).toBeGreaterThan(before);
      await waitUntil(() => app.imap!.connected, { timeoutMs: 15_000, description: `IMAP connected again after ${fault}` });
    }

    // In the middle of a scan: 10 messages at once; the link breaks right after the 4th is
    // committed (before its move to Processed), and 2 more arrive while it is down.
    for (const fault of ['drop', 'reset'] as const) {
      await waitForEmpty(user, 'INBOX');
      const batch = fault === 'drop' ? people.slice(3, 13) : people.slice(15, 25);
      const late = fault === 'drop' ? people.slice(13, 15) : people.slice(25, 27);
      const before = proxy.accepted;
      const broke = new Promise<void>((resolve) => {
        const target = commits + 4;
        onCommit = () => {
          if (commits !== target) return;
          proxy[fault]();
          onCommit = null;
          resolve();
        };
      });
      // Appended in one IMAP session so the daemon most likely sees them in one scan.
      const c = await dovecot.client(user);
      try {
        for (const who of batch) {
          await c.append('INBOX', await requestMail(who));
          handled.push(who);
        }
      } finally {
        await c.logout();
      }
      await broke;
      for (const who of late) await append(who);
      await sink.waitFor((m) => [...batch, ...late].some((w) => ackTo(w)(m)), { count: batch.length + late.length, timeoutMs: 60_000 });
      await waitForEmpty(user, 'INBOX');
      expect(proxy.accepted, `a new connection after ${fault} during a scan`).toBeGreaterThan(before);
      // The link really broke between commits and moves: the next scan met committed messages again.
      expect(app.logLines.filter((l) => l.includes('could not move handled messages')).length).toBeGreaterThanOrEqual(fault === 'drop' ? 1 : 2);
      expect(app.logLines.some((l) => l.includes('"msg":"message already handled"'))).toBe(true);
    }

    expect(await messagesIn(user, 'Processed')).toBe(handled.length);
    expect(await messagesIn(user, 'Quarantine')).toBe(0);
    await expectEachHandledOnce(app, handled);
  }, 240_000);

  it('blackhole: the silent connection is detected within the socket timeout, and a new one is made after heal', async () => {
    const user = 'lic-b';
    const proxy = await proxyToDovecot();
    const timeoutS = 3;
    const app = await startApp({ env: { IMAP_URL: viaProxy(proxy, user), IMAP_POLL_SECONDS: '60', IMAP_SOCKET_TIMEOUT_SECONDS: String(timeoutS), IMAP_RECONNECT_MAX_SECONDS: '4' } });
    await dovecot.append(user, 'INBOX', await requestMail(people[0]!));
    await sink.waitFor(ackTo(people[0]!), { timeoutMs: 30_000 });
    await waitUntil(() => app.imap!.connected, { timeoutMs: 10_000, description: 'IMAP connected' });
    // Stay quiet for longer than the socket timeout first: a healthy idle connection is kept.
    const acceptedWhenQuiet = proxy.accepted;
    await delay(timeoutS * 1000 + 1_500);
    expect(app.imap!.connected, 'a quiet but healthy connection is kept').toBe(true);
    expect(proxy.accepted).toBe(acceptedWhenQuiet);

    // Twice: once while the connection idles (only IDLE's renewal goes unanswered), once with
    // a scan asked for on the dead link (its SEARCH goes unanswered). Mail arrives meanwhile:
    // it must not be reported as "nothing new" by the dead link, and is handled after heal.
    for (const [round, who] of [[1, people[1]!], [2, people[2]!]] as const) {
      let deadSince = Date.now();
      const acceptedBefore = proxy.accepted;
      proxy.blackhole();
      await dovecot.append(user, 'INBOX', await requestMail(who));
      if (round === 2) {
        deadSince = Date.now();
        app.imap!.scanNow();
      }
      await waitUntil(() => !app.imap!.connected, { timeoutMs: 30_000, intervalMs: 25, description: 'the blackholed connection to be given up' });
      const detectedMs = Date.now() - deadSince;
      console.log(`round ${round}: blackhole detected after ${detectedMs} ms (IMAP_SOCKET_TIMEOUT_SECONDS=${timeoutS})`);
      // IDLE is renewed every timeout/2 and the renewal is what goes unanswered, so the worst
      // case is timeout/2 + timeout; with a scan in flight, the timeout. One more second for a busy machine.
      expect(detectedMs).toBeLessThanOrEqual((round === 1 ? timeoutS * 1500 : timeoutS * 1000) + 1_000);
      expect(countAt(ackTo(who)), 'nothing was read through the dead link').toBe(0);

      // Attempts during the blackhole are accepted and then hear nothing; each is given up
      // after the socket timeout and followed by another, rather than hanging for good.
      await proxy.waitForAccepted(acceptedBefore + 2, 30_000);
      expect(app.imap!.connected).toBe(false);
      const healedAt = Date.now();
      const acceptedAtHeal = proxy.accepted;
      proxy.heal();
      await sink.waitFor(ackTo(who), { timeoutMs: 40_000 });
      await waitUntil(() => app.imap!.connected, { timeoutMs: 20_000, description: 'IMAP connected after heal' });
      console.log(`round ${round}: after heal, handled in ${Date.now() - healedAt} ms; connections accepted ${proxy.accepted} (at blackhole ${acceptedBefore}, at heal ${acceptedAtHeal})`);
      await waitForEmpty(user, 'INBOX');
    }
    await expectEachHandledOnce(app, [people[0]!, people[1]!, people[2]!]);
  }, 120_000);

  it('stopping on a blackholed link does not wait for the socket timeout, idle or in the middle of a command', async () => {
    for (const when of ['idle', 'scan'] as const) {
      const user = 'lic-b';
      const proxy = await proxyToDovecot();
      const app = await startApp({ env: { IMAP_URL: viaProxy(proxy, user), IMAP_SOCKET_TIMEOUT_SECONDS: '120' } });
      await waitUntil(() => app.imap!.connected, { timeoutMs: 20_000, description: 'IMAP connected' });
      await delay(500); // let the first scan finish, so "idle" is idle
      proxy.blackhole();
      if (when === 'scan') {
        // A scan on the dead link: its SEARCH is never answered.
        app.imap!.scanNow();
        await delay(200);
      }
      const stoppingAt = Date.now();
      await app.imap!.stop();
      const tookMs = Date.now() - stoppingAt;
      console.log(`IMAP intake stopped in ${tookMs} ms on a blackholed link (${when})`);
      // LOGOUT gets 2 s and a stuck command 3 s before the socket is closed: not the 120 s socket timeout.
      expect(tookMs).toBeLessThan(8_000);
    }
  }, 90_000);

  it('reconnect backoff: growing jittered delays while refused, reset only after a connection stayed up longer than stableAfterMs', async () => {
    const user = 'lic-c';
    const proxy = await proxyToDovecot();
    const app = await startApp({ env: {} });
    const stableAfterMs = 3_000;
    const settings = parseEnv({ IMAP_URL: viaProxy(proxy, user), IMAP_RECONNECT_MAX_SECONDS: '8', IMAP_POLL_SECONDS: '60', IMAP_SOCKET_TIMEOUT_SECONDS: '3' }).imap!;
    const { logger, lines } = memoryLogger();
    const intake: ImapIntake = createImapIntake({ settings, pipeline: app.pipeline, logger, maxMessageBytes: app.env.maxMessageBytes, stableAfterMs });
    cleanups.push(() => intake.stop());
    currentLog = lines;

    proxy.refuse();
    const startedAt = Date.now();
    intake.start();
    await proxy.waitForAccepted(4, 30_000);
    const t = proxy.acceptedAt.slice(0, 4);
    const gaps = t.slice(1).map((x, i) => x - t[i]!);
    console.log(`refused attempts at +${t.map((x) => x - startedAt).join(' ms, +')} ms; gaps ${gaps.join(', ')} ms`);
    expect(t.filter((x) => x - startedAt <= 10_000).length, 'attempts in the first 10 s').toBeLessThanOrEqual(6);
    for (const g of gaps) expect(g, 'no two attempts closer than a second').toBeGreaterThanOrEqual(900);
    expect(gaps[2]!, 'delays grow').toBeGreaterThan(gaps[0]!);
    expect(gaps[1]! + 150, 'delays never shrink').toBeGreaterThanOrEqual(gaps[0]!);
    expect(gaps[2]! + 150, 'delays never shrink').toBeGreaterThanOrEqual(gaps[1]!);
    // Jitter: the delay for one failure count is spread over half its step to all of it, so
    // many instances that lost the same server do not come back in lockstep.
    const samples = Array.from({ length: 200 }, () => reconnectDelayMs(3, 8_000));
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(4_000);
    expect(Math.max(...samples)).toBeLessThanOrEqual(8_000);
    expect(new Set(samples).size).toBeGreaterThan(50);

    proxy.heal();
    await waitUntil(() => intake.connected, { timeoutMs: 20_000, description: 'connected after heal' });

    // A connection that was up only briefly does not reset the backoff (emailengine's lesson:
    // a server that accepts the login and then drops the session must not be hammered).
    for (let i = 0; i < 2; i++) {
      await waitUntil(() => intake.connected, { timeoutMs: 20_000, intervalMs: 10, description: 'connected' });
      const n = proxy.accepted;
      const droppedAt = Date.now();
      proxy.drop();
      await proxy.waitForAccepted(n + 1, 20_000);
      const gap = proxy.acceptedAt[n]! - droppedAt;
      console.log(`short-lived connection ${i + 1} dropped; next attempt after ${gap} ms`);
      expect(gap, 'the backoff kept growing after a short-lived connection').toBeGreaterThanOrEqual(3_500);
    }

    // A connection that stayed up longer than stableAfterMs resets it: the next attempt comes
    // after the first step (1–2 s), not after the 4–8 s the failure count had reached.
    await waitUntil(() => intake.connected, { timeoutMs: 20_000, description: 'connected' });
    await delay(stableAfterMs + 500); // the connection has to be up that long: time is the condition here
    expect(intake.connected).toBe(true);
    const n = proxy.accepted;
    const droppedAt = Date.now();
    proxy.drop();
    await proxy.waitForAccepted(n + 1, 20_000);
    const gap = proxy.acceptedAt[n]! - droppedAt;
    console.log(`stable connection dropped; next attempt after ${gap} ms`);
    expect(gap, 'the backoff starts again from the first step').toBeLessThan(3_000);
    await waitUntil(() => intake.connected, { timeoutMs: 20_000, description: 'connected again' });

    // Attempts that hang until the socket timeout (a server that accepts and never speaks) last
    // as long as stableAfterMs, but were never connected: they do not reset the backoff either.
    proxy.blackhole();
    const m = proxy.accepted;
    proxy.drop();
    await proxy.waitForAccepted(m + 3, 60_000);
    const hung = proxy.acceptedAt.slice(m, m + 3);
    const hungGaps = hung.slice(1).map((x, i) => x - hung[i]!);
    console.log(`attempts into a blackhole: gaps ${hungGaps.join(', ')} ms`);
    // Each is the 3 s timeout plus a delay of the grown backoff (4–8 s), not plus 1–2 s.
    for (const g of hungGaps) expect(g, 'hung attempts did not reset the backoff').toBeGreaterThanOrEqual(6_000);
    proxy.heal();
    await waitUntil(() => intake.connected, { timeoutMs: 30_000, description: 'connected after the blackhole' });
  }, 120_000);

  it('UIDVALIDITY change: the mailbox is recreated with old and new mail; nothing is acted on twice, nothing is skipped', async () => {
    const user = 'lic-d';
    const proxy = await proxyToDovecot();
    const r1 = await requestMail('alice@contoso.example');
    const r2 = await requestMail('bob@contoso.example', 'Acme Diagrams licence');
    await dovecot.append(user, 'Requests', r1);
    await dovecot.append(user, 'Requests', r2);
    const app = await startApp({ env: { IMAP_URL: viaProxy(proxy, user, 'Requests'), IMAP_POLL_SECONDS: '5', IMAP_RECONNECT_MAX_SECONDS: '2' } });

    // Waited for by its content: the two shares go out over several connections, in either
    // order, and taking whichever came first made Dana's "approve" decide Bob's request (CI).
    const shareForAlice = (await sink.waitFor((m) => kindTo('shared-request', 'dana@contoso.example')(m) && /Alice/.test(m.text), { timeoutMs: 30_000 }))[0]!;
    await sink.waitFor(ackTo('bob@contoso.example'), { timeoutMs: 30_000 });
    const token = /licenses\+([a-z2-7]{26})@/.exec(shareForAlice.headers['reply-to'] ?? '')![1]!;
    const d1 = await buildMail({
      from: 'Dana Lee <dana@contoso.example>',
      to: `licenses+${token}@contoso.example`,
      subject: `Re: ${shareForAlice.subject}`,
      inReplyTo: shareForAlice.messageId,
      references: [shareForAlice.messageId],
      text: quoteBelow('approve', shareForAlice.text),
    });
    await dovecot.append(user, 'Requests', d1);
    await sink.waitFor(kindTo('outcome-approved', 'alice@contoso.example'), { timeoutMs: 30_000 });
    await waitForEmpty(user, 'Requests');
    const decidedBefore = await app.db.db.select().from(schema.requestPeople).orderBy(schema.requestPeople.id);
    expect(decidedBefore.find((p) => p.email === 'alice@contoso.example')?.verdict).toBe('approve');

    // Recreate the mailbox: a new UIDVALIDITY, the old mail back under new UIDs, and new mail.
    const c = await dovecot.client(user);
    let oldValidity: bigint, newValidity: bigint;
    try {
      const validity = async () => {
        const st = await c.status('Requests', { uidValidity: true });
        if (!st || st.uidValidity === undefined) throw new Error('STATUS Requests failed');
        return st.uidValidity;
      };
      oldValidity = await validity();
      const acceptedBefore = proxy.accepted;
      await c.mailboxDelete('Requests');
      // Dovecot ends the daemon's session; while the mailbox is missing, its attempts fail at
      // SELECT, and each must close its connection rather than leave it logged in (Dovecot
      // refuses an address more than 10 connections by default, so leaks end in a lock-out).
      await proxy.waitForAccepted(acceptedBefore + 3, 30_000);
      await proxy.waitForOpenAtMost(1, 5_000);
      expect(app.logLines.some((l) => l.includes('IMAP session ended; reconnecting') && /Requests|exist|NONEXISTENT|Command failed/i.test(l))).toBe(true);
      await c.mailboxCreate('Requests');
      for (const raw of [r1, r2, d1, await requestMail('carol@contoso.example'), await requestMail('remi@contoso.example', 'Acme Diagrams licence')]) {
        await c.append('Requests', raw);
      }
      newValidity = await validity();
    } finally {
      await c.logout();
    }
    expect(newValidity).not.toBe(oldValidity);

    await sink.waitFor(ackTo('carol@contoso.example'), { timeoutMs: 40_000 });
    await sink.waitFor(ackTo('remi@contoso.example'), { timeoutMs: 40_000 });
    await waitForEmpty(user, 'Requests', 40_000);
    await allSent(app);

    expect(await messagesIn(user, 'Processed')).toBe(3 + 5);
    expect(await messagesIn(user, 'Quarantine')).toBe(0);
    for (const who of ['alice', 'bob', 'carol', 'remi']) expect(countAt(ackTo(`${who}@contoso.example`)), `acknowledgements to ${who}`).toBe(1);
    expect(countAt((m) => m.headers['x-mailgrant-kind'] === 'shared-request')).toBe(4);
    expect(countAt(kindTo('outcome-approved', 'alice@contoso.example'))).toBe(1);
    expect(countAt(kindTo('receipt', 'dana@contoso.example'))).toBe(1);
    const reqs = await app.db.db.select().from(schema.requests);
    expect(reqs.map((r) => r.requesterEmail).sort()).toEqual(['alice@contoso.example', 'bob@contoso.example', 'carol@contoso.example', 'remi@contoso.example']);
    // The decisions already recorded are untouched (same rows, same times).
    const oldRequests = new Set(decidedBefore.map((p) => p.requestId));
    const decidedAfter = await app.db.db.select().from(schema.requestPeople).orderBy(schema.requestPeople.id);
    expect(decidedAfter.filter((p) => oldRequests.has(p.requestId))).toEqual(decidedBefore);
    const inbound = await app.db.db.select().from(schema.inboundMessages);
    expect(inbound).toHaveLength(5);
    expect(inbound.every((i) => i.status === 'done' && i.attempts === 1)).toBe(true);
    // The new ones were recorded under the new UIDVALIDITY.
    expect(
      await app.db.db
        .select()
        .from(schema.inboundMessages)
        .where(and(eq(schema.inboundMessages.uidValidity, Number(newValidity)), eq(schema.inboundMessages.mailbox, 'Requests'))),
    ).toHaveLength(2);
  }, 180_000);

  it('a message that keeps failing is moved to Quarantine after 3 attempts, every admin is told, and other mail keeps flowing', async () => {
    const user = 'lic-e';
    const proxy = await proxyToDovecot();
    const poisonSubject = 'POISON Visio licence';
    const app = await startApp({
      env: { IMAP_URL: viaProxy(proxy, user), IMAP_POLL_SECONDS: '1' },
      // The fault is the database's: it refuses the request this one message would create,
      // every time, the way a constraint refuses a row. Recording the failure still works.
      async beforeStart(databaseUrl) {
        const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
        try {
          await sql.unsafe(`
            create function mg_test_refuse_poison() returns trigger language plpgsql as $$
            begin
              if new.subject = '${poisonSubject}' then
                raise exception 'test fault: this request cannot be recorded';
              end if;
              return new;
            end $$;
            create trigger mg_test_refuse_poison before insert on requests
              for each row execute function mg_test_refuse_poison();
          `);
        } finally {
          await sql.end({ timeout: 1 });
        }
      },
    });
    const poison = await buildMail({ from: 'alice@contoso.example', to: 'licenses@contoso.example', subject: poisonSubject, text: 'Please.' });
    await dovecot.append(user, 'INBOX', poison);
    await dovecot.append(user, 'INBOX', await requestMail('bob@contoso.example'));

    // Every admin is told, once.
    const alerts = await sink.waitFor((m) => m.headers['x-mailgrant-kind'] === 'admin-alert', { count: 2, timeoutMs: 60_000 });
    expect(alerts.map((m) => m.to.join(',')).sort()).toEqual(['dana@contoso.example', 'erin@contoso.example']);
    for (const a of alerts) {
      expect(a.text).toContain(poisonSubject);
      expect(a.text).toContain('Attempts: 3');
      // The database's reason, in one line, not the SQL statement with the message's data.
      expect(a.text).toContain('Last error: PostgresError: test fault: this request cannot be recorded');
      expect(a.text).not.toContain('insert into');
    }
    await waitUntil(async () => (await messagesIn(user, 'Quarantine')) === 1, { timeoutMs: 20_000, intervalMs: 250, description: 'the poison message in Quarantine' });
    const c = await dovecot.client(user);
    try {
      await c.mailboxOpen('Quarantine');
      const subjects: string[] = [];
      for await (const m of c.fetch('1:*', { envelope: true })) subjects.push(m.envelope?.subject ?? '');
      expect(subjects).toEqual([poisonSubject]);
    } finally {
      await c.logout();
    }
    const [row] = await app.db.db.select().from(schema.inboundMessages).where(eq(schema.inboundMessages.subject, poisonSubject));
    expect(row).toMatchObject({ status: 'quarantined', attempts: 3 });

    // Other mail kept flowing, before and after.
    await sink.waitFor(ackTo('bob@contoso.example'), { timeoutMs: 30_000 });
    await dovecot.append(user, 'INBOX', await requestMail('carol@contoso.example'));
    await sink.waitFor(ackTo('carol@contoso.example'), { timeoutMs: 30_000 });
    await waitForEmpty(user, 'INBOX');
    expect(await messagesIn(user, 'Processed')).toBe(2);

    // The same message again (a re-delivery, or a copy left behind because the move to
    // Quarantine failed): it belongs in Quarantine too, not in Processed, and the admins are not
    // told twice.
    await dovecot.append(user, 'INBOX', poison);
    await waitUntil(async () => (await messagesIn(user, 'Quarantine')) === 2, { timeoutMs: 20_000, intervalMs: 250, description: 'the copy in Quarantine' });
    await waitForEmpty(user, 'INBOX');
    expect(await messagesIn(user, 'Processed')).toBe(2);
    await allSent(app);
    expect(countAt((m) => m.headers['x-mailgrant-kind'] === 'admin-alert')).toBe(2);
    expect(countAt(ackTo('alice@contoso.example')), 'the poison message was never acted on').toBe(0);
  }, 120_000);
});

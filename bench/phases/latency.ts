/**
 * One reply at a time, each on its own pending request: the time from handing the reply to the
 * mail system (IMAP APPEND to the mailbox, or SMTP to Mailgrant's intake) to the moment the
 * sink accepted that request's outcome mail. The receipt to the approver is awaited too (not
 * timed) before the next reply, so samples do not overlap.
 */
import { and, eq, inArray } from 'drizzle-orm';
import type { ImapFlow } from 'imapflow';
import type { Database } from '../../src/db/client.js';
import { inboundMessages, outbox } from '../../src/db/schema/index.js';
import type { DovecotServer } from '../../test/helpers/dovecot.js';
import { replyMail } from '../org.js';
import type { BenchSink } from '../sink.js';
import { smtpClient } from '../smtp-client.js';
import { delay, log, median, now, within } from '../util.js';
import type { SeededShare } from './seed.js';

export interface Sample {
  requestId: number;
  /** Date.now() when the reply was handed over. */
  wall0: number;
  latencyMs: number;
  /** SMTP only: until Mailgrant's 250 (given after its commit). */
  ackMs?: number;
  /** Date.now() at the sink for the outcome mail. */
  outcomeWall: number;
}

const isOutcome = (kind: string) => kind.startsWith('outcome-');

/**
 * A random pause before each reply. Over IMAP it is long enough (0.5–1 s) for Mailgrant to be back
 * in IDLE, the state a real reply finds it in (replies come minutes apart, not 100 ms apart): a
 * reply APPENDed within imapflow's 200 ms auto-IDLE delay after the previous one is seen when IDLE
 * starts, sooner than an IDLE notification, and would flatter the figure. Over SMTP there is no
 * such state; a short random pause just varies the point of Mailgrant's loop the reply meets.
 */
const imapGap = () => delay(500 + Math.random() * 500);
const smtpGap = () => delay(20 + Math.random() * 180);

async function waitForMails(sink: BenchSink, requestId: number, t0: number, label: string): Promise<{ outcomeAt: number; outcomeWall: number }> {
  const [outcome] = await sink.waitFor((m) => isOutcome(m.kind), { requestId, timeoutMs: 20_000, what: `the outcome mail of request ${requestId} after its reply (${label})` });
  await sink.waitFor((m) => m.kind === 'receipt' && m.at >= t0, { requestId, timeoutMs: 10_000, what: `the receipt of request ${requestId} after its reply (${label})` });
  return { outcomeAt: outcome!.at, outcomeWall: outcome!.wall };
}

export async function imapLatency(o: { dovecot: DovecotServer; user: string; sink: BenchSink; shares: readonly SeededShare[] }): Promise<Sample[]> {
  const replies = await Promise.all(o.shares.map((s) => replyMail(s)));
  let c: ImapFlow | null = null;
  const out: Sample[] = [];
  try {
    c = await within(o.dovecot.client(o.user), 15_000, 'the IMAP connection used for APPEND');
    for (let i = 0; i < o.shares.length; i++) {
      const share = o.shares[i]!;
      await imapGap();
      const wall0 = Date.now();
      const t0 = now();
      await within(c.append('INBOX', replies[i]!), 15_000, `APPEND of the reply to request ${share.requestId}`);
      const r = await waitForMails(o.sink, share.requestId, t0, 'IMAP');
      out.push({ requestId: share.requestId, wall0, latencyMs: r.outcomeAt - t0, outcomeWall: r.outcomeWall });
      if ((i + 1) % 50 === 0) log(`  IMAP latency: ${i + 1}/${o.shares.length}, median so far ${median(out.map((s) => s.latencyMs)).toFixed(0)} ms`);
    }
  } finally {
    await c?.logout().catch(() => c?.close());
  }
  return out;
}

export async function smtpLatency(o: { intakePort: number; sink: BenchSink; shares: readonly SeededShare[] }): Promise<Sample[]> {
  const replies = await Promise.all(o.shares.map((s) => replyMail(s)));
  // One pooled connection, kept open, without Nagle's delay (see bench/smtp-client.ts): the
  // sample times Mailgrant, not TCP set-up or the harness's own client.
  const t = smtpClient({ port: o.intakePort, maxConnections: 1 });
  const out: Sample[] = [];
  try {
    for (let i = 0; i < o.shares.length; i++) {
      const share = o.shares[i]!;
      await smtpGap();
      const wall0 = Date.now();
      const t0 = now();
      await within(t.sendMail({ envelope: { from: 'dana@contoso.example', to: [`licenses+${share.token}@contoso.example`] }, raw: replies[i]! }), 15_000, `Mailgrant's SMTP intake to accept the reply to request ${share.requestId}`);
      const ackMs = now() - t0;
      const r = await waitForMails(o.sink, share.requestId, t0, 'SMTP');
      out.push({ requestId: share.requestId, wall0, latencyMs: r.outcomeAt - t0, ackMs, outcomeWall: r.outcomeWall });
      if ((i + 1) % 50 === 0) log(`  SMTP latency: ${i + 1}/${o.shares.length}, median so far ${median(out.map((s) => s.latencyMs)).toFixed(0)} ms`);
    }
  } finally {
    t.close();
  }
  return out;
}

export interface Breakdown {
  /** Reply handed over → Mailgrant's transaction began (IMAP: notify, IDLE break, SEARCH, FETCH, parse). */
  pickupMs: number;
  /** The handling transaction (reply reading, decisions, rendering, outbox rows). */
  transactionMs: number;
  /** Transaction end → outcome accepted by the sink (commit, dispatcher wake-up, claim, SMTP). */
  dispatchMs: number;
}

/**
 * Where each sample's time went, read from Mailgrant's own timestamps: inbound_messages.received_at
 * (the transaction's start, PostgreSQL now()), processed_at (Mailgrant's clock at the end of the
 * transaction). Same machine, same clock; millisecond resolution. Medians over the samples.
 */
export async function breakdown(db: Database, samples: readonly Sample[]): Promise<Breakdown> {
  const ids = samples.map((s) => s.requestId);
  const rows = await db
    .select({ requestId: inboundMessages.requestId, receivedAt: inboundMessages.receivedAt, processedAt: inboundMessages.processedAt })
    .from(inboundMessages)
    .where(and(inArray(inboundMessages.requestId, ids), eq(inboundMessages.classification, 'reply')));
  const byId = new Map(rows.map((r) => [r.requestId, r]));
  const pickup: number[] = [];
  const tx: number[] = [];
  const dispatch: number[] = [];
  for (const s of samples) {
    const r = byId.get(s.requestId);
    if (!r?.processedAt) continue;
    pickup.push(r.receivedAt.getTime() - s.wall0);
    tx.push(r.processedAt.getTime() - r.receivedAt.getTime());
    dispatch.push(s.outcomeWall - r.processedAt.getTime());
  }
  return { pickupMs: median(pickup), transactionMs: median(tx), dispatchMs: median(dispatch) };
}

/** Mails Mailgrant sent per reply (outcome, receipt, …), counted on the latency requests. */
export function mailsPerReply(sink: BenchSink, samples: readonly Sample[]): { count: number; kinds: string[] } {
  let total = 0;
  const kinds = new Set<string>();
  for (const s of samples) {
    for (const m of sink.mailsFor(s.requestId)) {
      if (m.kind === 'shared-request' || m.kind === 'acknowledgement') continue;
      total++;
      kinds.add(m.kind);
    }
  }
  return { count: Math.round(total / Math.max(1, samples.length)), kinds: [...kinds].sort() };
}

/** The outbox rows of a request, to show the raw baseline what Mailgrant's mails look like. */
export async function sampleMails(db: Database, requestId: number) {
  return db.select({ kind: outbox.kind, subject: outbox.subject, html: outbox.html, text: outbox.text, to: outbox.toAddress, from: outbox.fromAddress }).from(outbox).where(eq(outbox.requestId, requestId));
}

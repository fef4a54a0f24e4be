import { sql } from 'drizzle-orm';
import { bigint, index, integer, jsonb, pgTable, serial, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/**
 * Every inbound message seen, from IMAP or the SMTP intake. The database, not the IMAP flags,
 * is the truth about what was handled: flags and moves happen after the commit and are only
 * a hint for the next scan.
 */
export const inboundMessages = pgTable(
  'inbound_messages',
  {
    id: serial('id').primaryKey(),
    source: text('source', { enum: ['imap', 'smtp', 'cli'] }).notNull(),
    mailbox: text('mailbox'),
    uidValidity: bigint('uid_validity', { mode: 'number' }),
    uid: bigint('uid', { mode: 'number' }),
    messageId: text('message_id'),
    rawHash: text('raw_hash').notNull(),
    fromAddress: text('from_address'),
    subject: text('subject'),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
    /** What the message is: request, reply, auto-reply, bounce, … */
    classification: text('classification'),
    /** What was done: request-created, decision-recorded, unclear, ignored, failed, … */
    action: text('action'),
    status: text('status', { enum: ['done', 'failed', 'quarantined'] }).notNull(),
    attempts: integer('attempts').notNull().default(1),
    error: text('error'),
    requestId: integer('request_id'),
    processedAt: timestamp('processed_at', { withTimezone: true }),
  },
  (t) => [
    // The same bytes are handled once, whether they came twice over SMTP, once over SMTP and
    // once over IMAP, or again after a UIDVALIDITY change renumbered the mailbox.
    uniqueIndex('inbound_raw_hash').on(t.rawHash),
    uniqueIndex('inbound_mailbox_uid').on(t.mailbox, t.uidValidity, t.uid).where(sql`${t.uid} is not null`),
    index('inbound_received').on(t.receivedAt),
    // The reply → outcome latency metric looks up the reply that completed a request, once per
    // outcome mail sent; without this it scanned a day of inbound messages each time.
    index('inbound_request').on(t.requestId, t.receivedAt),
  ],
);

/**
 * Every outgoing mail, written in the same transaction as the change that causes it and sent
 * afterwards by the dispatcher. `dedupeKey` is the guard against composing the same logical
 * mail twice; `messageId` is fixed so a resend after a crash is recognisable as the same mail.
 */
export const outbox = pgTable(
  'outbox',
  {
    id: serial('id').primaryKey(),
    dedupeKey: text('dedupe_key').notNull(),
    messageId: text('message_id').notNull(),
    kind: text('kind').notNull(),
    requestId: integer('request_id'),
    toAddress: text('to_address').notNull(),
    fromAddress: text('from_address').notNull(),
    replyTo: text('reply_to'),
    inReplyTo: text('in_reply_to'),
    subject: text('subject').notNull(),
    // Compressed with lz4 where the server has it (drizzle/0004_outbox_lz4.sql): pglz cost more
    // than twice the CPU on every insert. Drizzle's schema does not model compression.
    html: text('html').notNull(),
    text: text('text').notNull(),
    headers: jsonb('headers').$type<Record<string, string>>().notNull().default({}),
    /**
     * Values kept out of the stored mail (the reply token) and put back only when sending;
     * cleared once sent, so a copy of the database does not hand out valid reply addresses.
     */
    secrets: jsonb('secrets').$type<Record<string, string> | null>(),
    status: text('status', { enum: ['pending', 'sending', 'sent', 'failed'] }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
    lockedUntil: timestamp('locked_until', { withTimezone: true }),
    /**
     * The instance sending it. A mail left in 'sending' by an instance that died (crash after the
     * SMTP server accepted, before it was marked sent) is taken back as soon as that instance is
     * known to be gone, rather than after the lock expires.
     */
    claimedBy: text('claimed_by'),
    lastError: text('last_error'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    sentAt: timestamp('sent_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('outbox_dedupe').on(t.dedupeKey),
    uniqueIndex('outbox_message_id').on(t.messageId),
    index('outbox_due').on(t.status, t.nextAttemptAt),
  ],
);

/** Who did what, when, through which channel, with the evidence. */
export const auditLog = pgTable(
  'audit_log',
  {
    id: serial('id').primaryKey(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
    actor: text('actor').notNull(),
    channel: text('channel', { enum: ['email', 'cli', 'system'] }).notNull(),
    action: text('action').notNull(),
    requestId: integer('request_id'),
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [index('audit_request').on(t.requestId), index('audit_at').on(t.at)],
);

/** Auto-replies sent, so each sender gets at most one per window and two auto-responders cannot loop. */
export const autoReplies = pgTable(
  'auto_replies',
  {
    id: serial('id').primaryKey(),
    recipient: text('recipient').notNull(),
    kind: text('kind').notNull(),
    sentAt: timestamp('sent_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('auto_replies_recipient').on(t.recipient, t.sentAt)],
);

/**
 * One row per scheduled job and period: the instance whose insert wins runs the job, so with
 * several instances on one database each job runs once per period.
 */
export const jobRuns = pgTable(
  'job_runs',
  {
    id: serial('id').primaryKey(),
    job: text('job').notNull(),
    period: text('period').notNull(),
    instance: text('instance').notNull(),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    result: jsonb('result').$type<Record<string, unknown>>(),
  },
  (t) => [uniqueIndex('job_runs_once').on(t.job, t.period)],
);

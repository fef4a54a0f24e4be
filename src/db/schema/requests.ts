import { sql } from 'drizzle-orm';
import { boolean, index, integer, jsonb, pgTable, serial, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/** A licence request: one product, one requester, one or more people who need it. */
export const requests = pgTable(
  'requests',
  {
    id: serial('id').primaryKey(),
    productId: text('product_id').notNull(),
    /** Other products that also matched the request mail; the decider may choose one of them. */
    alternativeProductIds: jsonb('alternative_product_ids').$type<string[]>().notNull().default([]),
    requesterEmail: text('requester_email').notNull(),
    subject: text('subject').notNull().default(''),
    status: text('status', { enum: ['pending', 'completed'] }).notNull().default('pending'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    completedAt: timestamp('completed_at', { withTimezone: true }),
    /** The inbound message that created it: one message never creates two requests. */
    sourceMessageId: integer('source_message_id'),
  },
  (t) => [
    // The guard against two pending requests for the same person and product, also when two
    // mails arrive at once: the insert conflicts instead of a check-then-insert race.
    uniqueIndex('requests_one_pending_per_requester').on(t.requesterEmail, t.productId).where(sql`${t.status} = 'pending'`),
    uniqueIndex('requests_source_message').on(t.sourceMessageId),
    index('requests_status_created').on(t.status, t.createdAt),
  ],
);

/** One row per person on a request, with that person's verdict once decided. */
export const requestPeople = pgTable(
  'request_people',
  {
    id: serial('id').primaryKey(),
    requestId: integer('request_id')
      .notNull()
      .references(() => requests.id, { onDelete: 'cascade' }),
    email: text('email').notNull(),
    name: text('name').notNull(),
    isRequester: boolean('is_requester').notNull().default(false),
    verdict: text('verdict', { enum: ['approve', 'deny'] }),
    decidedBy: text('decided_by'),
    decidedAt: timestamp('decided_at', { withTimezone: true }),
    /** How the decision came in: a reply by email or the command line. */
    channel: text('channel', { enum: ['email', 'cli'] }),
    comment: text('comment'),
    /** An admin's message (`decide --message`) that replaces the default text of the outcome mail. */
    outcomeMessage: text('outcome_message'),
  },
  (t) => [uniqueIndex('request_people_once').on(t.requestId, t.email)],
);

/** A request shared with one decider; the reply token is only stored as a hash. */
export const shares = pgTable(
  'shares',
  {
    id: serial('id').primaryKey(),
    requestId: integer('request_id')
      .notNull()
      .references(() => requests.id, { onDelete: 'cascade' }),
    recipientEmail: text('recipient_email').notNull(),
    tokenHash: text('token_hash').notNull(),
    subject: text('subject'),
    message: text('message'),
    /** null when shared automatically with the product's approvers. */
    sharedBy: text('shared_by'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [uniqueIndex('shares_token_hash').on(t.tokenHash), index('shares_request').on(t.requestId)],
);

/** Seats in use: one row per product and person; the unique key is the guard against double assignment. */
export const assignments = pgTable(
  'assignments',
  {
    id: serial('id').primaryKey(),
    productId: text('product_id').notNull(),
    email: text('email').notNull(),
    requestId: integer('request_id').references(() => requests.id, { onDelete: 'set null' }),
    disabledPlans: jsonb('disabled_plans').$type<string[]>().notNull().default([]),
    viaGroup: text('via_group'),
    assignedBy: text('assigned_by').notNull(),
    assignedAt: timestamp('assigned_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('assignments_once').on(t.productId, t.email)],
);

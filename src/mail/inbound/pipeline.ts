import { createHash } from 'node:crypto';
import { DrizzleQueryError } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Rules } from '../../config/rules.js';
import type { InboundIdentity } from '../../db/repos/inbound-repo.js';
import type { Repos, Store } from '../../db/store.js';
import type { DomainDeps } from '../../requests/deps.js';
import { handleRequestMail } from '../../requests/intake.js';
import { handleReply } from '../../requests/replies.js';
import { isReplyAttempt, tokensFromAddresses, tokensFromMessageIds } from '../../requests/tokens.js';
import { alertAdmins } from '../../requests/alerts.js';
import { answerUnreadable } from '../../requests/unreadable.js';
import { MailgrantError } from '../../shared/errors.js';
import type { FaultHook } from '../../shared/faults.js';
import { authenticateReply, type DnsResolver, type SmtpEnvelope } from './authenticate.js';
import { classify } from './classify.js';
import type { ReplyExtraction } from './extract-reply.js';
import { parseHeaderBlock, type InboundMessage } from './parse.js';
import { createInThreadReader, type MessageReader } from './parse-pool.js';
import type { ReadMessage } from './read-message.js';

export interface InboundSource {
  source: 'imap' | 'smtp' | 'cli';
  mailbox?: string | null;
  uidValidity?: number | null;
  uid?: number | null;
  /** The SMTP session, when the message came through the SMTP intake (for SPF). */
  envelope?: SmtpEnvelope;
}

export type HandleStatus = 'done' | 'duplicate' | 'failed' | 'quarantined';
export interface HandleResult {
  status: HandleStatus;
  classification?: string;
  action?: string;
  requestId?: number | null;
  error?: string;
}

export interface ManyOptions {
  /** Messages handled at the same time, each in its own transaction. */
  concurrency: number;
  /** Asked before each message is started: false leaves the rest untried (shutdown). */
  keepGoing: () => boolean;
  /** Called as each message is done, before the next of its lane starts. */
  onResult?: (index: number, result: HandleResult) => void;
}

export interface InboundPipeline {
  handle(raw: Buffer, source: InboundSource): Promise<HandleResult>;
  /**
   * A fetched batch: each message is handled as soon as it is read (the reader reads ahead), at
   * most `concurrency` at a time. Messages that could
   * affect one another keep their order: those carrying the same reply token (one decider on one
   * request: "approve" then "sorry, deny bob") and, for everything else, those from the same
   * sender, are handled one after another in the order given. Returns one result per item, or
   * null for one not tried because `keepGoing` said stop.
   */
  handleMany(items: readonly { raw: Buffer; source: InboundSource }[], o: ManyOptions): Promise<(HandleResult | null)[]>;
  /**
   * Records a message that is not read at all (over `limitBytes`) as quarantined and tells the
   * admins, so that it is not only a line in a log. With its header block (`headers`, fetched
   * alone), the record and the alert name its sender, who is asked to send it smaller.
   */
  quarantineUnread(source: InboundSource & { uid: number; size: number }, reason: string, o: { limitBytes: number; headers: Buffer | null }): Promise<HandleResult>;
}

export interface PipelineDeps {
  store: Store;
  domain: DomainDeps;
  logger: Logger;
  /** Called after a commit that queued mail, so it goes out now rather than at the next poll. */
  onOutbox: () => void;
  /** Attempts before a message that keeps failing is quarantined. */
  quarantineAfter?: number;
  /** DNS for DKIM/SPF/DMARC checks; tests replace it. */
  resolver?: DnsResolver;
  faults?: FaultHook;
  /** Parses messages and finds their new text (default: on the main thread, one at a time). */
  reader?: MessageReader;
  /**
   * Keeps the bytes of a quarantined message that exists nowhere else (SMTP intake); IMAP
   * messages stay in the Quarantine folder. Returns where it was kept.
   */
  keepQuarantined?: (rawHash: string, raw: Buffer) => Promise<string>;
}

/**
 * The failure in one line for the inbound record and the admins' alert. drizzle wraps a database
 * error as "Failed query: <the SQL> params: <every value>", which hides the database's reason
 * and copies the message's data (sender, subject, hash) into the alert: its cause says why.
 */
function describeFailure(err: unknown): string {
  if (err instanceof MailgrantError) return recordable(err.message);
  const e = databaseCause(err) as Error;
  return recordable(`${e.name}: ${e.message}`);
}

/** The database's own error inside drizzle's wrapping (see `describeFailure`). */
function databaseCause(err: unknown): unknown {
  let e = err;
  while (e instanceof DrizzleQueryError && e.cause instanceof Error) e = e.cause;
  return e;
}

/**
 * A reason as it can be recorded and mailed to the admins. A reader's or handler's message may
 * quote the message's own bytes, and a NUL among them would make the record fail (PostgreSQL text
 * cannot hold one): the message would then fail the same way on every attempt, and its batch
 * with it.
 */
function recordable(reason: string): string {
  return reason.replace(/\u0000/g, '\\0');
}

/**
 * Why the database refused a statement for the data in it (SQLSTATE class 22, a data exception
 * such as a character it cannot store, or 54, a limit such as an index entry too large), in one
 * line; null for any other failure (the database unreachable, a bug), which is not the data's.
 */
export function refusedData(err: unknown): string | null {
  const { code, message } = (databaseCause(err) ?? {}) as { code?: unknown; message?: unknown };
  return typeof code === 'string' && /^(22|54)[0-9A-Z]{3}$/.test(code) ? `${code}: ${String(message ?? '')}` : null;
}

/** Names the recorded message after what its headers say. */
function nameAfter(identity: InboundIdentity, msg: InboundMessage): void {
  identity.messageId = msg.messageId;
  identity.fromAddress = msg.from;
  identity.subject = msg.subject.slice(0, 500);
}

export function sha256(raw: Buffer): string {
  return createHash('sha256').update(raw).digest('hex');
}

/**
 * One pipeline for every intake: parse and classify outside the transaction, then claim the
 * message, act on it and record what was done in one transaction, so that a crash anywhere
 * before the commit leaves the message to be handled again and after it, never twice.
 */
export function createInboundPipeline(deps: PipelineDeps): InboundPipeline {
  const quarantineAfter = deps.quarantineAfter ?? 3;
  const reader = deps.reader ?? createInThreadReader();

  /**
   * `unreadable`: the message was received but could not be read (or, with `limitBytes`, was
   * too large to), with its header block when that could be; its sender is then asked to send it
   * again (see `answerUnreadable`), and the admins are told whether they were.
   */
  async function quarantine(identity: InboundIdentity, reason: string, classification: string, src: InboundSource, raw: Buffer | null, unreadable: { head: InboundMessage | null; limitBytes: number | null } | null = null): Promise<HandleResult> {
    const kept = raw && src.source !== 'imap' && deps.keepQuarantined ? await deps.keepQuarantined(identity.rawHash, raw) : null;
    const { result: recorded } = await recordSafely(identity, reason, (named, why, bare) =>
      deps.store.transaction(async (repos) => {
        if (!(await repos.inbound.quarantine(named, why, classification, deps.domain.clock()))) return false;
        const sender = !unreadable ? null : bare ? 'Its sender was not told: the database refused its headers.' : await tellSender(repos, named, unreadable.head, unreadable.limitBytes);
        await alertAdmins(repos, deps.domain, {
          title: 'A message was quarantined',
          lines: [
            `Reason: ${why}`,
            `From: ${named.fromAddress ?? 'unknown'}`,
            `Subject: ${named.subject ?? ''}`,
            src.source === 'imap' ? `It was moved to the quarantine mailbox.` : `A copy is kept at ${kept ?? '(not kept)'}.`,
            ...(sender ? [sender] : []),
          ],
          dedupeKey: `quarantine:${named.rawHash}`,
        });
        return true;
      }),
    );
    if (recorded) deps.onOutbox();
    return { status: 'quarantined', classification, action: 'quarantined', requestId: null, error: reason };
  }

  /**
   * Records what became of a message (`write`, given the message's identity and the reason).
   * What its headers put in a record (sender, subject, Message-ID) comes from whoever sent it:
   * should the database refuse the record for its data, the message would fail the same way on
   * every attempt and hold up its batch for good. So it is recorded again without them, with a
   * reason that says so. Any other failure is thrown: the message is tried again later. Returns
   * what `write` returned, with the identity and reason it was recorded under, for whatever else
   * names the message (an alert): the database takes those.
   */
  async function recordSafely<T>(identity: InboundIdentity, reason: string, write: (named: InboundIdentity, why: string, bare: boolean) => Promise<T>): Promise<{ result: T; named: InboundIdentity; why: string }> {
    try {
      return { result: await write(identity, reason, false), named: identity, why: reason };
    } catch (err) {
      const refused = refusedData(err);
      if (!refused) throw err;
      deps.logger.error({ err, rawHash: identity.rawHash.slice(0, 16) }, 'the database refused what a message\'s headers put in its record; recording it without them');
      const named: InboundIdentity = { ...identity, messageId: null, fromAddress: null, subject: null };
      const why = recordable(`${reason} (recorded without its sender, subject and Message-ID, which the database refused: ${refused})`);
      return { result: await write(named, why, true), named, why };
    }
  }

  /** Asks the sender of an unreadable message to send it again, when that is safe; says what was done, for the admins. */
  async function tellSender(repos: Repos, identity: InboundIdentity, head: InboundMessage | null, limitBytes: number | null): Promise<string> {
    if (!head?.from) return 'Its sender could not be read from its headers: nobody but the admins was told.';
    const c = classify(head, [deps.domain.rules().organization.mailbox]);
    if (c.kind === 'automatic') return `It looks automatic (${c.reason}): its sender was not told.`;
    const answer = await answerUnreadable(repos, deps.domain, { from: head.from, subject: identity.subject ?? '', messageId: head.messageId, key: identity.rawHash, limitBytes });
    switch (answer) {
      case 'asked-to-resend':
        return 'Its sender was asked to send it again.';
      case 'not-in-directory':
        return 'Its sender is not in the directory and was not told.';
      case 'already-asked':
        return 'Its sender was already asked to send a message again within autoReplies.perSenderWindow, and was not asked again.';
    }
  }

  return {
    async quarantineUnread(src, reason, o) {
      const head = o.headers ? await parseHeaderBlock(o.headers) : null;
      const identity: InboundIdentity = {
        source: src.source, mailbox: src.mailbox ?? null, uidValidity: src.uidValidity ?? null, uid: src.uid,
        // Never read, so no hash of its bytes: its place in the mailbox names it.
        rawHash: `unread:${src.mailbox}:${src.uidValidity}:${src.uid}`,
        messageId: null, fromAddress: null, subject: null, receivedAt: deps.domain.clock(),
      };
      if (head) nameAfter(identity, head);
      return quarantine(identity, `${reason} (${src.size} bytes)`, 'too-large', src, null, { head, limitBytes: o.limitBytes });
    },

    handle: async (raw, src) => finish(await prepare(raw, src)),

    async handleMany(items, o) {
      // Every message is given to the reader at once: it reads them in order (in worker threads
      // when there are any) while the ones already read are handled.
      const reading = items.map((it) => prepare(it.raw, it.source));
      // A failure that escapes `finish` (the database gone while recording a quarantine) stops
      // every message not yet started, so nothing is still running when this throws.
      let failure: { err: unknown } | null = null;
      reading.forEach((r) => r.catch(() => undefined));
      const results: (HandleResult | null)[] = items.map(() => null);
      const slots = slotsOf(Math.max(1, o.concurrency));
      // Lanes keep the order of messages that could affect one another: each message of a lane
      // starts after the one before it is done. Lanes run side by side, `concurrency` at a time.
      const laneTails = new Map<string, Promise<void>>();
      const runs: Promise<void>[] = [];
      for (let i = 0; i < items.length; i++) {
        let p: Prepared;
        try {
          p = await reading[i]!;
        } catch (err) {
          failure ??= { err };
          break;
        }
        if (failure || !o.keepGoing()) break;
        const key = laneOf(p, i);
        const run = (laneTails.get(key) ?? Promise.resolve()).then(async () => {
          await slots.take();
          try {
            if (failure || !o.keepGoing()) return;
            const r = await finish(p);
            results[i] = r;
            o.onResult?.(i, r);
          } catch (err) {
            failure ??= { err };
          } finally {
            slots.give();
          }
        });
        laneTails.set(key, run);
        runs.push(run);
      }
      await Promise.all(runs);
      if (failure) throw failure.err;
      return results;
    },
  };

  /** At most `n` holders at a time, served in the order they asked. */
  function slotsOf(n: number) {
    let free = n;
    const waiting: (() => void)[] = [];
    return {
      take: () => (free > 0 ? (free--, Promise.resolve()) : new Promise<void>((r) => waiting.push(r))),
      give: () => {
        const w = waiting.shift();
        if (w) w();
        else free++;
      },
    };
  }

  interface Prepared {
    raw: Buffer;
    src: InboundSource;
    identity: InboundIdentity;
    log: Logger;
    /** The message and its new text; null: it could not be read (it is quarantined). */
    read: ReadMessage | null;
    /** Reply tokens found in its recipients and Message-ID references (none: not a reply). */
    tokens: string[];
    parseError: string | null;
  }

  /**
   * Outside any transaction: the hash that names the message, and the message read. A message the
   * reader could not read is kept as `parseError` (it is quarantined); a reader that did not try
   * (stopped) throws, so the message is tried again later.
   */
  async function prepare(raw: Buffer, src: InboundSource): Promise<Prepared> {
    const rawHash = sha256(raw);
    const identity: InboundIdentity = {
      source: src.source, mailbox: src.mailbox ?? null, uidValidity: src.uidValidity ?? null, uid: src.uid ?? null,
      // receivedAt is set by `finish`, when handling begins.
      rawHash, messageId: null, fromAddress: null, subject: null,
    };
    const log = deps.logger.child({ rawHash: rawHash.slice(0, 16), uid: src.uid ?? undefined });
    try {
      const read = await reader.read(raw);
      nameAfter(identity, read.msg);
      return { raw, src, identity, log, read, tokens: replyTokens(read.msg), parseError: null };
    } catch (err) {
      if (!(err instanceof MailgrantError && err.code === 'parse_failed')) throw err;
      return { raw, src, identity, log, read: null, tokens: [], parseError: recordable(err.message) };
    }
  }

  /** Which lane a message goes in (see `handleMany`). */
  function laneOf(p: Prepared, index: number): string {
    if (!p.read) return `unparsed:${index}`;
    const token = p.tokens[0];
    if (token) return `token:${token}`;
    return `from:${(p.read.msg.from ?? '').toLowerCase()}`;
  }

  function replyTokens(msg: InboundMessage): string[] {
    const rules = deps.domain.rules();
    return [
      ...tokensFromAddresses(msg.recipients, rules.organization.mailbox),
      ...tokensFromMessageIds([...msg.inReplyTo, ...msg.references], rules.organization.domain),
    ];
  }

  async function finish(p: Prepared): Promise<HandleResult> {
    const { raw, src, identity, log, read } = p;
    const rawHash = identity.rawHash;
    // Received when its handling begins, not when its batch was parsed: the time to handle a
    // reply (and the metrics built on it) must not include its wait behind the rest of a batch.
    identity.receivedAt = deps.domain.clock();
    if (!read) {
      // Unreadable mail may still be someone's real reply: it goes where a person looks.
      const reason = `the message could not be parsed: ${p.parseError}`;
      // Its header block is usually intact (damage and cuts are in the body): it says who sent it,
      // for the record, the admins' alert and a request to send it again.
      const head = await parseHeaderBlock(raw);
      if (head) nameAfter(identity, head);
      log.warn({ err: p.parseError, from: identity.fromAddress ?? undefined }, 'message could not be parsed; quarantined');
      return quarantine(identity, reason, 'malformed', src, raw, { head, limitBytes: null });
    }
    const { msg, reply } = read;
    try {
      const result = await deps.store.transaction(async (repos) => {
        const id = await repos.inbound.claim(identity);
        if (id === null) {
          // A copy of a quarantined message (re-delivered, or left behind when the move to the
          // quarantine mailbox failed) goes where the first one went, not among the handled ones.
          const prior = await repos.inbound.findByHash(rawHash);
          return { status: prior?.status === 'quarantined' ? ('quarantined' as const) : ('duplicate' as const) };
        }
        const outcome = await route(msg, reply, p.tokens, raw, src, id, repos);
        await repos.inbound.finish(id, { ...outcome, at: deps.domain.clock() });
        deps.faults?.('before-commit');
        return { status: 'done' as const, ...outcome };
      });
      if (result.status === 'done') {
        deps.faults?.('after-outbox-commit');
        log.info({ messageId: msg.messageId, from: msg.from, classification: result.classification, action: result.action, requestId: result.requestId ?? undefined }, 'inbound message handled');
        deps.onOutbox();
      } else {
        log.debug({ messageId: msg.messageId }, 'message already handled');
      }
      return result;
    } catch (err) {
      const error = describeFailure(err);
      log.error({ err, messageId: msg.messageId }, 'handling an inbound message failed');
      try {
        const { result: f, named, why } = await recordSafely(identity, error, (who, reason) => deps.store.repos.inbound.recordFailure(who, reason, quarantineAfter));
        // Handled or quarantined before (this attempt failed ahead of the claim that says so):
        // where it went then, as a copy would.
        if (f.settled) return { status: f.settled === 'done' ? 'duplicate' : 'quarantined', error };
        if (f.quarantined && src.source !== 'imap') await deps.keepQuarantined?.(rawHash, raw);
        if (f.quarantined) {
          // Named as the record was: what the database refused there, it would refuse here.
          await deps.store.transaction((repos) =>
            alertAdmins(repos, deps.domain, {
              title: 'A message could not be handled and was quarantined',
              lines: [
                `From: ${named.fromAddress ?? 'unknown'}`,
                `Subject: ${named.subject ?? ''}`,
                `Message-ID: ${named.messageId ?? 'none'}`,
                `Attempts: ${f.attempts}`,
                `Last error: ${why}`,
                src.source === 'imap' ? `It was moved to the quarantine mailbox.` : `The sender was asked to try again later.`,
              ],
              dedupeKey: `quarantine:${rawHash}`,
            }),
          );
          deps.onOutbox();
          log.error({ attempts: f.attempts, messageId: identity.messageId }, 'message quarantined after repeated failures; admins told');
        }
        return { status: f.quarantined ? 'quarantined' : 'failed', error };
      } catch (recordErr) {
        log.error({ err: recordErr, messageId: msg.messageId }, 'could not record the failure either');
        return { status: 'failed', error };
      }
    }
  }

  async function route(msg: InboundMessage, reply: ReplyExtraction, tokens: string[], raw: Buffer, src: InboundSource, inboundId: number, repos: Repos) {
    const rules: Rules = deps.domain.rules();
    const c = classify(msg, [rules.organization.mailbox]);
    if (c.kind === 'automatic') return { classification: `automatic: ${c.reason}`, action: 'ignored', requestId: null };
    const from = msg.from!;
    if (tokens.length > 0) {
      const auth = await authenticateReply(raw, msg, {
        required: rules.security.requireAuthentication, authservId: rules.security.authservId, resolver: deps.resolver,
      }, src.envelope);
      const r = await handleReply(repos, deps.domain, {
        from, token: tokens[0]!, text: reply.text, messageId: msg.messageId, inboundId,
        authentication: { pass: auth.pass, detail: `${auth.method}: ${auth.detail}` },
      });
      return { classification: 'reply', action: r.action, requestId: r.requestId };
    }
    // A reply whose token was damaged on the way: like an unknown token, nothing and no answer.
    if (isReplyAttempt(msg.recipients, [...msg.inReplyTo, ...msg.references], rules.organization.mailbox)) {
      return { classification: 'reply', action: 'unknown-token', requestId: null };
    }
    const r = await handleRequestMail(repos, deps.domain, { from, subject: msg.subject, body: reply.text, messageId: msg.messageId, inboundId });
    return { classification: 'request', action: r.action, requestId: r.requestId };
  }
}

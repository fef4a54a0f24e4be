import type { Logger } from 'pino';
import type { OutboxRow } from '../../db/repos/outbox-repo.js';
import type { Liveness } from '../../db/liveness.js';
import type { Store } from '../../db/store.js';
import type { Metrics } from '../../metrics/metrics.js';
import type { FaultHook } from '../../shared/faults.js';
import { coalesce } from '../../shared/coalesce.js';
import { createSleeper } from '../../shared/sleeper.js';
import { isMailgrantError } from '../../shared/errors.js';
import { revealSecrets } from './compose.js';
import type { Transport } from './transport.js';

export interface Dispatcher {
  start(): void;
  /** Wakes the dispatcher: new mail was committed. */
  kick(): void;
  /** Stops claiming; waits for mails in hand, at most `stopGraceMs` (see sendOne for those still in hand then). */
  stop(): Promise<void>;
  /**
   * Sends everything due now; resolves when nothing due is left (tests, CLI, shutdown). With
   * `withinMs` it stops claiming after that long and no longer waits for the mails still in hand.
   */
  drain(opts?: { withinMs?: number }): Promise<void>;
}

export interface DispatcherOptions {
  store: Store;
  transport: Transport;
  logger: Logger;
  clock?: () => Date;
  batchSize?: number;
  /** How long a claimed mail stays claimed: a sender that dies mid-send releases it after this. */
  lockMs?: number;
  /** Safety-net poll for retries and for mail queued by other processes. */
  pollMs?: number;
  /**
   * After this many failed attempts the admins are told once that a mail is delayed. Transient
   * failures are never given up on: a mail server that is down for an hour must not lose mail.
   */
  delayedAlertAfter?: number;
  onDelayed?: (row: OutboxRow, error: string) => Promise<void> | void;
  /** Cap of the retry backoff (SMTP_RETRY_MAX_SECONDS); 10 minutes by default. */
  retryMaxMs?: number;
  concurrency?: number;
  onPermanentFailure?: (row: OutboxRow, error: string) => Promise<void> | void;
  /** Tells which instances are gone, so their half-sent mails are taken back at once. */
  liveness?: Liveness;
  /** How often to look for mails left in 'sending' by dead instances. */
  reclaimEveryMs?: number;
  /** How long stop() waits for mails in hand (3 s): the daemon must exit within 10 s of SIGTERM. */
  stopGraceMs?: number;
  faults?: FaultHook;
  /** Counts sends and failures for /metrics. */
  metrics?: Pick<Metrics, 'mailSent' | 'mailFailed'>;
}

/** Capped exponential backoff with jitter (±25 %): 2 s, 4 s, 8 s … up to `maxMs` (10 minutes by default). */
export function backoffMs(attempt: number, maxMs = 600_000): number {
  const base = Math.min(maxMs, 2_000 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.75 + Math.random() * 0.5));
}

export function createDispatcher(o: DispatcherOptions): Dispatcher {
  const clock = o.clock ?? (() => new Date());
  const batchSize = o.batchSize ?? 50;
  const lockMs = o.lockMs ?? 120_000;
  const pollMs = o.pollMs ?? 5_000;
  const delayedAlertAfter = o.delayedAlertAfter ?? 8;
  /** Set when a mail had to wait: the next success means the server is back for the others too. */
  let waiting = false;
  const retryMaxMs = o.retryMaxMs ?? 600_000;
  const concurrency = o.concurrency ?? 5;
  const stopGraceMs = o.stopGraceMs ?? 3_000;
  let running = false;
  let loop: Promise<void> | null = null;
  const idle = createSleeper();
  let kicked = false;
  let lastReclaim = 0;
  const reclaimEveryMs = o.reclaimEveryMs ?? 15_000;

  /** Mails a dead instance claimed go back to the queue (at most one extra send each, same Message-ID). */
  async function reclaim(): Promise<void> {
    if (!o.liveness || Date.now() - lastReclaim < reclaimEveryMs) return;
    lastReclaim = Date.now();
    const claimers = await o.store.repos.outbox.sendingClaimers(o.liveness.instanceId);
    const dead: string[] = [];
    for (const id of claimers) if (!(await o.liveness.isAlive(id))) dead.push(id);
    const n = await o.store.repos.outbox.reclaimFrom(dead);
    if (n > 0) o.logger.warn({ count: n, instances: dead }, 'took back mails left unsent by an instance that stopped');
  }

  /**
   * Sent mails are recorded together when several are accepted while one record is being written
   * (5 connections send side by side): one statement for a group rather than one per mail, and
   * none of them waits longer than the record in progress. A mail whose record fails is handled
   * as before: as not sent.
   */
  const recordSent = coalesce<number>((ids) => o.store.repos.outbox.markSent(ids, clock()));

  /** One way to give up per mail in hand (see sendOne). */
  const inHand = new Set<() => void>();
  const giveUpInHand = () => {
    for (const giveUp of inHand) giveUp();
  };

  /**
   * Sends one mail and records the outcome. When stopping, a send that hangs (an SMTP server that
   * stopped answering mid-session) must not hold the daemon past its 10 s: it is no longer waited
   * for and goes back to the queue for a later attempt. Should the server still take it before
   * the connection closes, that outcome is recorded; should it take it and the record come too
   * late, it goes out again later, with the same Message-ID.
   */
  async function sendOne(row: OutboxRow): Promise<void> {
    const settled = deliver(row);
    let giveUp = () => {};
    const givenUp = new Promise<'given-up'>((resolve) => {
      giveUp = () => resolve('given-up');
    });
    inHand.add(giveUp);
    try {
      if ((await Promise.race([settled.then(() => 'done' as const), givenUp])) === 'given-up') {
        settled.catch(() => {});
        const delay = backoffMs(row.attempts, retryMaxMs);
        await o.store.repos.outbox.release([row.id], new Date(clock().getTime() + delay));
        o.logger.warn({ outboxId: row.id, messageId: row.messageId, kind: row.kind, to: row.toAddress, retryInMs: delay }, 'stopping: no longer waiting for the SMTP server to take this mail; it goes out later');
      }
    } finally {
      inHand.delete(giveUp);
    }
  }

  async function deliver(row: OutboxRow): Promise<void> {
    const s = row.secrets;
    // The stored Message-ID, not the sent one: in a shared-request mail the sent one carries the
    // reply token, which is as good as the decider's password for that request.
    const log = o.logger.child({ outboxId: row.id, requestId: row.requestId ?? undefined, messageId: row.messageId, kind: row.kind, to: row.toAddress });
    try {
      await o.transport.send({
        id: row.id,
        kind: row.kind,
        messageId: revealSecrets(row.messageId, s),
        from: row.fromAddress,
        to: row.toAddress,
        replyTo: row.replyTo ? revealSecrets(row.replyTo, s) : null,
        inReplyTo: row.inReplyTo,
        subject: revealSecrets(row.subject, s),
        html: revealSecrets(row.html, s),
        text: revealSecrets(row.text, s),
        headers: row.headers,
      });
      o.faults?.('after-smtp-accept');
      await recordSent(row.id);
      o.metrics?.mailSent(row, clock());
      log.info('mail sent');
    } catch (err) {
      await onSendFailed(row, err, log);
      return;
    }
    if (waiting) {
      // The server takes mail again: the mails waiting out their backoff go now, not minutes later.
      // Outside the send's error handling: this mail is sent, whatever happens here.
      waiting = false;
      try {
        const n = await o.store.repos.outbox.retryNow(clock());
        if (n > 0) {
          o.logger.info({ count: n }, 'the mail server takes mail again; sending the mails that were waiting');
          kicked = true;
        }
      } catch (err) {
        o.logger.warn({ err: (err as Error).message }, 'could not bring the waiting mails forward; they go at their own time');
      }
    }
  }

  async function onSendFailed(row: OutboxRow, err: unknown, log: Logger): Promise<void> {
    const message = (err as Error).message;
    if (isMailgrantError(err, 'smtp_permanent')) {
      await o.store.repos.outbox.markFailed(row.id, message);
      o.metrics?.mailFailed(row, true);
      log.error({ err: message, attempts: row.attempts }, 'mail failed for good');
      await o.onPermanentFailure?.(row, message);
    } else {
      const delay = backoffMs(row.attempts, retryMaxMs);
      await o.store.repos.outbox.markRetry(row.id, new Date(clock().getTime() + delay), message);
      waiting = true;
      o.metrics?.mailFailed(row, false);
      log.warn({ err: message, attempts: row.attempts, retryInMs: delay }, 'mail not sent, will retry');
      if (row.attempts === delayedAlertAfter && row.kind !== 'admin-alert') await o.onDelayed?.(row, message);
    }
  }

  /** Claims and sends batches until nothing is due or `keepGoing` says stop. Returns how many were sent or tried. */
  async function pass(keepGoing: () => boolean = () => true): Promise<number> {
    let total = 0;
    while (keepGoing()) {
      const rows = await o.store.transaction((r) => r.outbox.claimDue(batchSize, lockMs, clock(), o.liveness?.instanceId ?? null));
      if (rows.length === 0) return total;
      // A few in parallel: the pooled SMTP transport keeps several connections busy.
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(concurrency, rows.length) }, async () => {
          while (next < rows.length && keepGoing()) await sendOne(rows[next++]!);
        }),
      );
      total += next;
      // Claimed but not tried because we are stopping: back to the queue now, not when the claim expires.
      if (next < rows.length) await o.store.repos.outbox.release(rows.slice(next).map((r) => r.id));
    }
    return total;
  }

  async function run(): Promise<void> {
    while (running) {
      kicked = false;
      try {
        await reclaim();
        await pass(() => running);
      } catch (err) {
        o.logger.error({ err }, 'outbox pass failed; retrying shortly');
      }
      if (!running) break;
      if (kicked) continue;
      await idle.sleep(pollMs);
    }
  }

  return {
    start() {
      if (running) return;
      running = true;
      loop = run();
    },
    kick() {
      kicked = true;
      idle.wake();
    },
    async stop() {
      running = false;
      idle.wake();
      const timer = setTimeout(giveUpInHand, stopGraceMs);
      try {
        await loop;
      } finally {
        clearTimeout(timer);
      }
      loop = null;
    },
    async drain(opts = {}) {
      if (opts.withinMs === undefined) {
        await pass();
        return;
      }
      const deadline = Date.now() + opts.withinMs;
      const timer = setTimeout(giveUpInHand, opts.withinMs);
      try {
        await pass(() => Date.now() < deadline);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

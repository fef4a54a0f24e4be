import { ImapFlow } from 'imapflow';
import type { Logger } from 'pino';
import type { ImapSettings } from '../../config/env.js';
import type { Liveness } from '../../db/liveness.js';
import type { FaultHook } from '../../shared/faults.js';
import { createSleeper } from '../../shared/sleeper.js';
import type { Metrics } from '../../metrics/metrics.js';
import type { InboundPipeline } from './pipeline.js';

export interface ImapIntake {
  start(): void;
  stop(): Promise<void>;
  /** Scan now (tests and the CLI use it; IDLE and the poll timer call it otherwise). */
  scanNow(): void;
  readonly connected: boolean;
  /** True while another instance reads the mailbox and this one waits for the reader lock. */
  readonly standby: boolean;
}

export interface ImapIntakeOptions {
  settings: ImapSettings;
  pipeline: InboundPipeline;
  logger: Logger;
  maxMessageBytes: number;
  /** Messages fetched per round trip when draining a backlog. */
  batchSize?: number;
  /** Messages of a batch handled at the same time (IMAP_CONCURRENCY); see `InboundPipeline.handleMany`. */
  concurrency?: number;
  /** A connection that stayed up this long resets the reconnect backoff. */
  stableAfterMs?: number;
  /** Only one instance reads a mailbox: the one holding this role. */
  liveness?: Liveness;
  faults?: FaultHook;
  /** Counts reconnects and tracks the connection state for /metrics. */
  metrics?: Pick<Metrics, 'imapReconnect' | 'imapConnected'>;
}

/** Reconnect delay: exponential with jitter (half to all of the step), capped at `maxMs` (one minute by default). */
export function reconnectDelayMs(failures: number, maxMs = 60_000): number {
  const cap = Math.min(maxMs, 1_000 * 2 ** Math.min(failures, 6));
  return Math.round(cap / 2 + Math.random() * (cap / 2));
}

/**
 * Reads the mailbox: IDLE for push, a periodic search as a safety net. A new ImapFlow per
 * connection attempt, because a client that saw its socket die keeps state that is not worth
 * trusting. The backoff resets only after a connection proved stable: emailengine once looped
 * at 17 logins per second against a server that accepted LOGIN and then dropped every SELECT.
 */
export function createImapIntake(o: ImapIntakeOptions): ImapIntake {
  const s = o.settings;
  const log = o.logger.child({ component: 'imap', host: s.host, mailbox: s.mailbox });
  const batchSize = o.batchSize ?? 25;
  const concurrency = o.concurrency ?? 4;
  const stableAfterMs = o.stableAfterMs ?? 60_000;
  let running = false;
  let loop: Promise<void> | null = null;
  let client: ImapFlow | null = null;
  let scanRequested = false;
  let wake: (() => void) | null = null;
  /** Between reconnect attempts and lock tries; stop() cuts it short. */
  const backoff = createSleeper();
  let connected = false;
  /** When the current session had its mailbox open (0: not yet); the backoff resets only after a stable one. */
  let connectedAt = 0;
  let roleLost = false;
  let standingBy = false;
  const role = `imap-reader:${s.user}@${s.host}:${s.port}/${s.mailbox}`;

  /**
   * Waits until this instance is the mailbox's only reader. When the reader dies its database
   * session ends, the lock is released, and a standby takes over at its next try.
   */
  async function acquireRole(): Promise<boolean> {
    if (!o.liveness) return true;
    let announced = false;
    while (running) {
      try {
        if (await o.liveness.tryAcquire(role)) {
          if (announced) log.info('this instance now reads the mailbox');
          standingBy = false;
          return true;
        }
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'cannot take the mailbox reader lock; retrying');
      }
      if (!announced) log.info('another instance reads this mailbox; standing by');
      announced = true;
      standingBy = true;
      await backoff.sleep(2_000);
    }
    return false;
  }

  async function checkRole(): Promise<void> {
    if (!o.liveness || roleLost) return;
    if (!(await o.liveness.healthy().catch(() => false))) {
      roleLost = true;
      wake?.();
    }
  }

  const requestScan = () => {
    scanRequested = true;
    wake?.();
  };

  async function ensureMailbox(c: ImapFlow, path: string): Promise<void> {
    const list = await c.list();
    if (!list.some((m) => m.path === path)) {
      try {
        await c.mailboxCreate(path);
      } catch (err) {
        // Another instance may have created it between LIST and CREATE.
        log.debug({ err: (err as Error).message, path }, 'mailbox create failed; assuming it exists');
      }
    }
  }

  /** Handles everything in the mailbox now. Throws when the connection is no longer usable. */
  async function scan(c: ImapFlow): Promise<void> {
    if (!c.usable) throw new Error('IMAP connection is no longer usable');
    const uidValidity = Number(c.mailbox && typeof c.mailbox === 'object' ? c.mailbox.uidValidity : 0);
    const found = await c.search({ all: true }, { uid: true });
    if (!found) throw new Error('IMAP search failed');
    const uids = [...found].sort((a, b) => a - b);
    for (let i = 0; i < uids.length && running; i += batchSize) {
      const chunk = uids.slice(i, i + batchSize);
      // Sizes first, so an oversized message is quarantined without downloading it.
      const sizes = new Map<number, number>();
      for await (const m of c.fetch(chunk.join(','), { uid: true, size: true }, { uid: true })) sizes.set(m.uid, m.size ?? 0);
      const tooBig = chunk.filter((u) => (sizes.get(u) ?? 0) > o.maxMessageBytes);
      const wanted = chunk.filter((u) => sizes.has(u) && !tooBig.includes(u));
      const sources: { uid: number; raw: Buffer }[] = [];
      if (wanted.length > 0) {
        // Collect first: no other command may run while a FETCH is streaming.
        for await (const m of c.fetch(wanted.join(','), { uid: true, source: true }, { uid: true })) {
          if (m.source) sources.push({ uid: m.uid, raw: m.source });
        }
      }
      const processed: number[] = [];
      const quarantined: number[] = [...tooBig];
      // Their header blocks alone (BODY.PEEK[HEADER]), so the record and the alert say who sent
      // them and the sender can be asked to send it smaller.
      const headers = new Map<number, Buffer>();
      if (tooBig.length > 0) {
        for await (const m of c.fetch(tooBig.join(','), { uid: true, headers: true }, { uid: true })) if (m.headers) headers.set(m.uid, m.headers);
      }
      for (const uid of tooBig) {
        log.warn({ uid, size: sizes.get(uid) }, 'message over the size limit; quarantined unread');
        await o.pipeline.quarantineUnread({ source: 'imap', mailbox: s.mailbox, uidValidity, uid, size: sizes.get(uid) ?? 0 }, `over the ${o.maxMessageBytes}-byte limit`, {
          limitBytes: o.maxMessageBytes, headers: headers.get(uid) ?? null,
        });
      }
      // On shutdown only the messages in hand finish (at most `concurrency`); the rest of a
      // fetched batch stays in the mailbox for the next start (a whole batch could otherwise
      // outlast the 10 s stop limit).
      const src = (uid: number) => ({ source: 'imap' as const, mailbox: s.mailbox, uidValidity, uid });
      await o.pipeline.handleMany(sources.map(({ uid, raw }) => ({ raw, source: src(uid) })), {
        concurrency,
        keepGoing: () => running,
        onResult: (i, r) => {
          const uid = sources[i]!.uid;
          if (r.status === 'done') o.faults?.('after-commit');
          if (r.status === 'done' || r.status === 'duplicate') processed.push(uid);
          else if (r.status === 'quarantined') quarantined.push(uid);
          // 'failed' stays in the mailbox and is tried again at the next scan.
        },
      });
      // The database already holds the truth; flags and moves are only a hint for later scans,
      // so a failure here is logged and the next scan's deduplication covers it.
      await moveAll(c, processed, s.processedMailbox);
      await moveAll(c, quarantined, s.quarantineMailbox);
    }
  }

  async function moveAll(c: ImapFlow, uids: number[], dest: string): Promise<void> {
    if (uids.length === 0) return;
    const range = uids.join(',');
    try {
      await c.messageFlagsAdd(range, ['\\Seen'], { uid: true });
      await c.messageMove(range, dest, { uid: true });
    } catch (err) {
      log.warn({ err: (err as Error).message, dest, count: uids.length }, 'could not move handled messages; they will be skipped as duplicates');
    }
  }

  async function session(): Promise<void> {
    const c = new ImapFlow({
      host: s.host,
      port: s.port,
      secure: s.secure,
      auth: { user: s.user, pass: s.password },
      logger: false,
      // IDLE must start right after our commands, or new mail is only noticed at the next poll.
      autoIdleDelay: 200,
      // Re-issue IDLE well within the socket timeout, so a quiet but healthy connection is not
      // mistaken for a dead one, while a blackholed one is.
      maxIdleTime: Math.max(1_000, Math.min(4 * 60_000, Math.floor(s.socketTimeoutMs / 2))),
      socketTimeout: s.socketTimeoutMs,
      connectionTimeout: 15_000,
      greetingTimeout: 15_000,
      tls: { rejectUnauthorized: !s.allowInvalidCerts },
    });
    client = c;
    let closed = false;
    const closedPromise = new Promise<void>((resolve) => {
      c.on('close', () => {
        closed = true;
        resolve();
        wake?.();
      });
    });
    c.on('error', (err: Error) => log.warn({ err: err.message }, 'IMAP connection error'));
    c.on('exists', () => requestScan());
    try {
      await c.connect();
      await ensureMailbox(c, s.processedMailbox);
      await ensureMailbox(c, s.quarantineMailbox);
      await c.mailboxOpen(s.mailbox);
    } catch (err) {
      // A login or SELECT that fails (the mailbox is being recreated, say) must not leave the
      // connection open: one would leak per reconnect attempt.
      c.close();
      throw err;
    }
    connected = true;
    connectedAt = Date.now();
    o.metrics?.imapConnected(true);
    log.info('IMAP connected; waiting for mail');
    scanRequested = true;
    const poll = setInterval(requestScan, s.pollIntervalMs);
    const roleTimer = o.liveness ? setInterval(() => void checkRole(), 5_000) : null;
    try {
      while (running && !closed && !roleLost) {
        if (scanRequested) {
          scanRequested = false;
          await scan(c);
          continue;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
          if (scanRequested || closed || !running || roleLost) resolve();
        });
        wake = null;
      }
    } finally {
      clearInterval(poll);
      if (roleTimer) clearInterval(roleTimer);
      connected = false;
      o.metrics?.imapConnected(false);
      client = null;
      if (!closed) {
        // LOGOUT is a courtesy: on a blackholed link it would wait for the socket timeout
        // (minutes), holding up stop() and the reconnect.
        const bye = c.logout().catch(() => {});
        await Promise.race([bye, closedPromise, new Promise((r) => setTimeout(r, 2_000))]);
        if (!closed) c.close();
      }
      await Promise.race([closedPromise, new Promise((r) => setTimeout(r, 2_000))]);
    }
    if (running && roleLost) {
      roleLost = false;
      throw new Error('lost the mailbox reader lock (database session ended)');
    }
    if (running && closed) throw new Error('IMAP connection closed');
  }

  async function run(): Promise<void> {
    let failures = 0;
    while (running) {
      connectedAt = 0;
      if (!(await acquireRole())) break;
      try {
        await session();
      } catch (err) {
        if (!running) break;
        // Stable means the mailbox was open that long, not that the attempt took that long:
        // time spent waiting for the reader lock or for a greeting that never came proves nothing.
        if (connectedAt > 0 && Date.now() - connectedAt >= stableAfterMs) failures = 0;
        failures += 1;
        const delay = reconnectDelayMs(failures, s.reconnectMaxMs);
        o.metrics?.imapReconnect();
        log.warn({ err: (err as Error).message, failures, retryInMs: delay }, 'IMAP session ended; reconnecting');
        await backoff.sleep(delay);
      }
    }
  }

  return {
    start() {
      if (running) return;
      running = true;
      loop = run();
    },
    async stop() {
      if (!running) return;
      running = false;
      wake?.();
      backoff.wake();
      // The messages in hand finish (handleMany checks `running` before each message). An IMAP command
      // stuck on a dead link would hold stop() until the socket timeout (minutes), so after a
      // grace period the connection is closed: that fails the command, not the database work.
      const grace = setTimeout(() => client?.close(), 3_000);
      await loop;
      clearTimeout(grace);
      loop = null;
      await o.liveness?.release(role).catch(() => {});
    },
    scanNow: requestScan,
    get connected() {
      return connected && client !== null && client.usable;
    },
    get standby() {
      return standingBy && running;
    },
  };
}

/**
 * What Mailgrant counts, in one prom-client Registry per app. No global default registry: tests
 * build many apps in one process, and two apps must never add to each other's numbers.
 *
 * The intake, dispatcher and store call the small recording methods below; `/metrics` reads the
 * registry. Values that live in the database (outbox depth) are read when scraped.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Database } from '../db/client.js';
import type { OutboxRow } from '../db/repos/outbox-repo.js';
import type { Store } from '../db/store.js';
import type { HandleResult, InboundSource } from '../mail/inbound/pipeline.js';
import { replyReceivedAt } from './queries.js';

export interface Metrics {
  readonly registry: Registry;
  /** One inbound message went through the pipeline. */
  inboundHandled(source: InboundSource['source'], result: HandleResult): void;
  /** Verdicts recorded, counted after their transaction committed. */
  decisionsRecorded(decisions: readonly { verdict: string; channel: string }[]): void;
  /** A mail left through the transport; outcome mails also feed the reply-to-outcome histogram. */
  mailSent(row: OutboxRow, at: Date): void;
  /** A send failed: `final` when the mail was given up, otherwise it is retried later. */
  mailFailed(row: OutboxRow, final: boolean): void;
  /** The IMAP session ended and a reconnect was scheduled. */
  imapReconnect(): void;
  imapConnected(up: boolean): void;
  /** Resolves when the latency observations started so far are done (tests). */
  settled(): Promise<void>;
  /** The Prometheus text exposition of every metric. */
  render(): Promise<string>;
}

export interface MetricsOptions {
  /** For the outbox depth, read at scrape time. */
  store: Store;
  /** For the receive time of the reply that completed a request. */
  db: Database;
  /** Process metrics (CPU, memory, event loop); on by default. */
  processMetrics?: boolean;
}

/**
 * Latency buckets in seconds: a healthy loop answers in well under a second; minutes mean SMTP
 * retries, hours an outage. Bounded so a scrape stays small.
 */
const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21_600];

/** `automatic: Auto-Submitted: auto-replied` → `automatic`: the reason would make a label per sender. */
function classificationLabel(result: HandleResult): string {
  if (result.status !== 'done') return result.status;
  return (result.classification ?? 'unknown').split(':')[0]!.trim() || 'unknown';
}

export function createMetrics(o: MetricsOptions): Metrics {
  const registry = new Registry();
  if (o.processMetrics ?? true) collectDefaultMetrics({ register: registry });

  const inbound = new Counter({
    name: 'mailgrant_inbound_messages_total',
    help: 'Inbound messages handled, by intake and classification (request, reply, automatic, malformed; or duplicate, failed, quarantined).',
    labelNames: ['source', 'classification'] as const,
    registers: [registry],
  });
  const decisions = new Counter({
    name: 'mailgrant_decisions_total',
    help: 'Per-person verdicts recorded by this process, by verdict (approve, deny) and channel (email, cli).',
    labelNames: ['verdict', 'channel'] as const,
    registers: [registry],
  });
  const sent = new Counter({
    name: 'mailgrant_mail_sent_total',
    help: 'Outgoing mails handed to the transport, by kind.',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  const failures = new Counter({
    name: 'mailgrant_mail_send_failures_total',
    help: 'Failed send attempts, by kind; final="true" when the mail was given up, "false" when it will be retried.',
    labelNames: ['kind', 'final'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'mailgrant_reply_to_outcome_seconds',
    help: 'From the decider\'s reply being received to each outcome mail it caused being sent.',
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const reconnects = new Counter({
    name: 'mailgrant_imap_reconnects_total',
    help: 'IMAP sessions that ended (or failed to start) and were retried.',
    registers: [registry],
  });
  const imapUp = new Gauge({
    name: 'mailgrant_imap_connected',
    help: '1 while the IMAP intake holds a usable connection, else 0.',
    registers: [registry],
  });
  let lastDepth = 0;
  new Gauge({
    name: 'mailgrant_outbox_depth',
    help: 'Outgoing mails waiting to be sent (pending or being sent), all instances together.',
    registers: [registry],
    async collect() {
      // A database outage must not break the scrape: /healthz reports it; keep the last value.
      try {
        lastDepth = await o.store.repos.outbox.depth();
      } catch {
        // keep lastDepth
      }
      this.set(lastDepth);
    },
  });

  // Latency lookups run after the send; kept so tests (and stop) can wait for them.
  const pending = new Set<Promise<void>>();

  return {
    registry,
    inboundHandled(source, result) {
      inbound.inc({ source, classification: classificationLabel(result) });
    },
    decisionsRecorded(list) {
      for (const d of list) decisions.inc({ verdict: d.verdict, channel: d.channel });
    },
    mailSent(row, at) {
      sent.inc({ kind: row.kind });
      if (!row.kind.startsWith('outcome-') || row.requestId === null) return;
      const requestId = row.requestId;
      const work = replyReceivedAt(o.db, requestId, row.createdAt)
        .then((receivedAt) => {
          // No reply behind it (decided from the CLI): nothing to measure.
          if (!receivedAt) return;
          const seconds = (at.getTime() - receivedAt.getTime()) / 1000;
          if (seconds >= 0) latency.observe(seconds);
        })
        .catch(() => {
          // A metric is not worth an error: the mail went out, which is what matters.
        })
        .finally(() => pending.delete(work));
      pending.add(work);
    },
    mailFailed(row, final) {
      failures.inc({ kind: row.kind, final: String(final) });
    },
    imapReconnect() {
      reconnects.inc();
    },
    imapConnected(up) {
      imapUp.set(up ? 1 : 0);
    },
    async settled() {
      await Promise.all([...pending]);
    },
    render: () => registry.metrics(),
  };
}

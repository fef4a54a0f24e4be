/**
 * The SMTP sink of the benchmark: accepts every message on 127.0.0.1 and notes the time at the
 * end of DATA (just before the 250 reply), the Mailgrant headers and the envelope.
 *
 * Not test/helpers/smtp-sink.ts: that one (smtp-tester) parses every message with mailparser
 * and keeps it whole. On a two-core machine, parsing 20,000 HTML mails in the harness takes
 * CPU from Mailgrant and would make the sink the bottleneck of both the backlog and the raw
 * baseline. This one only reads the header block, and keeps the raw message only when asked.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { BenchTimeout, now } from './util.js';

const KEPT_HEADERS = ['x-mailgrant-kind', 'x-mailgrant-request', 'reply-to', 'message-id', 'subject', 'x-bench'];

export interface SinkMail {
  /** performance.now() at the end of DATA. */
  at: number;
  /** Date.now() at the same moment, to line up with database timestamps. */
  wall: number;
  kind: string;
  requestId: number | null;
  to: string[];
  headers: Record<string, string>;
  size: number;
  raw: Buffer | null;
}

export interface BenchSink {
  port: number;
  url: string;
  /** Every mail received, without its body (unless kept). */
  readonly mails: readonly SinkMail[];
  mailsFor(requestId: number): readonly SinkMail[];
  /** Keep the raw bytes of mails of these kinds (to read a shared-request mail's text). */
  keepRawOf(kinds: readonly string[]): void;
  onMail(listener: (m: SinkMail) => void): () => void;
  /** The first `count` mails matching (already received ones count); rejects after `timeoutMs` naming `what`. */
  waitFor(pred: (m: SinkMail) => boolean, o: { count?: number; timeoutMs: number; what: string; requestId?: number }): Promise<SinkMail[]>;
  stop(): Promise<void>;
}

function headerBlock(raw: Buffer): Record<string, string> {
  let end = raw.indexOf('\r\n\r\n');
  if (end < 0) end = raw.indexOf('\n\n');
  const block = raw.subarray(0, end < 0 ? Math.min(raw.length, 64_000) : end).toString('utf8');
  const out: Record<string, string> = {};
  for (const line of block.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (KEPT_HEADERS.includes(name) && !(name in out)) out[name] = line.slice(colon + 1).trim();
  }
  return out;
}

export async function startBenchSink(): Promise<BenchSink> {
  const mails: SinkMail[] = [];
  const byRequest = new Map<number, SinkMail[]>();
  const listeners = new Set<(m: SinkMail) => void>();
  const keepRaw = new Set<string>();
  const errors: string[] = [];

  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    // Pooled clients keep connections open; do not wait long for them at stop().
    closeTimeout: 500,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', (err) => callback(err));
      stream.on('end', () => {
        const at = now();
        const wall = Date.now();
        const raw = Buffer.concat(chunks);
        const headers = headerBlock(raw);
        const kind = headers['x-mailgrant-kind'] ?? (headers['x-bench'] ? `bench-${headers['x-bench']}` : 'unknown');
        const req = Number(headers['x-mailgrant-request']);
        const mail: SinkMail = {
          at, wall, kind,
          requestId: Number.isInteger(req) && req > 0 ? req : null,
          to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
          headers, size: raw.length,
          raw: keepRaw.has(kind) ? raw : null,
        };
        mails.push(mail);
        if (mail.requestId !== null) {
          const list = byRequest.get(mail.requestId) ?? [];
          list.push(mail);
          byRequest.set(mail.requestId, list);
        }
        callback();
        for (const l of [...listeners]) l(mail);
      });
    },
  });
  server.on('error', (err) => errors.push(err.message));
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;

  const sink: BenchSink = {
    port,
    url: `smtp://127.0.0.1:${port}`,
    mails,
    mailsFor: (id) => byRequest.get(id) ?? [],
    keepRawOf(kinds) {
      for (const k of kinds) keepRaw.add(k);
    },
    onMail(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    waitFor(pred, o) {
      const count = o.count ?? 1;
      return new Promise((resolve, reject) => {
        const found: SinkMail[] = [];
        const source = o.requestId !== undefined ? sink.mailsFor(o.requestId) : mails;
        for (const m of source) if (found.length < count && pred(m)) found.push(m);
        if (found.length >= count) return resolve(found);
        const off = sink.onMail((m) => {
          if (o.requestId !== undefined && m.requestId !== o.requestId) return;
          if (!pred(m)) return;
          found.push(m);
          if (found.length >= count) {
            clearTimeout(timer);
            off();
            resolve(found);
          }
        });
        const timer = setTimeout(() => {
          off();
          const errs = errors.length ? `; sink errors: ${errors.slice(-3).join('; ')}` : '';
          reject(new BenchTimeout(`timed out after ${(o.timeoutMs / 1000).toFixed(1)} s waiting for ${o.what} (${found.length}/${count} arrived; ${mails.length} mails at the sink in all)${errs}`));
        }, o.timeoutMs);
      });
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  return sink;
}

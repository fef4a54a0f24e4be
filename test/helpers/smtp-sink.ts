/**
 * An SMTP sink for tests (smtp-tester on 127.0.0.1:<ephemeral port>): accepts every message
 * without auth or TLS and keeps it in memory.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import smtpTester from 'smtp-tester';

export interface ReceivedMail {
  /** Envelope sender (SMTP MAIL FROM). The From: header is in `headers.from`. */
  from: string;
  /** Envelope recipients (SMTP RCPT TO), including Bcc recipients. To:/Cc: are in `headers`. */
  to: string[];
  subject: string;
  /** Message-ID header including the angle brackets, '' when absent. */
  messageId: string;
  /**
   * Lower-case header name -> value: decoded text for text and address headers (e.g. `"Ann"
   * <ann@example.org>` as rendered by mailparser), the raw unfolded value for the rest (dates, content-type...). For
   * repeated headers (Received...) the first occurrence.
   */
  headers: Record<string, string>;
  text: string;
  html: string;
  /** The message exactly as received (without the final CRLF). */
  raw: string;
  receivedAt: Date;
}

export interface WaitForOptions {
  /** How many matching messages to wait for (default 1). */
  count?: number;
  /** Default 10 000 ms. */
  timeoutMs?: number;
}

export interface SmtpSink {
  port: number;
  /** smtp://127.0.0.1:PORT */
  url: string;
  /** Every message received since start (or the last clear()), in arrival order. */
  messages: ReceivedMail[];
  /**
   * Resolves with the first `count` matching messages as soon as they have arrived (messages
   * already received count). Rejects after `timeoutMs` with a list of what did arrive.
   */
  waitFor(predicate: (m: ReceivedMail) => boolean, opts?: WaitForOptions): Promise<ReceivedMail[]>;
  /** Forgets every received message. */
  clear(): void;
  stop(): Promise<void>;
}

/** Raw header block -> first value of each header, unfolded. */
function rawHeaders(raw: string): Map<string, string> {
  const end = raw.search(/\r?\n\r?\n/);
  const block = end === -1 ? raw : raw.slice(0, end);
  const result = new Map<string, string>();
  for (const line of block.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!result.has(name)) result.set(name, line.slice(colon + 1).trim());
  }
  return result;
}

function toReceivedMail(email: {
  sender: string;
  receivers: Record<string, true>;
  data: string;
  headers: Record<string, unknown>;
  body?: string | undefined;
  html?: string | false | undefined;
}): ReceivedMail {
  const raw = rawHeaders(email.data);
  const headers: Record<string, string> = {};
  for (const [name, rawValue] of raw) {
    const parsed = email.headers[name];
    if (typeof parsed === 'string') headers[name] = parsed;
    else if (parsed && typeof parsed === 'object' && typeof (parsed as { text?: unknown }).text === 'string') {
      headers[name] = (parsed as { text: string }).text;
    } else headers[name] = rawValue;
  }
  return {
    from: email.sender,
    to: Object.keys(email.receivers),
    subject: headers.subject ?? '',
    messageId: headers['message-id'] ?? '',
    headers,
    text: email.body ?? '',
    html: typeof email.html === 'string' ? email.html : '',
    raw: email.data,
    receivedAt: new Date(),
  };
}

function describe(messages: ReceivedMail[]): string {
  if (messages.length === 0) return 'no messages arrived';
  return `${messages.length} message(s) arrived:\n${messages
    .map((m, i) => `  ${i + 1}. ${m.from} -> ${m.to.join(', ')}: ${JSON.stringify(m.subject)} ${m.messageId}`)
    .join('\n')}`;
}

export async function startSmtpSink(): Promise<SmtpSink> {
  // smtp-tester's init() listens on all interfaces at the port it is given. Give it port 0,
  // then move its listener to 127.0.0.1 on a kernel-chosen port (no free-port race).
  const tester = smtpTester.init(0);
  // SMTPServer re-emits connection errors (e.g. a client resetting) as 'error'; unhandled, that
  // would crash the test process. Keep them for diagnostics instead.
  const errors: Error[] = [];
  tester.smtpServer.on('error', (err: Error) => errors.push(err));
  const net = (tester.smtpServer as unknown as { server: import('node:net').Server }).server;
  if (!net.listening) await once(net, 'listening');
  await new Promise<void>((resolve) => net.close(() => resolve()));
  net.listen(0, '127.0.0.1');
  await once(net, 'listening');
  const port = (net.address() as AddressInfo).port;

  const messages: ReceivedMail[] = [];
  const waiters = new Set<() => void>();

  // The catch-all handler runs before smtp-tester acknowledges the DATA command, so a message is
  // in `messages` by the time the sender's sendMail() resolves.
  tester.bind((_recipient: null, id: number, email) => {
    tester.remove(id); // we keep our own list; do not let smtp-tester hoard them too
    messages.push(toReceivedMail(email as unknown as Parameters<typeof toReceivedMail>[0]));
    for (const wake of [...waiters]) wake();
  });

  let stopped: Promise<void> | undefined;
  const sink: SmtpSink = {
    port,
    url: `smtp://127.0.0.1:${port}`,
    messages,
    waitFor(predicate, opts = {}): Promise<ReceivedMail[]> {
      const count = opts.count ?? 1;
      const timeoutMs = opts.timeoutMs ?? 10_000;
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const matching = sink.messages.filter(predicate);
          if (matching.length < count) return false;
          clearTimeout(timer);
          waiters.delete(wake);
          resolve(matching.slice(0, count));
          return true;
        };
        const wake = (): void => {
          try {
            check();
          } catch (err) {
            clearTimeout(timer);
            waiters.delete(wake);
            reject(err instanceof Error ? err : new Error(String(err)));
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(wake);
          const got = sink.messages.filter((m) => {
            try {
              return predicate(m);
            } catch {
              return false;
            }
          }).length;
          const errs = errors.length ? `; server errors: ${errors.map((e) => e.message).join('; ')}` : '';
          reject(new Error(`SMTP sink: waited ${timeoutMs} ms for ${count} matching message(s), ${got} matched; ${describe(sink.messages)}${errs}`));
        }, timeoutMs);
        waiters.add(wake);
        wake();
      });
    },
    clear(): void {
      sink.messages.length = 0;
      tester.removeAll();
    },
    stop(): Promise<void> {
      stopped ??= new Promise<void>((resolve) => {
        // Connections still open (e.g. a pooled transport) are force-closed after closeTimeout.
        (tester.smtpServer as unknown as { options: { closeTimeout?: number } }).options.closeTimeout = 500;
        tester.stop(() => resolve());
      });
      return stopped;
    },
  };
  return sink;
}

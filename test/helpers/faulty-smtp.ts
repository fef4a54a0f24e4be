/**
 * An SMTP server for fault tests (smtp-server on 127.0.0.1:<free port>, no TLS, no auth) whose
 * answer to each message is programmable: accept it, refuse it with 421/451/503/550, or cut the
 * connection right after the message was received, without any answer (the case where the
 * sender cannot know whether the mail went through). It can also go away and come back on the
 * same port, for outages.
 *
 * Every message whose DATA arrived completely is kept in `received` with the answer it got, so a
 * test can count the copies of one Message-ID a recipient really got.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import { freeStablePort } from './ports.js';

/** What the server answers once a message's DATA is in. */
export type SmtpAnswer = 'accept' | 421 | 451 | 503 | 550 | 'drop-after-data';

export interface SmtpMessage {
  /** Envelope sender and recipients. */
  from: string;
  to: string[];
  /** Message-ID header with its angle brackets, '' when absent. */
  messageId: string;
  /** X-Mailgrant-Kind header, '' when absent. */
  kind: string;
  subject: string;
  /** The decoded plain-text part. */
  text: string;
  /** The message as received. */
  raw: string;
  /** 1 for the first time this Message-ID reached DATA's end, 2 for the second… */
  copy: number;
}

export interface ReceivedSmtpMessage extends SmtpMessage {
  answer: SmtpAnswer;
  at: Date;
}

export interface FaultySmtp {
  readonly port: number;
  /** smtp://127.0.0.1:PORT */
  readonly url: string;
  /** Whether it listens now (false between stop() and start()). */
  readonly running: boolean;
  /** TCP connections accepted since creation. */
  readonly connections: number;
  /** Every message whose DATA was received completely, whatever the answer, in order. */
  readonly received: ReceivedSmtpMessage[];
  /** The messages answered 250. */
  accepted(): ReceivedSmtpMessage[];
  /** How messages are answered when no script applies (default: accept everything). */
  answerWith(rule: (m: SmtpMessage) => SmtpAnswer): void;
  /**
   * Answers the next messages to `recipient` with `answers`, one per message, in order; after
   * that, the rule of answerWith() applies again.
   */
  script(recipient: string, answers: SmtpAnswer[]): void;
  /**
   * Resolves with the first `count` received messages matching `predicate` (already received
   * ones count); rejects after `timeoutMs` (default 20 000) listing what arrived.
   */
  waitFor(predicate: (m: ReceivedSmtpMessage) => boolean, opts?: { count?: number; timeoutMs?: number }): Promise<ReceivedSmtpMessage[]>;
  /** Forgets received messages, scripts and the rule. */
  reset(): void;
  /** An outage: stops listening and cuts every open connection at once, as a crashed server would. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  /** stop() for good. Idempotent. */
  close(): Promise<void>;
}

function headerBlock(raw: string): Map<string, string> {
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

function smtpError(code: number, message: string): Error & { responseCode: number } {
  return Object.assign(new Error(message), { responseCode: code });
}

const REPLY: Record<Exclude<SmtpAnswer, 'accept' | 'drop-after-data'>, string> = {
  421: 'Service not available, closing transmission channel (test)',
  451: 'Requested action aborted: local error in processing (test)',
  503: 'Bad sequence of commands (test)',
  550: 'Requested action not taken: mailbox unavailable (test)',
};

export async function startFaultySmtp(): Promise<FaultySmtp> {
  const events = new EventEmitter();
  const received: ReceivedSmtpMessage[] = [];
  const scripts = new Map<string, SmtpAnswer[]>();
  const copies = new Map<string, number>();
  let rule: (m: SmtpMessage) => SmtpAnswer = () => 'accept';
  let connections = 0;
  let server: SMTPServer | null = null;
  let closed = false;

  const decide = (m: SmtpMessage): SmtpAnswer => {
    for (const rcpt of m.to) {
      const queue = scripts.get(rcpt);
      if (queue && queue.length > 0) return queue.shift()!;
    }
    return rule(m);
  };

  /** The socket of the session's connection (smtp-server does not hand it to onData). */
  const socketOf = (srv: SMTPServer, session: SMTPServerSession): Socket | undefined => {
    const conns = (srv as unknown as { connections: Set<{ id: string; _socket: Socket }> }).connections;
    for (const c of conns) if (c.id === session.id) return c._socket;
    return undefined;
  };

  const create = (): SMTPServer => {
    const srv: SMTPServer = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      // Open pooled connections must not hold up stop().
      closeTimeout: 100,
      onConnect(_session, callback) {
        connections += 1;
        callback();
      },
      onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback: (err?: Error | null, message?: string) => void) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', async () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          const text = await simpleParser(raw).then((p) => p.text ?? '', () => '');
          const h = headerBlock(raw);
          const messageId = h.get('message-id') ?? '';
          const copy = (copies.get(messageId) ?? 0) + 1;
          copies.set(messageId, copy);
          const m: SmtpMessage = {
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
            messageId,
            kind: h.get('x-mailgrant-kind') ?? '',
            subject: h.get('subject') ?? '',
            text,
            raw,
            copy,
          };
          const answer = decide(m);
          received.push({ ...m, answer, at: new Date() });
          events.emit('message');
          if (answer === 'accept') callback(null, 'OK: queued (test)');
          else if (answer === 'drop-after-data') {
            // The message is in; the sender never learns it. The callback is never called.
            socketOf(srv, session)?.destroy();
          } else callback(smtpError(answer, REPLY[answer]));
        });
      },
    });
    // A client resetting a connection surfaces as 'error'; unhandled, it would crash the tests.
    srv.on('error', () => {});
    return srv;
  };

  const listen = async (port: number): Promise<void> => {
    const srv = create();
    const net = (srv as unknown as { server: import('node:net').Server }).server;
    await new Promise<void>((resolve, reject) => {
      net.once('error', reject);
      srv.listen(port, '127.0.0.1', () => {
        net.off('error', reject);
        resolve();
      });
    });
    server = srv;
  };

  // A port below the ephemeral range, so no client connection can take it during an outage;
  // retried when another process binds it between the check and our listen().
  let port = 0;
  for (let attempt = 1; ; attempt++) {
    port = await freeStablePort();
    try {
      await listen(port);
      break;
    } catch (err) {
      if (attempt >= 5 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    }
  }

  const stop = async (): Promise<void> => {
    const srv = server;
    if (!srv) return;
    server = null;
    const net = (srv as unknown as { server: import('node:net').Server }).server;
    const closedListener = new Promise<void>((resolve) => net.close(() => resolve()));
    // No goodbye: a crashed or unplugged server does not say 421 first.
    const conns = (srv as unknown as { connections: Set<{ _socket: Socket }> }).connections;
    for (const c of conns) c._socket.destroy();
    await closedListener;
  };

  const describe = (): string =>
    received.length === 0
      ? 'nothing was received'
      : `${received.length} received:\n${received.map((m, i) => `  ${i + 1}. ${m.to.join(',')} ${m.kind} ${m.messageId} copy ${m.copy} → ${m.answer}`).join('\n')}`;

  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    get running() {
      return server !== null;
    },
    get connections() {
      return connections;
    },
    received,
    accepted: () => received.filter((m) => m.answer === 'accept'),
    answerWith(next) {
      rule = next;
    },
    script(recipient, answers) {
      scripts.set(recipient.toLowerCase(), [...answers]);
    },
    waitFor(predicate, opts = {}) {
      const count = opts.count ?? 1;
      const timeoutMs = opts.timeoutMs ?? 20_000;
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const matching = received.filter(predicate);
          if (matching.length < count) return;
          clearTimeout(timer);
          events.off('message', check);
          resolve(matching.slice(0, count));
        };
        const timer = setTimeout(() => {
          events.off('message', check);
          reject(new Error(`faulty SMTP: waited ${timeoutMs} ms for ${count} matching message(s), ${received.filter(predicate).length} matched; ${describe()}`));
        }, timeoutMs);
        events.on('message', check);
        check();
      });
    },
    reset() {
      received.length = 0;
      scripts.clear();
      copies.clear();
      rule = () => 'accept';
    },
    stop,
    async start() {
      if (closed) throw new Error('start() after close()');
      if (server) return;
      await listen(port);
    },
    async close() {
      closed = true;
      await stop();
    },
  };
}

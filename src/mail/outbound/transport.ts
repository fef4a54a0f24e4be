import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import nodemailer, { type SendMailOptions } from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { SmtpSettings } from '../../config/env.js';
import { MailgrantError } from '../../shared/errors.js';
import { encodeQuotedPrintable } from './quoted-printable.js';

export interface OutgoingMail {
  id: number;
  kind: string;
  messageId: string;
  from: string;
  to: string;
  replyTo: string | null;
  inReplyTo: string | null;
  subject: string;
  html: string;
  text: string;
  headers: Record<string, string>;
}

/** Where mail goes: an SMTP server, or .eml files for a machine without one. */
export interface Transport {
  readonly name: string;
  send(mail: OutgoingMail): Promise<void>;
  verify(): Promise<void>;
  close(): void;
}

/** A text part already encoded (see quoted-printable.ts), which nodemailer passes on as it is. */
function encodedPart(contentType: string, content: string): { raw: string } {
  return { raw: `Content-Type: ${contentType}; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n${encodeQuotedPrintable(content)}` };
}

/**
 * `preEncoded`: the text and HTML parts are encoded here, in one pass, rather than by nodemailer
 * (SMTP, where CRLF is the line break). The file transport keeps nodemailer's encoding, which
 * writes the local newlines an .eml file on disk is expected to have.
 */
export function toNodemailer(mail: OutgoingMail, preEncoded = false): SendMailOptions {
  return {
    messageId: mail.messageId,
    from: mail.from,
    to: mail.to,
    replyTo: mail.replyTo ?? undefined,
    inReplyTo: mail.inReplyTo ?? undefined,
    subject: mail.subject,
    html: preEncoded ? encodedPart('text/html', mail.html) : mail.html,
    text: preEncoded ? encodedPart('text/plain', mail.text) : mail.text,
    headers: mail.headers,
    // RFC 3834: auto-generated mail goes with an empty envelope sender only for bounces; we
    // keep the mailbox so that bounces come back to it and are classified there.
  };
}

/**
 * SMTP through a pooled nodemailer transport. SMTP reply codes are classified here, the only
 * place that understands them: 4xx and network errors are transient, 5xx permanent, except
 * 503 (bad sequence), which says more about the session than about the mail.
 */
export function createSmtpTransport(s: SmtpSettings): Transport {
  const t = nodemailer.createTransport({
    pool: true,
    host: s.host,
    port: s.port,
    secure: s.secure,
    maxConnections: s.maxConnections,
    maxMessages: 1000,
    auth: s.user ? { user: s.user, pass: s.password ?? '' } : undefined,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
    tls: { rejectUnauthorized: !s.allowInvalidCerts },
    // Nagle's algorithm held every mail ~40 ms for a delayed ACK (SMTP writes small commands and
    // waits for each answer): the benchmark measured 46 ms per mail with it, 2 ms without. The
    // pool only uses a socket it is handed when it is already connected (`connection`).
    getSocket(_options: unknown, callback: (err: Error | null, socketOptions?: { connection: Socket }) => void) {
      const socket = connect({ host: s.host, port: s.port });
      socket.setNoDelay(true);
      const timer = setTimeout(() => socket.destroy(new Error(`connection to ${s.host}:${s.port} timed out`)), 10_000);
      const onError = (err: Error) => {
        clearTimeout(timer);
        callback(err);
      };
      socket.once('error', onError);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', onError);
        callback(null, { connection: socket });
      });
    },
  } as Parameters<typeof nodemailer.createTransport>[0]);
  // The message is built whole first and handed to the pool as one buffer: streamed, it went to
  // the socket in ~7 writes (headers, each part, the end); built, in 2 (the message, the final
  // dot). The receiving server gets it in fewer packets: in 2,000-reply benchmark runs the SMTP
  // sink's CPU fell by a quarter (3.7–4.0 s → 2.8–2.9 s). It is built by nodemailer's
  // MailComposer, which its sendMail uses inside: the same bytes (boundary and Date aside, see
  // test/integration/smtp-transport.test.ts) without the mailer's plugins and a stream transport
  // around it, ~0.2 ms less CPU per mail (0.74–0.90 → 0.53–0.66 ms for a 34 KB outcome mail,
  // measured alone). No newline conversion is needed: the parts come CRLF-encoded
  // (quoted-printable.ts) and nodemailer writes its headers with CRLF, a line break in a header's
  // value turned into a space.
  return {
    name: `smtp://${s.host}:${s.port}`,
    async send(mail) {
      const message = new MailComposer(toNodemailer(mail, true)).compile();
      const raw = await message.build();
      try {
        await t.sendMail({ envelope: message.getEnvelope(), raw });
      } catch (err) {
        throw classifySmtpError(err);
      }
    },
    async verify() {
      await t.verify();
    },
    close: () => t.close(),
  };
}

export function classifySmtpError(err: unknown): MailgrantError {
  const e = err as { responseCode?: number; response?: string; code?: string; message?: string };
  const code = e.responseCode;
  if (typeof code === 'number' && code >= 500 && code !== 503) {
    return new MailgrantError('smtp_permanent', `the SMTP server refused the mail: ${e.response ?? e.message}`, { cause: err, details: { responseCode: code } });
  }
  return new MailgrantError('smtp_transient', `sending failed for now: ${e.response ?? e.message ?? String(err)}`, { cause: err, details: { responseCode: code ?? null, errno: e.code ?? null } });
}

/**
 * Writes each mail as an .eml file, so a newcomer without a mail server can open them. The file
 * name comes from the outbox id, so sending the same mail again after a crash overwrites the
 * same file instead of making a second one.
 */
export function createFileTransport(dir: string): Transport {
  mkdirSync(dir, { recursive: true });
  const builder = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    name: `files in ${dir}`,
    async send(mail) {
      const info = await builder.sendMail(toNodemailer(mail));
      const name = `${String(mail.id).padStart(6, '0')}-${mail.kind}-${mail.to.replace(/[^a-z0-9@._-]/gi, '_')}.eml`;
      const tmp = join(dir, `.${name}.tmp`);
      writeFileSync(tmp, info.message as Buffer);
      renameSync(tmp, join(dir, name));
    },
    async verify() {},
    close() {},
  };
}

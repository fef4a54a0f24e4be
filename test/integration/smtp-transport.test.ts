/**
 * The SMTP transport builds each mail itself (nodemailer's MailComposer) and hands the pool one
 * buffer. What reaches a real SMTP server must be what nodemailer's own sendMail would have
 * built from the same mail: the same header block and parts, byte for byte, boundary and Date
 * aside; CRLF line ends only (a bare LF is refused by many servers since the SMTP smuggling
 * fixes); and headers that read back as written, non-ASCII included.
 */
import { simpleParser } from 'mailparser';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSmtpTransport, toNodemailer, type OutgoingMail, type Transport } from '../../src/mail/outbound/transport.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';

const html = `<!doctype html><html><body>${Array.from({ length: 200 }, (_, i) => `<p style="color:#333">Ligne ${i} — café 許可證. Approve?</p>`).join('\n')}\n.\n<p>.leading dot</p></body></html>`;
const text = `${Array.from({ length: 60 }, (_, i) => `Line ${i}: café 許可證, a line long enough to be folded by quoted-printable at seventy-six characters`).join('\n')}\n.\n.leading dot\n`;

function mail(id: number, over: Partial<OutgoingMail> = {}): OutgoingMail {
  return {
    id,
    kind: 'outcome-approved',
    messageId: `<mg.outcome-approved.${id}@example.org>`,
    from: '"Contoso IT" <licenses@example.org>',
    to: '"Zoë 陳大文" <zoe@example.org>',
    replyTo: 'licenses+tok3n@example.org',
    inReplyTo: '<CAF=original+1@mail.example.com>',
    subject: 'Votre demande de Visio : approuvée — 已核准 (a subject long enough to need folding over two lines)',
    html,
    text,
    headers: { 'Auto-Submitted': 'auto-generated', 'X-Mailgrant-Kind': 'outcome-approved', 'X-Mailgrant-Request': '42', References: '<CAF=original+1@mail.example.com>' },
    ...over,
  };
}

/** Boundaries and the Date header differ from build to build. */
const normalise = (raw: string) => raw.replace(/--_NmP-[0-9a-f-]+/g, '--B').replace(/boundary="[^"]+"/g, 'boundary="B"').replace(/^Date: .*$/m, 'Date: D');

describe('SMTP transport: the bytes on the wire', () => {
  let sink: SmtpSink;
  let transport: Transport;
  beforeAll(async () => {
    sink = await startSmtpSink();
    transport = createSmtpTransport({ host: '127.0.0.1', port: sink.port, secure: false, user: null, password: null, maxConnections: 2, allowInvalidCerts: false });
  });
  afterAll(async () => {
    transport?.close();
    await sink?.stop();
  });

  it('sends what nodemailer\'s sendMail builds from the same mail, CRLF only, headers read back as written', async () => {
    const sent = mail(1);
    await transport.send(sent);
    const [got] = await sink.waitFor((m) => m.messageId === sent.messageId);
    // What nodemailer's own sendMail builds, through its stream transport with CRLF line ends.
    const reference = await nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' }).sendMail(toNodemailer(sent, true));
    expect(normalise(got!.raw)).toBe(normalise((reference.message as Buffer).toString('utf8')).replace(/\r\n$/, ''));
    expect(got!.raw).not.toMatch(/[^\r]\n/);
    expect(got!.to).toEqual(['zoe@example.org']);
    expect(got!.from).toBe('licenses@example.org');

    const parsed = await simpleParser(`${got!.raw}\r\n`);
    expect(parsed.subject).toBe(sent.subject);
    expect(parsed.to && !Array.isArray(parsed.to) ? parsed.to.value[0] : null).toEqual({ address: 'zoe@example.org', name: 'Zoë 陳大文' });
    expect(parsed.replyTo?.value[0]?.address).toBe('licenses+tok3n@example.org');
    expect(parsed.inReplyTo).toBe('<CAF=original+1@mail.example.com>');
    expect(parsed.headers.get('x-mailgrant-request')).toBe('42');
    expect(parsed.text).toBe(text);
    expect(parsed.html).toBe(html);
  });

  it('sends several mails at once over the pool, each whole', async () => {
    const mails = Array.from({ length: 6 }, (_, i) => mail(10 + i, { subject: `Mail ${i} — 第${i}封`, to: `"Person ${i}" <p${i}@example.org>` }));
    await Promise.all(mails.map((m) => transport.send(m)));
    const got = await sink.waitFor((m) => mails.some((x) => x.messageId === m.messageId), { count: 6 });
    for (const m of mails) {
      const r = got.find((g) => g.messageId === m.messageId)!;
      expect(r.subject).toBe(m.subject);
      expect(r.to).toEqual([m.to.replace(/^.*<|>$/g, '')]);
      expect(r.html).toBe(html);
    }
  });
});

import { describe, expect, it } from 'vitest';
import { classify } from '../../src/mail/inbound/classify.js';
import { parseMessage } from '../../src/mail/inbound/parse.js';
import { buildMail } from '../helpers/mail.js';

/**
 * Automatic mail is recognised from the parsed message (real bytes through the real parser), so
 * these tests also cover how mailparser exposes each header. Each rule once, then human mail
 * that merely looks a bit like automatic mail.
 */
const MAILBOX = 'licenses@contoso.example';
const OWN = [MAILBOX];

/** A message written byte for byte, for headers a mail library would not let us set (Return-Path: <>). */
function raw(headers: string[], body = 'Visio for me please\r\n'): Buffer {
  const base = ['From: Alice Wong <alice@contoso.example>', `To: ${MAILBOX}`, 'Message-ID: <c1@contoso.example>', 'Date: Fri, 20 Nov 2026 15:04:00 +0000', 'MIME-Version: 1.0'];
  const names = new Set(headers.map((h) => h.slice(0, h.indexOf(':')).toLowerCase()));
  const kept = base.filter((h) => !names.has(h.slice(0, h.indexOf(':')).toLowerCase()));
  if (![...names].includes('subject')) kept.push('Subject: Visio licence');
  if (![...names].includes('content-type')) kept.push('Content-Type: text/plain; charset=utf-8');
  return Buffer.from(`${[...kept, ...headers].join('\r\n')}\r\n\r\n${body}`);
}

async function kindOf(message: Buffer): Promise<ReturnType<typeof classify>> {
  return classify(await parseMessage(message), OWN);
}

const DSN = [
  'From: Mail Delivery System <MAILER-DAEMON@mx.fabrikam.example>',
  'To: licenses@contoso.example',
  'Subject: Undelivered Mail Returned to Sender',
  'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"',
].join('\r\n');

describe('classify: automatic mail', () => {
  it.each([
    ['a delivery status notification (multipart/report; delivery-status)', raw(['From: postmaster-ish <ops@fabrikam.example>', 'Content-Type: multipart/report; report-type=delivery-status; boundary="b"'], '--b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--b--\r\n')],
    ['a read receipt (multipart/report; disposition-notification)', raw(['Content-Type: multipart/report; report-type=disposition-notification; boundary="b"', 'Subject: Read: Visio licence'], '--b\r\nContent-Type: text/plain\r\n\r\nread\r\n--b--\r\n')],
    ['an empty Return-Path (null reverse-path)', raw(['Return-Path: <>'])],
    ['Auto-Submitted: auto-replied', raw(['Auto-Submitted: auto-replied'])],
    ['Auto-Submitted: auto-generated', raw(['Auto-Submitted: auto-generated'])],
    ['Auto-Submitted with a comment', raw(['Auto-Submitted: auto-notified (vacation)'])],
    ['Precedence: bulk', raw(['Precedence: bulk'])],
    ['Precedence: junk', raw(['Precedence: junk'])],
    ['Precedence: list', raw(['Precedence: list'])],
    ['List-Id', raw(['List-Id: IT announcements <it.contoso.example>'])],
    ['List-Unsubscribe', raw(['List-Unsubscribe: <mailto:unsubscribe@lists.contoso.example>'])],
    ['List-Post', raw(['List-Post: <mailto:it@lists.contoso.example>'])],
    ['X-Autoreply', raw(['X-Autoreply: yes'])],
    ['X-Autorespond', raw(['X-Autorespond: Visio licence'])],
    ['mailer-daemon', raw(['From: MAILER-DAEMON@mx.contoso.example'])],
    ['postmaster', raw(['From: Postmaster <postmaster@fabrikam.example>'])],
    ['noreply', raw(['From: Fabrikam <noreply@fabrikam.example>'])],
    ['no-reply', raw(['From: Fabrikam <no-reply@fabrikam.example>'])],
    ['do-not-reply', raw(['From: Fabrikam <do-not-reply@fabrikam.example>'])],
    ['no From at all', raw(['From: undisclosed-recipients:;'])],
    ['Mailgrant\'s own address', raw([`From: Contoso Licences <${MAILBOX}>`])],
    ['Mailgrant\'s own reply address (plus address)', raw(['From: licenses+abcdefghijklmnopqrstuvwxyz@contoso.example'])],
    ['Mailgrant\'s own address in another case', raw(['From: LICENSES@Contoso.Example'])],
    ['a Mailgrant mail relayed back (X-Mailgrant-Kind)', raw(['X-Mailgrant-Kind: receipt'])],
  ])('%s', async (_name, message) => {
    expect(await kindOf(message)).toMatchObject({ kind: 'automatic' });
  });

  it('a real bounce (DSN) is automatic', async () => {
    const dsn = Buffer.from(`${DSN}\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you that your message could not be delivered.\r\n--b1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.fabrikam.example\r\n\r\nFinal-Recipient: rfc822; dana@fabrikam.example\r\nAction: failed\r\nStatus: 5.1.1\r\n--b1--\r\n`);
    expect(await kindOf(dsn)).toEqual({ kind: 'automatic', reason: 'delivery or disposition report' });
  });

  it.each([
    ['English, Exchange', 'Automatic reply: Visio licence'],
    ['English, generic', 'Out of Office: Visio licence'],
    ['English, AutoReply', 'Out of Office AutoReply: Licence request'],
    ['English, "Auto-Reply"', 'Auto-Reply: Licence request'],
    ['English, "OOO"', 'OOO until Monday'],
    ['English, vacation', 'On vacation'],
    ['French, Exchange', 'Réponse automatique : Demande de licence'],
    ['French, upper case', 'RÉPONSE AUTOMATIQUE : Demande de licence'],
    ['French, absence', 'Absent du bureau'],
    ['Traditional Chinese, Exchange', '自動回覆: 授權申請'],
    ['Traditional Chinese, away', '不在辦公室：授權申請'],
    ['German, Exchange', 'Automatische Antwort: Lizenzanfrage'],
    ['German, Abwesenheitsnotiz', 'Abwesenheitsnotiz: Lizenzanfrage'],
    ['Spanish, Exchange', 'Respuesta automática: Solicitud de licencia'],
    ['Spanish, away', 'Fuera de la oficina: Solicitud de licencia'],
  ])('out-of-office subject, %s', async (_name, subject) => {
    const message = await buildMail({ from: 'dana@contoso.example', to: MAILBOX, subject, text: 'I am away until Monday.' });
    expect(await kindOf(message)).toEqual({ kind: 'automatic', reason: 'out-of-office subject' });
  });
});

describe('classify: human mail stays human', () => {
  it.each([
    ['a plain request', raw([])],
    ['Auto-Submitted: no', raw(['Auto-Submitted: no'])],
    ['Auto-Submitted: No (upper case)', raw(['Auto-Submitted: No'])],
    ['Precedence: urgent', raw(['Precedence: urgent'])],
    ['a Return-Path with an address', raw(['Return-Path: <alice@contoso.example>'])],
    ['a multipart/mixed request with an attachment', raw(['Content-Type: multipart/mixed; boundary="b"'], '--b\r\nContent-Type: text/plain\r\n\r\nVisio please\r\n--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=quote.pdf\r\n\r\nJVBERi0=\r\n--b--\r\n')],
    ['a sender whose name merely contains "noreply" later', raw(['From: Ann Noreplyson <ann.noreplyson@contoso.example>'])],
    ['a sender called "postmaster" in the display name only', raw(['From: "Postmaster General" <pat@contoso.example>'])],
    ['another address of the organisation', raw(['From: licenses-team@contoso.example'])],
    ['the mailbox name on another domain', raw(['From: licenses@fabrikam.example'])],
    ['a subject that only mentions a list', raw(['Subject: List of people who need Visio'])],
  ])('%s', async (_name, message) => {
    expect(await kindOf(message)).toEqual({ kind: 'human' });
  });

  it.each([
    // Out-of-office words in a reply's subject: "Re:" first, so the phrase does not open the subject.
    'Re: out of office plans',
    'RE: Automatic reply settings for the team',
    'Re: Réponse automatique ne marche pas',
    'Visio for the out of office laptop',
    'Fwd: away from the office next week — Visio?',
    '回覆: 自動回覆設定',
  ])('a subject that merely mentions out-of-office words: %s', async (subject) => {
    const message = await buildMail({ from: 'alice@contoso.example', to: MAILBOX, subject, text: 'Visio for me please' });
    expect(await kindOf(message)).toEqual({ kind: 'human' });
  });

  it('accepted cost: a person whose subject opens with an out-of-office phrase is read as automatic (an auto-reply read as a person would be worse)', async () => {
    const message = await buildMail({ from: 'alice@contoso.example', to: MAILBOX, subject: 'Out of office plans: Visio for the offsite', text: 'Visio for me please' });
    expect(await kindOf(message)).toEqual({ kind: 'automatic', reason: 'out-of-office subject' });
  });

  it('a human reply through Gmail (no automatic headers) with a token in the address', async () => {
    const message = await buildMail({
      from: 'Dana Lee <dana@contoso.example>', to: 'licenses+abcdefghijklmnopqrstuvwxyz@contoso.example', subject: 'Re: Licence request', text: 'approve',
      headers: { 'X-Mailer': 'Gmail', 'Auto-Submitted': 'no' },
    });
    expect(await kindOf(message)).toEqual({ kind: 'human' });
  });
});

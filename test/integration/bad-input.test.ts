import { randomBytes } from 'node:crypto';
import { asc, eq } from 'drizzle-orm';
import nodemailer, { type Transporter } from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as schema from '../../src/db/schema/index.js';
import { parseMessage } from '../../src/mail/inbound/parse.js';
import { sha256 } from '../../src/mail/inbound/pipeline.js';
import { createSmtpIntake, type SmtpIntake } from '../../src/mail/inbound/smtp-intake.js';
import { parseEnv } from '../../src/config/env.js';
import { createImapIntake } from '../../src/mail/inbound/imap-intake.js';
import { mailboxCount, waitForEmptyInbox } from '../helpers/daemon.js';
import { startDovecot, type DovecotServer } from '../helpers/dovecot.js';
import { TOKEN_PLACEHOLDER } from '../../src/requests/tokens.js';
import { exampleRules, memoryLogger, startTestApp } from '../helpers/app.js';
import { buildMail, cutOff, quoteBelow } from '../helpers/mail.js';

/**
 * Bad input (issue 5, item 6): malformed MIME, broken charsets, TNEF, deep nesting and huge
 * headers never crash the daemon or stop the pipeline, each is recorded, and a bounded amount of
 * time goes into each; messages over the size limit are refused by the SMTP intake with 552.
 * The same messages go through the pipeline directly and through the real SMTP intake.
 */
const MAILBOX = 'licenses@contoso.example';
const MB = 1024 * 1024;
const CRLF = '\r\n';

const head = (extra: string[] = [], subject = 'Visio licence') =>
  ['From: Alice Wong <alice@contoso.example>', `To: ${MAILBOX}`, `Subject: ${subject}`, 'Date: Fri, 20 Nov 2026 15:04:00 +0000', 'MIME-Version: 1.0', ...extra].join(CRLF);
/** Delivered mail ends with a line break (SMTP ends every message with one): added when the body lacks it. */
const message = (headers: string[], body: string, subject?: string) =>
  Buffer.from(`${head(headers, subject)}${CRLF}${CRLF}${body}${/[\r\n]$/.test(body) ? '' : CRLF}`, 'latin1');

function nestedMultiparts(depth: number): Buffer {
  let open = '';
  let close = '';
  for (let i = 0; i < depth; i++) {
    open += `--b${i}${CRLF}` + (i < depth - 1 ? `Content-Type: multipart/mixed; boundary="b${i + 1}"${CRLF}${CRLF}` : `Content-Type: text/plain${CRLF}${CRLF}Visio for me please${CRLF}`);
    close = `--b${i}--${CRLF}${close}`;
  }
  return message(['Content-Type: multipart/mixed; boundary="b0"'], open + close);
}

function nestedRfc822(depth: number): Buffer {
  let inner = `From: x@fabrikam.example${CRLF}Subject: innermost${CRLF}${CRLF}Visio${CRLF}`;
  for (let i = 0; i < depth; i++) inner = `From: x${i}@fabrikam.example${CRLF}Subject: level ${i}${CRLF}Content-Type: message/rfc822${CRLF}${CRLF}${inner}`;
  return message(['Content-Type: message/rfc822'], inner);
}

function siblingParts(n: number): Buffer {
  let body = '';
  for (let i = 0; i < n; i++) body += `--s${CRLF}Content-Type: text/plain${CRLF}${CRLF}part ${i}${CRLF}`;
  return message(['Content-Type: multipart/mixed; boundary="s"'], `${body}--s--${CRLF}`);
}

function tnef(text: string | null): Buffer {
  // A TNEF stream starts with the signature 0x223E9F78 (little-endian); the rest is opaque to us.
  const blob = Buffer.concat([Buffer.from([0x78, 0x9f, 0x3e, 0x22, 0x01, 0x00]), randomBytes(4000)]).toString('base64').replace(/.{76}/g, `$&${CRLF}`);
  const textPart = text === null ? '' : `--t${CRLF}Content-Type: text/plain; charset="us-ascii"${CRLF}${CRLF}${text}${CRLF}`;
  return message(
    ['Content-Type: multipart/mixed; boundary="t"', 'X-MS-Has-Attach: yes', 'X-MS-TNEF-Correlator: <00000000AB@contoso.example>'],
    `${textPart}--t${CRLF}Content-Type: application/ms-tnef; name="winmail.dat"${CRLF}Content-Transfer-Encoding: base64${CRLF}Content-Disposition: attachment; filename="winmail.dat"${CRLF}${CRLF}${blob}${CRLF}--t--${CRLF}`,
  );
}

/** Every nasty message, built fresh (some embed random bytes), with the time its parse may take at most. */
const NASTY: [string, () => Buffer][] = [
  ['empty message (0 bytes)', () => Buffer.alloc(0)],
  ['only a blank line', () => Buffer.from(CRLF + CRLF)],
  ['no header/body separator', () => Buffer.from(`From: alice@contoso.example${CRLF}Subject: Visio${CRLF}Visio for me${CRLF}`)],
  ['header lines without colons and NUL bytes', () => Buffer.from(`From: alice@contoso.example${CRLF}this is not a header${CRLF}X-Nul: a\u0000b${CRLF}Subject: Vi\u0000sio${CRLF}${CRLF}Visio\u0000 please${CRLF}`, 'latin1')],
  ['a continuation line before any header', () => Buffer.from(` folded${CRLF}From: alice@contoso.example${CRLF}Subject: Visio${CRLF}${CRLF}Visio${CRLF}`)],
  ['multipart without a boundary parameter', () => message(['Content-Type: multipart/alternative'], `--x${CRLF}Content-Type: text/plain${CRLF}${CRLF}Visio${CRLF}--x--${CRLF}`)],
  ['multipart with an empty boundary', () => message(['Content-Type: multipart/mixed; boundary=""'], `--${CRLF}Content-Type: text/plain${CRLF}${CRLF}Visio${CRLF}----${CRLF}`)],
  ['a boundary that never appears', () => message(['Content-Type: multipart/mixed; boundary="nowhere"'], `Visio for me${CRLF}`)],
  ['no closing boundary', () => message(['Content-Type: multipart/mixed; boundary="open"'], `--open${CRLF}Content-Type: text/plain${CRLF}${CRLF}Visio for me${CRLF}`)],
  ['cut off on its way (no closing boundary, a partial last line)', () => cutOff(message(['Content-Type: multipart/mixed; boundary="open"'], `--open${CRLF}Content-Type: text/plain${CRLF}${CRLF}Visio for me${CRLF}`))],
  // CI's seed 571686049: the reason quoted the damaged line, NUL and all, and recording the quarantine failed.
  ['a part header whose first byte became a NUL', () => message(['Content-Type: multipart/alternative; boundary="b"'], `--b${CRLF}Content-Type: text/plain${CRLF}\u0000ontent-Transfer-Encoding: quoted-printable${CRLF}${CRLF}approve${CRLF}--b${CRLF}Content-Type: text/html${CRLF}${CRLF}<p>approve</p>${CRLF}--b--${CRLF}`)],
  ['a nested part reusing its parent\'s boundary', () => message(['Content-Type: multipart/mixed; boundary="same"'], `--same${CRLF}Content-Type: multipart/alternative; boundary="same"${CRLF}${CRLF}--same${CRLF}Content-Type: text/plain${CRLF}${CRLF}Visio${CRLF}--same--${CRLF}--same--${CRLF}`)],
  ['an unknown charset', () => message(['Content-Type: text/plain; charset="x-no-such-charset"'], `Visio f\u00fcr mich${CRLF}`)],
  ['invalid UTF-8 bytes declared as UTF-8', () => Buffer.concat([Buffer.from(`${head(['Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit'])}${CRLF}${CRLF}Visio `), Buffer.from([0xc3, 0x28, 0xff, 0xfe, 0xed, 0xa0, 0x80, 0xf4, 0x90, 0x80, 0x80]), Buffer.from(CRLF)])],
  ['UTF-16 with an odd number of bytes', () => Buffer.concat([Buffer.from(`${head(['Content-Type: text/plain; charset=utf-16le', 'Content-Transfer-Encoding: binary'])}${CRLF}${CRLF}`), Buffer.from(`Visio\u0000x${CRLF}`, 'latin1')])],
  ['ISO-2022-JP with broken escapes', () => Buffer.concat([Buffer.from(`${head(['Content-Type: text/plain; charset=iso-2022-jp'])}${CRLF}${CRLF}`), Buffer.from([0x1b, 0x24, 0x42, 0x30, 0x1b, 0x28, 0x1b, 0x24, 0x1b, 0x1b]), Buffer.from(`Visio${CRLF}`)])],
  ['broken encoded words in headers', () => message(['Content-Type: text/plain', 'X-Junk: =?utf-8?B?!!!not base64!!!?='], `Visio${CRLF}`, '=?x-bogus?Q?Visio=ZZ?= =?utf-8?B?6Ie?= =?big5?B?////?= =?utf-8?Q?=E6=?=')],
  ['raw 8-bit UTF-8 in headers', () => Buffer.from(`${head(['Content-Type: text/plain; charset=utf-8'], 'Visio 方案 2 für Rémi')}${CRLF}${CRLF}Visio${CRLF}`, 'utf8')],
  ['invalid base64 body', () => message(['Content-Type: text/plain', 'Content-Transfer-Encoding: base64'], `VmlzaW8g!!!@@@###===*&^%${CRLF}====${CRLF}VmlzaW8${CRLF}`)],
  ['invalid quoted-printable', () => message(['Content-Type: text/plain', 'Content-Transfer-Encoding: quoted-printable'], `Visio =ZZ =${CRLF}=E9=${CRLF}=`)],
  ['an unknown transfer encoding', () => message(['Content-Type: text/plain', 'Content-Transfer-Encoding: x-uuencode'], `begin 644 visio.txt${CRLF}%5FES:6\\\`${CRLF}end${CRLF}`)],
  ['TNEF: text part and winmail.dat', () => tnef('Visio for me please')],
  ['TNEF: winmail.dat only', () => tnef(null)],
  ['1,000 nested multiparts', () => nestedMultiparts(1_000)],
  ['5,000 nested multiparts', () => nestedMultiparts(5_000)],
  ['200 nested message/rfc822', () => nestedRfc822(200)],
  ['5,000 sibling parts', () => siblingParts(5_000)],
  ['a 1 MB header line', () => message([`X-Big: ${'a'.repeat(MB)}`, 'Content-Type: text/plain'], `Visio${CRLF}`)],
  ['a 1 MB Subject', () => message(['Content-Type: text/plain'], `Visio${CRLF}`, `Visio ${'x'.repeat(MB)}`)],
  ['10,000 headers', () => message([...Array.from({ length: 10_000 }, (_, i) => `X-H${i}: value ${i}`), 'Content-Type: text/plain'], `Visio${CRLF}`)],
  ['10,000 Received headers', () => message([...Array.from({ length: 10_000 }, (_, i) => `Received: from h${i}.fabrikam.example by mx; Fri, 20 Nov 2026 15:04:00 +0000`), 'Content-Type: text/plain'], `Visio${CRLF}`)],
  ['a Subject folded over 100,000 lines', () => message(['Content-Type: text/plain'], `Visio${CRLF}`, `Visio${` word${CRLF}`.repeat(100_000)}`)],
  ['10,000 Cc addresses', () => message([`Cc: ${Array.from({ length: 10_000 }, (_, i) => `u${i}@fabrikam.example`).join(', ')}`, 'Content-Type: text/plain'], `Visio${CRLF}`)],
  ['a 5 MB body line without line breaks', () => message(['Content-Type: text/plain'], `Visio ${'v'.repeat(5 * MB)}`)],
  ['a 5 MB HTML part of nested tags', () => message(['Content-Type: text/html'], `${'<div>'.repeat(500_000)}Visio${'</div>'.repeat(500_000)}`)],
  // mailparser's own HTML-to-text took minutes on these, synchronously (see parse.ts).
  ['2 MB of HTML nested tables', () => message(['Content-Type: text/html'], `Visio${'<table><tr><td>'.repeat(139_000)}`)],
  ['2 MB of HTML nested lists', () => message(['Content-Type: text/html'], `Visio${'<ul><li>'.repeat(260_000)}`)],
  ['9 MB of HTML nested tables', () => message(['Content-Type: text/html'], `Visio${'<table><tr><td>'.repeat(600_000)}`)],
  ['2 MB of HTML line breaks', () => message(['Content-Type: text/html'], `Visio${'<br>'.repeat(520_000)}`)],
  ['9 MB of quoted lines', () => message(['Content-Type: text/plain'], `Visio please${CRLF}${'> approve all\r\n'.repeat(600_000)}`)],
  ['40,000 Cc addresses (1 MB header)', () => message([`Cc: ${Array.from({ length: 40_000 }, (_, i) => `u${i}@f.example`).join(', ')}`, 'Content-Type: text/plain'], `Visio${CRLF}`)],
  ['bare LF and bare CR line endings mixed', () => Buffer.from(`From: alice@contoso.example\nSubject: Visio\r\nContent-Type: multipart/mixed; boundary=q\r\rX: y\n\n--q\rContent-Type: text/plain\n\nVisio\r\n--q--\n`)],
];

describe('bad input through the pipeline', () => {
  let app: Awaited<ReturnType<typeof startTestApp>>;
  const timings: string[] = [];
  beforeAll(async () => {
    app = await startTestApp({ databaseUrl: null });
  });
  afterAll(async () => {
    // eslint-disable-next-line no-console
    console.log(`parse / handle times of the nasty messages:\n${timings.join('\n')}`);
    await app?.cleanup();
  });

  /** Longest stretch the event loop was blocked while `fn` ran, in ms. */
  async function withLagProbe<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number; maxBlockMs: number }> {
    let last = performance.now();
    let maxBlockMs = 0;
    const probe = setInterval(() => {
      const t = performance.now();
      maxBlockMs = Math.max(maxBlockMs, t - last);
      last = t;
    }, 5);
    const start = performance.now();
    try {
      const value = await fn();
      const ms = performance.now() - start;
      // Let the probe run once more: a block that ended just now is only seen by its next tick.
      await new Promise((resolve) => setTimeout(resolve, 20));
      return { value, ms, maxBlockMs };
    } finally {
      clearInterval(probe);
    }
  }

  it.each(NASTY)('%s: handled and recorded, in bounded time, and the pipeline goes on', async (name, make) => {
    const raw = make();
    const parse = await withLagProbe(() => parseMessage(raw).then(() => 'parsed', (e: Error) => `refused: ${e.message.slice(0, 70)}`));
    const handled = await withLagProbe(() => app.pipeline.handle(raw, { source: 'smtp' }));
    timings.push(`  ${name.padEnd(46)} ${String(raw.length).padStart(9)} B  parse ${parse.ms.toFixed(0).padStart(5)} ms (loop blocked ≤ ${parse.maxBlockMs.toFixed(0)} ms, ${parse.value})  handle ${handled.ms.toFixed(0)} ms → ${handled.value.status}/${handled.value.classification ?? ''}/${handled.value.action ?? ''}`);
    expect(['done', 'failed', 'quarantined']).toContain(handled.value.status);
    // Generous bounds for a loaded CI machine; the measured times are printed after the run.
    expect(parse.ms).toBeLessThan(10_000);
    expect(parse.maxBlockMs).toBeLessThan(5_000);
    expect(handled.maxBlockMs).toBeLessThan(5_000);
    const [row] = await app.db.db.select().from(schema.inboundMessages).where(eq(schema.inboundMessages.rawHash, sha256(raw)));
    expect(row?.status).toMatch(/^(done|failed|quarantined)$/);
    // The next, ordinary message is handled as usual.
    const ok = await buildMail({ from: 'bob@contoso.example', to: MAILBOX, subject: `Photoshop (${name})`, text: 'please' });
    expect(await app.pipeline.handle(ok, { source: 'smtp' })).toMatchObject({ status: 'done', classification: 'request' });
  });

  it('a TNEF reply from Outlook with its text part still decides; one with only winmail.dat records nothing and says so', async () => {
    const r = await app.pipeline.handle(await buildMail({ from: 'alice@contoso.example', to: MAILBOX, subject: 'Acme Diagrams please', text: 'Also for: bob' }), { source: 'smtp' });
    expect(r).toMatchObject({ action: 'request-created' });
    const share = (await app.db.db.select().from(schema.outbox).orderBy(asc(schema.outbox.id))).find((m) => m.kind === 'shared-request' && m.requestId === r.requestId)!;
    const token = share.secrets![TOKEN_PLACEHOLDER]!;
    const asReply = (raw: Buffer) => Buffer.from(raw.toString('latin1').replace('From: Alice Wong <alice@contoso.example>', 'From: Dana Lee <dana@contoso.example>').replace(`To: ${MAILBOX}`, `To: licenses+${token}@contoso.example`), 'latin1');
    expect(await app.pipeline.handle(asReply(tnef(null)), { source: 'smtp' })).toMatchObject({ status: 'done', action: 'unclear' });
    expect(await app.pipeline.handle(asReply(tnef(quoteBelow('approve', share.text).replace(/\n/g, CRLF))), { source: 'smtp' })).toMatchObject({ status: 'done', action: 'decision-recorded' });
    const people = await app.db.db.select().from(schema.requestPeople).where(eq(schema.requestPeople.requestId, r.requestId!));
    expect(people.map((p) => p.verdict)).toEqual(['approve', 'approve']);
  });
});

describe('bad input through the real SMTP intake', () => {
  let app: Awaited<ReturnType<typeof startTestApp>>;
  let intake: SmtpIntake;
  let client: Transporter;
  const LIMIT = 10 * MB; // the default MAX_MESSAGE_BYTES

  beforeAll(async () => {
    app = await startTestApp({ databaseUrl: null });
    intake = createSmtpIntake({ host: '127.0.0.1', port: 0, pipeline: app.pipeline, logger: memoryLogger().logger, maxMessageBytes: LIMIT });
    await intake.start();
    client = nodemailer.createTransport({ host: '127.0.0.1', port: intake.port, secure: false, ignoreTLS: true, pool: false, socketTimeout: 60_000 });
  });
  afterAll(async () => {
    client?.close();
    await intake?.stop();
    await app?.cleanup();
  });

  const send = (raw: Buffer, from = 'alice@contoso.example') => client.sendMail({ envelope: { from, to: [MAILBOX] }, raw });
  async function stillServing(tag: string): Promise<void> {
    const ok = await buildMail({ from: 'bob@contoso.example', to: MAILBOX, subject: `Photoshop (${tag})`, text: 'please' });
    const info = await send(ok, 'bob@contoso.example');
    expect(info.response).toMatch(/^250/);
    const [row] = await app.db.db.select().from(schema.inboundMessages).where(eq(schema.inboundMessages.rawHash, sha256(ok)));
    expect(row).toMatchObject({ status: 'done', classification: 'request' });
  }

  it.each(NASTY.filter(([name]) => !name.startsWith('empty')))('%s: accepted (250) and recorded; the intake keeps serving', async (name, make) => {
    const raw = make();
    const info = await send(raw);
    expect(info.response).toMatch(/^250/);
    await stillServing(name);
  });

  it('a message over the size limit is refused with 552 and not recorded; the intake keeps serving', async () => {
    const big = message(['Content-Type: text/plain'], `${'Visio for me please. '.repeat(Math.ceil((LIMIT + 64 * 1024) / 21)).replace(/(.{76})/g, `$1${CRLF}`)}${CRLF}`);
    expect(big.length).toBeGreaterThan(LIMIT);
    await expect(send(big)).rejects.toMatchObject({ responseCode: 552 });
    const [row] = await app.db.db.select().from(schema.inboundMessages).where(eq(schema.inboundMessages.rawHash, sha256(big)));
    expect(row).toBeUndefined();
    await stillServing('after the oversized message');
  });

  it('a message just under the size limit is accepted', async () => {
    // 76-character lines plus CRLF: 78 bytes each, the last line within 64 KB of the limit.
    const body = `${'Photoshop for me. '.repeat(Math.floor(((LIMIT - 64 * 1024) / 78) * 76 / 18)).replace(/(.{76})/g, `$1${CRLF}`)}${CRLF}`;
    const raw = message(['Content-Type: text/plain'], body, 'Photoshop');
    expect(raw.length).toBeLessThan(LIMIT);
    expect((await send(raw)).response).toMatch(/^250/);
  });

  it('a client that drops the connection in the middle of DATA leaves the intake serving', async () => {
    const net = await import('node:net');
    await new Promise<void>((resolve, reject) => {
      const socket = net.connect(intake.port, '127.0.0.1');
      let step = 0;
      socket.on('data', (d) => {
        const line = d.toString();
        if (step === 0 && line.startsWith('220')) { socket.write('EHLO x\r\n'); step = 1; } else if (step === 1 && /^250 /m.test(line)) { socket.write(`MAIL FROM:<alice@contoso.example>\r\n`); step = 2; } else if (step === 2 && line.startsWith('250')) { socket.write(`RCPT TO:<${MAILBOX}>\r\n`); step = 3; } else if (step === 3 && line.startsWith('250')) { socket.write('DATA\r\n'); step = 4; } else if (step === 4 && line.startsWith('354')) {
          socket.write(`From: alice@contoso.example\r\nSubject: Visio\r\nContent-Type: multipart/mixed; boundary=z\r\n\r\n--z\r\nhalf a mess`);
          socket.destroy();
          resolve();
        }
      });
      socket.on('error', reject);
    });
    await stillServing('after a dropped connection');
  });
});

describe('bad input through IMAP', () => {
  let dovecot: DovecotServer;
  let app: Awaited<ReturnType<typeof startTestApp>>;
  const USER = 'lic-bad';
  beforeAll(async () => {
    dovecot = await startDovecot({ users: [{ user: USER, password: 'bad-pw' }] });
    app = await startTestApp({ databaseUrl: null });
  });
  afterAll(async () => {
    await app?.cleanup();
    await dovecot?.stop();
  });

  it('a message over MAX_MESSAGE_BYTES is moved to Quarantine without being fetched; nasty ones are handled; mail keeps flowing', async () => {
    const LIMIT = 10 * MB;
    const oversized = message(['Content-Type: text/plain'], `${'Visio for me please. '.repeat(Math.ceil((LIMIT + 64 * 1024) / 21)).replace(/(.{76})/g, `$1${CRLF}`)}${CRLF}`);
    const nasty = ['1,000 nested multiparts', 'header lines without colons and NUL bytes', '2 MB of HTML nested tables', 'TNEF: winmail.dat only', 'a 1 MB header line'].map((name) => NASTY.find(([n]) => n === name)![1]());
    const normal = await buildMail({ from: 'bob@contoso.example', to: MAILBOX, subject: 'Acme Diagrams please', text: 'for me' });
    await dovecot.append(USER, 'INBOX', oversized);
    for (const raw of nasty) await dovecot.append(USER, 'INBOX', raw);
    await dovecot.append(USER, 'INBOX', normal);

    const settings = parseEnv({ IMAP_URL: dovecot.imapUrl(USER), IMAP_POLL_SECONDS: '1' }).imap!;
    const { logger, lines } = memoryLogger();
    const intake = createImapIntake({ settings, pipeline: app.pipeline, logger, maxMessageBytes: LIMIT });
    intake.start();
    try {
      await waitForEmptyInbox(dovecot, USER, 120_000);
    } finally {
      await intake.stop();
    }
    expect(lines.some((l) => l.includes('over the size limit; quarantined unread'))).toBe(true);
    // Never read, so not recorded by its bytes, but recorded by its place and quarantined;
    // the messages mailparser refuses (too many parts, a 1 MB header line) are quarantined too.
    const rows = await app.db.db.select().from(schema.inboundMessages);
    expect(rows.find((r) => r.rawHash === sha256(oversized))).toBeUndefined();
    const imapRows = rows.filter((r) => r.source === 'imap');
    expect(imapRows).toHaveLength(nasty.length + 2);
    const quarantinedRows = imapRows.filter((r) => r.status === 'quarantined');
    expect(quarantinedRows.map((r) => r.classification).sort()).toEqual(['malformed', 'malformed', 'too-large']);
    expect(imapRows.filter((r) => r.status === 'done')).toHaveLength(nasty.length + 2 - quarantinedRows.length);
    expect(await mailboxCount(dovecot, USER, 'Quarantine')).toBe(quarantinedRows.length);
    expect(await mailboxCount(dovecot, USER, 'Processed')).toBe(nasty.length + 2 - quarantinedRows.length);
    // Each quarantined message was told to the admins.
    const mails = await app.db.db.select().from(schema.outbox);
    const alerts = mails.filter((m) => m.kind === 'admin-alert');
    expect(alerts).toHaveLength(quarantinedRows.length * exampleRules().admins.length);
    // The oversized one's header block was fetched alone: it names Alice, who is asked to send
    // it again, smaller; her other unreadable message in the batch falls in the same window.
    expect(quarantinedRows.find((r) => r.classification === 'too-large')).toMatchObject({ fromAddress: 'alice@contoso.example' });
    const asked = mails.filter((m) => m.kind === 'unreadable');
    expect(asked.map((m) => m.toAddress)).toEqual(['alice@contoso.example']);
    expect(asked[0]!.text).toContain('larger than the 10 MB this mailbox accepts');
    expect((await app.db.db.select().from(schema.requests)).map((r) => r.requesterEmail)).toContain('bob@contoso.example');
  }, 180_000);
});

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEnv } from '../../src/config/env.js';
import { openDatabase } from '../../src/db/client.js';
import { createLogger } from '../../src/shared/logger.js';
import { startTestApp } from '../helpers/app.js';
import { startDovecot, type DovecotServer } from '../helpers/dovecot.js';
import { buildMail } from '../helpers/mail.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { waitUntil } from '../helpers/wait.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** A password nobody else uses, with characters that need URL encoding. */
const uniquePassword = (tag: string) => `${tag}-${randomBytes(9).toString('hex')}!#%&+`;

/** Every form a password could take in a log: as is, URL-encoded, base64 alone and inside SASL PLAIN. */
function forms(user: string, password: string): string[] {
  return [
    password,
    encodeURIComponent(password),
    Buffer.from(password).toString('base64'),
    Buffer.from(`\0${user}\0${password}`).toString('base64'),
    Buffer.from(`${user}\0${user}\0${password}`).toString('base64'),
    password.slice(0, 14), // the random part alone, in case the punctuation was mangled
  ];
}

function expectNoSecret(output: string, user: string, password: string): void {
  for (const form of forms(user, password)) expect(output.includes(form), `the log contains ${JSON.stringify(form)}`).toBe(false);
}

const imapUrl = (dovecot: DovecotServer, user: string, password: string) =>
  `imap://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${dovecot.port}/INBOX`;

describe('logs', () => {
  const goodPassword = uniquePassword('good');
  let dovecot: DovecotServer;
  let sink: SmtpSink;

  beforeAll(async () => {
    [dovecot, sink] = await Promise.all([startDovecot({ users: [{ user: 'licenses', password: goodPassword }] }), startSmtpSink()]);
  });
  afterAll(async () => {
    await Promise.all([sink?.stop(), dovecot?.stop()]);
  });

  it('never contain the IMAP password: failed logins, reconnects and a whole request at debug level', async () => {
    // A wrong password first: failed logins are logged and retried.
    const wrongPassword = uniquePassword('wrong');
    const bad = await startTestApp({ databaseUrl: null, env: { IMAP_URL: imapUrl(dovecot, 'licenses', wrongPassword), IMAP_RECONNECT_MAX_SECONDS: '1', SMTP_URL: sink.url } });
    try {
      await bad.start();
      await waitUntil(() => bad.logLines.filter((l) => l.includes('IMAP session ended; reconnecting')).length >= 2, { timeoutMs: 15_000, description: 'two failed logins' });
    } finally {
      await bad.cleanup();
    }
    const badLog = bad.logLines.join('\n');
    expectNoSecret(badLog, 'licenses', wrongPassword);

    // The right password: a request goes through, then Dovecot goes away and comes back.
    const app = await startTestApp({ databaseUrl: null, env: { IMAP_URL: imapUrl(dovecot, 'licenses', goodPassword), IMAP_RECONNECT_MAX_SECONDS: '1', SMTP_URL: sink.url } });
    try {
      await app.start();
      const connections = () => app.logLines.filter((l) => l.includes('IMAP connected')).length;
      await waitUntil(() => connections() >= 1, { timeoutMs: 15_000, description: 'IMAP connected' });
      await dovecot.append('licenses', 'INBOX', await buildMail({ from: 'alice@contoso.example', to: 'licenses@contoso.example', subject: 'Visio please', text: 'Also for: bob' }));
      await sink.waitFor((m) => m.headers['x-mailgrant-kind'] === 'shared-request', { timeoutMs: 20_000 });
      await dovecot.pause();
      await dovecot.resume();
      await waitUntil(() => connections() >= 2, { timeoutMs: 15_000, description: 'IMAP reconnected' });
    } finally {
      await app.cleanup();
    }
    const lines = app.logLines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const log = app.logLines.join('\n');
    expectNoSecret(log, 'licenses', goodPassword);
    expect(lines.some((l) => l.msg === 'IMAP session ended; reconnecting')).toBe(true);

    // The start line says where mail comes from, without the credentials.
    const startLine = lines.find((l) => l.msg === 'starting Mailgrant');
    expect(startLine).toMatchObject({ imap: `127.0.0.1:${dovecot.port}/INBOX`, database: 'pglite' });

    // Lines about one message or one request carry its number and Message-ID.
    const handled = lines.filter((l) => l.msg === 'inbound message handled');
    expect(handled).toHaveLength(1);
    expect(handled[0]).toMatchObject({ requestId: expect.any(Number), messageId: expect.stringMatching(/^<.+>$/) });
    const sent = lines.filter((l) => l.msg === 'mail sent');
    expect(sent.length).toBeGreaterThanOrEqual(2);
    for (const l of sent) expect(l).toMatchObject({ requestId: handled[0]!.requestId, messageId: expect.stringMatching(/^<.+>$/) });
  }, 150_000); // two apps, failed logins (Dovecot delays each by 2 s), a whole request and a restart

  it('never contain credentials on the error paths: bad URLs and an unreachable database', async () => {
    const secret = uniquePassword('err');
    let message = '';
    try {
      parseEnv({ IMAP_URL: `imap://u:${encodeURIComponent(secret)}@host:notaport/INBOX`, SMTP_URL: `ftp://u:${encodeURIComponent(secret)}@h`, DATABASE_URL: `mysql://u:${secret}@h/db` });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('IMAP_URL');
    expectNoSecret(message, 'u', secret);

    const dataDir = mkdtempSync(path.join(tmpdir(), 'mg-logs-'));
    try {
      const err = await openDatabase({ databaseUrl: `postgres://mailgrant:${encodeURIComponent(secret)}@127.0.0.1:1/mailgrant`, dataDir }).then(
        () => null,
        (e: Error) => e,
      );
      expect(err?.message).toMatch(/Cannot connect to the database/);
      expectNoSecret(`${err?.message}\n${err?.stack}`, 'mailgrant', secret);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('`mailgrant start` logs JSON lines without the password, from the start line to a failed login and the exit', async () => {
    const wrongPassword = uniquePassword('cli');
    const dataDir = mkdtempSync(path.join(tmpdir(), 'mg-logs-cli-'));
    // tsx by path: the daemon runs in its own folder, where `--import tsx` would not resolve.
    const child = spawn(process.execPath, ['--import', pathToFileURL(path.join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href, path.join(ROOT, 'src/cli/index.ts'), 'start'], {
      cwd: dataDir,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        DATA_DIR: dataDir,
        IMAP_URL: imapUrl(dovecot, 'licenses', wrongPassword),
        IMAP_RECONNECT_MAX_SECONDS: '1',
        SMTP_URL: `smtp://mailer:${encodeURIComponent(wrongPassword)}@127.0.0.1:${sink.port}`,
        HTTP_PORT: '127.0.0.1:0',
        LOG_LEVEL: 'debug',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      // The daemon compiles TypeScript and its templates at start: tens of seconds on a busy machine.
      await waitUntil(() => output.includes('IMAP session ended; reconnecting'), { timeoutMs: 100_000, intervalMs: 100, description: 'a failed IMAP login in the output' });
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
    expectNoSecret(output, 'licenses', wrongPassword);
    expectNoSecret(output, 'mailer', wrongPassword);
    // Not a terminal: one JSON object per line, the start line among them.
    const lines = output.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.find((l) => l.msg === 'starting Mailgrant')).toMatchObject({ imap: `127.0.0.1:${dovecot.port}/INBOX`, transport: `smtp://127.0.0.1:${sink.port}` });
    expect(lines.at(-1)).toMatchObject({ msg: 'stopped' });
  }, 150_000);

  it('reads as one line per event on a terminal, with redacted secrets and error messages kept', () => {
    let out = '';
    const destination = new Writable({
      write(chunk: Buffer, _enc, cb) {
        out += chunk.toString('utf8');
        cb();
      },
    });
    const logger = createLogger({ level: 'info', pretty: true, destination });
    logger.info({ requestId: 7, messageId: '<m1@x.example>', auth: { user: 'u', pass: 'hunter2' }, password: 'hunter2' }, 'inbound message handled');
    logger.child({ component: 'imap' }).warn({ err: 'Authentication failed.\nTry again' }, 'IMAP session ended; reconnecting');
    logger.error({ err: new Error('boom') }, 'outbox pass failed');
    const lines = out.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO  inbound message handled requestId=7 messageId=<m1@x\.example> auth=\*\*\* password=\*\*\*$/);
    expect(lines[1]).toMatch(/WARN  IMAP session ended; reconnecting component=imap err="Authentication failed\.\\nTry again"$/);
    expect(lines[2]).toMatch(/ERROR outbox pass failed err="boom"$/);
    expect(out).not.toContain('hunter2');
  });
});

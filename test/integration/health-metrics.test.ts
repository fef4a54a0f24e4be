import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp } from '../helpers/app.js';
import { startDovecot, type DovecotServer } from '../helpers/dovecot.js';
import { buildMail, quoteBelow } from '../helpers/mail.js';
import { startSmtpSink, type ReceivedMail, type SmtpSink } from '../helpers/smtp-sink.js';
import { waitUntil } from '../helpers/wait.js';

/** One sample of the Prometheus text format, e.g. `name{a="b"} 3`; 0 when the series is absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const m = /^([^{\s]+)(?:\{([^}]*)\})?\s+(\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return 0;
}

/**
 * The operations listener over real servers: /healthz follows Dovecot going away and coming
 * back; /metrics counts a whole request → reply → outcome loop.
 */
describe('/healthz and /metrics over Dovecot and an SMTP sink', () => {
  let dovecot: DovecotServer;
  let sink: SmtpSink;
  let app: Awaited<ReturnType<typeof startTestApp>>;
  const url = (path: string) => `http://127.0.0.1:${app.http!.address()!.port}${path}`;
  const health = async () => {
    const res = await fetch(url('/healthz'));
    return { status: res.status, body: (await res.json()) as Record<string, { status: string } | string> };
  };
  const metrics = async () => (await fetch(url('/metrics'))).text();
  const kind = (k: string, to?: string) => (m: ReceivedMail) => m.headers['x-mailgrant-kind'] === k && (!to || m.to.includes(to));

  beforeAll(async () => {
    [dovecot, sink] = await Promise.all([startDovecot({ users: [{ user: 'licenses', password: 'health-pw' }] }), startSmtpSink()]);
    app = await startTestApp({
      databaseUrl: null,
      env: {
        IMAP_URL: dovecot.imapUrl('licenses', 'INBOX'),
        SMTP_URL: sink.url,
        HTTP_PORT: '127.0.0.1:0',
        IMAP_POLL_SECONDS: '30',
        // Reconnect at most 1 s apart, so recovery after resume() is quick to observe.
        IMAP_RECONNECT_MAX_SECONDS: '1',
      },
    });
    await app.start();
  });
  afterAll(async () => {
    await app?.cleanup();
    await Promise.all([sink?.stop(), dovecot?.stop()]);
  });

  it('answers 200 with every component up once IMAP is connected', async () => {
    const h = await waitUntil(async () => {
      const r = await health();
      return r.status === 200 && r;
    }, { timeoutMs: 15_000, description: '/healthz 200' });
    expect(h.body).toMatchObject({ status: 'ok', database: { status: 'up' }, imap: { status: 'up' }, smtp: { status: 'up' } });
    const res = await fetch(url('/healthz'));
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('goes 503 within 10 s of Dovecot stopping and back to 200 after it returns', async () => {
    const stoppedAt = Date.now();
    await dovecot.pause();
    const down = await waitUntil(async () => {
      const r = await health();
      return r.status === 503 && r;
    }, { timeoutMs: 10_000, intervalMs: 100, description: '/healthz 503 after Dovecot stopped' });
    const secondsToDown = (Date.now() - stoppedAt) / 1000;
    expect(down.body).toMatchObject({ status: 'down', imap: { status: 'down' }, database: { status: 'up' } });

    const resumedAt = Date.now();
    await dovecot.resume();
    await waitUntil(async () => (await health()).status === 200, { timeoutMs: 15_000, intervalMs: 100, description: '/healthz 200 after Dovecot returned' });
    const secondsToUp = (Date.now() - resumedAt) / 1000;
    console.info(`healthz: 503 ${secondsToDown.toFixed(2)} s after Dovecot stopped; 200 ${secondsToUp.toFixed(2)} s after it was started again`);
    expect(sample(await metrics(), 'mailgrant_imap_reconnects_total')).toBeGreaterThanOrEqual(1);
    expect(sample(await metrics(), 'mailgrant_imap_connected')).toBe(1);
  });

  it('counts a request, a reply, the decisions, the mails and the reply-to-outcome latency', async () => {
    await dovecot.append(
      'licenses',
      'INBOX',
      await buildMail({ from: 'Alice Wong <alice@contoso.example>', to: 'licenses@contoso.example', subject: 'Visio licence', text: 'Please.\nAlso for: bob, carol\n' }),
    );
    const [share] = await sink.waitFor(kind('shared-request', 'dana@contoso.example'), { timeoutMs: 20_000 });
    const token = /licenses\+([a-z2-7]{26})@/.exec(share!.headers['reply-to'] ?? '')![1]!;
    await dovecot.append(
      'licenses',
      'INBOX',
      await buildMail({
        from: 'Dana Lee <dana@contoso.example>', to: `licenses+${token}@contoso.example`, subject: `Re: ${share!.subject}`,
        inReplyTo: share!.messageId, references: [share!.messageId], text: quoteBelow('approve all except bob', share!.text),
      }),
    );
    await sink.waitFor((m) => /^outcome-/.test(m.headers['x-mailgrant-kind'] ?? ''), { count: 3, timeoutMs: 20_000 });

    // The histogram is fed after each outcome mail is marked sent: poll the endpoint for it.
    const text = await waitUntil(async () => {
      const t = await metrics();
      return sample(t, 'mailgrant_reply_to_outcome_seconds_count') === 3 && t;
    }, { timeoutMs: 10_000, description: 'three reply-to-outcome observations' });

    expect(sample(text, 'mailgrant_inbound_messages_total', { source: 'imap', classification: 'request' })).toBe(1);
    expect(sample(text, 'mailgrant_inbound_messages_total', { source: 'imap', classification: 'reply' })).toBe(1);
    expect(sample(text, 'mailgrant_decisions_total', { verdict: 'approve', channel: 'email' })).toBe(2);
    expect(sample(text, 'mailgrant_decisions_total', { verdict: 'deny', channel: 'email' })).toBe(1);
    expect(sample(text, 'mailgrant_mail_sent_total', { kind: 'shared-request' })).toBe(1);
    expect(sample(text, 'mailgrant_mail_sent_total', { kind: 'outcome-approved' })).toBe(2);
    expect(sample(text, 'mailgrant_mail_sent_total', { kind: 'outcome-denied' })).toBe(1);
    expect(sample(text, 'mailgrant_mail_send_failures_total')).toBe(0);
    expect(sample(text, 'mailgrant_reply_to_outcome_seconds_sum')).toBeGreaterThan(0);
    // The loop runs in well under a minute here; the largest bucket holds every observation.
    expect(sample(text, 'mailgrant_reply_to_outcome_seconds_bucket', { le: '60' })).toBe(3);
    await app.dispatcher.drain();
    expect(sample(await metrics(), 'mailgrant_outbox_depth')).toBe(0);
    expect(text).toContain('# HELP mailgrant_outbox_depth ');
    expect(text).toContain('process_resident_memory_bytes');
  });

  it('answers 404 elsewhere and 405 to anything but GET and HEAD', async () => {
    expect((await fetch(url('/'))).status).toBe(404);
    expect((await fetch(url('/metrics'), { method: 'POST' })).status).toBe(405);
    const head = await fetch(url('/healthz'), { method: 'HEAD' });
    expect(head.status).toBe(200);
  });

  it('goes 503 when the SMTP server is gone, naming SMTP', async () => {
    await sink.stop();
    // The SMTP verdict is cached for 5 s, so a probe does not log in to the relay every second.
    const down = await waitUntil(async () => {
      const r = await health();
      return r.status === 503 && r;
    }, { timeoutMs: 15_000, intervalMs: 250, description: '/healthz 503 after the SMTP sink stopped' });
    expect(down.body).toMatchObject({ status: 'down', smtp: { status: 'down' }, imap: { status: 'up' } });
  });
});

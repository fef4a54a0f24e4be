/**
 * The raw baseline's client, run as its own process (like Mailgrant, apart from the harness and
 * its sink): one FETCH of the whole mailbox with imapflow, nothing parsed, and for each message
 * the mails Mailgrant sends for a reply (composed once, up front), sent with a pooled nodemailer
 * transport whose sockets have TCP_NODELAY (see smtp-client.ts): the servers' limit, not the
 * client's. Reads its job
 * from the JSON file named in argv[2]; prints one JSON line with the timing on stdout.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { smtpClient } from './smtp-client.js';

export interface RawJob {
  imap: { host: string; port: number; user: string; password: string };
  smtpPort: number;
  smtpConnections: number;
  expected: number;
  progressEvery: number;
  mails: { from: string; to: string; subject: string; html: string; text: string }[];
}

async function main(): Promise<void> {
  const job = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as RawJob;
  const t = smtpClient({ port: job.smtpPort, maxConnections: job.smtpConnections });
  const c = new ImapFlow({ host: job.imap.host, port: job.imap.port, secure: false, doSTARTTLS: false, logger: false, auth: { user: job.imap.user, pass: job.imap.password } });
  c.on('error', () => {});
  await c.connect();
  await c.mailboxOpen('INBOX', { readOnly: true });
  // The mails are composed once, before the clock starts: the baseline is the limit of the mail
  // servers (IMAP FETCH, SMTP transfer), not of nodemailer's MIME encoder, whose cost per mail
  // is Mailgrant's own choice and counts against Mailgrant.
  const builder = nodemailer.createTransport({ streamTransport: true, buffer: true });
  const raws = await Promise.all(
    job.mails.map(async (m) => ({
      envelope: { from: m.from.replace(/^.*<|>.*$/g, ''), to: [m.to] },
      raw: (await builder.sendMail({ ...m, headers: { 'X-Bench': 'raw' } })).message as Buffer,
    })),
  );
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let fetched = 0;
  let sent = 0;
  const inFlight = new Set<Promise<unknown>>();
  for await (const msg of c.fetch('1:*', { uid: true, source: true })) {
    if (!msg.source) throw new Error(`FETCH returned no source for UID ${msg.uid}`);
    fetched++;
    for (const m of raws) {
      const p = t.sendMail(m).then(() => {
        sent++;
        if (sent % (job.progressEvery * job.mails.length) === 0) process.stderr.write(`raw: ${sent / job.mails.length}/${job.expected} messages fetched and answered\n`);
      });
      inFlight.add(p);
      const forget = () => inFlight.delete(p);
      p.then(forget, forget);
      // A bounded queue, as a real sender has: the pool holds the rest.
      while (inFlight.size >= job.smtpConnections * 4) await Promise.race(inFlight);
    }
  }
  await Promise.all(inFlight);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  t.close();
  await c.logout().catch(() => c.close());
  process.stdout.write(`${JSON.stringify({ seconds, fetched, sent, cpuSeconds: (cpu.user + cpu.system) / 1e6 })}\n`);
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`raw client failed: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);

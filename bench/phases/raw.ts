/**
 * The limit of this machine's mail servers: the same messages fetched with imapflow and, for
 * each, as many mails as Mailgrant sends for such a reply (composed once, up front), sent to the
 * sink with a pooled nodemailer transport of as many connections as Mailgrant uses. No database,
 * no parsing, no rendering, no MIME encoding: what is left is IMAP and SMTP. The client runs in its own process
 * (bench/raw-client.ts), as Mailgrant does, so that it does not share an event loop with the sink.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { DovecotServer } from '../../test/helpers/dovecot.js';
import { spawnServer } from '../../test/helpers/install.js';
import { REPO_ROOT } from '../mailgrant.js';
import type { RawJob } from '../raw-client.js';
import type { BenchSink } from '../sink.js';
import { cpuSeconds, cpuSnapshot, serverGroups } from '../proc.js';
import { delay, log, now } from '../util.js';

export async function rawBaseline(o: {
  dovecot: DovecotServer;
  user: string;
  password: string;
  sink: BenchSink;
  expected: number;
  /** One per mail Mailgrant sends for a reply, with its real content. */
  mails: RawJob['mails'];
  smtpConnections: number;
  progressEvery: number;
  stallMs: number;
  tmpDir: string;
}): Promise<{ seconds: number; messages: number; perS: number; cpu: Record<string, number> }> {
  const jobFile = path.join(o.tmpDir, 'raw-job.json');
  const job: RawJob = {
    imap: { host: '127.0.0.1', port: o.dovecot.port, user: o.user, password: o.password },
    smtpPort: o.sink.port, smtpConnections: o.smtpConnections, expected: o.expected, progressEvery: o.progressEvery, mails: o.mails,
  };
  writeFileSync(jobFile, JSON.stringify(job));
  const expectedMails = o.expected * o.mails.length;
  let received = 0;
  let lastProgress = now();
  const off = o.sink.onMail((m) => {
    if (m.kind !== 'bench-raw') return;
    received++;
    lastProgress = now();
  });
  const cpu0 = cpuSnapshot(serverGroups());
  const child = spawnServer({
    name: 'rawclient', command: process.execPath, args: ['--import', 'tsx', path.join(REPO_ROOT, 'bench/raw-client.ts'), jobFile],
    cwd: REPO_ROOT, stopSignal: 'SIGTERM',
  });
  try {
    let shown = 0;
    while (!child.hasExited) {
      await Promise.race([child.exited, delay(500)]);
      const progress = child.output().split('\n').filter((l) => l.startsWith('raw: '));
      for (const line of progress.slice(shown)) log(`  ${line}`);
      shown = progress.length;
      if (now() - lastProgress > o.stallMs) {
        throw new Error(`raw baseline stalled: no mail at the sink for ${o.stallMs / 1000} s (${received}/${expectedMails} mails)\n--- raw client output ---\n${child.tail(15)}`);
      }
    }
    const cpu = cpuSeconds(cpu0, cpuSnapshot(serverGroups()));
    const exit = await child.exited;
    const line = child.output().split('\n').find((l) => l.startsWith('{"seconds"'));
    if (exit.code !== 0 || !line) throw new Error(`the raw baseline client failed (exit ${exit.signal ?? exit.code}):\n${child.tail(20)}`);
    const r = JSON.parse(line) as { seconds: number; fetched: number; sent: number; cpuSeconds: number };
    // The client has exited, so /proc no longer knows its CPU time: it reports its own.
    cpu.rawclient = r.cpuSeconds;
    cpu.other_processes = Math.max(0, (cpu.other_processes ?? 0) - r.cpuSeconds);
    if (r.fetched !== o.expected) throw new Error(`raw baseline fetched ${r.fetched} messages, expected ${o.expected}`);
    if (received !== expectedMails) throw new Error(`the sink received ${received} raw baseline mails, expected ${expectedMails}`);
    return { seconds: r.seconds, messages: r.fetched, perS: r.fetched / r.seconds, cpu };
  } finally {
    off();
    await child.stop();
  }
}

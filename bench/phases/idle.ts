/**
 * How long Dovecot itself takes to tell an IDLE client about a new message: a bare imapflow
 * client sits in IDLE, another connection APPENDs, and the time to the client's `exists` event
 * is noted. This is the floor under Mailgrant's IMAP latency.
 */
import type { ImapFlow } from 'imapflow';
import type { DovecotServer } from '../../test/helpers/dovecot.js';
import { buildMail } from '../../test/helpers/mail.js';
import { delay, median, now, within } from '../util.js';

export async function measureIdleNotify(dovecot: DovecotServer, user: string, samples: number): Promise<{ median: number; samples: number[] }> {
  let idleReady: (() => void) | null = null;
  const noop = () => {};
  // imapflow has no event for "the server accepted IDLE"; its debug log line is the only signal.
  const logger = {
    debug: (o: { msg?: string }) => {
      if (o?.msg === 'Initiated IDLE, waiting for server input') idleReady?.();
    },
    info: noop, warn: noop, error: noop, trace: noop,
  };
  let watcher: ImapFlow | null = null;
  let appender: ImapFlow | null = null;
  try {
    watcher = await within(dovecot.client(user, { logger: logger as never, disableAutoIdle: true }), 15_000, 'the IDLE probe to log in');
    appender = await within(dovecot.client(user), 15_000, 'the APPEND probe to log in');
    await watcher.mailboxOpen('INBOX');
    let exists: ((n: number) => void) | null = null;
    watcher.on('exists', (e: { count: number }) => exists?.(e.count));
    const idleStarted = new Promise<void>((resolve) => (idleReady = resolve));
    void watcher.idle().catch(() => {});
    await within(idleStarted, 10_000, 'Dovecot to accept IDLE');
    const out: number[] = [];
    for (let i = 0; i < samples; i++) {
      const raw = await buildMail({ from: 'probe@contoso.example', to: 'probe@contoso.example', subject: `idle probe ${i}`, text: 'probe\n' });
      const seen = new Promise<void>((resolve) => (exists = () => resolve()));
      const t0 = now();
      await appender.append('INBOX', raw);
      await within(seen, 10_000, `Dovecot to notify the IDLE client of message ${i + 1}`);
      out.push(now() - t0);
      exists = null;
      // Dovecot tells an IDLE client of a change when a 500 ms timer started by the first change
      // fires (NOTIFY_DELAY_MSECS in its source), and its own handling of the notification
      // starts that timer again. An APPEND inside that window is told early: with 50–200 ms
      // pauses here the median was ~370 ms, with quiet pauses a steady ~504 ms. A reply meets a
      // quiet IDLE connection (Mailgrant's pickup is ~507 ms every time), so each sample waits
      // for Dovecot to settle first, at a varying point.
      await delay(700 + Math.random() * 150);
    }
    return { median: median(out), samples: out };
  } finally {
    await Promise.all([watcher, appender].map((c) => c?.logout().catch(() => c.close())));
  }
}

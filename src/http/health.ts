import type { DbHandle } from '../db/client.js';
import type { Transport } from '../mail/outbound/transport.js';
import { withTimeout } from '../shared/timeout.js';

export type ComponentStatus = 'up' | 'down' | 'off' | 'files' | 'standby';

export interface ComponentHealth {
  status: ComponentStatus;
  /** Why it is down, in the server's words; never a URL, so never a credential. */
  error?: string;
  /** When the state was last checked (SMTP checks are cached). */
  checkedAt?: string;
}

export interface HealthReport {
  /** "ok" when nothing is down, else "down" (HTTP 503). */
  status: 'ok' | 'down';
  database: ComponentHealth;
  imap: ComponentHealth;
  smtp: ComponentHealth;
}

export interface HealthCheck {
  check(): Promise<HealthReport>;
}

export interface HealthOptions {
  db: Pick<DbHandle, 'ping' | 'driver'>;
  /** The IMAP intake, or null when IMAP_URL is unset. */
  imap: { readonly connected: boolean; readonly standby: boolean } | null;
  transport: Pick<Transport, 'verify'>;
  /** True when mail is written as files: there is no server to check. */
  fileTransport: boolean;
  /**
   * How long an SMTP verdict is reused: verifying opens a connection and logs in, which a
   * probe every second would turn into a load on the relay (and fill its logs).
   */
  smtpCacheMs?: number;
  /** A check slower than this counts as down: a hung server is as useless as a dead one. */
  timeoutMs?: number;
}

/** The message alone: some errors carry the settings they were given, which may hold a password. */
function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function createHealthCheck(o: HealthOptions): HealthCheck {
  const smtpCacheMs = o.smtpCacheMs ?? 5_000;
  const timeoutMs = o.timeoutMs ?? 3_000;
  let smtpCached: { at: number; result: ComponentHealth } | null = null;
  let smtpInFlight: Promise<ComponentHealth> | null = null;

  async function database(): Promise<ComponentHealth> {
    try {
      await withTimeout(o.db.ping(), timeoutMs, 'the database');
      return { status: 'up' };
    } catch (err) {
      return { status: 'down', error: reason(err) };
    }
  }

  function imap(): ComponentHealth {
    if (!o.imap) return { status: 'off' };
    // Another instance reads the mailbox: this one is healthy, ready to take over.
    if (o.imap.standby) return { status: 'standby' };
    return o.imap.connected ? { status: 'up' } : { status: 'down', error: 'not connected to the IMAP server' };
  }

  async function smtp(): Promise<ComponentHealth> {
    if (o.fileTransport) return { status: 'files' };
    if (smtpCached && Date.now() - smtpCached.at < smtpCacheMs) return smtpCached.result;
    // Probes arriving together share one verification.
    smtpInFlight ??= (async () => {
      const at = Date.now();
      let result: ComponentHealth;
      try {
        await withTimeout(o.transport.verify(), timeoutMs, 'the SMTP server');
        result = { status: 'up', checkedAt: new Date(at).toISOString() };
      } catch (err) {
        result = { status: 'down', error: reason(err), checkedAt: new Date(at).toISOString() };
      }
      smtpCached = { at, result };
      return result;
    })().finally(() => {
      smtpInFlight = null;
    });
    return smtpInFlight;
  }

  return {
    async check() {
      const [db, mail] = await Promise.all([database(), smtp()]);
      const report = { database: db, imap: imap(), smtp: mail };
      const down = Object.values(report).some((c) => c.status === 'down');
      return { status: down ? 'down' : 'ok', ...report };
    },
  };
}

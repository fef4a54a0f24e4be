import { describe, expect, it } from 'vitest';
import { parseEnv } from '../../src/config/env.js';
import { createHealthCheck, type HealthOptions } from '../../src/http/health.js';

function options(over: Partial<HealthOptions> = {}): HealthOptions & { verifies: number } {
  const o = {
    verifies: 0,
    db: { driver: 'postgres' as const, ping: async () => {} },
    imap: { connected: true, standby: false },
    transport: {
      verify: async () => {
        o.verifies += 1;
      },
    },
    fileTransport: false,
    ...over,
  };
  return o;
}

describe('health check', () => {
  it('is ok when every component is up, and down (naming the component) when one is not', async () => {
    expect(await createHealthCheck(options()).check()).toEqual({
      status: 'ok', database: { status: 'up' }, imap: { status: 'up' }, smtp: { status: 'up', checkedAt: expect.any(String) },
    });
    const dbDown = await createHealthCheck(options({ db: { driver: 'postgres', ping: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432')) } })).check();
    expect(dbDown).toMatchObject({ status: 'down', database: { status: 'down', error: 'connect ECONNREFUSED 127.0.0.1:5432' } });
    const imapDown = await createHealthCheck(options({ imap: { connected: false, standby: false } })).check();
    expect(imapDown).toMatchObject({ status: 'down', imap: { status: 'down' } });
  });

  it('counts a standby instance (another one reads the mailbox) and file delivery as healthy', async () => {
    const r = await createHealthCheck(options({ imap: { connected: false, standby: true }, fileTransport: true })).check();
    expect(r).toMatchObject({ status: 'ok', imap: { status: 'standby' }, smtp: { status: 'files' } });
    expect(await createHealthCheck(options({ imap: null })).check()).toMatchObject({ status: 'ok', imap: { status: 'off' } });
  });

  it('verifies SMTP at most once per cache period, even for probes arriving together', async () => {
    const o = options();
    const health = createHealthCheck({ ...o, smtpCacheMs: 60_000 });
    await Promise.all([health.check(), health.check(), health.check()]);
    await health.check();
    expect(o.verifies).toBe(1);
  });

  it('reports a server that does not answer as down instead of hanging the probe', async () => {
    const never = new Promise<void>(() => {});
    const r = await createHealthCheck(options({ db: { driver: 'postgres', ping: () => never }, timeoutMs: 50 })).check();
    expect(r).toMatchObject({ status: 'down', database: { status: 'down', error: 'the database did not answer within 50 ms' } });
  });
});

describe('HTTP_PORT', () => {
  it('defaults to loopback 9465, takes host:port, a bare port or off, and refuses anything else', () => {
    expect(parseEnv({}).http).toEqual({ host: '127.0.0.1', port: 9465 });
    expect(parseEnv({ HTTP_PORT: '0.0.0.0:9100' }).http).toEqual({ host: '0.0.0.0', port: 9100 });
    expect(parseEnv({ HTTP_PORT: '9100' }).http).toEqual({ host: '127.0.0.1', port: 9100 });
    expect(parseEnv({ HTTP_PORT: '[::1]:9100' }).http).toEqual({ host: '::1', port: 9100 });
    expect(parseEnv({ HTTP_PORT: 'OFF' }).http).toBeNull();
    expect(() => parseEnv({ HTTP_PORT: 'localhost:99999', IMAP_RECONNECT_MAX_SECONDS: '0' })).toThrow(
      /IMAP_RECONNECT_MAX_SECONDS: expected a whole number ≥ 1[\s\S]*HTTP_PORT: expected host:port \(e\.g\. 127\.0\.0\.1:9465\) or "off", got "localhost:99999"/,
    );
  });
});

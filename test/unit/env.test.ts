import { describe, expect, it } from 'vitest';
import { parseEnv } from '../../src/config/env.js';

describe('environment', () => {
  it('defaults to PGlite under ./data, the SMTP intake on 2525 and files for outgoing mail', () => {
    const env = parseEnv({}, '/srv/mg');
    expect(env.dataDir).toBe('/srv/mg/data');
    expect(env.databaseUrl).toBeNull();
    expect(env.smtpIntake).toEqual({ host: '127.0.0.1', port: 2525 });
    expect(env.imap).toBeNull();
    expect(env.smtp).toBeNull();
    expect(env.rulesFile).toBe('/srv/mg/rules.yaml');
  });

  it('reads IMAP and SMTP URLs with encoded credentials; IMAP turns the SMTP intake off unless asked', () => {
    const env = parseEnv({ IMAP_URL: 'imap://lic%40x.example:p%40ss@mail.x.example:1143/Requests', SMTP_URL: 'smtps://u:p@smtp.x.example' });
    expect(env.imap).toMatchObject({ host: 'mail.x.example', port: 1143, user: 'lic@x.example', password: 'p@ss', mailbox: 'Requests', secure: false });
    expect(env.smtp).toMatchObject({ host: 'smtp.x.example', port: 465, secure: true });
    expect(env.smtpIntake).toBeNull();
    expect(parseEnv({ IMAP_URL: 'imaps://u:p@h/INBOX', SMTP_INTAKE: '0.0.0.0:25' }).smtpIntake).toEqual({ host: '0.0.0.0', port: 25 });
    expect(parseEnv({ SMTP_INTAKE: 'off' }).smtpIntake).toBeNull();
  });

  it('reports every invalid variable at once', () => {
    expect(() => parseEnv({ IMAP_URL: 'http://x', SMTP_INTAKE: 'nope', LOG_LEVEL: 'loud', MAX_MESSAGE_BYTES: '-3' })).toThrow(
      /IMAP_URL: expected the scheme imap:\/\/[\s\S]*SMTP_INTAKE: expected host:port[\s\S]*LOG_LEVEL: expected one of[\s\S]*MAX_MESSAGE_BYTES/,
    );
  });
});

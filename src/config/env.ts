import { resolve } from 'node:path';
import { MailgrantError } from '../shared/errors.js';

/**
 * Environment settings, parsed once at start. Every problem is collected and reported together
 * so that an admin fixes the whole file in one go instead of one restart per typo.
 */
export interface ImapSettings {
  readonly host: string;
  readonly port: number;
  readonly secure: boolean;
  readonly user: string;
  readonly password: string;
  readonly mailbox: string;
  /** Where handled messages go; created when missing. */
  readonly processedMailbox: string;
  readonly quarantineMailbox: string;
  /** Safety-net search interval for when IDLE misses a notification. */
  readonly pollIntervalMs: number;
  /** Messages of a fetched batch handled at the same time (IMAP_CONCURRENCY). */
  readonly concurrency: number;
  /** Upper bound of the reconnect backoff (IMAP_RECONNECT_MAX_SECONDS). */
  readonly reconnectMaxMs: number;
  /** A connection silent this long is treated as dead (a blackholed link never closes by itself). */
  readonly socketTimeoutMs: number;
  /** TLS_ALLOW_INVALID_CERTS: accept a certificate that does not verify (self-signed test servers only). */
  readonly allowInvalidCerts: boolean;
}

export interface SmtpSettings {
  readonly host: string;
  readonly port: number;
  readonly secure: boolean;
  readonly user: string | null;
  readonly password: string | null;
  readonly maxConnections: number;
  readonly allowInvalidCerts: boolean;
}

export interface Env {
  readonly dataDir: string;
  readonly databaseUrl: string | null;
  readonly rulesFile: string;
  readonly templatesDir: string | null;
  readonly imap: ImapSettings | null;
  readonly smtp: SmtpSettings | null;
  readonly smtpIntake: ListenAddress | null;
  /** The health and metrics listener (HTTP_PORT); null when "off". */
  readonly http: ListenAddress | null;
  readonly logLevel: string;
  readonly maxMessageBytes: number;
  /** Worker threads that parse inbound mail (PARSE_WORKERS); 0 parses on the main thread. */
  readonly parseWorkers: number;
  /** Cap of the outgoing-mail retry backoff (SMTP_RETRY_MAX_SECONDS). */
  readonly smtpRetryMaxMs: number;
  /** Cron expression of the retention job. */
  readonly retentionSchedule: string;
}

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function parseEnv(env: NodeJS.ProcessEnv, cwd = process.cwd()): Env {
  const problems: string[] = [];
  const str = (name: string): string | null => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? null : v.trim();
  };
  const int = (name: string, fallback: number, min = 1): number => {
    const v = str(name);
    if (v === null) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) {
      problems.push(`${name}: expected a whole number ≥ ${min}, got "${v}"`);
      return fallback;
    }
    return n;
  };

  const dataDir = resolve(cwd, str('DATA_DIR') ?? './data');
  const databaseUrl = str('DATABASE_URL');
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push('DATABASE_URL: expected postgres://user:password@host:port/database');
  }

  const insecure = (str('TLS_ALLOW_INVALID_CERTS') ?? 'false').toLowerCase();
  if (!['true', 'false', '1', '0', 'yes', 'no'].includes(insecure)) problems.push(`TLS_ALLOW_INVALID_CERTS: expected true or false, got "${insecure}"`);
  // Verifying certificates is the default: a relay or mailbox reached over an unverified TLS
  // connection can be impersonated, and a forged "approve" hands out a paid licence.
  const allowInvalidCerts = ['true', '1', 'yes'].includes(insecure);
  const imap = parseImapUrl(str('IMAP_URL'), problems, {
    allowInvalidCerts,
    processedMailbox: str('IMAP_PROCESSED_MAILBOX') ?? 'Processed',
    quarantineMailbox: str('IMAP_QUARANTINE_MAILBOX') ?? 'Quarantine',
    pollIntervalMs: int('IMAP_POLL_SECONDS', 60) * 1000,
    concurrency: int('IMAP_CONCURRENCY', 4),
    reconnectMaxMs: int('IMAP_RECONNECT_MAX_SECONDS', 60) * 1000,
    socketTimeoutMs: int('IMAP_SOCKET_TIMEOUT_SECONDS', 300) * 1000,
  });
  const smtp = parseSmtpUrl(str('SMTP_URL'), problems, int('SMTP_MAX_CONNECTIONS', 5), allowInvalidCerts);

  // The SMTP intake is the default intake on a fresh machine (no mail server needed); with
  // IMAP configured it is off unless asked for, so one mail is not read from two places.
  const smtpIntake = listenAddress('SMTP_INTAKE', str('SMTP_INTAKE') ?? (imap ? 'off' : '127.0.0.1:2525'), '127.0.0.1:2525', problems);
  // Health and metrics on loopback by default: /metrics is for a local scraper or a proxy, not the world.
  const http = listenAddress('HTTP_PORT', str('HTTP_PORT') ?? '127.0.0.1:9465', '127.0.0.1:9465', problems);

  const logLevel = (str('LOG_LEVEL') ?? 'info').toLowerCase();
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL: expected one of ${LOG_LEVELS.join(', ')}`);

  const templatesDir = str('TEMPLATES_DIR');
  const result: Env = {
    dataDir,
    databaseUrl,
    rulesFile: resolve(cwd, str('RULES_FILE') ?? './rules.yaml'),
    templatesDir: templatesDir ? resolve(cwd, templatesDir) : null,
    imap,
    smtp,
    smtpIntake,
    http,
    logLevel,
    maxMessageBytes: int('MAX_MESSAGE_BYTES', 10 * 1024 * 1024),
    parseWorkers: int('PARSE_WORKERS', 1, 0),
    smtpRetryMaxMs: int('SMTP_RETRY_MAX_SECONDS', 600) * 1000,
    retentionSchedule: str('RETENTION_SCHEDULE') ?? '17 3 * * *',
  };
  if (problems.length > 0) {
    throw new MailgrantError('config_invalid', `The environment is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`, {
      details: { problems },
    });
  }
  return Object.freeze(result);
}

/** `host:port`, `[v6]:port`, a bare `port` (on 127.0.0.1) or `off` (null). */
function listenAddress(name: string, value: string, example: string, problems: string[]): ListenAddress | null {
  if (value.toLowerCase() === 'off') return null;
  const m = /^(?:(\[[0-9a-f:]+\]|[^:\s]+):)?(\d{1,5})$/i.exec(value);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 0 || port > 65535) {
    problems.push(`${name}: expected host:port (e.g. ${example}) or "off", got "${value}"`);
    return null;
  }
  return { host: (m[1] ?? '127.0.0.1').replace(/^\[|\]$/g, ''), port };
}

function parseImapUrl(
  value: string | null,
  problems: string[],
  extra: Pick<ImapSettings, 'processedMailbox' | 'quarantineMailbox' | 'pollIntervalMs' | 'concurrency' | 'reconnectMaxMs' | 'socketTimeoutMs' | 'allowInvalidCerts'>,
): ImapSettings | null {
  if (!value) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    problems.push('IMAP_URL: expected imap://user:password@host:port/MAILBOX (or imaps://)');
    return null;
  }
  if (url.protocol !== 'imap:' && url.protocol !== 'imaps:') {
    problems.push(`IMAP_URL: expected the scheme imap:// or imaps://, got ${url.protocol}//`);
    return null;
  }
  if (!url.username) problems.push('IMAP_URL: the user name is missing (imap://user:password@host/INBOX)');
  const secure = url.protocol === 'imaps:';
  const mailbox = decodeURIComponent(url.pathname.replace(/^\//, '')) || 'INBOX';
  return Object.freeze({
    host: url.hostname,
    port: url.port ? Number(url.port) : secure ? 993 : 143,
    secure,
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    mailbox,
    ...extra,
  });
}

function parseSmtpUrl(value: string | null, problems: string[], maxConnections: number, allowInvalidCerts: boolean): SmtpSettings | null {
  if (!value) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    problems.push('SMTP_URL: expected smtp://user:password@host:port (or smtps://)');
    return null;
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
    problems.push(`SMTP_URL: expected the scheme smtp:// or smtps://, got ${url.protocol}//`);
    return null;
  }
  const secure = url.protocol === 'smtps:';
  return Object.freeze({
    host: url.hostname,
    port: url.port ? Number(url.port) : secure ? 465 : 587,
    secure,
    user: url.username ? decodeURIComponent(url.username) : null,
    password: url.password ? decodeURIComponent(url.password) : null,
    maxConnections,
    allowInvalidCerts,
  });
}

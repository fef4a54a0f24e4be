import type { InboundMessage } from './parse.js';

/**
 * Whether a reply really comes from its From domain (DMARC pass). Either the organisation's own
 * mail server already said so in an Authentication-Results header — trusted only when its
 * authserv-id is the configured one, since anyone can write such a header — or Mailgrant checks
 * DKIM/SPF/DMARC itself with mailauth. The DNS resolver is passed in so tests can replace it.
 */
export type DnsResolver = (name: string, rrtype: string) => Promise<unknown>;

export interface AuthPolicy {
  required: boolean;
  authservId: string | null;
  resolver?: DnsResolver;
}

export interface SmtpEnvelope { ip?: string; helo?: string; sender?: string }

export interface AuthVerdict {
  pass: boolean;
  /** How it was decided, for the audit trail. */
  method: 'not-required' | 'authentication-results' | 'mailauth';
  detail: string;
}

function domainOf(address: string | null): string | null {
  const at = address?.lastIndexOf('@') ?? -1;
  return at > 0 ? address!.slice(at + 1).toLowerCase() : null;
}

/**
 * The dmarc= result of the trusted Authentication-Results header for the From domain (RFC 8601).
 * Only the topmost header with the trusted authserv-id counts: the organisation's server adds
 * its header on top, and one further down with the same id was written by whoever sent the
 * mail (RFC 8601 §5 asks servers to remove those, but not all do).
 */
export function trustedDmarcResult(rawHeaders: readonly string[], authservId: string, fromDomain: string): string | null {
  for (const value of rawHeaders) {
    const unfolded = value.replace(/\r?\n[ \t]+/g, ' ');
    const semi = unfolded.indexOf(';');
    const id = (semi < 0 ? unfolded : unfolded.slice(0, semi)).trim().split(/\s+/)[0]?.toLowerCase();
    if (id !== authservId.toLowerCase()) continue;
    if (semi < 0) return null;
    for (const part of unfolded.slice(semi + 1).split(';')) {
      const m = /^\s*dmarc\s*=\s*([a-z]+)\b(.*)$/i.exec(part);
      if (!m) continue;
      const from = /header\.from\s*=\s*([^\s;]+)/i.exec(m[2] ?? '');
      if (from && from[1]!.toLowerCase() !== fromDomain) continue;
      return m[1]!.toLowerCase();
    }
    return null;
  }
  return null;
}

/** All Authentication-Results header values of a raw message (parsers keep only the first). */
function authResultsHeaders(raw: Buffer): string[] {
  const end = raw.indexOf('\r\n\r\n') >= 0 ? raw.indexOf('\r\n\r\n') : raw.indexOf('\n\n');
  const head = raw.subarray(0, end < 0 ? Math.min(raw.length, 256 * 1024) : end).toString('latin1');
  const out: string[] = [];
  const re = /^authentication-results:([^\r\n]*(?:\r?\n[ \t][^\r\n]*)*)/gim;
  for (const m of head.matchAll(re)) out.push(m[1]!.trim());
  return out;
}

export async function authenticateReply(raw: Buffer, msg: InboundMessage, policy: AuthPolicy, envelope: SmtpEnvelope = {}): Promise<AuthVerdict> {
  if (!policy.required) return { pass: true, method: 'not-required', detail: 'authentication not required by the rules' };
  const fromDomain = domainOf(msg.from);
  if (!fromDomain) return { pass: false, method: 'mailauth', detail: 'no From domain' };
  if (policy.authservId) {
    const result = trustedDmarcResult(authResultsHeaders(raw), policy.authservId, fromDomain);
    if (result !== null) {
      return { pass: result === 'pass', method: 'authentication-results', detail: `dmarc=${result} by ${policy.authservId}` };
    }
  }
  try {
    // Loaded on first use: mailauth and its DNS and crypto stack are ~37 MB resident, and most
    // organisations either trust their gateway's Authentication-Results or do not require it.
    const { authenticate: mailauth } = await import('mailauth');
    const res = await mailauth(raw, {
      ip: envelope.ip,
      helo: envelope.helo,
      sender: envelope.sender,
      mta: 'mailgrant',
      disableArc: true,
      disableBimi: true,
      resolver: policy.resolver as never,
    });
    const report = res.dmarc as { status?: { result?: string } } | false | undefined;
    const dmarc = (report && report.status?.result) || 'none';
    return { pass: dmarc === 'pass', method: 'mailauth', detail: `dmarc=${dmarc}` };
  } catch (err) {
    return { pass: false, method: 'mailauth', detail: `verification failed: ${(err as Error).message}` };
  }
}

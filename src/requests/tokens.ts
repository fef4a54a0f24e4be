import { createHash, randomBytes } from 'node:crypto';

/**
 * Reply tokens: 128 random bits, written in lower-case base32 so that they survive mail servers
 * that fold the case of the local part. Only the SHA-256 of a token is stored; the token itself
 * lives in the reply address and the Message-ID of the shared-request mail.
 */
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
export const TOKEN_LENGTH = 26;
const TOKEN_CHARS = `[a-z2-7]{${TOKEN_LENGTH}}`;

export function newToken(): string {
  const bytes = randomBytes(16);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token.toLowerCase()).digest('hex');
}

/** Placeholder kept in stored mails where the token goes; replaced only when sending. */
export const TOKEN_PLACEHOLDER = '%%REPLY_TOKEN%%';

export function replyAddress(mailbox: string, token: string): string {
  const [local, domain] = mailbox.split('@');
  return `${local}+${token}@${domain}`;
}

export function shareMessageIdLocal(token: string, unique: string): string {
  return `share.${token}.${unique}`;
}

/** Tokens found in recipient addresses (plus addressing on the organisation mailbox). */
export function tokensFromAddresses(addresses: readonly string[], mailbox: string): string[] {
  const [local, domain] = mailbox.toLowerCase().split('@');
  const out: string[] = [];
  for (const a of addresses) {
    const lower = a.toLowerCase().trim();
    const at = lower.lastIndexOf('@');
    if (at < 0 || lower.slice(at + 1) !== domain) continue;
    const lp = lower.slice(0, at);
    if (!lp.startsWith(`${local}+`)) continue;
    const candidate = lp.slice(local!.length + 1);
    if (new RegExp(`^${TOKEN_CHARS}$`).test(candidate)) out.push(candidate);
  }
  return out;
}

/** Tokens found in In-Reply-To / References, for servers that rewrite the reply address. */
export function tokensFromMessageIds(ids: readonly string[], domain: string): string[] {
  const re = new RegExp(`^<?share\\.(${TOKEN_CHARS})\\.[a-z0-9]{1,64}@([^>\\s]{1,253})>?$`, 'i');
  const out: string[] = [];
  for (const id of ids) {
    const m = re.exec(id.trim());
    if (m && m[2]!.toLowerCase() === domain.toLowerCase()) out.push(m[1]!.toLowerCase());
  }
  return out;
}

/**
 * Whether a mail was meant as a reply to Mailgrant even when no valid token could be read from
 * it: sent to a plus address of the mailbox (Mailgrant hands those out only as reply
 * addresses), or answering a shared-request mail. A damaged token must not turn the reply into
 * a new request: its subject names the product and the people.
 */
export function isReplyAttempt(addresses: readonly string[], ids: readonly string[], mailbox: string): boolean {
  const [local, domain] = mailbox.toLowerCase().split('@');
  const plus = addresses.some((a) => {
    const lower = a.toLowerCase().trim();
    return lower.startsWith(`${local}+`) && lower.endsWith(`@${domain}`);
  });
  const share = ids.some((id) => {
    const bare = id.trim().replace(/^<|>$/g, '').toLowerCase();
    return bare.startsWith('share.') && bare.endsWith(`@${domain}`);
  });
  return plus || share;
}

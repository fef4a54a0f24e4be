import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import { MailgrantError } from '../../shared/errors.js';
import { withTimeout } from '../../shared/timeout.js';
import { damagedText } from './damaged-text.js';

/** What mailparser is asked not to do: links to images, and both conversions (see parseMessage). */
const READ_OPTIONS = { skipImageLinks: true, skipTextToHtml: true, skipHtmlToText: true } as const;

/** The parts of an inbound message the rest of Mailgrant needs, independent of mailparser. */
export interface InboundMessage {
  from: string | null;
  fromName: string | null;
  subject: string;
  text: string | null;
  html: string | null;
  messageId: string | null;
  inReplyTo: string[];
  references: string[];
  /** To, Cc, Delivered-To and X-Original-To addresses, lower-case. */
  recipients: string[];
  returnPath: string | null;
  contentType: string;
  /** Lower-case header name → first value, as text. */
  headers: ReadonlyMap<string, string>;
  date: Date | null;
}

function addresses(value: AddressObject | AddressObject[] | undefined): string[] {
  if (!value) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.flatMap((a) => a.value.flatMap((v) => (v.address ? [v.address.toLowerCase()] : [])));
}

function headerText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(headerText).join(', ');
  if (typeof value === 'object') {
    const v = value as { text?: string; value?: unknown };
    if (typeof v.text === 'string') return v.text;
    if (typeof v.value === 'string') return v.value;
  }
  return String(value);
}

/**
 * Without NUL characters: PostgreSQL text and jsonb cannot hold them, so a message carrying one
 * in its subject or body would fail every attempt to record it (and to record the failure).
 */
function nul<T extends string | undefined>(value: T): T {
  return (value === undefined ? value : value.replace(/\u0000/g, '')) as T;
}

function ids(value: string | string[] | undefined): string[] {
  if (!value) return [];
  const all = Array.isArray(value) ? value : [value];
  return all.flatMap((v) => v.match(/<[^<>\s]{1,500}>/g) ?? []);
}

/**
 * Whether a message was cut on its way: over SMTP every message ends with a line break (RFC 5321
 * 4.1.1.4: the CRLF before the final "." ends the last line), and mail stores keep it. The end of
 * a cut message is partial, and a partial command can say more than its writer did: "approve
 * alice" cut after "approve" approves everyone. Dropping the partial line is not enough (a
 * quoted-printable soft line break continues a line on the next one). Found by the
 * damaged-replies property test: a truncated Apple Mail reply whose HTML part ended in "approve".
 */
export function isCut(raw: Buffer): boolean {
  const last = raw[raw.length - 1];
  return raw.length > 0 && last !== 0x0a && last !== 0x0d;
}

/**
 * Parses raw bytes with a time bound: a pathological message must not hold up the pipeline.
 * (mailparser keeps working in the background after a timeout; the result is dropped.) With
 * `timeoutMs` Infinity there is no timer: a parse worker's pool bounds it instead, by ending the
 * thread, which also stops synchronous work that a timer here could not interrupt.
 */
export async function parseMessage(raw: Buffer, timeoutMs = 10_000): Promise<InboundMessage> {
  // Quarantined as unreadable: acting on part of a message could decide what nobody wrote.
  if (isCut(raw)) throw new MailgrantError('parse_failed', 'it was cut off on its way (it does not end with a line break), so it is not acted on');
  let timer: NodeJS.Timeout | undefined;
  let parsed: ParsedMail;
  try {
    // The timer first, so that the time limit covers the damage check too.
    const timeout = new Promise<never>((_, reject) => {
      if (Number.isFinite(timeoutMs)) timer = setTimeout(() => reject(new MailgrantError('parse_failed', `parsing took longer than ${timeoutMs} ms`)), timeoutMs);
    });
    const read = async (): Promise<ParsedMail> => {
      const damage = await damagedText(raw);
      if (damage !== null) throw new MailgrantError('parse_failed', `a text part was damaged on its way (${damage}), so it is not acted on`);
      // skipHtmlToText: mailparser's HTML-to-text runs synchronously and is superlinear in the
      // nesting depth (2 MB of nested <table><tr><td> held the event loop for minutes, where
      // the timeout cannot fire). extractReply reads the HTML itself, with bounds.
      return simpleParser(raw, { ...READ_OPTIONS, maxHtmlLengthToParse: 2 * 1024 * 1024 });
    };
    parsed = await Promise.race([read(), timeout]);
  } catch (err) {
    if (err instanceof MailgrantError) throw err;
    throw new MailgrantError('parse_failed', `the message could not be parsed: ${(err as Error).message}`, { cause: err });
  } finally {
    clearTimeout(timer);
  }
  return inboundMessage(parsed);
}

/** What the pipeline needs of a parsed message, NUL-free, with the headers classification reads. */
function inboundMessage(parsed: ParsedMail): InboundMessage {
  const headers = new Map<string, string>();
  for (const [k, v] of parsed.headers) headers.set(k.toLowerCase(), nul(headerText(v)));
  // mailparser folds every List-* header into one "list" entry; keep their own names, which
  // classification looks for (a mailing-list mail must never be answered).
  for (const { key, line } of parsed.headerLines ?? []) {
    const name = key.toLowerCase();
    if (name.startsWith('list-') && !headers.has(name)) headers.set(name, line.slice(line.indexOf(':') + 1).trim());
  }
  const from = parsed.from?.value[0];
  const extraRecipients = ['delivered-to', 'x-original-to', 'envelope-to']
    .flatMap((h) => (headers.get(h) ?? '').match(/[^\s<>,;"]{1,64}@[^\s<>,;"]{1,253}/g) ?? [])
    .map((a) => a.toLowerCase());
  const returnPathRaw = headers.get('return-path');
  return {
    from: nul(from?.address?.toLowerCase()) ?? null,
    fromName: nul(from?.name) || null,
    subject: nul(parsed.subject) ?? '',
    text: nul(parsed.text) ?? null,
    html: typeof parsed.html === 'string' ? nul(parsed.html) : null,
    messageId: nul(parsed.messageId) ?? null,
    inReplyTo: ids(parsed.inReplyTo).map((v) => nul(v)),
    references: ids(parsed.references).map((v) => nul(v)),
    recipients: [...new Set([...addresses(parsed.to), ...addresses(parsed.cc), ...extraRecipients])],
    returnPath: returnPathRaw === undefined ? null : returnPathRaw.replace(/[<>\s]/g, ''),
    contentType: (headers.get('content-type') ?? 'text/plain').toLowerCase(),
    headers,
    date: parsed.date ?? null,
  };
}

/** A header block longer than this is not read for an unreadable message's sender. */
const MAX_HEADER_BLOCK = 64 * 1024;

/**
 * The top-level header block alone, read as `parseMessage` reads it (sender, subject, ids, the
 * headers classification looks at), text and HTML null. For a message the full read refused
 * (cut off, a damaged text part, unparsable): its header block is usually intact, and it names
 * who sent it, so the quarantine record and the admins' alert say who, and the sender can be
 * asked to send it again. Null when the block is missing, over 64 KB or unreadable too.
 */
export async function parseHeaderBlock(raw: Buffer, timeoutMs = 2_000): Promise<InboundMessage | null> {
  const window = raw.subarray(0, MAX_HEADER_BLOCK + 4);
  const crlf = window.indexOf('\r\n\r\n');
  const lf = window.indexOf('\n\n');
  const ends = [crlf, lf].filter((i) => i >= 0);
  if (ends.length === 0) return null;
  const end = Math.min(...ends);
  if (end === 0) return null;
  const block = Buffer.concat([raw.subarray(0, end), Buffer.from('\r\n\r\n')]);
  try {
    const parsed = await withTimeout(simpleParser(block, READ_OPTIONS), timeoutMs, 'reading the header block');
    return { ...inboundMessage(parsed), text: null, html: null };
  } catch {
    return null;
  }
}

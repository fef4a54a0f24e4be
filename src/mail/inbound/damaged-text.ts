/**
 * Finds a text part that was damaged on its way in a way that can change what a reply says
 * rather than only garble it. Found by the damaged-replies property test, which flips bytes in
 * real replies, and by a sweep of every single-byte flip of the reply fixtures:
 *
 *  - Base64 with a character outside its alphabet. RFC 2045 (6.8) tells decoders to ignore such
 *    characters, and mailparser does; a mailer never writes one, so one in a body means a byte
 *    was changed, and everything after it then decodes shifted by six bits: the rest of the part
 *    turns to noise while the text before it stays readable. An Outlook for iOS reply's "approve
 *    all except bob" became "approve all" and noise, which approves Bob.
 *  - A damaged boundary line. The part above it then runs on into the next one: a text part
 *    swallows the HTML part's source, whose quoted original says "approve" and "deny". A line in
 *    a part that is nearly (not exactly) a delimiter of an enclosing multipart is such a line:
 *    boundaries are chosen to appear nowhere in the content.
 *  - A damaged header block: a MIME field whose name lost a byte, a header block that ended
 *    early (its headers, or a part's, then read as body), a part's header block that ran on into
 *    its body, HTML source in a part read as plain text. Each reads a part as something it is
 *    not, and a quote its markup or header block would have cut is then read as the reply.
 *
 * A decision read from part of a sentence, or from the quote, can say more than its writer did,
 * so such a message is not acted on (like one cut short, see isCut in parse.ts). Damage inside
 * the writer's own words (a line break flipped into "approve all except bob") is not findable.
 *
 * The same splitter as mailparser's walks the parts, so the parts checked are the ones it reads.
 * Only parts read as text are checked (text/plain, text/html, and parts whose type a damaged
 * header left unknown): the reply is read from them, and an attachment's encoding is its own
 * business.
 */
import type { Transform } from 'node:stream';
import { Splitter, type SplitterChunk } from '@zone-eu/mailsplit';

/**
 * A line of the message as a reason may show it: quoted, cut, and with control characters
 * escaped. Damage is often a NUL, which PostgreSQL text cannot hold: shown raw, it made the
 * quarantine record itself fail.
 */
function shown(line: string, max: number): string {
  return JSON.stringify(line.slice(0, max));
}

/** What is allowed in a base64 body: the alphabet, padding, line breaks. */
const ALPHABET = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') ALPHABET[c.charCodeAt(0)] = 1;
const PAD = 0x3d;
const CR = 0x0d;
const LF = 0x0a;

/** Edits (bytes changed, added or dropped) that still make a line a damaged delimiter. */
const DELIMITER_EDITS = 2;
/** A boundary this long or longer also counts when the line keeps its first or last half (junk inserted in the middle). */
const HALF_MATCH_MIN = 16;

/** Is `a` within `k` single-character edits of `b`? Banded Levenshtein, O(length × k). */
export function withinEdits(a: string, b: string, k: number): boolean {
  if (Math.abs(a.length - b.length) > k) return false;
  let prev = new Array<number>(b.length + 1);
  let row = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    const from = Math.max(1, i - k);
    const to = Math.min(b.length, i + k);
    row.fill(k + 1);
    row[0] = i;
    let best = row[0];
    for (let j = from; j <= to; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      row[j] = Math.min(prev[j - 1]! + cost, prev[j]! + 1, row[j - 1]! + 1);
      if (row[j]! < best) best = row[j]!;
    }
    if (best > k) return false;
    [prev, row] = [row, prev];
  }
  return prev[b.length]! <= k;
}

/** Enclosing multiparts whose delimiters a part's lines are compared with, nearest first: real mail nests three deep. */
const MAX_ENCLOSING = 8;

interface Delimiter {
  readonly line: string;
  /** It cut in DELIMITER_EDITS + 1 pieces: a line within that many edits holds one of them whole. */
  readonly pieces: readonly string[];
  /** Its first and last halves, for a long boundary; null for a short one. */
  readonly head: string | null;
  readonly tail: string | null;
}

function delimitersOf(boundaries: readonly string[]): Delimiter[] {
  return boundaries.flatMap((b) =>
    [`--${b}`, `--${b}--`].map((line) => {
      const half = Math.floor(line.length / 2);
      const long = b.length >= HALF_MATCH_MIN;
      const size = Math.ceil(line.length / (DELIMITER_EDITS + 1));
      const pieces = Array.from({ length: DELIMITER_EDITS + 1 }, (_, i) => line.slice(i * size, (i + 1) * size)).filter((p) => p !== '');
      return { line, pieces, head: long ? line.slice(0, half) : null, tail: long ? line.slice(-half) : null };
    }),
  );
}

/** Is this body line nearly one of the delimiters, without being one? */
function nearDelimiter(line: string, delimiters: readonly Delimiter[]): boolean {
  for (const d of delimiters) {
    if (line === d.line) continue;
    // Most lines have the length of none, and of the rest nearly all hold no piece of it.
    if (Math.abs(line.length - d.line.length) <= DELIMITER_EDITS && d.pieces.some((p) => line.includes(p)) && withinEdits(line, d.line, DELIMITER_EDITS)) return true;
    if (d.head !== null && (line.startsWith(d.head) || line.endsWith(d.tail!))) return true;
  }
  return false;
}

/** Longest line read whole: delimiters are at most 72 characters (RFC 2046 5.1.1) plus dashes and damage. */
const MAX_LINE = 100;
/** A delimiter-like or header line, then a MIME field (mimeFieldLike): MIME structure read as text. */
const DELIMITER_LIKE = /^--[!-~]{1,96}$/;
const HEADER_LIKE = /^[!-9;-~]{1,76}[ \t]*:/;
/** HTML source as the first line of a part read as plain text: its Content-Type was damaged. */
const HTML_START = /^<(!doctype|html|head|body|meta|div|p|table|span)\b/i;
/** The MIME header fields, whose near misses are damage ("Content-Typ\0", "Cintent-Type"). */
const MIME_FIELDS = ['content-type', 'content-transfer-encoding', 'content-disposition', 'mime-version'];

/** Is this (lower-case) field name a near miss of a MIME field's? Vendor fields ("X-Content-Type") are not. */
function nearMimeField(name: string): boolean {
  return !name.startsWith('x-') && !MIME_FIELDS.includes(name) && MIME_FIELDS.some((f) => withinEdits(name, f, 2));
}

/** A header line whose name is a MIME field's or a near miss of one ("ontent-Transfer-Encoding:"). */
function mimeFieldLike(line: string): boolean {
  const colon = line.indexOf(':');
  if (colon <= 0 || !HEADER_LIKE.test(line)) return false;
  const name = line.slice(0, colon).trim().toLowerCase();
  return MIME_FIELDS.includes(name) || nearMimeField(name);
}

/** Reads one text part's raw body chunk by chunk; `damage` says what is wrong, or null. */
class PartCheck {
  private symbols = 0;
  private padding = 0;
  /** The line being read (up to MAX_LINE + 1 characters). */
  private line = '';
  /** A non-empty line was read: the next is not the first. */
  private seen = false;
  /** The previous line is a delimiter or a header field: the next may be a part's header. */
  private previousHeaderish = false;
  private readonly delimiters: readonly Delimiter[];
  /** Line lengths near a delimiter's, and last bytes of the long ones: which lines nearDelimiter needs to see. */
  private readonly shortest: number;
  private readonly longest: number;
  private readonly tailEnds: ReadonlySet<number>;
  damage: string | null = null;

  constructor(
    private readonly base64: boolean,
    /** Boundaries of the enclosing multiparts, nearest first. */
    boundaries: readonly string[],
    /** Read as plain text (typed text/plain, or untyped). */
    private readonly plain: boolean,
  ) {
    this.delimiters = delimitersOf(boundaries);
    this.shortest = Math.min(...this.delimiters.map((d) => d.line.length)) - DELIMITER_EDITS;
    this.longest = Math.max(...this.delimiters.map((d) => d.line.length)) + DELIMITER_EDITS;
    this.tailEnds = new Set(this.delimiters.flatMap((d) => (d.tail === null ? [] : [d.tail.charCodeAt(d.tail.length - 1)])));
  }

  add(chunk: Buffer): void {
    if (this.base64) this.checkBase64(chunk);
    // Lines end at CR or LF. Found with indexOf (native) rather than byte by byte: a reply with
    // its quote is 30-80 KB and this runs for every message.
    let start = 0;
    let cr = chunk.indexOf(CR);
    let lf = chunk.indexOf(LF);
    while (this.damage === null) {
      if (cr >= 0 && cr < start) cr = chunk.indexOf(CR, start);
      if (lf >= 0 && lf < start) lf = chunk.indexOf(LF, start);
      const end = cr < 0 ? lf : lf < 0 ? cr : Math.min(cr, lf);
      if (end < 0) break;
      if (this.line !== '' || this.mayMatter(chunk, start, end)) {
        this.takeLine(chunk, start, end);
        this.endLine();
      } else if (end > start) {
        // A line no rule can flag (no delimiter's length or ends, no colon): no string is made for it.
        this.seen = true;
        this.previousHeaderish = false;
      }
      start = end + 1;
    }
    this.takeLine(chunk, start, chunk.length);
  }

  private checkBase64(chunk: Buffer): void {
    for (let i = 0; i < chunk.length && this.damage === null; i++) {
      const b = chunk[i]!;
      if (b === CR || b === LF) continue;
      if (ALPHABET[b] === 1) {
        if (this.padding > 0) this.damage = 'its base64 goes on after the "=" padding';
        this.symbols++;
      } else if (b === PAD) {
        if (++this.padding > 2) this.damage = 'its base64 has more than two "=" padding characters';
      } else {
        this.damage = `its base64 holds a character outside the base64 alphabet (byte ${b})`;
      }
    }
  }

  end(): void {
    this.endLine();
    if (this.damage === null && this.base64 && (this.symbols + this.padding) % 4 !== 0) this.damage = 'its base64 is not a whole number of quartets long';
  }

  /** Can a rule of endLine flag the whole line chunk[start, end)? Decided on its bytes, without a string. */
  private mayMatter(chunk: Buffer, start: number, end: number): boolean {
    const length = end - start;
    if (length === 0 || !this.seen || this.previousHeaderish) return true;
    if (length >= this.shortest && length <= this.longest) return true;
    if (chunk[start] === 0x2d || this.tailEnds.has(chunk[end - 1]!)) return true; // "-": a delimiter's start, or a delimiter-like line
    // A header field, as HEADER_LIKE reads one: printable characters, optional blanks, ":".
    const upTo = Math.min(end, start + MAX_LINE);
    let i = start;
    while (i < upTo && chunk[i]! > 0x20 && chunk[i]! < 0x7f && chunk[i] !== 0x3a) i++;
    while (i < upTo && (chunk[i] === 0x20 || chunk[i] === 0x09)) i++;
    return i > start && i < upTo && chunk[i] === 0x3a;
  }

  private takeLine(chunk: Buffer, start: number, end: number): void {
    if (this.line.length > MAX_LINE || start >= end) return;
    this.line += chunk.toString('latin1', start, Math.min(end, start + MAX_LINE + 1 - this.line.length));
  }

  private endLine(): void {
    const line = this.line;
    this.line = '';
    if (line === '' || this.damage !== null) return;
    const first = !this.seen;
    // A longer line is cut at MAX_LINE + 1: only its start is compared with the delimiters then.
    if (nearDelimiter(line, this.delimiters)) {
      this.damage = `it holds a damaged boundary line (${shown(line, 80)}), so it runs on into the next part`;
    } else if ((first || this.previousHeaderish) && line.length <= MAX_LINE && mimeFieldLike(line)) {
      // A damaged header, header end or boundary parameter: the message's headers or parts are read as text.
      this.damage = `it holds the headers of a message or part (${shown(line, 60)}), so its structure was damaged`;
    }
    if (first && this.plain && this.damage === null && HTML_START.test(line)) {
      this.damage = `its plain text is HTML source (${shown(line, 60)}): its Content-Type header was damaged`;
    }
    this.seen = true;
    this.previousHeaderish = line.length <= MAX_LINE && (DELIMITER_LIKE.test(line) || (line.includes(':') && HEADER_LIKE.test(line)));
  }
}

const TEXT_TYPES = new Set(['text/plain', 'text/html']);

/** A MIME node as the splitter emits it. */
type SplitNode = Extract<SplitterChunk, { type: 'node' }>;

/**
 * Is this part read as text? Text parts, and parts without a type or with a multipart type that
 * has no boundary (a leaf): mailparser reads those as text too, and they are what a damaged
 * Content-Type header leaves.
 */
function readAsText(node: SplitNode): boolean {
  return node.contentType === false || TEXT_TYPES.has(node.contentType) || node.contentType.startsWith('multipart/');
}

/**
 * A damaged header block. A line that is no header field in a part's headers: the blank line
 * that ends the block was damaged, and the body's first lines (where a quote's opening tag may
 * be) were taken for headers (the message's own block is spared: real mail has odd lines there).
 * A near miss of a MIME field's name, in any block: the field is not read, and the part is read
 * as plain text when it was HTML.
 */
function malformedHeader(node: SplitNode): string | null {
  if (node.headers === false || node.headers.lines === false) return null;
  for (const { key, line } of node.headers.lines) {
    if (key === '' && !node.root) return `its header block holds a line that is no header field (${shown(line, 60)})`;
    // A MIME field whose name lost a byte is not read, and its part is then read as something else.
    if (key !== '' && nearMimeField(key)) return `its header ${shown(line, 60)} is a damaged MIME field`;
  }
  return null;
}

/** The boundaries of the nearest MAX_ENCLOSING enclosing multiparts, nearest first. */
function enclosingBoundaries(node: SplitNode): string[] {
  const out: string[] = [];
  for (let p = node.parentNode; p !== false && out.length < MAX_ENCLOSING; p = p.parentNode) if (p._boundary !== false) out.push(p._boundary.toString('latin1'));
  return out;
}

/** Why a text part of `raw` is damaged (e.g. "text/html part: its base64 holds …"), or null when none is. */
export function damagedText(raw: Buffer): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const splitter = new Splitter();
    let current: { type: string; check: PartCheck } | null = null;
    let found: string | null = null;
    const close = (): void => {
      if (current === null) return;
      current.check.end();
      if (found === null && current.check.damage !== null) found = `${current.type} part: ${current.check.damage}`;
      current = null;
    };
    splitter.on('data', (chunk) => {
      if (chunk.type === 'node') {
        close();
        if (!readAsText(chunk)) return;
        const type = chunk.contentType || 'untyped';
        const header = malformedHeader(chunk);
        if (header !== null && found === null) found = `${type} part: ${header}`;
        current = { type, check: new PartCheck(chunk.encoding === 'base64', enclosingBoundaries(chunk), chunk.contentType === false || chunk.contentType === 'text/plain') };
      } else if (chunk.type === 'body' && current !== null) {
        current.check.add(chunk.value);
      }
    });
    const stream = splitter as unknown as Transform; // its typings name only the 'data' event
    stream.on('end', () => {
      close();
      resolve(found);
    });
    stream.on('error', reject);
    stream.end(raw);
  });
}

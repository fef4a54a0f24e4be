/**
 * Plain-text reply trimming: keep what the person wrote above the first
 * "cut point" (attribution, header block, separator, signature, or a `>`
 * quote block that follows their text).
 *
 * Two shapes need more than "keep what is above":
 *  - bottom-posting: the mail OPENS with an attribution and its `>` quote,
 *    and the person wrote below it. The attribution and the quote under it are
 *    skipped and the search starts again below them.
 *  - a mail that opens with `>` lines without any attribution (interleaved
 *    answers, mailing-list style): those lines are kept as they are; a `>`
 *    block that comes after the person's own text is a cut point.
 *
 * Cost: the body is read up to MAX_SCAN_CHARS (what a decider writes above a
 * quote is a few lines, and the rest is never needed); every line check is
 * bounded (see line-rules.ts), lookbacks and header-block reads have fixed
 * windows, so the work is linear in the scanned size.
 */
import {
  ATTRIBUTION_LOOKBACK_LINES,
  ATTRIBUTION_LOOKBACK_SPAN,
  MAX_CANDIDATE,
} from '../reply-rules/attribution.js';
import { HEADER_BLOCK } from '../reply-rules/header-blocks.js';
import { RULE_LOOKAHEAD } from '../reply-rules/separators.js';
import {
  attributionCandidate,
  headerLine,
  isAttributionOpener,
  isBlank,
  isForwardSubject,
  isMobileSignature,
  isQuoteLine,
  isRuleLine,
  isSignatureDelimiter,
  isTrailingNoise,
  matchesAttribution,
  ruleView,
  separatorKind,
  type HeaderLine,
  type LineView,
} from './line-rules.js';

/** How much of a body is read at all. */
export const MAX_SCAN_CHARS = 128 * 1024;

/** How many lines below a cut are read to tell a forward from a reply. */
const FORWARD_PEEK_LINES = 24;

export interface TextTrim {
  readonly text: string;
  readonly quoted: boolean;
  readonly forwarded: boolean;
}

type CutKind = 'attribution' | 'header' | 'original' | 'forward' | 'quote' | 'signature' | 'rule';

interface Cut {
  /** First line of the cut-off part. */
  readonly index: number;
  /** Last line of the structure that made the cut (attribution end, header block end). */
  readonly end: number;
  readonly kind: CutKind;
  /** Zoho's "---- On … wrote ----": the original follows without `>`. */
  readonly dashed?: boolean;
  /** A header block whose subject is "FW: …". */
  readonly forwardSubject?: boolean;
}

/** Lines plus a lazily computed, cached rule view of each. */
class Lines {
  private readonly views: (LineView | null | undefined)[];
  private readonly headers: (HeaderLine | null | undefined)[];
  constructor(readonly raw: readonly string[]) {
    this.views = new Array<LineView | null | undefined>(raw.length);
    this.headers = new Array<HeaderLine | null | undefined>(raw.length);
  }
  get length(): number {
    return this.raw.length;
  }
  line(i: number): string {
    return this.raw[i] ?? '';
  }
  view(i: number): LineView | null {
    let v = this.views[i];
    if (v === undefined) {
      v = ruleView(this.line(i));
      this.views[i] = v;
    }
    return v;
  }
  header(i: number): HeaderLine | null {
    let h = this.headers[i];
    if (h === undefined) {
      const view = this.view(i);
      h = view === null ? null : headerLine(view.text);
      this.headers[i] = h;
    }
    return h;
  }
  blank(i: number): boolean {
    return isBlank(this.line(i));
  }
}

export function splitLines(text: string): string[] {
  let scanned = text.length > MAX_SCAN_CHARS ? text.slice(0, MAX_SCAN_CHARS) : text;
  // Do not end inside a CRLF pair.
  if (scanned.endsWith('\r')) scanned = scanned.slice(0, -1);
  return scanned.split(/\r\n|\r|\n/);
}

export function trimPlainText(text: string): TextTrim {
  const lines = new Lines(splitLines(text));
  let quoted = false;
  let forwarded = false;
  let from = firstNonBlank(lines, 0);
  let keptEnd = lines.length;

  for (;;) {
    if (from >= lines.length) {
      keptEnd = from;
      break;
    }
    const cut = findCut(lines, from);
    if (cut === null) break;
    const below = lookBelow(lines, cut);
    if (cut.kind === 'forward' || cut.forwardSubject === true || below.forward) forwarded = true;
    if ((cut.kind !== 'forward' && cut.kind !== 'signature') || below.quote) quoted = true;
    if (cut.index === from && cut.kind === 'attribution' && cut.dashed !== true) {
      // Bottom-posting: skip the attribution and the quote under it.
      let k = cut.end + 1;
      while (k < lines.length && (lines.blank(k) || isQuoteLine(lines.line(k)))) k++;
      from = k;
      continue;
    }
    keptEnd = cut.index;
    break;
  }
  return { text: finish(lines, from, keptEnd), quoted, forwarded };
}

function firstNonBlank(lines: Lines, start: number): number {
  let i = start;
  while (i < lines.length && lines.blank(i)) i++;
  return i;
}

function findCut(lines: Lines, from: number): Cut | null {
  let seenText = false;
  for (let i = from; i < lines.length; i++) {
    const raw = lines.line(i);
    if (isBlank(raw)) continue;
    if (isSignatureDelimiter(raw)) return { index: i, end: i, kind: 'signature' };
    const view = lines.view(i);
    if (view !== null) {
      const cut = structureAt(lines, i, view, from);
      if (cut !== null) return cut;
    }
    if (isQuoteLine(raw)) {
      if (seenText) return { index: i, end: i, kind: 'quote' };
      continue;
    }
    seenText = true;
  }
  return null;
}

/** A cut that starts at (or, for a wrapped attribution, a few lines above) line i. */
function structureAt(lines: Lines, i: number, view: LineView, floor: number): Cut | null {
  const text = view.text;
  if (text === '') return null;
  const separator = separatorKind(text);
  if (separator !== null) return { index: i, end: i, kind: separator };
  const attribution = attributionAt(lines, i, view, floor);
  if (attribution !== null) return attribution;
  const header = headerBlockAt(lines, i);
  if (header !== null) return header;
  if (isRuleLine(text) && structureFollows(lines, i)) return { index: i, end: i, kind: 'rule' };
  if (isMobileSignature(view)) return { index: i, end: i, kind: 'signature' };
  return null;
}

/**
 * An attribution ending on line i. When it is wrapped ("On Mon, … Jeff <jeff@x>"
 * / "wrote:"), look a few lines up for where it starts: the nearest line that
 * opens an attribution ("On …", "Le …", "於 …", a date) and makes the joined
 * text match; failing that, the nearest line that makes it match.
 */
function attributionAt(lines: Lines, i: number, view: LineView, floor: number): Cut | null {
  const own = attributionCandidate(view.text);
  const alone = matchesAttribution(own.text);
  if (alone && (own.dashed || isAttributionOpener(own.text))) {
    return { index: i, end: i, kind: 'attribution', dashed: own.dashed };
  }
  const last = own.text[own.text.length - 1];
  if (!alone && last !== ':' && last !== '：') return null;

  let nearest = alone ? i : -1;
  let joined = own.text;
  let nonBlank = 0;
  for (let j = i - 1; j >= floor && j >= i - ATTRIBUTION_LOOKBACK_SPAN; j--) {
    if (lines.blank(j)) continue;
    if (++nonBlank > ATTRIBUTION_LOOKBACK_LINES) break;
    const v = lines.view(j);
    if (v === null) break;
    const part = attributionCandidate(v.text).text;
    joined = `${part} ${joined}`;
    if (joined.length > MAX_CANDIDATE) break;
    const opener = isAttributionOpener(part);
    // Only test joins that can be the whole attribution: at an opener, or the
    // nearest line when nothing matched yet (bounds the regex work per line).
    if (!opener && nearest >= 0) continue;
    if (!matchesAttribution(joined)) continue;
    if (opener) return { index: j, end: i, kind: 'attribution' };
    nearest = j;
  }
  return nearest >= 0 ? { index: nearest, end: i, kind: 'attribution' } : null;
}

/** A quoted message's header block starting on line i (see HEADER_BLOCK for the thresholds). */
function headerBlockAt(lines: Lines, i: number): Cut | null {
  const first = lines.header(i);
  if (first === null) return null;
  const fields = new Set([first.field]);
  let count = 1;
  let forwardSubject = first.field === 'subject' && isForwardSubject(first.value);
  let continuation = 0;
  let blankRun = 0;
  let end = i;
  const limit = Math.min(lines.length, i + HEADER_BLOCK.MAX_SPAN);
  for (let j = i + 1; j < limit; j++) {
    if (lines.blank(j)) {
      if (++blankRun > 1) break;
      continue;
    }
    const header = lines.header(j);
    if (header !== null) {
      fields.add(header.field);
      count++;
      if (header.field === 'subject' && isForwardSubject(header.value)) forwardSubject = true;
      continuation = 0;
      blankRun = 0;
      end = j;
    } else if (blankRun === 0 && continuation < HEADER_BLOCK.MAX_CONTINUATION) {
      continuation++;
    } else {
      break;
    }
  }
  const valid =
    count >= HEADER_BLOCK.MIN_LINES &&
    fields.size >= HEADER_BLOCK.MIN_FIELDS &&
    (fields.has('from') || fields.has('date'));
  return valid ? { index: i, end, kind: 'header', forwardSubject } : null;
}

/** Outlook's rule line counts only when a quoted message's header (or an attribution) follows. */
function structureFollows(lines: Lines, i: number): boolean {
  let seen = 0;
  for (let j = i + 1; j < lines.length && seen < RULE_LOOKAHEAD; j++) {
    if (lines.blank(j)) continue;
    seen++;
    const view = lines.view(j);
    if (view === null) return false;
    if (separatorKind(view.text) !== null) return true;
    if (headerBlockAt(lines, j) !== null) return true;
    const candidate = attributionCandidate(view.text).text;
    return matchesAttribution(candidate);
  }
  return false;
}

/**
 * What the first lines below a cut hold: a forwarded message (separator, or a
 * header block with a "FW:" subject), or a quote (a signature cut often hides
 * the attribution and quote under it, which still counts as a dropped quote).
 */
function lookBelow(lines: Lines, cut: Cut): { forward: boolean; quote: boolean } {
  let forward = false;
  let quote = false;
  const limit = Math.min(lines.length, cut.index + FORWARD_PEEK_LINES);
  for (let j = cut.index; j < limit && !forward; j++) {
    const view = lines.view(j);
    if (view === null || view.text === '') continue;
    const separator = separatorKind(view.text);
    if (separator === 'forward') forward = true;
    if (separator === 'original' || view.quoted) quote = true;
    const header = lines.header(j);
    if (header !== null) {
      quote = true;
      if (header.field === 'subject' && isForwardSubject(header.value)) forward = true;
    }
    if (!quote && matchesAttribution(attributionCandidate(view.text).text)) quote = true;
  }
  return { forward, quote };
}

/** The kept lines, without leading blanks and trailing blanks or rules. */
function finish(lines: Lines, from: number, end: number): string {
  let last = end - 1;
  while (last >= from && (lines.blank(last) || isTrailingNoise(lines.line(last)))) last--;
  const kept: string[] = [];
  for (let i = from; i <= last; i++) kept.push(lines.line(i).trimEnd());
  return kept.join('\n').trim();
}

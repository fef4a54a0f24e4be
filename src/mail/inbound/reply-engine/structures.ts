/**
 * The structures that start a cut in plain text, found at a given line:
 * attributions (also wrapped over several lines), header blocks, Outlook's
 * rule line above a header block, and what lies just below a cut.
 * Every search has a fixed window, so each costs O(1) lines.
 */
import { ATTRIBUTION_LOOKBACK_LINES, ATTRIBUTION_LOOKBACK_SPAN, MAX_CANDIDATE } from '../reply-rules/attribution.js';
import { HEADER_BLOCK, type HeaderField } from '../reply-rules/header-blocks.js';
import { RULE_LOOKAHEAD } from '../reply-rules/separators.js';
import {
  attributionCandidate,
  isAttributionOpener,
  isForwardSubject,
  matchesAttribution,
  separatorKind,
  type LineView,
} from './line-rules.js';
import type { Lines } from './lines.js';

export type CutKind = 'attribution' | 'header' | 'original' | 'forward' | 'quote' | 'signature' | 'rule';

export interface Cut {
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

/** A quoted message's header names each of these once: a repeat is not a header block. */
const UNIQUE_FIELDS: ReadonlySet<HeaderField> = new Set<HeaderField>(['from', 'date', 'to', 'subject']);

/** How many lines below a cut are read to tell a forward from a reply. */
const PEEK_BELOW_LINES = 24;

/**
 * An attribution ending on line i. When it is wrapped ("On Mon, … Jeff <jeff@x>"
 * / "wrote:"), look a few lines up for where it starts: the nearest line that
 * opens an attribution ("On …", "Le …", "於 …", a date) and makes the joined
 * text match; failing that, the nearest line that makes it match.
 */
export function attributionAt(lines: Lines, i: number, view: LineView, floor: number): Cut | null {
  if (!mayEndAttribution(view.text)) return null;
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

/**
 * Cheap gate, no allocation: an attribution line ends with a colon (or, once
 * Zoho's dashes are stripped, with its verb), or holds a date or an address.
 */
function mayEndAttribution(text: string): boolean {
  const last = text[text.length - 1];
  if (last === ':' || last === '：' || last === '-') return true;
  for (let k = 0; k < text.length; k++) {
    const code = text.charCodeAt(k);
    if ((code >= 48 && code <= 57) || code === 64) return true;
  }
  return false;
}

/** A quoted message's header block starting on line i (see HEADER_BLOCK for the thresholds). */
export function headerBlockAt(lines: Lines, i: number): Cut | null {
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
      if (fields.has(header.field) && UNIQUE_FIELDS.has(header.field)) break;
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

/**
 * Outlook's rule line counts only when a quoted message's header, a separator
 * or an attribution starts on the next non-blank line, within RULE_LOOKAHEAD lines.
 */
export function structureFollows(lines: Lines, i: number): boolean {
  const limit = Math.min(lines.length, i + 1 + RULE_LOOKAHEAD);
  for (let j = i + 1; j < limit; j++) {
    if (lines.blank(j)) continue;
    const view = lines.view(j);
    if (view === null) return false;
    if (separatorKind(view.text) !== null || headerBlockAt(lines, j) !== null) return true;
    return matchesAttribution(attributionCandidate(view.text).text);
  }
  return false;
}

/**
 * What the first lines below a cut hold: a forwarded message (separator, or a
 * header block with a "FW:" subject), or a quote (a signature cut often hides
 * the attribution and quote under it, which still counts as a dropped quote).
 */
export function lookBelow(lines: Lines, cut: Cut): { forward: boolean; quote: boolean } {
  let forward = false;
  let quote = false;
  const limit = Math.min(lines.length, cut.index + PEEK_BELOW_LINES);
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


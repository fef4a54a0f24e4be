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
 * Cost: the body is read up to the limits in lines.ts; every line check is
 * bounded (line-rules.ts) and every structure search has a fixed window
 * (structures.ts), so the work is linear in the scanned size.
 */
import {
  isBlank,
  isMobileSignature,
  isQuoteLine,
  isRuleLine,
  isSignatureDelimiter,
  isTrailingNoise,
  separatorKind,
  type LineView,
} from './line-rules.js';
import { Lines, splitLines } from './lines.js';
import { attributionAt, headerBlockAt, lookBelow, structureFollows, type Cut } from './structures.js';

export interface TextTrim {
  readonly text: string;
  readonly quoted: boolean;
  readonly forwarded: boolean;
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

/** The kept lines, without leading blanks and trailing blanks or rules. */
function finish(lines: Lines, from: number, end: number): string {
  let last = end - 1;
  while (last >= from && (lines.blank(last) || isTrailingNoise(lines.line(last)))) last--;
  const kept: string[] = [];
  for (let i = from; i <= last; i++) kept.push(lines.line(i).trimEnd());
  return kept.join('\n').trim();
}

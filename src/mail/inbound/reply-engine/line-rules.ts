/**
 * Classifies one line of a reply against the rule data in ../reply-rules/.
 *
 * Every check works on a bounded view of the line: a line longer than
 * MAX_STRUCTURAL_LINE is never a quote marker, header or separator (no client
 * writes one that long), so an adversarial 100 KB line costs one length test.
 */
import {
  ATTRIBUTION_OPENERS,
  ATTRIBUTION_RULES,
  MAX_CANDIDATE,
} from '../reply-rules/attribution.js';
import {
  FORWARD_SUBJECT_PREFIXES,
  HEADER_LABELS,
  MAX_LABEL_LENGTH,
  type HeaderField,
} from '../reply-rules/header-blocks.js';
import {
  COLON_SEPARATORS,
  DASHED_SEPARATORS,
  RULE_LINE,
  TRAILING_NOISE_LINE,
  type SeparatorKind,
} from '../reply-rules/separators.js';
import { MAX_SIGNATURE_LINE, MOBILE_SIGNATURES, SIGNATURE_DELIMITERS } from '../reply-rules/signatures.js';

/** Raw lines longer than this are plain text, whatever they start with. */
export const MAX_STRUCTURAL_LINE = MAX_CANDIDATE + 100;

/** How many leading quote markers/spaces are stripped at most. */
const MAX_QUOTE_PREFIX = 100;

const HEADER_LABEL_MAP: ReadonlyMap<string, HeaderField> = buildLabelMap();
const DASHED_MAP: ReadonlyMap<string, SeparatorKind> = new Map(DASHED_SEPARATORS.map((s) => [s.label.toLowerCase(), s.kind]));
const COLON_MAP: ReadonlyMap<string, SeparatorKind> = new Map(COLON_SEPARATORS.map((s) => [s.label.toLowerCase(), s.kind]));
const FORWARD_PREFIXES: ReadonlySet<string> = new Set(FORWARD_SUBJECT_PREFIXES);
const SIGNATURE_DELIMITER_SET: ReadonlySet<string> = new Set(SIGNATURE_DELIMITERS.map((d) => d.trimEnd()));

function buildLabelMap(): Map<string, HeaderField> {
  const map = new Map<string, HeaderField>();
  for (const fields of Object.values(HEADER_LABELS)) {
    for (const [field, labels] of Object.entries(fields) as [HeaderField, readonly string[]][]) {
      for (const label of labels) map.set(label.toLowerCase(), field);
    }
  }
  return map;
}

/** Only spaces (no allocation: most lines answer at their first character). */
export function isBlank(raw: string): boolean {
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13 && c !== 0xa0 && c !== 0x3000 && c !== 0x200b && c !== 0xfeff) return false;
  }
  return true;
}

/** A `>` quote line (up to three spaces of indentation, as clients write them). */
export function isQuoteLine(raw: string): boolean {
  const limit = Math.min(raw.length, 4);
  for (let i = 0; i < limit; i++) {
    const c = raw[i];
    if (c === '>') return true;
    if (c !== ' ' && c !== '\t') return false;
  }
  return false;
}

export interface LineView {
  /** The line without quote markers, invisible marks and end spaces. */
  readonly text: string;
  /** The line started with `>`. */
  readonly quoted: boolean;
}

const SPACE_LIKE = /[\u00a0\u2007\u202f\u3000]/g;
// Outlook writes left-to-right marks into dates; Gmail a zero-width space.
const INVISIBLE = /[\u200b\u200e\u200f\ufeff]/g;
const NEEDS_CLEANING = /[\u00a0\u2007\u202f\u3000\u200b\u200e\u200f\ufeff]/;

/** The bounded, normalised view the structural rules look at, or null for an over-long line. */
export function ruleView(raw: string): LineView | null {
  if (raw.length > MAX_STRUCTURAL_LINE) return null;
  let i = 0;
  let quoted = false;
  const limit = Math.min(raw.length, MAX_QUOTE_PREFIX);
  while (i < limit) {
    const c = raw[i];
    if (c === '>') quoted = true;
    else if (c !== ' ' && c !== '\t' && c !== '\u00a0') break;
    i++;
  }
  let text = i === 0 ? raw : raw.slice(i);
  if (NEEDS_CLEANING.test(text)) text = text.replace(INVISIBLE, '').replace(SPACE_LIKE, ' ');
  text = text.trimEnd();
  if (text.length > MAX_CANDIDATE) return null;
  return { text, quoted };
}

// ── Attribution ────────────────────────────────────────────────────────────

export interface AttributionCandidate {
  readonly text: string;
  /** Written between dashes, Zoho's "---- On … wrote ----": the original follows unquoted. */
  readonly dashed: boolean;
}

const DECORATION = new Set(['-', '*', '_', ' ', '\t']);

/** Removes Zoho's dashes and Gmail's bold asterisks around an attribution. */
export function attributionCandidate(viewText: string): AttributionCandidate {
  let start = 0;
  let end = viewText.length;
  let leadDashes = 0;
  let trailDashes = 0;
  while (start < end && DECORATION.has(viewText[start]!)) {
    if (viewText[start] === '-') leadDashes++;
    start++;
  }
  while (end > start && DECORATION.has(viewText[end - 1]!)) {
    if (viewText[end - 1] === '-') trailDashes++;
    end--;
  }
  return { text: viewText.slice(start, end), dashed: leadDashes >= 2 && trailDashes >= 2 };
}

function hasDigit(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    if (code >= 48 && code <= 57) return true;
  }
  return false;
}

/** Does this (single or joined) candidate read as an attribution line? */
export function matchesAttribution(candidate: string): boolean {
  const length = candidate.length;
  if (length < 4 || length > MAX_CANDIDATE) return false;
  const digit = hasDigit(candidate);
  if (!digit && !candidate.includes('@')) return false;
  const last = candidate[length - 1];
  const colon = last === ':' || last === '：';
  const lower = candidate.toLowerCase();
  let coreEnd = lower.length;
  while (coreEnd > 0 && (lower[coreEnd - 1] === ':' || lower[coreEnd - 1] === '：' || lower[coreEnd - 1] === ' ')) coreEnd--;
  const core = coreEnd === lower.length ? lower : lower.slice(0, coreEnd);
  for (const rule of ATTRIBUTION_RULES) {
    if (rule.needsColon && !colon) continue;
    if (rule.evidence === 'digit' && !digit) continue;
    if (rule.endsWith !== undefined && !rule.endsWith.some((tail) => core.endsWith(tail))) continue;
    if (rule.includes !== undefined && !rule.includes.some((word) => lower.includes(word))) continue;
    if (rule.pattern.test(candidate)) return true;
  }
  return false;
}

/** Could this line be the first line of a wrapped attribution? */
export function isAttributionOpener(candidate: string): boolean {
  if (candidate.length > MAX_CANDIDATE || !hasDigit(candidate)) return false;
  return ATTRIBUTION_OPENERS.some((opener) => opener.test(candidate));
}

// ── Header blocks ──────────────────────────────────────────────────────────

export interface HeaderLine {
  readonly field: HeaderField;
  readonly value: string;
}

function stripStars(s: string, fromStart: boolean): string {
  let start = 0;
  let end = s.length;
  if (fromStart) while (start < end && (s[start] === '*' || s[start] === ' ')) start++;
  else while (end > start && (s[end - 1] === '*' || s[end - 1] === ' ')) end--;
  return s.slice(start, end);
}

/** "From: Dana", "*Sent:* Friday", "De : Dana", "寄件者：Dana" → field and value. */
export function headerLine(viewText: string): HeaderLine | null {
  const ascii = viewText.indexOf(':');
  if ((ascii < 0 || ascii > MAX_LABEL_LENGTH + 4) && !viewText.slice(0, MAX_LABEL_LENGTH + 4).includes('：')) return null;
  const text = viewText[0] === '*' || viewText[0] === ' ' ? stripStars(viewText, true) : viewText;
  const head = text.slice(0, MAX_LABEL_LENGTH + 1);
  let colon = head.indexOf(':');
  const wide = head.indexOf('：');
  if (wide >= 0 && (colon < 0 || wide < colon)) colon = wide;
  if (colon <= 0) return null;
  const label = stripStars(head.slice(0, colon), false).toLowerCase();
  const field = HEADER_LABEL_MAP.get(label);
  if (field === undefined) return null;
  return { field, value: stripStars(text.slice(colon + 1), true) };
}

/** "FW: …", "TR : …", "轉寄: …" */
export function isForwardSubject(value: string): boolean {
  const head = value.slice(0, 12);
  let colon = head.indexOf(':');
  const wide = head.indexOf('：');
  if (wide >= 0 && (colon < 0 || wide < colon)) colon = wide;
  if (colon <= 0) return false;
  return FORWARD_PREFIXES.has(head.slice(0, colon).trim().toLowerCase());
}

// ── Separators, rules, signatures ──────────────────────────────────────────

export function separatorKind(viewText: string): SeparatorKind | null {
  let start = 0;
  let end = viewText.length;
  while (start < end && (viewText[start] === '*' || viewText[start] === '_' || viewText[start] === ' ')) start++;
  while (end > start && (viewText[end - 1] === '*' || viewText[end - 1] === ' ')) end--;
  // Fast exit for ordinary lines: neither dashed nor ending in a colon.
  const lastChar = viewText[end - 1];
  if (viewText[start] !== '-' && lastChar !== ':' && lastChar !== '：') return null;
  let lead = 0;
  while (start < end && viewText[start] === '-') {
    lead++;
    start++;
  }
  let trail = 0;
  while (end > start && viewText[end - 1] === '-') {
    trail++;
    end--;
  }
  const core = viewText.slice(start, end).trim().toLowerCase();
  if (core === '') return null;
  if (lead >= 2 && trail >= 2) return DASHED_MAP.get(core) ?? null;
  if (lead !== 0 || trail !== 0) return null;
  const last = core[core.length - 1];
  if (last !== ':' && last !== '：') return null;
  return COLON_MAP.get(core.slice(0, -1).trimEnd()) ?? null;
}

const RULE_CHARS = new Set(['-', '_', '=', '*', '~', '+', '#']);

export function isRuleLine(viewText: string): boolean {
  return RULE_CHARS.has(viewText[0] ?? '') && RULE_LINE.test(viewText);
}

export function isTrailingNoise(raw: string): boolean {
  const trimmed = raw.trim();
  return trimmed.length <= MAX_STRUCTURAL_LINE && TRAILING_NOISE_LINE.test(trimmed);
}

export function isSignatureDelimiter(raw: string): boolean {
  return raw.length <= 4 && SIGNATURE_DELIMITER_SET.has(raw.trimEnd());
}

/** First characters (lower-cased) of every signature's `startsWith`, and the `endsWith` words. */
const SIGNATURE_FIRST_CHARS: ReadonlySet<string> = new Set(
  MOBILE_SIGNATURES.flatMap((rule) => (rule.startsWith ?? []).map((word) => word[0]!)),
);
const SIGNATURE_TAILS: readonly string[] = MOBILE_SIGNATURES.flatMap((rule) => rule.endsWith ?? []);

export function isMobileSignature(view: LineView): boolean {
  if (view.quoted || view.text.length > MAX_SIGNATURE_LINE) return false;
  const text = view.text.trimStart();
  const first = text[0]?.toLowerCase() ?? '';
  if (!SIGNATURE_FIRST_CHARS.has(first) && !SIGNATURE_TAILS.some((tail) => text.endsWith(tail))) return false;
  const lower = text.toLowerCase();
  for (const rule of MOBILE_SIGNATURES) {
    const literal =
      (rule.startsWith === undefined && rule.endsWith === undefined) ||
      (rule.startsWith?.some((word) => lower.startsWith(word)) ?? false) ||
      (rule.endsWith?.some((word) => lower.endsWith(word)) ?? false);
    if (literal && rule.pattern.test(text)) return true;
  }
  return false;
}

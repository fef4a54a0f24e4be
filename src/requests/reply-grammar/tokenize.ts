import type { Locale } from '../../shared/locale.js';
import { LEXICON, PUNCTUATION, type LexEntry, type Lexicon, type PunctClass, type WordClass } from './lexicon.js';
import { INNER_WORD_CHARS, charAt, elisionSplit, fold, isHan, isWordChar } from './text.js';

export type TokenClass = WordClass | PunctClass;

export interface Token {
  /** word = Latin-script word or phrase; han = Han word, Han name or unknown Han run. */
  readonly kind: 'word' | 'han' | 'punct';
  /** Original text, and its offsets in the line (so comments keep the decider's spelling). */
  readonly text: string;
  readonly start: number;
  readonly end: number;
  /** Folded form used for matching. */
  readonly fold: string;
  /** Lexicon class, or null for a word that may be a name. */
  readonly cls: TokenClass | null;
  readonly entry: LexEntry | null;
}

export interface TokenizeOptions {
  /** Han names of the people on the request, so 批准王小明 splits into 批准 + 王小明. */
  readonly hanNames: ReadonlySet<string>;
  readonly lexicon?: Lexicon;
}

/** End of a Latin word starting at `i`: word characters, with . _ + - @ ' inside only. */
function scanWord(line: string, i: number): number {
  let j = i;
  while (j < line.length) {
    const ch = charAt(line, j);
    if (isWordChar(ch)) {
      j += ch.length;
      continue;
    }
    const next = charAt(line, j + ch.length);
    if (INNER_WORD_CHARS.has(ch) && next !== '' && isWordChar(next)) {
      j += ch.length;
      continue;
    }
    break;
  }
  return j;
}

function scanHan(line: string, i: number): number {
  let j = i;
  while (j < line.length) {
    const ch = charAt(line, j);
    if (!isHan(ch)) break;
    j += ch.length;
  }
  return j;
}

function word(line: string, start: number, end: number): Token {
  const text = line.slice(start, end);
  return { kind: 'word', text, start, end, fold: fold(text), cls: null, entry: null };
}

/** Pushes a Latin word, split at a French elision (the apostrophe has the same index folded). */
function pushWord(out: Token[], line: string, start: number, end: number): void {
  const w = word(line, start, end);
  const k = elisionSplit(w.fold);
  const apostrophe = w.text.search(/['’‘ʼ`]/);
  if (k > 0 && apostrophe === k - 1) {
    out.push(word(line, start, start + k), word(line, start + k, end));
  } else {
    out.push(w);
  }
}

/**
 * Han text has no spaces: at each position take the longest lexicon word or person name; any
 * characters matching neither are gathered into one unknown run (reported as a name candidate).
 */
function segmentHan(out: Token[], line: string, start: number, end: number, opts: TokenizeOptions, lex: Lexicon): void {
  const maxLen = Math.max(lex.maxHanLength, ...[...opts.hanNames].map((n) => n.length));
  let unknownFrom = -1;
  const flush = (to: number): void => {
    if (unknownFrom < 0) return;
    const text = line.slice(unknownFrom, to);
    out.push({ kind: 'han', text, start: unknownFrom, end: to, fold: text, cls: null, entry: null });
    unknownFrom = -1;
  };
  let i = start;
  while (i < end) {
    let matched = 0;
    for (let len = Math.min(maxLen, end - i); len > 0 && matched === 0; len--) {
      const s = line.slice(i, i + len);
      if (lex.han.has(s) || opts.hanNames.has(s)) matched = len;
    }
    if (matched === 0) {
      if (unknownFrom < 0) unknownFrom = i;
      i += charAt(line, i).length;
      continue;
    }
    flush(i);
    const text = line.slice(i, i + matched);
    // On equal length the lexicon wins: a command word is never read as a name.
    const entry = lex.han.get(text) ?? null;
    out.push({ kind: 'han', text, start: i, end: i + matched, fold: text, cls: entry?.cls ?? null, entry });
    i += matched;
  }
  flush(end);
}

/** True when only spaces separate two tokens, so they can form a phrase ("but not"). */
function adjacent(line: string, a: Token, b: Token): boolean {
  return line.slice(a.end, b.start).trim() === '';
}

/** Replaces runs of Latin words by lexicon phrases, longest first ("tout le monde" before "tout"). */
function classify(atoms: readonly Token[], line: string, lex: Lexicon): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < atoms.length) {
    const a = atoms[i]!;
    if (a.kind !== 'word') {
      out.push(a);
      i++;
      continue;
    }
    let taken = 0;
    for (let n = Math.min(lex.maxPhraseWords, atoms.length - i); n > 0 && taken === 0; n--) {
      const parts = atoms.slice(i, i + n);
      if (parts.some((p, k) => p.kind !== 'word' || (k > 0 && !adjacent(line, parts[k - 1]!, p)))) continue;
      const entry = lex.latin.get(parts.map((p) => p.fold).join(' '));
      if (!entry) continue;
      const last = parts[parts.length - 1]!;
      const text = line.slice(a.start, last.end);
      out.push({ kind: 'word', text, start: a.start, end: last.end, fold: fold(text), cls: entry.cls, entry });
      taken = n;
    }
    if (taken === 0) {
      out.push(a);
      taken = 1;
    }
    i += taken;
  }
  return out;
}

/** Splits one line into tokens. Unknown punctuation (quotes, brackets, markdown) is skipped. */
export function tokenize(line: string, opts: TokenizeOptions): Token[] {
  const lex = opts.lexicon ?? LEXICON;
  const atoms: Token[] = [];
  let i = 0;
  while (i < line.length) {
    const ch = charAt(line, i);
    if (isHan(ch)) {
      const end = scanHan(line, i);
      segmentHan(atoms, line, i, end, opts, lex);
      i = end;
      continue;
    }
    if (isWordChar(ch)) {
      const end = scanWord(line, i);
      pushWord(atoms, line, i, end);
      i = end;
      continue;
    }
    const punct = PUNCTUATION.get(ch);
    // A hyphen is a dash only when it stands alone ("approve - thanks"), not "-thanks".
    const lone = ch !== '-' || (/\s/.test(line[i - 1] ?? ' ') && /\s/.test(line[i + 1] ?? ' '));
    if (punct && lone) {
      atoms.push({ kind: 'punct', text: ch, start: i, end: i + ch.length, fold: ch, cls: punct, entry: null });
    }
    i += ch.length;
  }
  return classify(atoms, line, lex);
}

/** Language of a lexicon token; null when it could be several ("refuse" is English and French). */
export function tokenLanguage(t: Token): Locale | null {
  if (!t.entry) return null;
  if (t.entry.langs.length === 1) return t.entry.langs[0] ?? null;
  const written = t.entry.forms.get(t.text.toLowerCase().normalize('NFC'));
  return written && written.length === 1 ? (written[0] ?? null) : null;
}

/**
 * Character-level helpers shared by the lexicon, the tokenizer and the name index. Everything is
 * a per-character test or a single-pass replace — no backtracking regular expressions, so long
 * replies cost linear time.
 */

const COMBINING_MARK = /\p{M}/gu;
const APOSTROPHES = /[’‘ʼ`]/g;
const HAN = /\p{Script=Han}/u;
const WORD = /[\p{L}\p{N}\p{M}]/u;

/**
 * Case-, accent- and width-insensitive form: NFKD (also turns full-width Latin into ASCII),
 * drop combining marks ("zoé" → "zoe"), lower-case, and one kind of apostrophe.
 */
export function fold(s: string): string {
  return s.normalize('NFKD').replace(COMBINING_MARK, '').toLowerCase().replace(APOSTROPHES, "'");
}

export function isHan(ch: string): boolean {
  return HAN.test(ch);
}

/** A letter, digit or mark that is not Han (Han text is segmented separately: it has no spaces). */
export function isWordChar(ch: string): boolean {
  return WORD.test(ch) && !HAN.test(ch);
}

/** Characters allowed inside a word when a word character follows: alex.kim@x.example, jean-luc, don't. */
export const INNER_WORD_CHARS: ReadonlySet<string> = new Set(['.', '_', '+', '-', '@', "'", '’']);

/** The whole character (code point) at `i`, so astral Han characters are not split. */
export function charAt(s: string, i: number): string {
  const cp = s.codePointAt(i);
  return cp === undefined ? '' : String.fromCodePoint(cp);
}

/** French elided words that stand in front of the next word: j'approuve → j' + approuve. */
export const ELISIONS: ReadonlySet<string> = new Set(["c'", "d'", "j'", "l'", "m'", "n'", "qu'", "s'", "t'"]);

/**
 * Splits a folded word at a French elision ("n'approuvez" → ["n'", "approuvez"]). Addresses
 * (containing @) are left whole. Returns the index after the apostrophe, or -1.
 */
export function elisionSplit(folded: string): number {
  if (folded.includes('@')) return -1;
  const k = folded.indexOf("'");
  if (k <= 0 || k === folded.length - 1) return -1;
  return ELISIONS.has(folded.slice(0, k + 1)) ? k + 1 : -1;
}

/** Trims characters that are neither letters nor digits from both ends ("(alice)" → "alice"). */
export function stripPunctuation(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && !WORD.test(s[a] ?? '') && !HAN.test(s[a] ?? '')) a++;
  while (b > a && !WORD.test(s[b - 1] ?? '') && !HAN.test(s[b - 1] ?? '')) b--;
  return s.slice(a, b);
}

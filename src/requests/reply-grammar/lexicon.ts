import type { Locale } from '../../shared/locale.js';
import { LEXICON_EN } from './lexicon-en.js';
import { LEXICON_FR } from './lexicon-fr.js';
import { LEXICON_ZH_TW } from './lexicon-zh-tw.js';
import type { LexiconData, WordClass } from './lexicon-types.js';
import { elisionSplit, fold, isHan } from './text.js';

export type { LexiconData, WordClass } from './lexicon-types.js';

export const LEXICONS: readonly LexiconData[] = [LEXICON_EN, LEXICON_FR, LEXICON_ZH_TW];

/** Role of a punctuation mark. ':' '：' and dashes introduce the comment, like "because". */
export type PunctClass = 'and' | 'stop' | 'question' | 'because';

export const PUNCTUATION: ReadonlyMap<string, PunctClass> = new Map<string, PunctClass>([
  [',', 'and'], ['，', 'and'], ['、', 'and'], ['﹐', 'and'], ['﹑', 'and'],
  [';', 'and'], ['；', 'and'], ['&', 'and'], ['＆', 'and'],
  ['.', 'stop'], ['．', 'stop'], ['。', 'stop'], ['!', 'stop'], ['！', 'stop'], ['…', 'stop'],
  ['?', 'question'], ['？', 'question'],
  [':', 'because'], ['：', 'because'], ['﹕', 'because'],
  ['—', 'because'], ['–', 'because'], ['―', 'because'], ['-', 'because'],
]);

export interface LexEntry {
  readonly cls: WordClass;
  /** Languages the entry belongs to ("refuse" is both English and French). */
  readonly langs: readonly Locale[];
  /** Written forms with their language, to tell "refusé" (fr) from "refuse" (en/fr). */
  readonly forms: ReadonlyMap<string, Locale[]>;
}

export interface Lexicon {
  /** Latin words and phrases; key = folded words joined by one space. */
  readonly latin: ReadonlyMap<string, LexEntry>;
  readonly maxPhraseWords: number;
  /** Han words, matched longest-first inside runs of Han characters. */
  readonly han: ReadonlyMap<string, LexEntry>;
  readonly maxHanLength: number;
}

/** Folded, elision-split words of a Latin phrase — the same shape the tokenizer produces. */
export function phraseWords(phrase: string): string[] {
  const out: string[] = [];
  for (const w of fold(phrase).split(' ')) {
    if (w === '') continue;
    const k = elisionSplit(w);
    if (k > 0) out.push(w.slice(0, k), w.slice(k));
    else out.push(w);
  }
  return out;
}

function buildLexicon(sources: readonly LexiconData[]): Lexicon {
  const latin = new Map<string, LexEntry>();
  const han = new Map<string, LexEntry>();
  let maxPhraseWords = 1;
  let maxHanLength = 1;
  for (const source of sources) {
    for (const [cls, words] of Object.entries(source.words) as [WordClass, readonly string[]][]) {
      for (const word of words) {
        const cjk = [...word].some(isHan);
        const key = cjk ? word.normalize('NFC') : phraseWords(word).join(' ');
        if (cjk) maxHanLength = Math.max(maxHanLength, key.length);
        else maxPhraseWords = Math.max(maxPhraseWords, key.split(' ').length);
        const map = cjk ? han : latin;
        const old = map.get(key);
        // One key, one meaning: a word that could both approve and deny would be a silent guess.
        if (old && old.cls !== cls) throw new Error(`reply lexicon: "${word}" is both ${old.cls} and ${cls}`);
        const langs = new Set<Locale>(old?.langs ?? []);
        langs.add(source.lang);
        const forms = new Map(old?.forms ?? []);
        const written = word.toLowerCase().normalize('NFC');
        forms.set(written, [...(forms.get(written) ?? []), source.lang]);
        map.set(key, { cls, langs: [...langs], forms });
      }
    }
  }
  return { latin, maxPhraseWords, han, maxHanLength };
}

export const LEXICON: Lexicon = buildLexicon(LEXICONS);

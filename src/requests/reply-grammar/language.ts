import type { Locale } from '../../shared/locale.js';
import { LEXICON } from './lexicon.js';
import { fold } from './text.js';

/** Common French words that are not in the command lexicon; they outvote a stray accent in a name. */
const FR_HINTS: ReadonlySet<string> = new Set([
  'le', 'la', 'les', 'de', 'des', 'du', 'un', 'une', 'et', 'est', 'je', 'vous', 'nous', 'pas', 'pour',
  'avec', 'merci', 'bonjour', 'oui', 'non', 'ce', 'cette', 'que', 'qui', 'sur', 'dans', 'bien', 'tres',
  'ca', 'mais', 'ou', 'au', 'aux', 'svp', 'bonne', 'journee', 'cordialement',
]);
const EN_HINTS: ReadonlySet<string> = new Set([
  'the', 'and', 'is', 'to', 'of', 'you', 'i', 'it', 'for', 'with', 'this', 'that', 'please', 'thanks',
  'thank', 'yes', 'no', 'not', 'good', 'looks', 'me', 'my', 'ok', 'okay', 'great', 'sure', 'hi', 'hello',
]);
const FRENCH_LETTERS = /[àâçéèêëîïôûùüÿœæ]/i;
const HAN = /\p{Script=Han}/u;
const LATIN = /\p{Script=Latin}/u;
const WORD_SPLIT = /[^\p{L}\p{M}']+/u;
const ELIDED = new Set(["c'", "d'", "j'", "l'", "m'", "n'", "qu'", "s'", "t'"]);
const SAMPLE = 2000;

/**
 * Guess the language of free text (used when no command word told us): any Han character →
 * zh-TW; otherwise French when French words (or elisions, or, as a tie-breaker, accents)
 * outnumber English ones; any Latin letter → en; nothing → null.
 */
export function detectLanguage(text: string): Locale | null {
  const sample = text.trim().slice(0, SAMPLE);
  if (sample === '') return null;
  if (HAN.test(sample)) return 'zh-TW';
  if (!LATIN.test(sample)) return null;
  let fr = FRENCH_LETTERS.test(sample) ? 0.5 : 0;
  let en = 0;
  for (const raw of fold(sample).split(WORD_SPLIT)) {
    if (raw === '') continue;
    const apostrophe = raw.indexOf("'");
    if (apostrophe > 0 && ELIDED.has(raw.slice(0, apostrophe + 1))) {
      fr += 1;
      continue;
    }
    const langs = LEXICON.latin.get(raw)?.langs ?? [];
    const isFr = FR_HINTS.has(raw) || (langs.includes('fr') && !langs.includes('en'));
    const isEn = EN_HINTS.has(raw) || (langs.includes('en') && !langs.includes('fr'));
    if (isFr && !isEn) fr += 1;
    if (isEn && !isFr) en += 1;
  }
  return fr > en ? 'fr' : 'en';
}

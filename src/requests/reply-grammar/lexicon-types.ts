import type { Locale } from '../../shared/locale.js';

/**
 * What a word does in a reply. Kept as plain data so that adding a language (or a synonym) never
 * touches the parser.
 * - approve / deny: command verbs.
 * - all: "everyone still waiting"; except / exceptEnd: "all but …" (exceptEnd closes 除…以外).
 * - because: everything after it is the decider's comment.
 * - neg: negation — a negated command is never a decision.
 * - and: list separator or clause joiner.
 * - polite / filler: carry no meaning ("please", "the request").
 * - subject / aux: allowed just before a verb ("I", "have", "hereby").
 * - greeting: "Hi", "Bonjour", "您好" (lets a greeting line or prefix be skipped).
 * - cond: conditionals, hedges and alternatives ("if", "maybe", "or") — never a decision.
 */
export type WordClass =
  | 'approve'
  | 'deny'
  | 'all'
  | 'except'
  | 'exceptEnd'
  | 'because'
  | 'neg'
  | 'and'
  | 'polite'
  | 'filler'
  | 'subject'
  | 'aux'
  | 'greeting'
  | 'cond';

export interface LexiconData {
  readonly lang: Locale;
  /** Words and phrases, written naturally (accents, apostrophes); folded when the lexicon loads. */
  readonly words: Readonly<Partial<Record<WordClass, readonly string[]>>>;
}

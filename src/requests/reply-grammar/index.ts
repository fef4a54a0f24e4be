/** Reply grammar: turns what a decider wrote into per-person decisions (or says why it cannot). */
export {
  interpretReply,
  detectLanguage,
  type Interpretation,
  type RequestPerson,
  type UnclearReason,
  type Verdict,
} from './interpret.js';
export { LEXICONS, type LexiconData, type WordClass } from './lexicon.js';

import type { LexiconData } from './lexicon-types.js';

/**
 * English. "ok" and "yes" are deliberately absent from `approve`: they answer too many other
 * questions ("ok, I'll look at it") to be read as a decision.
 */
export const LEXICON_EN: LexiconData = {
  lang: 'en',
  words: {
    approve: ['approve', 'approved', 'approves', 'accept', 'accepted', 'accepts'],
    deny: [
      'deny', 'denied', 'denies', 'reject', 'rejected', 'rejects',
      'decline', 'declined', 'declines', 'refuse', 'refused', 'refuses',
    ],
    all: ['all', 'everyone', 'everybody', 'others', 'rest'],
    except: ['except', 'except for', 'but', 'but not', 'excluding', 'other than', 'apart from'],
    because: ['because', 'because of', 'reason', 'reasons'],
    neg: [
      "don't", 'dont', 'do not', 'never', 'not', 'no', 'none', 'nobody', "can't", 'cant',
      'cannot', "won't", 'wont', "shouldn't", "wouldn't", "mustn't", "didn't", "doesn't", "isn't",
    ],
    and: ['and', 'then', 'plus', 'as well as'],
    // Interjections are harmless next to a verb ("OK, approve") and never approve on their own.
    polite: ['please', 'pls', 'plz', 'thanks', 'thank you', 'thx', 'kindly', 'cheers', 'ok', 'okay', 'yes', 'sure'],
    filler: [
      'the', 'a', 'request', 'requests', 'licence', 'license', 'licences', 'licenses',
      'it', 'this', 'that', 'these', 'them', 'for', 'of', 'else', 'is', 'are',
    ],
    subject: ['i', 'we', "i'll", "we'll", "i've", "we've"],
    aux: ['hereby', 'also', 'have', 'has', 'will', 'just'],
    greeting: ['hi', 'hello', 'hey', 'dear', 'greetings', 'good morning', 'good afternoon', 'good evening'],
    cond: ['if', 'unless', 'when', 'once', 'until', 'after', 'maybe', 'perhaps', 'probably', 'or'],
  },
};

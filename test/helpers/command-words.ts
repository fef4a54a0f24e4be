/**
 * The approve/deny words of every reply language, found in a text: shared by the tests that check
 * that damage or quoting never lends a reply a command its writer did not write.
 */
import { LEXICONS } from '../../src/requests/reply-grammar/index.js';

const VERBS = LEXICONS.flatMap((l) => [...(l.words.approve ?? []), ...(l.words.deny ?? [])]).sort((a, b) => b.length - a.length);
export const escapeRegExp = (w: string): string => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Any approve/deny verb of any language; Latin words only as whole words. */
export const VERB_RE = new RegExp(VERBS.map((w) => (/^[\p{Script=Han}]+$/u.test(w) ? escapeRegExp(w) : `(?<![\\p{L}'’])${escapeRegExp(w)}(?![\\p{L}])`)).join('|'), 'giu');

export const countVerbs = (s: string): number => (s.match(VERB_RE) ?? []).length;

const CLASS = new Map<string, 'approve' | 'deny'>(LEXICONS.flatMap((l) => [...(l.words.approve ?? []).map((w) => [w.toLowerCase(), 'approve'] as const), ...(l.words.deny ?? []).map((w) => [w.toLowerCase(), 'deny'] as const)]));

/**
 * The approve/deny words of `text` beyond those `source` has: words that came from elsewhere.
 * Counted per meaning, not per spelling: damage that turns the writer's "approuver" into
 * "approuve" rewords their own word and lends nothing.
 */
export function verbsNotIn(text: string, source: string): string[] {
  const left = new Map<string, number>();
  for (const v of source.match(VERB_RE) ?? []) {
    const c = CLASS.get(v.toLowerCase())!;
    left.set(c, (left.get(c) ?? 0) + 1);
  }
  const extra: string[] = [];
  for (const v of text.match(VERB_RE) ?? []) {
    const c = CLASS.get(v.toLowerCase())!;
    const n = left.get(c) ?? 0;
    if (n > 0) left.set(c, n - 1);
    else extra.push(v);
  }
  return extra;
}

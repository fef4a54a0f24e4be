/**
 * The discourse/email_reply_trimmer corpus (64 real replies, many clients and
 * languages), fed as plain text. What is kept must start where the corpus's
 * trimmed text starts, and no distinctive line of the part the corpus cuts off
 * may be kept.
 */
import { describe, expect, it } from 'vitest';
import { extractReply } from '../../src/mail/inbound/extract-reply.js';
import {
  distinctiveElidedLines,
  expectedFirstLine,
  firstNonEmptyLine,
  isForwardOnly,
  judgeCorpus,
  loadCorpus,
} from '../helpers/reply-cases.js';

const corpus = loadCorpus();

describe('reply corpus (discourse/email_reply_trimmer)', () => {
  it('has the 64 cases', () => {
    expect(corpus).toHaveLength(64);
  });

  it.each(corpus.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const result = extractReply({ text: c.email });
    const verdict = judgeCorpus(c, result.text);
    expect(firstNonEmptyLine(result.text)).toBe(expectedFirstLine(c));
    expect(verdict.leaks).toEqual([]);
    expect(verdict.firstLineOk).toBe(true);
  });

  it('keeps nothing of a mail that is only a forward (a command in it is not the sender’s)', () => {
    const forwardOnly = corpus.filter(isForwardOnly);
    // Exactly one corpus case is a bare forward; the corpus keeps its body, Mailgrant keeps nothing.
    expect(forwardOnly.map((c) => c.name)).toEqual(['forwarded_message']);
    for (const c of forwardOnly) {
      const result = extractReply({ text: c.email });
      expect(result).toMatchObject({ text: '', source: 'none', forwarded: true });
      expect(firstNonEmptyLine(c.trimmed)).not.toBe('');
    }
  });

  it('checks a leak on most cases (the corpus is not trivially passed)', () => {
    const withElided = corpus.filter((c) => distinctiveElidedLines(c).length > 0);
    expect(withElided.length).toBeGreaterThanOrEqual(50);
  });
});

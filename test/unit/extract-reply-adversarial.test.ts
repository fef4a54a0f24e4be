/**
 * Hostile 1 MB bodies built from 100 KB adversarial lines ('On ' + a×100K, '>'×100K, 'From: ' +
 * spaces, dashes, 寄件者：repeated, near-miss attributions, 10,000-deep HTML nesting, stray end
 * tags…): extraction finishes, keeps a bounded text, and still finds a reply written above such
 * a body.
 *
 * How fast is not asserted here: it is a figure of `npm run bench` (`extract_adversarial_ms`,
 * target ≤ 50 ms, the slowest case's median CPU time; about 35 ms on this machine) and
 * `npm run bench:replies` prints every case. A unit test that timed a 35 ms call against 50 ms
 * failed CI on a busy machine. What stays is a guard against a hang: a super-linear pattern or
 * scan on 1 MB takes minutes, so a limit ~60 times the measured time never trips on a healthy
 * extractor and still names the case that went quadratic, where the suite's own timeout
 * cannot interrupt a synchronous call.
 *
 * And the shape of every rule pattern: anchored to one line, no quantified group
 * (the nested-quantifier form behind catastrophic backtracking).
 */
import { describe, expect, it } from 'vitest';
import { extractReply } from '../../src/mail/inbound/extract-reply.js';
import { ATTRIBUTION_OPENERS, ATTRIBUTION_RULES } from '../../src/mail/inbound/reply-rules/attribution.js';
import { RULE_LINE, TRAILING_NOISE_LINE } from '../../src/mail/inbound/reply-rules/separators.js';
import { MOBILE_SIGNATURES } from '../../src/mail/inbound/reply-rules/signatures.js';
import { adversarialCases, timeCase } from '../helpers/reply-cases.js';

/** Far above any healthy run (see above): a hang guard, not a speed measurement. */
const HANG_GUARD_CPU_MS = 2_000;

describe('extractReply on adversarial 1 MB bodies', () => {
  it.each(adversarialCases().map((c) => [c.name, c] as const))('%s', (_name, c) => {
    let text = '';
    const timing = timeCase(() => {
      text = extractReply(c.input).text;
    }, 1);
    expect(timing.worstCpuMs).toBeLessThan(HANG_GUARD_CPU_MS);
    // Whatever is kept is bounded too.
    expect(text.length).toBeLessThanOrEqual(128 * 1024);
  });

  it('still finds the reply above a hostile body', () => {
    const body = `approve alice\n\nOn Fri, Nov 20, 2026 at 3:04 PM Mailgrant <m@x> wrote:\n${'> '.repeat(50_000)}\n${'寄件者：'.repeat(50_000)}`;
    expect(extractReply({ text: body })).toMatchObject({ text: 'approve alice', quoted: true });
  });
});

describe('rule patterns', () => {
  const patterns: [string, RegExp][] = [
    ...ATTRIBUTION_RULES.map((r): [string, RegExp] => [`attribution ${r.id}`, r.pattern]),
    ...ATTRIBUTION_OPENERS.map((p, i): [string, RegExp] => [`opener ${i}`, p]),
    ...MOBILE_SIGNATURES.map((r, i): [string, RegExp] => [`signature ${r.lang} ${i}`, r.pattern]),
    ['rule line', RULE_LINE],
    ['trailing noise', TRAILING_NOISE_LINE],
  ];

  it.each(patterns)('%s is anchored, single-line and has no quantified group', (_name, pattern) => {
    expect(pattern.source.startsWith('^')).toBe(true);
    expect(pattern.source.endsWith('$')).toBe(true);
    expect(pattern.flags).not.toContain('m');
    expect(pattern.flags).not.toContain('s');
    expect(pattern.source).not.toMatch(/\)[*+{]/);
    expect(pattern.source).not.toMatch(/(?<!\\)\.[*+]/); // no unbounded wildcard
  });
});

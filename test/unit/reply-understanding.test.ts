import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { extractReply } from '../../src/mail/inbound/extract-reply.js';
import { parseMessage } from '../../src/mail/inbound/parse.js';
import { interpretReply } from '../../src/requests/reply-grammar/index.js';

/**
 * What a decider sees: a real mail from a real client goes through parsing, extraction and the
 * grammar, and comes out as the decisions they wrote — never as decisions quoted from the
 * shared-request mail below, which itself says "approve" and "deny".
 */
const DIR = join(import.meta.dirname, '../fixtures/replies');
const people = ['alice', 'bob', 'carol'].map((n) => ({ email: `${n}@contoso.example`, name: `${n[0]!.toUpperCase()}${n.slice(1)} Test`, pending: true }));
const A = 'alice@contoso.example';
const B = 'bob@contoso.example';
const C = 'carol@contoso.example';

const expected: Record<string, { kind: 'decision'; decisions: [string, 'approve' | 'deny'][]; language: string } | { kind: 'unclear' }> = {
  'apple-mail': { kind: 'decision', decisions: [[A, 'approve'], [B, 'deny']], language: 'en' },
  'empty-reply-gmail': { kind: 'unclear' },
  'forwarded-only-apple': { kind: 'unclear' },
  'forwarded-share': { kind: 'unclear' },
  'fr-outlook-noaddr': { kind: 'decision', decisions: [[A, 'approve'], [B, 'deny']], language: 'fr' },
  'fr-outlook-plain-iso88591': { kind: 'decision', decisions: [[A, 'approve'], [B, 'deny']], language: 'fr' },
  'gmail-html-only': { kind: 'decision', decisions: [[A, 'approve'], [B, 'deny'], [C, 'approve']], language: 'en' },
  'outlook-ios': { kind: 'decision', decisions: [[A, 'approve'], [B, 'deny'], [C, 'approve']], language: 'en' },
  'outlook-web-html-only': { kind: 'decision', decisions: [[A, 'approve'], [B, 'deny']], language: 'en' },
  'thanks-only-en': { kind: 'unclear' },
  'thanks-only-fr': { kind: 'unclear' },
  'thanks-only-zh-tw': { kind: 'unclear' },
  thunderbird: { kind: 'decision', decisions: [[A, 'approve'], [B, 'deny'], [C, 'approve']], language: 'en' },
  'zh-tw-gmail': { kind: 'decision', decisions: [[A, 'approve'], [B, 'deny']], language: 'zh-TW' },
  'zh-tw-ios': { kind: 'decision', decisions: [[A, 'approve'], [B, 'deny']], language: 'zh-TW' },
  'zh-tw-outlook-big5': { kind: 'decision', decisions: [[A, 'approve'], [B, 'deny']], language: 'zh-TW' },
  'zh-tw-outlook-web-x-prefix': { kind: 'decision', decisions: [[B, 'approve'], [C, 'deny']], language: 'zh-TW' },
};

const fixtures = readdirSync(DIR).filter((f) => f.endsWith('.eml')).map((f) => f.slice(0, -4));

describe('replies from real clients, understood end to end', () => {
  it('every fixture has an expectation', () => {
    expect(fixtures.filter((f) => !(f in expected) && f !== 'zh-cn-outlook-gbk')).toEqual([]);
  });

  it.each(Object.keys(expected))('%s', async (name) => {
    const msg = await parseMessage(readFileSync(join(DIR, `${name}.eml`)));
    const kept = extractReply({ text: msg.text, html: msg.html });
    const result = interpretReply(kept.text, people);
    const want = expected[name]!;
    if (want.kind === 'unclear') {
      expect(result.kind, `kept text: ${JSON.stringify(kept.text)}`).toBe('unclear');
      return;
    }
    expect(result.kind, `kept text: ${JSON.stringify(kept.text)}`).toBe('decision');
    if (result.kind !== 'decision') return;
    expect(result.decisions.map((d) => [d.user, d.verdict])).toEqual(want.decisions);
    expect(result.language).toBe(want.language);
  });

  it('Simplified Chinese, outside the three languages, never produces a guess', async () => {
    const msg = await parseMessage(readFileSync(join(DIR, 'zh-cn-outlook-gbk.eml')));
    const result = interpretReply(extractReply({ text: msg.text, html: msg.html }).text, people);
    // 批准 is shared with Traditional Chinese; 拒绝 (simplified) is not a word Mailgrant knows,
    // so the whole reply is either fully understood or unclear — never half applied.
    if (result.kind === 'decision') expect(result.decisions.map((d) => d.user)).toContain(B);
    else expect(result.kind).toBe('unclear');
  });
});

describe('a reply cut off on its way', () => {
  it('is not read at all: cut after "approve" in the HTML part of "approve alice", it would approve everyone', async () => {
    const raw = readFileSync(join(DIR, 'apple-mail.eml'));
    const s = raw.toString('latin1');
    // Quoted-printable: "appr=\r\nove alice" in the HTML part.
    const html = s.indexOf('appr=\r\nove alice', s.search(/content-type:\s*text\/html/i));
    expect(html).toBeGreaterThan(0);
    const cut = raw.subarray(0, html + 'appr=\r\nove'.length);
    await expect(parseMessage(cut)).rejects.toMatchObject({ code: 'parse_failed', message: expect.stringContaining('cut off') });
    // The whole message, ending with its line break, reads as written.
    const whole = await parseMessage(raw);
    expect(interpretReply(extractReply({ text: whole.text, html: whole.html }).text, people)).toMatchObject({ kind: 'decision' });
  });

  it('is refused wherever the cut falls: 200 seeded cuts across every fixture', async () => {
    const files = readdirSync(DIR).filter((f) => f.endsWith('.eml')).sort();
    let seed = 20261121;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed / 2 ** 31);
    for (let i = 0; i < 200; i++) {
      const raw = readFileSync(join(DIR, files[i % files.length]!));
      let at = Math.floor(rand() * raw.length);
      // A cut that happens to fall right after a line break leaves whole lines: not this test's case.
      while (at > 0 && (raw[at - 1] === 0x0a || raw[at - 1] === 0x0d)) at--;
      if (at === 0) continue;
      await expect(parseMessage(raw.subarray(0, at)), `${files[i % files.length]} cut at ${at}`).rejects.toMatchObject({ code: 'parse_failed' });
    }
  });
});

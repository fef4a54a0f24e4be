/**
 * Own .eml fixtures for what the corpus lacks (Traditional/Simplified Chinese,
 * French Outlook without addresses, HTML-only mail, Big5/GBK/ISO-8859-1,
 * forwards, empty and "thanks" replies), parsed with mailparser as the daemon
 * does, then extracted. Each NAME.eml has NAME.expected.txt beside it.
 */
import { describe, expect, it } from 'vitest';
import { extractReply } from '../../src/mail/inbound/extract-reply.js';
import { COMMAND_WORDS, loadEmlFixtures, parseFixture } from '../helpers/reply-cases.js';

const fixtures = loadEmlFixtures();

/** Lines of the decoded mail that carry a command word and are not part of the reply. */
function quotedCommandLines(decoded: string, expected: string): string[] {
  return decoded
    .split(/\r?\n/)
    .map((line) => line.replace(/^[>\s]+/, '').trim())
    .filter((line) => line.length >= 6 && COMMAND_WORDS.test(line) && !expected.includes(line));
}

describe('reply fixtures (.eml)', () => {
  it('covers the client families', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(18);
    const names = fixtures.map((f) => f.name);
    for (const required of [
      'zh-tw-outlook-big5',
      'zh-tw-gmail',
      'zh-tw-ios',
      'fr-outlook-noaddr',
      'fr-outlook-plain-iso88591',
      'outlook-web-html-only',
      'gmail-html-only',
      'zh-cn-outlook-gbk',
      'apple-mail',
      'thunderbird',
      'outlook-ios',
      'forwarded-share',
      'empty-reply-gmail',
      'thanks-only-en',
      'thanks-only-fr',
      'thanks-only-zh-tw',
    ]) {
      expect(names).toContain(required);
    }
  });

  describe.each(fixtures.map((f) => [f.name, f] as const))('%s', (name, fixture) => {
    it('mailparser decodes the charset and transfer encoding', async () => {
      const parsed = await parseFixture(fixture.raw);
      const decoded = `${parsed.text}\n${parsed.html ?? ''}`;
      expect(decoded).not.toContain('\ufffd');
      expect(decoded).not.toMatch(/=[0-9A-F]{2}=[0-9A-F]{2}/); // no quoted-printable left over
      if (parsed.hasTextPart && fixture.expected !== '') {
        expect(parsed.text).toContain(fixture.expected.split('\n')[0]);
      }
    });

    it('keeps exactly what the person wrote', async () => {
      const parsed = await parseFixture(fixture.raw);
      const result = extractReply(parsed.input);
      expect(result.text).toBe(fixture.expected);
      expect(result.source).toBe(fixture.expected === '' ? 'none' : parsed.html !== null ? 'html' : 'text');
      expect(result.quoted || result.forwarded).toBe(true);
      expect(result.forwarded).toBe(name.startsWith('forwarded-'));
    });

    it('reads the text part alone the same way', async () => {
      const parsed = await parseFixture(fixture.raw);
      if (!parsed.hasTextPart) return;
      expect(extractReply({ text: parsed.text }).text).toBe(fixture.expected);
    });

    it('never keeps a command line of the quoted or forwarded part', async () => {
      const parsed = await parseFixture(fixture.raw);
      const quotedLines = quotedCommandLines(parsed.text, fixture.expected);
      // Every fixture quotes a Mailgrant request ("Reply with: approve, deny bob, …").
      expect(quotedLines.length).toBeGreaterThan(0);
      const kept = extractReply(parsed.input).text;
      for (const line of quotedLines) expect(kept).not.toContain(line);
    });
  });
});

describe('extractReply input handling', () => {
  it('returns nothing for no input', () => {
    expect(extractReply({})).toEqual({ text: '', source: 'none', forwarded: false, quoted: false });
    expect(extractReply({ text: null, html: null })).toEqual({ text: '', source: 'none', forwarded: false, quoted: false });
  });

  it('falls back to the text part when the HTML has neither text nor a quote', () => {
    const result = extractReply({ html: '<html><body><img src="cid:logo"></body></html>', text: 'approve alice\n\n> Reply with: approve' });
    expect(result).toMatchObject({ text: 'approve alice', source: 'text', quoted: true });
  });

  it('does not fall back to the text part when the HTML shows a quote with nothing above it', () => {
    const result = extractReply({
      html: '<div><br></div><div class="gmail_quote">On Fri, Nov 20, 2026 at 3:04 PM Mailgrant &lt;m@x&gt; wrote:<blockquote>approve all</blockquote></div>',
      // A text part that carries the original without ">" must not pass for the reply.
      text: 'On Fri, Nov 20, 2026 at 3:04 PM Mailgrant <m@x> wrote:\napprove all',
    });
    expect(result).toMatchObject({ text: '', source: 'none', quoted: true });
  });

  it('reads a bottom-posted reply under a quote', () => {
    const text = 'On Fri, Nov 20, 2026 at 3:04 PM Mailgrant <m@x> wrote:\n> Reply with: approve, deny bob\n\ndeny bob: no budget';
    expect(extractReply({ text })).toMatchObject({ text: 'deny bob: no budget', quoted: true });
    const html =
      '<div class="moz-cite-prefix">On 20/11/2026 15:04, Mailgrant wrote:<br></div><blockquote type="cite">Reply with: approve</blockquote><p>deny bob: no budget</p>';
    expect(extractReply({ html })).toMatchObject({ text: 'deny bob: no budget', source: 'html', quoted: true });
  });

  it('keeps a reply whose own words end in a colon', () => {
    const text = 'approve 3 seats for alice\ndeny bob:\nno budget this quarter\n\n> Reply with: approve';
    expect(extractReply({ text }).text).toBe('approve 3 seats for alice\ndeny bob:\nno budget this quarter');
  });
});

describe('other client shapes', () => {
  const request = 'Reply with: approve, deny bob, approve all except bob';
  it.each([
    ['Outlook text part, empty reply', { text: `\n\nFrom: Mailgrant <m@x>\nSent: Friday, November 20, 2026 3:04 PM\nTo: Alice\nSubject: req\n\n${request}` }, ''],
    ['Yahoo text part', { text: `approve\n\n\n    On Friday, November 20, 2026, 03:04:12 PM GMT+1, Mailgrant <m@x> wrote:  \n\n\n${request}` }, 'approve'],
    ['Zoho, empty reply (unquoted original)', { text: `\n---- On Fri, 20 Nov 2026 15:04:00 +0100 Mailgrant <m@x> wrote ----\n\n${request}` }, ''],
    ['Zoho', { text: `deny bob\n\n---- On Fri, 20 Nov 2026 15:04:00 +0100 Mailgrant <m@x> wrote ----\n\n${request}` }, 'deny bob'],
    ['Outlook de', { text: `genehmigen\n\n-----Ursprüngliche Nachricht-----\nVon: Mailgrant\nGesendet: Freitag, 20. November 2026 15:04\nAn: Alice\nBetreff: x\n\n${request}` }, 'genehmigen'],
    ['Gmail ko', { text: `승인\n\n2026년 11월 20일 (금) 오후 3:04, Mailgrant <m@x>님이 작성:\n> ${request}` }, '승인'],
    ['Gmail ja', { text: `承認します\n\n2026年11月20日(金) 15:04 Mailgrant <m@x>:\n> ${request}` }, '承認します'],
    ['Gmail zh-CN', { text: `批准\n\nMailgrant <m@x> 于2026年11月20日周五 15:04写道：\n> ${request}` }, '批准'],
    ['Apple Mail zh-CN', { text: `批准\n\n> 在 2026年11月20日，15:04，Mailgrant <m@x> 写道：\n> \n> ${request}` }, '批准'],
    ['Yahoo HTML', { html: `<div>approve alice</div><div id="yahoo_quoted_1234" class="yahoo_quoted"><div>On Friday, November 20, 2026, 03:04:12 PM GMT+1, Mailgrant &lt;m@x&gt; wrote:</div><div>${request}</div></div>` }, 'approve alice'],
    ['Proton Mail HTML', { html: `<div>deny bob: no budget</div><div class="protonmail_signature_block">Sent with Proton Mail secure email.</div><div class="protonmail_quote">On Friday, November 20th, 2026 at 15:04, Mailgrant &lt;m@x&gt; wrote:<blockquote class="protonmail_quote" type="cite">${request}</blockquote></div>` }, 'deny bob: no budget'],
    ['Zimbra HTML', { html: `<div>approve all</div><hr id="zwchr"><div><b>From: </b>Mailgrant</div><div>${request}</div>` }, 'approve all'],
    ['Outlook for Mac HTML', { html: `<div>approve</div><div id="OLK_SRC_BODY_SECTION"><b>From: </b>Mailgrant<br>${request}</div>` }, 'approve'],
    ['Outlook HTML mode: <hr> then From:/Sent:', { html: `<p>approve alice</p><hr><p><b>From:</b> Mailgrant<br><b>Sent:</b> Friday<br>${request}</p>` }, 'approve alice'],
    ['unknown client, plain <blockquote>', { html: `<p>approve alice</p><blockquote>${request}</blockquote>` }, 'approve alice'],
  ] as const)('%s', (_name, input, expected) => {
    const result = extractReply(input);
    expect(result.text).toBe(expected);
    expect(result.quoted).toBe(true);
  });
});

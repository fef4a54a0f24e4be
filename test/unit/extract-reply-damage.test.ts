/**
 * Damage on the way may garble a reply or lose its command, but must never lend it a command its
 * writer did not write: from the quote, from a forward, or from the rest of a sentence. The cases
 * here are the ones the damaged-replies property test (test/integration/bad-input.property.test.ts)
 * found, and the exhaustive form of its byte flips over the HTML of the reply fixtures.
 */
import { describe, expect, it } from 'vitest';
import { damagedText, withinEdits } from '../../src/mail/inbound/damaged-text.js';
import { extractReply } from '../../src/mail/inbound/extract-reply.js';
import { parseMessage } from '../../src/mail/inbound/parse.js';
import { verbsNotIn } from '../helpers/command-words.js';
import { buildMail } from '../helpers/mail.js';
import { loadEmlFixtures, parseFixture } from '../helpers/reply-cases.js';

const fixtures = loadEmlFixtures();
const fixture = (name: string) => fixtures.find((f) => f.name === name)!;

describe('damaged HTML markup', () => {
  it('an Apple Mail forward whose header <div> lost a byte keeps nothing of the forwarded "approve all"', async () => {
    const { input } = await parseFixture(fixture('forwarded-only-apple').raw);
    const tag = '<div style="margin: 0px;"><span><b>To: </b>';
    expect(input.html).toContain(tag);
    const html = input.html!.replace(tag, tag.replace('<div', '<d\ufffdv'));
    // The broken element's "</div>" closes the quote it sits in; reading on would read Bob's reply as the forwarder's.
    expect(extractReply({ ...input, html })).toMatchObject({ text: '', forwarded: true });
  });

  it('a Gmail forward whose first attribute lost its closing quote keeps nothing of the forwarded "approve all"', async () => {
    const { input } = await parseFixture(fixture('forwarded-share').raw);
    const html = input.html!.replace('<div dir="ltr">Carol', '<div dir="ltr>Carol');
    expect(html).not.toBe(input.html);
    // The writer's words vanish into the attribute; the forward's header block is then the first thing, and what follows it is Bob's.
    expect(extractReply({ ...input, html }).text).toBe('');
  });

  it('a quote closed by an end tag that is not its own ends the reading', () => {
    const html = '<div><blockquote type="cite">On Fri, 20 Nov 2026, Bob wrote:<span></div>approve all</blockquote></div>';
    expect(extractReply({ html })).toMatchObject({ text: '', quoted: true });
    // Its own end tag still lets a reply written below the quote be read.
    expect(extractReply({ html: '<div><blockquote type="cite">On Fri, 20 Nov 2026, Bob wrote:<span></blockquote>deny bob</div>' }).text).toBe('deny bob');
  });

  it('no single-byte flip (NUL, ", <) in any fixture\'s HTML brings in a command word the undamaged reply did not read', async () => {
    let flips = 0;
    const lent: string[] = [];
    for (const f of fixtures) {
      const { input, html: source } = await parseFixture(f.raw);
      if (source === null) continue;
      const kept = extractReply(input).text;
      for (let i = 0; i < source.length; i++) {
        for (const ch of ['\u0000', '"', '<']) {
          if (source[i] === ch) continue;
          const html = source.slice(0, i) + ch + source.slice(i + 1);
          const damaged = extractReply({ ...input, html }).text;
          flips++;
          const extra = verbsNotIn(damaged, kept);
          if (extra.length > 0) lent.push(`${f.name} @${i} ${JSON.stringify(ch)}: ${extra.join(', ')} in ${JSON.stringify(damaged.slice(0, 120))}`);
        }
      }
    }
    expect(flips).toBeGreaterThan(50_000);
    expect(lent.slice(0, 10)).toEqual([]);
  }, 120_000);
});

describe('damaged text parts (quarantined, not read)', () => {
  const reply = { from: 'dana@contoso.example', to: 'licenses+t@contoso.example', subject: 'Re: Visio', text: 'approve all except bob\n\nthanks, Dana\n' };
  /** The reply as a client that encodes its text in base64 sends it (nodemailer picks 7bit for it). */
  const base64Reply = (): string =>
    [
      'From: dana@contoso.example',
      'To: licenses+t@contoso.example',
      'Subject: Re: Visio',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from(reply.text.replace(/\n/g, '\r\n')).toString('base64'),
      '',
    ].join('\r\n');
  const bodyOf = (raw: string) => raw.indexOf('\r\n\r\n') + 4;

  it('reads an undamaged base64 reply', async () => {
    const raw = Buffer.from(base64Reply(), 'latin1');
    expect(await damagedText(raw)).toBeNull();
    expect((await parseMessage(raw)).text).toContain('approve all except bob');
  });

  it.each([
    ['a NUL', (s: string, at: number) => `${s.slice(0, at)}\u0000${s.slice(at + 1)}`, /outside the base64 alphabet/],
    ['a space', (s: string, at: number) => `${s.slice(0, at)} ${s.slice(at + 1)}`, /outside the base64 alphabet/],
    ['an "=" in the middle', (s: string, at: number) => `${s.slice(0, at)}=${s.slice(at + 1)}`, /after the "=" padding|more than two/],
    ['a dropped character', (s: string, at: number) => `${s.slice(0, at)}${s.slice(at + 1)}`, /whole number of quartets/],
  ])('a base64 text part with %s is refused before anyone reads "approve all"', async (_name, damage, why) => {
    const raw = base64Reply();
    const at = bodyOf(raw) + 8; // inside "approve all except bob", so the rest would decode shifted
    const damaged = Buffer.from(damage(raw, at), 'latin1');
    expect(await damagedText(damaged)).toMatch(why);
    await expect(parseMessage(damaged)).rejects.toMatchObject({ code: 'parse_failed', message: expect.stringMatching(/damaged on its way/) });
  });

  it('leaves a damaged base64 attachment to itself', async () => {
    const raw = (await buildMail({ ...reply, attachments: [{ filename: 'quote.pdf', content: Buffer.alloc(300, 7), contentType: 'application/pdf' }] })).toString('latin1');
    const pdf = raw.indexOf('BwcHBwcH');
    expect(pdf).toBeGreaterThan(0);
    expect(await damagedText(Buffer.from(`${raw.slice(0, pdf)}\u0000${raw.slice(pdf + 1)}`, 'latin1'))).toBeNull();
  });

  it.each([
    ['a changed byte', (line: string) => `${line.slice(0, 10)}<${line.slice(11)}`],
    ['a dropped dash', (line: string) => line.slice(1)],
    ['junk in the middle', (line: string) => `${line.slice(0, 12)}xxxxxxxxxxxxxxxxxxxx${line.slice(12)}`],
  ])('a boundary line with %s, which merges the text part with the HTML part, is refused', async (_name, damage) => {
    const raw = (await buildMail({ ...reply, html: '<p>thanks</p><blockquote type="cite">Reply with: approve, deny bob</blockquote>' })).toString('latin1');
    const boundary = /boundary="?([^";\r\n]+)"?/.exec(raw)![1]!;
    const first = raw.indexOf(`\r\n--${boundary}\r\n`, raw.indexOf(`--${boundary}\r\n`) + 1) + 2; // the line between the two parts
    const line = `--${boundary}`;
    const damaged = Buffer.from(raw.slice(0, first) + damage(line) + raw.slice(first + line.length), 'latin1');
    expect(await damagedText(damaged)).toMatch(/damaged boundary line/);
    await expect(parseMessage(damaged)).rejects.toMatchObject({ code: 'parse_failed' });
  });

  it('shows a damaged line with its NUL escaped, so the reason can be recorded (PostgreSQL text holds no NUL)', async () => {
    // CI's seed 571686049: the text part's "Content-Transfer-Encoding" lost its first byte to a NUL.
    const raw = (await buildMail({ ...reply, text: 'approve', html: '<p>approve</p>' })).toString('latin1');
    const at = raw.indexOf('Content-Transfer-Encoding', raw.indexOf('text/plain'));
    expect(at).toBeGreaterThan(0);
    const damaged = Buffer.from(`${raw.slice(0, at)}\u0000${raw.slice(at + 1)}`, 'latin1');
    const why = await damagedText(damaged);
    expect(why).toMatch(/"\\u0000ontent-Transfer-Encoding: [^"]*" is a damaged MIME field/);
    expect(why).not.toContain('\u0000');
    await expect(parseMessage(damaged)).rejects.toMatchObject({ code: 'parse_failed', message: expect.not.stringContaining('\u0000') });
  });

  it.each([
    ['Content-Type header name', (raw: string) => raw.replace('Content-Type: multipart/alternative', 'Content-Tipe: multipart/alternative'), /"Content-Tipe: multipart\/alternative[^]*" is a damaged MIME field/],
    ['Content-Type header (merged into the header above)', (raw: string) => raw.replace(/\r\n(Content-Type: multipart\/alternative)/, '\r\u0000$1'), /headers of a message or part/],
    ['first byte (a line break: every header becomes body)', (raw: string) => `\n${raw.slice(1)}`, /headers of a message or part/],
  ])('a message with a damaged %s, whose parts then read as one text with the quote in it, is refused', async (_name, damage, why) => {
    const raw = (await buildMail({ ...reply, text: 'thanks', html: '<p>thanks</p><blockquote type="cite">Reply with: approve, deny bob</blockquote>' })).toString('latin1');
    expect(raw).toContain('multipart/alternative');
    const damaged = Buffer.from(damage(raw), 'latin1');
    expect(damaged.toString('latin1')).not.toBe(raw);
    expect(await damagedText(damaged)).toMatch(why);
    await expect(parseMessage(damaged)).rejects.toMatchObject({ code: 'parse_failed' });
  });

  it('a single-part HTML reply whose header block ended early (its headers and HTML source then read as text) is refused', async () => {
    const raw = fixture('gmail-html-only').raw.toString('latin1');
    const at = raw.indexOf('\nSubject:') + 1;
    const damaged = Buffer.from(`${raw.slice(0, at)}\n${raw.slice(at + 1)}`, 'latin1');
    expect(await damagedText(damaged)).toMatch(/headers of a message or part/);
  });

  it('an HTML part whose blank line under its headers was damaged (its first lines, the quote\'s opening among them, taken for headers) is refused', async () => {
    const raw = fixture('thunderbird').raw.toString('latin1');
    expect(raw).toContain('8bit\r\n\r\n<!DOCTYPE');
    const damaged = Buffer.from(raw.replace('8bit\r\n\r\n<!DOCTYPE', '8bit\r\u0000\r\n<!DOCTYPE'), 'latin1');
    expect(await damagedText(damaged)).toMatch(/text\/html part: its header block holds a line that is no header field/);
  });

  it('an HTML part whose Content-Type lost a byte (its HTML source then read as plain text, quote and all) is refused', async () => {
    const raw = fixture('empty-reply-gmail').raw.toString('latin1');
    expect(raw).toContain('Content-Type: text/html');
    expect(await damagedText(Buffer.from(raw.replace('Content-Type: text/html', 'Content-Type: text\u0000html'), 'latin1'))).toBeNull(); // an unknown type is not read at all
    expect(await damagedText(Buffer.from(raw.replace('Content-Type: text/html', 'Content-Tyqe: text/html'), 'latin1'))).toMatch(/damaged MIME field/);
    const single = fixture('gmail-html-only').raw.toString('latin1').replace(/\r?\nContent-Type: text\/html[^\r\n]*/, '');
    expect(await damagedText(Buffer.from(single, 'latin1'))).toMatch(/plain text is HTML source/);
  });

  it('lets lines that only look like rules or signatures through', async () => {
    const raw = await buildMail({ ...reply, text: 'approve\n\n--\nDana\n----------\n-- \n--=_other_boundary_of_a_pasted_mail\n', html: '<p>approve</p>', headers: { 'X-Content-Type': 'vendor', 'Content-Class': 'urn:content-classes:message' } });
    expect(await damagedText(raw)).toBeNull();
    for (const f of fixtures) expect(await damagedText(f.raw), f.name).toBeNull();
  });

  it('counts edits as Levenshtein does', () => {
    expect(withinEdits('kitten', 'sitting', 3)).toBe(true);
    expect(withinEdits('kitten', 'sitting', 2)).toBe(false);
    expect(withinEdits('-abc', '--abc', 1)).toBe(true);
    expect(withinEdits('--ab<c', '--abc', 1)).toBe(true);
    expect(withinEdits('', 'abc', 2)).toBe(false);
  });
});

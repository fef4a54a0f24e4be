import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { encodeQuotedPrintable } from '../../src/mail/outbound/quoted-printable.js';

/** What a mail reader makes of the encoded text: mailparser decodes it as a received part. */
async function decoded(encoded: string): Promise<string> {
  const mail = await simpleParser(Buffer.from(`Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n${encoded}`, 'latin1'));
  return mail.text ?? '';
}

function checkShape(encoded: string) {
  for (const line of encoded.split('\r\n')) {
    expect(line.length).toBeLessThanOrEqual(76);
    // Only printable ASCII, and no space or tab where a transport could strip it.
    expect(line).toMatch(/^[\x20-\x7e\t]*$/);
    expect(line).not.toMatch(/[ \t]$/);
  }
  expect(encoded).not.toMatch(/\r(?!\n)|(?<!\r)\n/);
}

/** A seeded generator, so a failure can be reproduced. */
function random(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
}

describe('quoted-printable', () => {
  it('leaves plain ASCII readable and encodes = and non-ASCII', () => {
    expect(encodeQuotedPrintable('Approve alice = yes')).toBe('Approve alice =3D yes');
    expect(encodeQuotedPrintable('Refusé')).toBe('Refus=C3=A9');
    expect(encodeQuotedPrintable('核准')).toBe('=E6=A0=B8=E5=87=86');
  });

  it('writes line breaks as CRLF and encodes a space or tab that ends a line', () => {
    expect(encodeQuotedPrintable('a \nb\t\r\nc ')).toBe('a=20\r\nb=09\r\nc=20');
    expect(encodeQuotedPrintable('lone\rcr')).toBe('lone=0Dcr');
  });

  it('breaks long lines softly at 76 characters without splitting an encoded byte', () => {
    const long = `${'x'.repeat(74)}é${'y'.repeat(200)}`;
    const encoded = encodeQuotedPrintable(long);
    checkShape(encoded);
    expect(encoded.split('\r\n')[0]).toBe(`${'x'.repeat(74)}=`);
    expect(encoded.split('\r\n')[1]!.startsWith('=C3=A9')).toBe(true);
  });

  it('a line of exactly 76 characters needs no soft break', () => {
    expect(encodeQuotedPrintable('z'.repeat(76))).toBe('z'.repeat(76));
    expect(encodeQuotedPrintable('z'.repeat(77))).toBe(`${'z'.repeat(75)}=\r\nzz`);
  });

  it('decodes back to the text, with CRLF line breaks, for random mixes of every kind of character', async () => {
    const pieces = ['a', 'Z', ' ', '\t', '=', '.', '\n', '\r\n', '\r', 'é', 'ç', '核', '准', '😀', '<td style="x">', '=3D', ' \n', '\t\r\n', 'x'.repeat(90)];
    const next = random(42);
    for (let round = 0; round < 300; round++) {
      let text = '';
      const len = Math.floor(next() * 120);
      for (let i = 0; i < len; i++) text += pieces[Math.floor(next() * pieces.length)];
      const encoded = encodeQuotedPrintable(text);
      checkShape(encoded);
      expect(await decoded(encoded), JSON.stringify(text)).toBe(text.replace(/\r\n/g, '\n'));
    }
  });
});

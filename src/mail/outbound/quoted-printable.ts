/**
 * Quoted-printable (RFC 2045 §6.7) for the text and HTML parts of outgoing mail, encoded in one
 * pass over the UTF-8 bytes. nodemailer's own encoder (a chain of regular expressions and a
 * line-wrapping stream, after a scan of the whole text to choose between QP and base64) was a
 * fifth of the daemon's CPU while draining a backlog; this is a few per cent of it.
 *
 * Output: lines of at most 76 characters ending in CRLF; soft breaks are `=` CRLF; printable
 * ASCII other than `=` goes as it is; a space or tab is encoded only at the end of a line (where
 * a transport may strip it); every other byte, and a CR not followed by LF, is `=XX`. A hard line
 * break in the input (LF or CRLF) is a CRLF. SMTP's dot-stuffing is left to the SMTP client.
 */

const HEX = '0123456789ABCDEF';
const MAX_LINE = 76;

export function encodeQuotedPrintable(input: string): string {
  const bytes = Buffer.from(input, 'utf8');
  // Worst case: every byte as =XX, plus a soft break per 25 encoded bytes.
  const out = Buffer.allocUnsafe(bytes.length * 3 + Math.ceil((bytes.length * 3) / (MAX_LINE - 1)) * 3 + 3);
  let o = 0;
  let col = 0; // characters on the current output line
  const n = bytes.length;

  const encoded = (b: number) => {
    out[o++] = 0x3d; // =
    out[o++] = HEX.charCodeAt(b >> 4);
    out[o++] = HEX.charCodeAt(b & 15);
  };
  const softBreak = () => {
    out[o++] = 0x3d;
    out[o++] = 0x0d;
    out[o++] = 0x0a;
    col = 0;
  };

  for (let i = 0; i < n; i++) {
    const b = bytes[i]!;
    if (b === 0x0a || (b === 0x0d && bytes[i + 1] === 0x0a)) {
      if (b === 0x0d) i++;
      out[o++] = 0x0d;
      out[o++] = 0x0a;
      col = 0;
      continue;
    }
    const next = bytes[i + 1];
    const endOfLine = next === undefined || next === 0x0a || (next === 0x0d && bytes[i + 2] === 0x0a);
    const literal = (b >= 33 && b <= 126 && b !== 0x3d) || ((b === 0x20 || b === 0x09) && !endOfLine);
    const width = literal ? 1 : 3;
    // Room for this character and, unless the line ends right after it, the `=` of a soft break.
    if (col + width > (endOfLine ? MAX_LINE : MAX_LINE - 1)) softBreak();
    if (literal) out[o++] = b;
    else encoded(b);
    col += width;
  }
  return out.toString('latin1', 0, o);
}

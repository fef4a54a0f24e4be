/**
 * Finds what the person wrote in a reply: the text above the quoted message,
 * without the quoted shared-request mail (which itself says "approve" and
 * "deny"), without a forwarded message, without a signature.
 *
 * The HTML part is read first when there is one, because its markup says
 * where the quote is (Gmail's div.gmail_quote, Apple's blockquote type=cite,
 * Outlook's #divRplyFwdMsg…); the text rules then run on the text that is
 * left, since clients also put plain-text quotes and header blocks in HTML.
 * The text part is used when there is no HTML, or when the HTML holds neither
 * text nor a quote (an image-only body, a broken part). When the HTML shows a
 * quote with nothing above it, the answer is "nothing written": the text part
 * is NOT consulted then, because a client's text part may carry the quoted
 * original without `>` markers, and that must never pass for a reply.
 *
 * Rules are data in ./reply-rules/; the walkers are in ./reply-engine/.
 *
 * Known limits (by design):
 *  - Only the text above the FIRST cut point is kept; answers written between
 *    quoted paragraphs further down are dropped.
 *  - A mail that is nothing but a forward keeps nothing ('' with forwarded=true).
 *  - A reply that OPENS with `>` lines and no attribution (mailing-list style)
 *    keeps those lines: a reader of commands should skip lines starting with '>'.
 *  - A reply that opens with an attribution followed by unquoted text is read as
 *    an answer written below a quote (Zoho's dashed "---- On … wrote ----" excepted).
 *  - Only the first 64 KB / 5,000 lines of text and 512 KB / 20,000 HTML events
 *    are read, which also bounds the time of one call.
 */
import { htmlToReplyText } from './reply-engine/html-text.js';
import { trimPlainText } from './reply-engine/trim-text.js';

export interface ReplyInput {
  text?: string | null;
  html?: string | null;
}

export interface ReplyExtraction {
  /** The new text the person wrote, trimmed, '' when nothing. */
  text: string;
  /** The part the text came from; 'none' when nothing was written. */
  source: 'html' | 'text' | 'none';
  /** A forwarded-message block was found (and dropped). */
  forwarded: boolean;
  /** A quote, attribution or header block was found (and dropped). */
  quoted: boolean;
}

export function extractReply(input: ReplyInput): ReplyExtraction {
  const html = input.html ?? '';
  const text = input.text ?? '';

  if (html.trim() !== '') {
    const fromHtml = htmlToReplyText(html);
    const trimmed = trimPlainText(fromHtml.text);
    const quoted = fromHtml.quoted || trimmed.quoted;
    const forwarded = fromHtml.forwarded || trimmed.forwarded;
    if (trimmed.text !== '') return { text: trimmed.text, source: 'html', quoted, forwarded };
    if (quoted || forwarded || text.trim() === '') return { text: '', source: 'none', quoted, forwarded };
  }

  if (text.trim() !== '') {
    const trimmed = trimPlainText(text);
    return {
      text: trimmed.text,
      source: trimmed.text === '' ? 'none' : 'text',
      quoted: trimmed.quoted,
      forwarded: trimmed.forwarded,
    };
  }
  return { text: '', source: 'none', quoted: false, forwarded: false };
}

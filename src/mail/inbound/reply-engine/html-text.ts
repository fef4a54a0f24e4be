/**
 * HTML reply → the text above the quoted message, in one streaming pass over
 * htmlparser2's Tokenizer.
 *
 * Why no DOM: building a domhandler tree is the slow part of htmlparser2, and
 * its Parser keeps the open-element stack with unshift/indexOf, which makes a
 * 10,000-deep `<div>` nest or a run of stray end tags quadratic (measured at
 * 100–250 ms on our 2-core machines, against a 50 ms budget). The Tokenizer is
 * linear; this file keeps its own stack, looks for a matching end tag only a
 * few levels down, and stops reading the document at the first quote boundary.
 *
 * This file adapts the Tokenizer's callbacks; html-reader.ts holds the state
 * and the decisions, html-rules.ts the matching of elements against the rules.
 */
import { Tokenizer } from 'htmlparser2';
import { VOID_TAGS } from '../reply-rules/quote-html.js';
import { HtmlReplyReader, looksForwarded } from './html-reader.js';

/** How much HTML is read at all; the reply is at the top. */
export const MAX_HTML_CHARS = 512 * 1024;

export interface HtmlTrim {
  readonly text: string;
  readonly quoted: boolean;
  readonly forwarded: boolean;
}

/** Markup inside an attribute value: a lost quote character made the value run on over text and tags. */
const TAG_INSIDE = /<\/?[a-z][^<>]*>/i;

export function htmlToReplyText(html: string): HtmlTrim {
  const source = html.length > MAX_HTML_CHARS ? html.slice(0, MAX_HTML_CHARS) : html;
  let tagName = '';
  // No prototype: an attribute named "constructor" or "__proto__" is just an attribute.
  let attribs: Record<string, string> = Object.create(null) as Record<string, string>;
  let attribName = '';
  let attribValue = '';
  /** The tag being read swallowed markup: see HtmlReplyReader.brokenTag. */
  let broken = false;
  const reader = new HtmlReplyReader({ pause: () => tokenizer.pause() });

  const tokenizer: Tokenizer = new Tokenizer(
    { decodeEntities: true },
    {
      onopentagname(start, end) {
        tagName = source.slice(start, end).toLowerCase();
        attribs = Object.create(null) as Record<string, string>;
        broken = false;
      },
      onattribname(start, end) {
        attribName = source.slice(start, end).toLowerCase();
        attribValue = '';
        if (attribName.includes('<')) broken = true;
      },
      onattribdata(start, end) {
        attribValue += source.slice(start, end);
      },
      onattribentity(codepoint) {
        attribValue += String.fromCodePoint(codepoint);
      },
      onattribend() {
        if (!(attribName in attribs)) attribs[attribName] = attribValue;
        if (TAG_INSIDE.test(attribValue)) broken = true;
        attribValue = '';
      },
      onopentagend() {
        if (broken) reader.brokenTag();
        reader.open(tagName, attribs);
      },
      onselfclosingtag() {
        if (broken) reader.brokenTag();
        reader.open(tagName, attribs);
        if (!VOID_TAGS.has(tagName)) reader.close(tagName);
      },
      onclosetag(start, end) {
        reader.close(source.slice(start, end).toLowerCase());
      },
      ontext(start, end) {
        reader.text(source.slice(start, end));
      },
      ontextentity(codepoint) {
        reader.text(String.fromCodePoint(codepoint));
      },
      oncdata() {},
      oncomment() {},
      ondeclaration() {},
      onprocessinginstruction() {},
      onend() {},
    },
  );
  tokenizer.write(source);
  if (tokenizer.running) tokenizer.end();
  reader.finish();
  return {
    text: reader.lines.join('\n'),
    quoted: reader.quoted,
    forwarded: reader.dropped !== '' && looksForwarded(reader.dropped),
  };
}
